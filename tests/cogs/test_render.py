"""The card as drawn: golden files of the embed JSON for each state, its length, its limits and its honesty.

Set UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change, then read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import discord
import pytest

from bot.attribution.guess import NOT_SURE_BETWEEN, NOT_SURE_UNLIKE_ANY, NotSure
from bot.catalogue.entry import CatalogueEntry, parse_entry
from cogs._card import Card
from cogs._render import announcement_footer, card_embed, confidence_bar, pricing_text, recent_line, relative_time
from tests.support.cards import GPT4_RAW, OWL_RAW, card, guess, model, reveal

GOLDEN = Path(__file__).parent / "golden"
DEFAULT_VIEW_LINES = 15
RANKED = guess(("zhipu", 0.62), ("openai", 0.21), ("alibaba", 0.09), ("google", 0.08))
BETWEEN = NotSure(NOT_SURE_BETWEEN, ("openai", "anthropic"), "OpenAI or Anthropic, not sure which", 0.71)
NOT_SURE = guess(("openai", 0.45), ("anthropic", 0.35), ("google", 0.2), not_sure=BETWEEN)
UNLIKE_ANY = guess(
    ("unknown", 0.55),
    ("openai", 0.25),
    ("anthropic", 0.2),
    not_sure=NotSure(NOT_SURE_UNLIKE_ANY, (), "no reference writes like it", 0.71),
)

STATES: dict[str, tuple[Card, bool]] = {
    "stealth_with_guesses": (card(guessed=RANKED, tally=[("zhipu", 2), ("openai", 1)]), True),
    "no_references": (
        card(guessed=guess(evidence=("no references yet — guesses start when calibration finishes (3/12)",))),
        True,
    ),
    "probes_failed": (
        card(guessed=guess(evidence=("no guess yet: probes failed — rate limited (11 of 11 requests answered 429)",))),
        True,
    ),
    "revealed": (
        card(
            guessed=RANKED,
            tally=[("zhipu", 2), ("openai", 1)],
            reveal=reveal("zhipu", "z-ai/glm-5"),
            called_by=["alice", "bob"],
        ),
        True,
    ),
    "non_stealth": (card(model(GPT4_RAW, stealth=False, vendor="openai")), False),
    "not_sure": (card(guessed=NOT_SURE), True),
}


def shown_lines(embed: discord.Embed) -> int:
    """Lines a member reads in the default view: title, description, each field's name and value, footer."""
    lines = 1 if embed.title else 0
    lines += len((embed.description or "").splitlines())
    lines += sum(1 + len((field.value or "").splitlines()) for field in embed.fields)
    return lines + (1 if embed.footer and embed.footer.text else 0)


def within_discord_limits(embed: discord.Embed) -> bool:
    return (
        len(embed) <= 6000
        and len(embed.title or "") <= 256
        and len(embed.description or "") <= 4096
        and len(embed.fields) <= 25
        and all(len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields)
    )


@pytest.mark.parametrize("state", list(STATES))
def test_each_card_state_matches_its_golden_file_is_short_and_within_discords_limits(state):
    shown, announced = STATES[state]
    embed = card_embed(shown, announced=announced, footer=announcement_footer(7))
    rendered = json.dumps(embed.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    golden = GOLDEN / f"{state}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8"), f"{state} differs from {golden}"
    assert shown_lines(embed) <= DEFAULT_VIEW_LINES, state
    assert within_discord_limits(embed), state


def test_a_card_leads_with_the_answer_and_its_reasons_then_the_ranking():
    embed = card_embed(STATES["stealth_with_guesses"][0], announced=True)
    lead, *ranking = (embed.description or "").splitlines()

    assert embed.title == "New stealth model: Owl Alpha"
    assert lead == (
        "Most likely **Zhipu (GLM)** (62%) — token counts match GLM-4.6 exactly (12 of 12 prompts); "
        "writes like GLM: nearest reference z-ai/glm-4.6"
    )
    assert ranking == [
        "1. **Zhipu (GLM)** `██████░░░░` 62%",
        "2. **OpenAI** `██░░░░░░░░` 21%",
        "3. **Alibaba (Qwen)** `█░░░░░░░░░` 9%",
    ]
    assert [field.name for field in embed.fields] == ["More evidence", "Listing", "Votes here"]


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("no references yet — guesses start when calibration finishes (3/12)", "`scout calibrate`"),
        ("probes failed — rate limited", "`/scout probe`"),
        ("probes failed — gateway error (HTTP 502)", "probed again automatically"),
    ],
)
def test_without_evidence_the_card_says_why_and_what_an_admin_can_do_and_names_no_vendor(reason, hint):
    embed = card_embed(card(guessed=guess(evidence=(reason,))), announced=True)
    description = embed.description or ""

    assert description.startswith(f"**No guess yet:** {reason}.") and hint in description
    assert "Most likely" not in description and "1. **" not in description


@pytest.mark.parametrize(
    ("guessed", "lead"),
    [
        (NOT_SURE, "**Not sure:** OpenAI or Anthropic, not sure which (45% / 35%)."),
        (UNLIKE_ANY, "**Not sure:** no reference writes like it."),
    ],
)
def test_a_guess_below_the_naming_threshold_names_no_single_vendor_on_the_card(guessed, lead):
    embed = card_embed(card(guessed=guessed), announced=True)
    description = embed.description or ""
    assert description.splitlines() == [lead]
    assert "Most likely" not in description and "1. **" not in description
    assert "best guess" not in recent_line(card(guessed=guessed)) and guessed.top_vendor is None
    revealed = card_embed(card(guessed=guessed, reveal=reveal("openai", None)), announced=False)
    assert "The bot's guess was" not in (revealed.description or "")
    assert "The bot was not sure: " in (revealed.description or "")


