"""Drawing cards and tallies: every embed a member sees about a model, from a `Card` read model.

A card leads with the answer a member understands in five seconds: the title, one plain sentence
(the most likely vendor and what points to it, in words; "calibrating" and when a guess follows;
"no guess yet" and what an admin can do; or the revealed truth and who called it), the ranking rows
of vendors with a real share, the listing on one line and the votes: ten lines at most. Everything
else (every finding, the nearest references, the engine's own evidence lines, why the listing looks
anonymous) is in the evidence embed, behind the card's Evidence button and in `/scout model`.

What the card says is always true of now: "New" only on the announcement of a new model, no vote or
anonymity section on a model that is not anonymous, the truth once revealed, "no longer listed" once
removed. Prose is shortened only at word boundaries.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import discord

from bot.attribution.findings import AGAINST, SUPPORT, Finding
from bot.attribution.guess import Guess
from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import display_name
from bot.jobs.self_calibration import seconds_to_finish
from bot.store.catalogue import ModelRecord
from bot.store.notes import Note
from bot.store.votes import Tally, VendorVotes
from cogs import _safety as safety
from cogs._card import Card, no_guess_reason, shown_ranking, supported_ranking

MODEL_URL = "https://openrouter.ai/{model_id}"
OPEN_SET_VENDOR = "unknown"
OPEN_SET_NAME = "a lab without references"
HEADLINE_LIMIT = 320
REASON_LIMIT = 200
EVIDENCE_LINE_LIMIT = 300
NEAREST_SHOWN = 3
TALLY_ON_CARD = 3
BAR_WIDTH = 10
STEALTH_COLOUR = discord.Colour.dark_gold()
MODEL_COLOUR = discord.Colour.blurple()
REVEALED_COLOUR = discord.Colour.green()
REMOVED_COLOUR = discord.Colour.dark_grey()
PROBING_LINE = "**Probing…** the bot's guess appears here in a few minutes."
NO_REFERENCES_HINT = (
    "An admin can add references with `scout calibrate`, or set an OpenRouter key so the bot calibrates itself."
)
CALIBRATION_FAILED_HINT = "`/scout status` says why; an admin can add references with `scout calibrate`."
RETRY_NOW = "an admin can retry now with `/scout probe`."
NO_RETRY_HINT = "It is not probed again by itself; an admin can retry with `/scout probe`."
DEFAULT_HINT = "An admin can probe it again with `/scout probe`."
NO_DECISIVE_SIGNAL = "no single signal decides it; together they lean this way."
UNKNOWN_LAB_LEAD = "none of the labs the bot has references for matches it well."
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


def relative_time(stamp: str | int | float | None) -> str | None:
    """A Discord timestamp (`<t:…:R>`: "3 hours ago" in each member's own language and zone)."""
    if stamp is None:
        return None
    try:
        seconds = int(stamp) if isinstance(stamp, int | float) else int(datetime.fromisoformat(stamp).timestamp())
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


def share_text(probability: float) -> str:
    """The bot's probability as a member reads it: a whole percentage, but never "100%" (evidence can make the
    bot very sure, never certain)."""
    return "over 99%" if probability >= 0.995 else f"{probability:.0%}"


def ranking_lines(ranking: list[tuple[str, float]]) -> list[str]:
    return [
        f"{rank}. **{safety.escape(guessed_vendor_name(vendor))}** `{confidence_bar(probability)}` "
        f"{share_text(probability)}"
        for rank, (vendor, probability) in enumerate(ranking, start=1)
    ]


def _and(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def because_text(findings: tuple[Finding, ...], vendor: str) -> str:
    """Why the top vendor, in words, to follow "Most likely X (62%): ": what supports it, then, if a signal points
    elsewhere, that it does. Clauses are dropped from the end, never cut, until the sentence fits the card."""
    support = [item.text for item in findings if item.stance == SUPPORT]
    against = [item.text for item in findings if item.stance == AGAINST]
    while True:
        if vendor == OPEN_SET_VENDOR:
            text = UNKNOWN_LAB_LEAD
        else:
            text = _and(support) + "." if support else NO_DECISIVE_SIGNAL
        if against:
            text += " " + _sentence("it " + _and(against))
        if len(text) <= HEADLINE_LIMIT or not (support or against):
            return text
        (against or support).pop()


def _ranked_lines(card: Card) -> list[str]:
    guess = card.guess
    assert guess is not None
    ranking = shown_ranking(guess)
    vendor, probability = supported_ranking(guess)[0]
    lead = f"Most likely **{safety.escape(guessed_vendor_name(vendor))}** ({share_text(probability)}): "
    lead += safety.escape(because_text(guess.findings, vendor))
    return [lead, *ranking_lines(ranking)]


def calibration_line(card: Card, now: datetime | None = None) -> str:
    """Live progress while references are being built: "18 of 25 reference models probed — a guess in about 4
    minutes" (the estimate is the round's pace so far)."""
    progress = card.calibration
    assert progress is not None
    left = seconds_to_finish(progress, now or datetime.now(UTC))
    if not progress.finished:
        return f"**Calibrating:** probing {progress.planned} reference models; a guess follows once they are in."
    when = "a guess follows once they are all in" if left is None else f"a guess in {_duration(left)}"
    return f"**Calibrating:** {progress.finished} of {progress.planned} reference models probed — {when}."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{_s(minutes)}"
    hours = round(seconds / 3600)
    return f"about {hours} hours"


def _no_guess_lines(card: Card) -> list[str]:
    guess = card.guess
    assert guess is not None
    if guess.status == "no_references" and card.calibrating:
        return [calibration_line(card)]
    reason = no_guess_reason(guess).rstrip(".")
    lines = [f"**No guess yet:** {safety.plain_words(reason, REASON_LIMIT)}."]
    if guess.status == "no_references":
        tried = card.calibration is not None and card.calibration.planned > 0 and card.calibration.complete
        lines.append(CALIBRATION_FAILED_HINT if tried else NO_REFERENCES_HINT)
    elif guess.status in ("probes_failed", "not_found"):
        next_try = relative_time(card.next_probe_at)
        lines.append(f"Next try {next_try}; {RETRY_NOW}" if next_try else NO_RETRY_HINT)
    else:
        lines.append(DEFAULT_HINT)
    return lines


def not_sure_text(guess: Guess) -> str:
    """What a guess below the naming threshold says instead of a vendor, with its candidates' shares."""
    assert guess.not_sure is not None
    shares = {item.vendor: item.probability for item in guess.ranking}
    candidates = [vendor for vendor in guess.not_sure.candidates if vendor in shares]
    odds = " / ".join(share_text(shares[vendor]) for vendor in candidates)
    return safety.escape(guess.not_sure.reason) + (f" ({odds})" if odds else "")


def _not_sure_lines(card: Card) -> list[str]:
    """A guess below the naming threshold names no vendor: it says so, and the rows show the candidates' shares."""
    guess = card.guess
    assert guess is not None and guess.not_sure is not None
    reason = safety.plain_words(guess.not_sure.reason, REASON_LIMIT)
    return [f"**Not sure:** {reason}.", *ranking_lines(shown_ranking(guess))]


def refining_line(card: Card, now: datetime | None = None) -> str:
    """Under a guess made from the first references of a round still under way: it is made again at the end."""
    progress = card.calibration
    assert progress is not None
    left = seconds_to_finish(progress, now or datetime.now(UTC))
    when = "" if left is None else f", in {_duration(left)}"
    return (
        f"**Calibrating:** {progress.finished} of {progress.planned} reference models probed — "
        f"this guess is made again once they are all in{when}."
    )


def _guess_lines(card: Card) -> list[str]:
    """The lead of an anonymous model's card: the answer and why, or why there is none and what happens next."""
    if card.guess is None:
        return [PROBING_LINE]
    if not supported_ranking(card.guess):
        return _no_guess_lines(card)
    lines = _not_sure_lines(card) if card.guess.not_sure is not None else _ranked_lines(card)
    return [*lines, refining_line(card)] if card.calibrating else lines


def _revealed_lines(card: Card) -> list[str]:
    assert card.reveal is not None
    truth = f"Made by **{safety.escape(card.reveal.vendor_name)}**"
    if card.reveal.true_model:
        truth += f" ({safety.code(card.reveal.true_model, 120)})"
    when = relative_time(card.reveal.revealed_at)
    lines = [truth + (f", revealed {when}." if when else ".")]
    corrected = relative_time(card.reveal.corrected_at)
    if corrected and card.reveal.corrected_from:
        lines.append(f"Corrected {corrected}; first revealed as {safety.plain_words(card.reveal.corrected_from, 150)}.")
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
        lines.append(
            f"The bot's guess was **{safety.escape(guessed_vendor_name(vendor))}** ({share_text(probability)})."
        )
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


def _hidden_tally(tally: Tally) -> str | None:
    """While votes are hidden, only how many there are; None when the tally may show whom they chose."""
    if not tally.hidden:
        return None
    return f"{tally.total} vote{_s(tally.total)} so far; who voted for what stays hidden until the reveal."


def _share(item: VendorVotes, tally: Tally) -> str:
    return f"{item.votes} ({item.votes / tally.total:.0%})"


def tally_text(tally: Tally) -> str:
    """Votes per vendor, by the name members typed or picked, one per line; only how many while hidden."""
    hidden = _hidden_tally(tally)
    if hidden is not None:
        return hidden
    lines = [f"**{safety.escape(item.name)}**: {_share(item, tally)}" for item in tally.by_vendor]
    return "\n".join([*lines, f"{tally.total} vote{_s(tally.total)}"])


def tally_line(tally: Tally) -> str:
    """The votes on one line for the card: the leading vendors and the total (or only the total while hidden)."""
    hidden = _hidden_tally(tally)
    if hidden is not None:
        return hidden
    leading = [
        f"**{safety.plain_words(item.name, 60)}** {_share(item, tally)}" for item in tally.by_vendor[:TALLY_ON_CARD]
    ]
    more = len(tally.by_vendor) - TALLY_ON_CARD
    if more > 0:
        leading.append(f"{more} more")
    return " · ".join([*leading, f"{tally.total} vote{_s(tally.total)}"])


def votes_text(card: Card) -> str:
    """The votes here on one line, or an invitation to vote when there are none; and the guild's deadline."""
    if not card.tally.total:
        text = "No votes yet: pick a vendor below." if card.voting_open else "No votes."
    else:
        text = tally_line(card.tally)
    deadline = relative_time(card.voting_closes_at) if card.reveal is None else None
    if deadline:
        text += f" Voting {'closed' if card.voting_closed_by_deadline else 'closes'} {deadline}."
    return text


def card_embed(card: Card, *, announced: bool, footer: str | None = None) -> discord.Embed:
    """The card of a model in one guild, ten lines at most; `announced` when it is the announcement of a newly
    listed model. The rest is in `evidence_embed`."""
    model = card.model
    embed = discord.Embed(
        title=safety.plain(_title(card, announced=announced), safety.TITLE_LIMIT),
        url=model_url(model.id),
        colour=_colour(card),
        description="\n".join([*_lead_lines(card), listing_text(model)]),
    )
    if model.stealth:
        embed.add_field(name="Votes here", value=votes_text(card), inline=False)
    if footer:
        embed.set_footer(text=footer)
    return safety.finish_embed(embed)


def _bullets(lines: list[str], limit: int = EVIDENCE_LINE_LIMIT) -> list[str]:
    return [f"• {safety.plain_words(line, limit)}" for line in lines]


def _add_chunked(embed: discord.Embed, name: str, lines: list[str]) -> None:
    """Lines into as many fields as they need, each within Discord's field limit, never splitting a line."""
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > safety.FIELD_VALUE_LIMIT:
            embed.add_field(name=name, value="\n".join(chunk), inline=False)
            name, chunk = f"{name} (continued)", []
        chunk.append(line)
    if chunk:
        embed.add_field(name=name, value="\n".join(chunk), inline=False)


def _nearest_lines(card: Card) -> list[str]:
    guess = card.guess
    if guess is None:
        return []
    shown = {vendor for vendor, _ in shown_ranking(guess)}
    return [
        f"{safety.escape(guessed_vendor_name(item.vendor))}: "
        + ", ".join(safety.code(nearest.model_id, 80) for nearest in item.nearest[:NEAREST_SHOWN])
        for item in guess.ranking
        if item.vendor in shown and item.nearest
    ]


def _findings_field(embed: discord.Embed, card: Card) -> None:
    guess = card.guess
    if guess is None or not guess.findings or not supported_ranking(guess):
        return
    top = guessed_vendor_name(supported_ranking(guess)[0][0])
    if guess.not_sure is not None:
        top += ", the likeliest"
    support = [item.text for item in guess.findings if item.stance == SUPPORT]
    against = [
        f"{item.text} (points to {display_name(item.vendor)})" for item in guess.findings if item.stance == AGAINST
    ]
    if support:
        embed.add_field(
            name=f"What points to {safety.plain(top, 100)}", value="\n".join(_bullets(support)), inline=False
        )
    if against:
        embed.add_field(name="What points elsewhere", value="\n".join(_bullets(against)), inline=False)


def evidence_embed(card: Card) -> discord.Embed:
    """Everything behind a card: the findings in words, the nearest references, every evidence line of the
    engine, and the listing with why it looks anonymous."""
    model = card.model
    embed = discord.Embed(
        title=safety.plain(f"Evidence: {model.name}", safety.TITLE_LIMIT), url=model_url(model.id), colour=_colour(card)
    )
    guess = card.guess
    if guess is None:
        embed.description = "Probing is under way; the evidence appears here with the bot's guess."
    elif not supported_ranking(guess):
        embed.description = "\n".join(_no_guess_lines(card))
    elif guess.not_sure is not None:
        embed.description = "\n".join(_not_sure_lines(card))
    else:
        embed.description = "\n".join(_ranked_lines(card))
    _findings_field(embed, card)
    nearest = _nearest_lines(card)
    if nearest:
        embed.add_field(name="Nearest reference models", value="\n".join(nearest), inline=False)
    if guess is not None and guess.evidence:
        _add_chunked(embed, "Every signal", _bullets(list(guess.evidence)))
    listing = [listing_text(model)]
    if model.stealth and model.stealth_reasons:
        reasons = "; ".join(_REASON_WEIGHT.sub("", reason) for reason in model.stealth_reasons)
        listing.append(f"Looks anonymous: {safety.plain_words(reasons, 600)}")
    embed.add_field(name="Listing", value="\n".join(listing), inline=False)
    if guess is not None and guess.created_at:
        embed.set_footer(text=f"Guess made {guess.created_at[:16].replace('T', ' ')} UTC")
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
        best = f"best guess **{safety.escape(guessed_vendor_name(ranking[0][0]))}** ({share_text(ranking[0][1])})"
    else:
        best = "no guess yet"
    removed = relative_time(model.removed_at)
    state = f"removed {removed}" if removed else "listed"
    return f"{safety.code(model.id)} · first seen {relative_time(model.first_seen) or '?'} · {state} · {best}"
