"""Drawing cards and tallies: every embed a member sees about a model, from a `Card` read model.

A card leads with the answer: the title, one plain line (the most likely vendor and why, "no guess
yet" and what an admin can do, or the revealed truth and who called it), the ranking, then the
details shortened. The default view stays within 15 lines. What the card says is always true of
now: "New" only on the announcement of a new model, no vote or anonymity section on a model that
is not anonymous, the truth once revealed, "no longer listed" once removed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import discord

from bot.attribution.guess import Guess
from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import display_name
from bot.store.catalogue import ModelRecord
from bot.store.notes import Note
from bot.store.votes import Tally
from cogs import _safety as safety
from cogs._card import Card, no_guess_reason, supported_ranking

MODEL_URL = "https://openrouter.ai/{model_id}"
OPEN_SET_VENDOR = "unknown"
OPEN_SET_NAME = "a lab without references"
RANKING_SHOWN = 3
LEAD_EVIDENCE = 2
EVIDENCE_SHOWN = 3
EVIDENCE_CUT = 90
REASONS_SHOWN = 2
REASON_CUT = 70
TALLY_SHOWN = 5
BAR_WIDTH = 10
STEALTH_COLOUR = discord.Colour.dark_gold()
MODEL_COLOUR = discord.Colour.blurple()
REVEALED_COLOUR = discord.Colour.green()
REMOVED_COLOUR = discord.Colour.dark_grey()
NO_REFERENCES_HINT = (
    "An admin can add references with `scout calibrate`; with an OpenRouter key the bot calibrates itself."
)
PROBES_FAILED_HINT = "It is probed again automatically; an admin can retry now with `/scout probe`."
DEFAULT_HINT = "An admin can probe it again with `/scout probe`."
_REASON_WEIGHT = re.compile(r"\s*\([+-]?[0-9.]+\)$")


def announcement_footer(announcement_id: int) -> str:
    return f"Model Scout · announcement #{announcement_id}"


def removal_footer(announcement_id: int) -> str:
    return f"Model Scout · removal #{announcement_id}"


def model_url(model_id: str) -> str:
    return MODEL_URL.format(model_id=quote(model_id, safe="/:-._~"))


def guessed_vendor_name(vendor: str) -> str:
    """A vendor as people say it; the open-set entry is not a vendor but a lab the bot has no references for."""
    return OPEN_SET_NAME if vendor == OPEN_SET_VENDOR else display_name(vendor)


def relative_time(stamp: str | int | None) -> str | None:
    """A Discord timestamp (`<t:…:R>`: "3 hours ago" in each member's own language and zone)."""
    if stamp is None:
        return None
    try:
        seconds = int(stamp) if isinstance(stamp, int) else int(datetime.fromisoformat(stamp).timestamp())
        datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return f"<t:{seconds}:R>"


def confidence_bar(confidence: float) -> str:
    filled = round(max(0.0, min(confidence, 1.0)) * BAR_WIDTH)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _per_million(price: float | None) -> str | None:
    if price is None or price < 0:
        return None
    return "free" if price == 0 else f"${price * 1_000_000:,.2f}"


def pricing_text(entry: CatalogueEntry) -> str:
    """Prompt and completion prices per million tokens, the unit people compare models in."""
    prompt, completion = _per_million(entry.price("prompt")), _per_million(entry.price("completion"))
    if prompt is None and completion is None:
        return "price unknown"
    if prompt == completion == "free":
        return "free"
    return f"in {prompt or '?'} · out {completion or '?'} per 1M tokens"


def modalities_text(entry: CatalogueEntry) -> str:
    """What the model takes and gives, e.g. "text, image → text"."""
    inputs, outputs = entry.input_modalities, entry.output_modalities
    if not inputs and not outputs:
        return safety.escape(entry.modality or "modalities unknown")
    return safety.escape(f"{', '.join(inputs) or '?'} → {', '.join(outputs) or '?'}")


def listing_text(model: ModelRecord) -> str:
    """The listing facts on one line: id, when listed, context, price, modalities."""
    listed = relative_time(model.created) or relative_time(model.first_seen) or "date unknown"
    facts = [safety.code(model.id, 120), f"listed {listed}"]
    entry = model.entry
    if entry is None:
        return " · ".join([*facts, "listing no longer readable"])
    context = f"{entry.context_length:,} tokens" if entry.context_length is not None else "context unknown"
    return " · ".join([*facts, context, pricing_text(entry), modalities_text(entry)])


def ranking_lines(ranking: list[tuple[str, float]]) -> list[str]:
    return [
        f"{rank}. **{safety.escape(guessed_vendor_name(vendor))}** `{confidence_bar(probability)}` {probability:.0%}"
        for rank, (vendor, probability) in enumerate(ranking[:RANKING_SHOWN], start=1)
    ]


def _short(text: str, limit: int) -> str:
    return safety.plain(text.rstrip("."), limit)


def _guess_lines(card: Card) -> list[str]:
    """The lead of an anonymous model's card: the answer, or why there is none and what an admin can do."""
    guess = card.guess
    if guess is None:
        return ["**Probing…** the bot's guess appears here in a few minutes."]
    ranking = supported_ranking(guess)
    if not ranking:
        reason = no_guess_reason(guess)
        return [f"**No guess yet:** {_short(reason, 200)}.", _no_guess_hint(reason)]
    if guess.not_sure is not None:
        return [f"**Not sure:** {not_sure_text(guess)}."]
    vendor, probability = ranking[0]
    lead = f"Most likely **{safety.escape(guessed_vendor_name(vendor))}** ({probability:.0%})"
    because = [_short(item, EVIDENCE_CUT) for item in guess.evidence[:LEAD_EVIDENCE]]
    if because:
        lead += " — " + "; ".join(because)
    return [lead, *ranking_lines(ranking)]


def not_sure_text(guess: Guess) -> str:
    """What a guess below the naming threshold says instead of a vendor, with its candidates' shares."""
    assert guess.not_sure is not None
    shares = {item.vendor: item.probability for item in guess.ranking}
    candidates = [vendor for vendor in guess.not_sure.candidates if vendor in shares]
    odds = " / ".join(f"{shares[vendor]:.0%}" for vendor in candidates)
    return safety.escape(guess.not_sure.reason) + (f" ({odds})" if odds else "")


def _more_evidence(guess: Guess) -> list[str]:
    """The evidence the lead did not show: after its first lines, or all of it when the lead says "not sure"."""
    if guess.not_sure is None:
        return list(guess.evidence[LEAD_EVIDENCE : LEAD_EVIDENCE + EVIDENCE_SHOWN])
    return [line for line in guess.evidence if not line.startswith("not sure:")][:EVIDENCE_SHOWN]


def _no_guess_hint(reason: str) -> str:
    lowered = reason.lower()
    if "reference" in lowered or "calibrat" in lowered:
        return NO_REFERENCES_HINT
    if any(word in lowered for word in ("fail", "rate limit", "gateway", "error", "not found", "unreachable")):
        return PROBES_FAILED_HINT
    return DEFAULT_HINT


def _revealed_lines(card: Card) -> list[str]:
    assert card.reveal is not None
    truth = f"Made by **{safety.escape(card.reveal.vendor_name)}**"
    if card.reveal.true_model:
        truth += f" ({safety.code(card.reveal.true_model, 120)})"
    when = relative_time(card.reveal.revealed_at)
    lines = [truth + (f", revealed {when}." if when else ".")]
    votes = card.tally.total
    if card.called_by:
        names = ", ".join(safety.plain(name, 40) for name in card.called_by[:5])
        more = f" and {len(card.called_by) - 5} more" if len(card.called_by) > 5 else ""
        lines.append(f"Called by {names}{more} ({len(card.called_by)} of {votes} vote{_s(votes)} here).")
    elif votes:
        lines.append(f"Nobody here called it ({votes} vote{_s(votes)}).")
    ranking = supported_ranking(card.guess)
    if card.guess is not None and card.guess.not_sure is not None:
        lines.append(f"The bot was not sure: {not_sure_text(card.guess)}.")
    elif ranking:
        vendor, probability = ranking[0]
        lines.append(f"The bot's guess was **{safety.escape(guessed_vendor_name(vendor))}** ({probability:.0%}).")
    return lines


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _title(card: Card, *, announced: bool) -> str:
    model = card.model
    if card.reveal is not None:
        return f"Revealed: {model.name}"
    kind = "stealth model" if model.stealth else "model"
    if announced and not model.removed_at:
        return f"New {kind}: {model.name}"
    return f"{kind.capitalize()}: {model.name}"


def _colour(card: Card) -> discord.Colour:
    if card.reveal is not None:
        return REVEALED_COLOUR
    if card.model.removed_at:
        return REMOVED_COLOUR
    return STEALTH_COLOUR if card.model.stealth else MODEL_COLOUR


def _lead_lines(card: Card) -> list[str]:
    model = card.model
    if card.reveal is not None:
        lines = _revealed_lines(card)
    elif model.stealth:
        lines = _guess_lines(card)
    else:
        maker = f"**{safety.escape(display_name(model.vendor))}**" if model.vendor else "its maker"
        lines = [f"Listed by {maker} under its own name."]
    removed = relative_time(model.removed_at)
    if removed:
        lines.append(f"No longer listed since {removed}.")
    return lines


def tally_text(tally: Tally, *, shown: int | None = None) -> str:
    """Votes per vendor, by the name members typed or picked; only how many while the tally is hidden."""
    votes = f"{tally.total} vote{_s(tally.total)}"
    if tally.hidden:
        return f"{votes} so far; who voted for what stays hidden until the reveal."
    lines = [
        f"**{safety.escape(item.name)}**: {item.votes} ({item.votes / tally.total:.0%})"
        for item in tally.by_vendor[:shown]
    ]
    if shown is not None and len(tally.by_vendor) > shown:
        lines.append(f"… and {len(tally.by_vendor) - shown} more")
    return "\n".join([*lines, votes])


def votes_text(card: Card, *, shown: int | None = TALLY_SHOWN) -> str:
    """The votes here, or an invitation to vote when there are none."""
    if not card.tally.total:
        return "No votes yet: pick a vendor below." if card.voting_open else "No votes."
    return tally_text(card.tally, shown=shown)


def card_embed(card: Card, *, announced: bool, footer: str | None = None) -> discord.Embed:
    """The card of a model in one guild; `announced` when it is the announcement of a newly listed model."""
    model = card.model
    embed = discord.Embed(
        title=safety.plain(_title(card, announced=announced), safety.TITLE_LIMIT),
        url=model_url(model.id),
        colour=_colour(card),
        description="\n".join(_lead_lines(card)),
    )
    ranking = supported_ranking(card.guess)
    evidence = _more_evidence(card.guess) if card.guess and ranking else []
    if evidence and card.reveal is None:
        embed.add_field(
            name="More evidence", value="\n".join(f"• {_short(item, EVIDENCE_CUT)}" for item in evidence), inline=False
        )
    listing = [listing_text(model)]
    if model.stealth and card.reveal is None and model.stealth_reasons:
        reasons = "; ".join(
            _short(_REASON_WEIGHT.sub("", reason), REASON_CUT) for reason in model.stealth_reasons[:REASONS_SHOWN]
        )
        listing.append(f"Looks anonymous: {reasons}")
    embed.add_field(name="Listing", value="\n".join(listing), inline=False)
    if model.stealth:
        embed.add_field(name="Votes here", value=votes_text(card), inline=False)
    if footer:
        embed.set_footer(text=footer)
    return safety.finish_embed(embed)


def votes_embed(card: Card, notes: list[Note]) -> discord.Embed:
    """This guild's votes (hidden until the reveal when the guild chose so) and newest notes on a model."""
    embed = discord.Embed(
        title=safety.plain(f"Votes on {card.model.name}", safety.TITLE_LIMIT), colour=discord.Colour.blurple()
    )
    embed.description = tally_text(card.tally) if card.tally.total else "No votes yet."
    if card.reveal is not None:
        embed.add_field(
            name="Revealed", value=safety.plain(card.reveal.vendor_name, safety.FIELD_VALUE_LIMIT), inline=False
        )
    for note in notes:
        embed.add_field(
            name=safety.plain(
                f"{note.member_name} · {note.created_at[:16].replace('T', ' ')} UTC", safety.FIELD_NAME_LIMIT
            ),
            value=safety.plain(note.text, safety.FIELD_VALUE_LIMIT),
            inline=False,
        )
    return safety.finish_embed(embed)


def removal_embed(name: str, candidates: list[str], footer: str) -> discord.Embed:
    """The reply when a stealth model leaves the catalogue: the models listed in the same poll."""
    embed = discord.Embed(title=safety.plain(f"{name} left the catalogue", safety.TITLE_LIMIT), colour=STEALTH_COLOUR)
    if candidates:
        embed.description = "Listed in the same poll, so possibly its real name:\n" + "\n".join(
            f"• [{safety.escape(item)}]({model_url(item)})" for item in candidates[:15]
        )
    else:
        embed.description = "No new model was listed in the same poll."
    embed.add_field(name="Know the answer?", value="An admin can record it with `/scout reveal`.", inline=False)
    embed.set_footer(text=footer)
    return safety.finish_embed(embed)


def recent_line(card: Card) -> str:
    """One stealth model in `/scout recent`: id, when first seen, listed or not, the bot's best guess."""
    model = card.model
    ranking = supported_ranking(card.guess)
    if card.reveal is not None:
        best = f"revealed: **{safety.escape(card.reveal.vendor_name)}**"
    elif card.guess is not None and card.guess.not_sure is not None:
        best = f"not sure: {not_sure_text(card.guess)}"
    elif ranking:
        best = f"best guess **{safety.escape(guessed_vendor_name(ranking[0][0]))}** ({ranking[0][1]:.0%})"
    else:
        best = "no guess yet"
    removed = relative_time(model.removed_at)
    state = f"removed {removed}" if removed else "listed"
    return f"{safety.code(model.id)} · first seen {relative_time(model.first_seen) or '?'} · {state} · {best}"