def test_a_model_looked_up_later_is_not_titled_new():
    assert card_embed(card(model(GPT4_RAW, stealth=False)), announced=False).title == "Model: OpenAI: GPT-4"
    assert card_embed(card(guessed=RANKED), announced=False).title == "Stealth model: Owl Alpha"


def test_a_model_that_is_not_anonymous_has_no_anonymity_section_and_no_votes():
    embed = card_embed(card(model(GPT4_RAW, stealth=False, vendor="openai")), announced=True)
    text = json.dumps(embed.to_dict())

    assert embed.title == "New model: OpenAI: GPT-4" and embed.description == "Listed by **OpenAI** under its own name."
    assert "anonymous" not in text and "Votes" not in text and "guess" not in text


def test_a_revealed_card_says_who_made_it_and_who_called_it():
    embed = card_embed(STATES["revealed"][0], announced=True)

    assert embed.title == "Revealed: Owl Alpha" and embed.colour == discord.Colour.green()
    assert (embed.description or "").splitlines() == [
        f"Made by **Zhipu (GLM)** (`z-ai/glm-5`), revealed {relative_time('2026-06-09T12:00:00.000Z')}.",
        "Called by alice, bob (2 of 3 votes here).",
        "The bot's guess was **Zhipu (GLM)** (62%).",
    ]
    assert "**Zhipu (GLM)**: 2 (67%)" in {f.name: f.value for f in embed.fields}["Votes here"]


def test_a_removed_model_says_so_and_is_no_longer_new():
    embed = card_embed(card(model(removed_at="2026-06-10T08:00:00.000Z"), guessed=RANKED), announced=True)

    assert embed.title == "Stealth model: Owl Alpha"
    assert (embed.description or "").endswith("No longer listed since <t:1781078400:R>.")


def test_hidden_votes_show_how_many_voted_not_for_whom():
    hidden = {f.name: f.value for f in card_embed(card(tally=[("zhipu", 2), ("openai", 1)]), announced=True).fields}
    shown = {f.name: f.value for f in card_embed(card(tally=[("zhipu", 2)], hidden=False), announced=True).fields}

    assert hidden["Votes here"] == "3 votes so far; who voted for what stays hidden until the reveal."
    assert shown["Votes here"] == "**Zhipu (GLM)**: 2 (100%)\n2 votes"


def test_times_are_discord_timestamps_and_listing_facts_fit_one_line():
    listing = {f.name: f.value for f in card_embed(card(), announced=True).fields}["Listing"].splitlines()

    assert (
        listing[0] == "`openrouter/owl-alpha` · listed <t:1780790400:R> · 1,048,576 tokens · free · text, image → text"
    )
    assert relative_time(None) is None and relative_time(10**30) is None


def test_pricing_is_shown_per_million_tokens():
    def priced(pricing: object) -> CatalogueEntry:
        return parse_entry({"id": "acme/model", "pricing": pricing})

    assert (
        pricing_text(priced({"prompt": "0.00000125", "completion": "0.00001"})) == "in $1.25 · out $10.00 per 1M tokens"
    )
    assert pricing_text(priced({"prompt": "-1", "completion": "oops"})) == "price unknown"
    assert pricing_text(priced(None)) == pricing_text(priced({})) == "price unknown"
    assert confidence_bar(0) == "░" * 10 and confidence_bar(1.7) == "█" * 10


def test_a_hostile_catalogue_entry_is_escaped_and_cut_to_discords_limits():
    raw = {
        "id": "evil/`@everyone`<@1>" + "x" * 150,
        "name": "@everyone [free gift](https://evil.example) **NOW** " + "N" * 500,
        "description": "<@&42> @here \u202eevil\u200b " + "D" * 100_000,
        "context_length": None,  # a listing whose context is not a number never gets past the poll
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        "architecture": {"input_modalities": ["text\n# injected"], "output_modalities": ["text"]},
    }
    reasons = tuple("reason with @everyone " + "r" * 2000 for _ in range(10))
    hostile = card(
        model(raw, reasons=reasons),
        guessed=guess(("x" * 300, 0.5), evidence=("@here " + "e" * 5000,) * 6),
        tally=[("x" * 300, 2)],
        hidden=False,
    )
    embed = card_embed(hostile, announced=True, footer=announcement_footer(1))
    rendered = str(embed.to_dict())

    assert within_discord_limits(embed) and shown_lines(embed) <= DEFAULT_VIEW_LINES
    assert "@everyone" not in rendered.replace("@\\u200beveryone", "") and "@here" not in rendered.replace(
        "@\\u200bhere", ""
    )
    assert (
        "[free gift](" not in rendered
        and "\u202e" not in rendered
        and "# injected" not in rendered.replace("\\\\# injected", "")
    )
    assert "context unknown" in {f.name: f.value for f in embed.fields}["Listing"]
    assert embed.footer.text == "Model Scout · announcement #1"
    assert OWL_RAW["name"] not in rendered
