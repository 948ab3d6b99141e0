"""The card as drawn from cards built by hand: its lead in words, its rows, its length, its limits and its honesty.

The golden files, recorded from real runs of the pipeline, are checked in test_render_golden.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.attribution.findings import Finding
from bot.attribution.guess import NOT_SURE_BETWEEN, NOT_SURE_UNLIKE_ANY, NotSure
from bot.catalogue.entry import CatalogueEntry, parse_entry
from bot.store.calibration import CalibrationProgress
from cogs._card import Card
from cogs._render import (
    announcement_footer,
    because_text,
    calibration_line,
    card_embed,
    confidence_bar,
    evidence_embed,
    pricing_text,
    recent_line,
    refining_line,
    relative_time,
    share_text,
)
from tests.support.cards import GPT4_RAW, OWL_RAW, card, guess, model, reveal

DEFAULT_VIEW_LINES = 10
RANKED = guess(
    ("zhipu", 0.62),
    ("openai", 0.21),
    ("alibaba", 0.09),
    ("google", 0.08),
    findings=(
        Finding("tokenizer", "zhipu", "support", "counts tokens exactly like GLM 4.6"),
        Finding("style", "zhipu", "support", "writes most like GLM 4.6"),
        Finding("identity", "openai", "against", "calls itself ChatGPT, which many labs' models do"),
    ),
)
BETWEEN = NotSure(NOT_SURE_BETWEEN, ("openai", "anthropic"), "OpenAI or Anthropic, not sure which", 0.71)
NOT_SURE = guess(("openai", 0.45), ("anthropic", 0.35), ("google", 0.2), not_sure=BETWEEN)
UNLIKE_ANY = guess(
    ("unknown", 0.55),
    ("openai", 0.25),
    ("anthropic", 0.2),
    not_sure=NotSure(NOT_SURE_UNLIKE_ANY, (), "no reference writes like it", 0.71),
)


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


def test_a_card_leads_with_the_answer_and_its_reasons_in_words_then_the_rows_of_real_shares():
    embed = card_embed(card(guessed=RANKED, tally=[("zhipu", 2), ("openai", 1)]), announced=True, footer="f")
    lead, *rows, listing = (embed.description or "").splitlines()

    assert embed.title == "New stealth model: Owl Alpha"
    assert lead == (
        "Most likely **Zhipu (GLM)** (62%): counts tokens exactly like GLM 4.6 and writes most like GLM 4.6. "
        "It calls itself ChatGPT, which many labs' models do."
    )
    assert rows == [
        "1. **Zhipu (GLM)** `██████░░░░` 62%",
        "2. **OpenAI** `██░░░░░░░░` 21%",
        "3. **Alibaba (Qwen)** `█░░░░░░░░░` 9%",
    ]
    assert listing.startswith("`openrouter/owl-alpha` · listed")
    assert [field.name for field in embed.fields] == ["Votes here"]
    assert shown_lines(embed) <= DEFAULT_VIEW_LINES


def test_rows_show_only_vendors_with_five_percent_or_more_and_the_lab_without_references_when_it_ranks():
    shares = guess(("zhipu", 0.55), ("unknown", 0.3), ("openai", 0.11), ("google", 0.04))
    rows = (card_embed(card(guessed=shares), announced=True).description or "").splitlines()[1:-1]

    assert rows == [
        "1. **Zhipu (GLM)** `██████░░░░` 55%",
        "2. **a lab without references** `███░░░░░░░` 30%",
        "3. **OpenAI** `█░░░░░░░░░` 11%",
    ]


def test_a_headline_too_long_for_the_card_drops_whole_clauses_never_half_a_word():
    long_name = "a model with a rather long listed name number {}"
    findings = tuple(
        Finding(signal, "zhipu", "support", f"counts tokens exactly like {long_name.format(i)}")
        for i, signal in enumerate(("tokenizer", "style", "identity", "tokenizer", "style", "identity", "style"))
    ) + (Finding("identity", "openai", "against", "calls itself ChatGPT, which many labs' models do"),)
    text = because_text(findings, "zhipu")

    assert len(text) <= 320 and "…" not in text and text.endswith(".")
    assert "number 0" in text and "number 6" not in text


def test_without_support_in_words_the_card_says_the_signals_lean_together():
    assert because_text((), "zhipu") == "no single signal decides it; together they lean this way."


def test_while_calibrating_the_card_says_how_far_it_got_and_when_a_guess_follows_and_asks_no_admin_for_anything():
    started = datetime(2026, 6, 7, 12, 0, tzinfo=UTC)
    progress = CalibrationProgress(18, 25, 17, 200, started.isoformat(), 18)
    waiting = replace(card(guessed=guess(status="no_references")), calibration=progress)

    line = calibration_line(waiting, now=started + timedelta(minutes=10))
    assert line == "**Calibrating:** 18 of 25 reference models probed — a guess in about 4 minutes."
    description = card_embed(waiting, announced=True).description or ""
    assert description.startswith("**Calibrating:** 18 of 25 reference models probed — a guess in ")
    assert "admin" not in description and "scout calibrate" not in description


def test_a_guess_made_from_a_rounds_first_references_says_it_is_made_again_when_the_round_is_over():
    started = datetime(2026, 6, 7, 12, 0, tzinfo=UTC)
    early = replace(card(guessed=RANKED), calibration=CalibrationProgress(3, 34, 3, 54, started.isoformat(), 3))
    line = refining_line(early, now=started + timedelta(minutes=1))
    assert line == (
        "**Calibrating:** 3 of 34 reference models probed — this guess is made again once they are all in, "
        "in about 10 minutes."
    )
    lines = (card_embed(early, announced=True).description or "").splitlines()
    assert lines[0].startswith("Most likely **Zhipu (GLM)**") and lines[-2].startswith("**Calibrating:** 3 of 34 ")
    unsure = replace(card(guessed=NOT_SURE), calibration=early.calibration)
    assert "**Calibrating:** 3 of 34 " in (card_embed(unsure, announced=True).description or "")
    finished = replace(early, calibration=CalibrationProgress(34, 34, 34, 612))
    assert "Calibrating" not in (card_embed(finished, announced=True).description or "")


def test_before_any_reference_is_in_the_card_says_the_references_are_being_probed():
    progress = CalibrationProgress(0, 25, 0, 0, "2026-06-07T12:00:00.000Z", 0)
    waiting = replace(card(guessed=guess(status="no_references")), calibration=progress)
    assert calibration_line(waiting) == (
        "**Calibrating:** probing 25 reference models; a guess follows once they are in."
    )


def without_references(reason: str, progress: CalibrationProgress) -> Card:
    """The card of a model whose guess waits for references, with the calibration as `progress` says."""
    return replace(card(guessed=guess(status="no_references", reason=reason)), calibration=progress)


def test_without_references_and_without_calibration_the_card_tells_an_admin_what_to_do():
    idle = without_references(
        "no references yet — guesses start when calibration finishes (not started)", CalibrationProgress(0, 0, 0, 0)
    )
    lead, hint, _ = (card_embed(idle, announced=True).description or "").splitlines()
    assert lead.startswith("**No guess yet:** no references yet")
    assert "`scout calibrate`" in hint


def test_a_model_the_gateway_does_not_know_says_so_once():
    gone = guess(status="not_found", reason="no guess: the gateway does not know this model (404 on every probe)")
    lead = (card_embed(card(guessed=gone), announced=True).description or "").splitlines()[0]
    assert lead == "**No guess yet:** the gateway does not know this model (404 on every probe)."


def test_when_calibration_probed_none_of_its_references_the_card_points_to_status_not_to_a_key():
    failed = without_references(
        "no references yet — calibration could probe none of its 2 reference models", CalibrationProgress(2, 2, 0, 22)
    )
    lead, hint, _ = (card_embed(failed, announced=True).description or "").splitlines()
    assert lead.endswith("calibration could probe none of its 2 reference models.")
    assert hint == "`/scout status` says why; an admin can add references with `scout calibrate`."


def test_a_card_whose_probes_failed_says_when_they_are_tried_again_or_that_they_are_not():
    failed = guess(status="probes_failed", reason="no guess yet: probes failed — rate limited ×11 (every probe failed)")
    again = replace(card(guessed=failed), next_probe_at="2026-06-07T12:10:00.000Z")
    lead, hint, _ = (card_embed(again, announced=True).description or "").splitlines()
    assert lead == "**No guess yet:** probes failed — rate limited ×11 (every probe failed)."
    assert hint == "Next try <t:1780834200:R>; an admin can retry now with `/scout probe`."
    given_up = (card_embed(card(guessed=failed), announced=True).description or "").splitlines()[1]
    assert given_up == "It is not probed again by itself; an admin can retry with `/scout probe`."


@pytest.mark.parametrize(
    ("guessed", "lead"),
    [
        (NOT_SURE, "**Not sure:** OpenAI or Anthropic, not sure which."),
        (UNLIKE_ANY, "**Not sure:** no reference writes like it."),
    ],
)
def test_a_guess_below_the_naming_threshold_names_no_single_vendor_on_the_card(guessed, lead):
    embed = card_embed(card(guessed=guessed), announced=True)
    description = embed.description or ""
    assert description.splitlines()[0] == lead
    assert "Most likely" not in description
    assert "best guess" not in recent_line(card(guessed=guessed)) and guessed.top_vendor is None
    revealed = card_embed(card(guessed=guessed, reveal=reveal("openai", None)), announced=False)
    assert "The bot's guess was" not in (revealed.description or "")
    assert "The bot was not sure: " in (revealed.description or "")


def test_the_bot_is_never_shown_as_certain():
    sure = guess(("zhipu", 0.997), ("openai", 0.003))
    description = card_embed(card(guessed=sure), announced=True).description or ""
    assert description.startswith("Most likely **Zhipu (GLM)** (over 99%)") and "100%" not in description
    assert (share_text(0.994), share_text(0.995), share_text(0.05)) == ("99%", "over 99%", "5%")


def test_a_model_looked_up_later_is_not_titled_new():
    assert card_embed(card(model(GPT4_RAW, stealth=False)), announced=False).title == "Model: OpenAI: GPT-4"
    assert card_embed(card(guessed=RANKED), announced=False).title == "Stealth model: Owl Alpha"


def test_a_model_that_is_not_anonymous_has_no_anonymity_section_and_no_votes():
    embed = card_embed(card(model(GPT4_RAW, stealth=False, vendor="openai")), announced=True)
    text = json.dumps(embed.to_dict())

    assert embed.title == "New model: OpenAI: GPT-4"
    assert (embed.description or "").splitlines()[0] == "Listed by **OpenAI** under its own name."
    assert "anonymous" not in text and "Votes" not in text and "guess" not in text


def test_a_revealed_card_says_who_made_it_and_who_called_it():
    revealed = card(
        guessed=RANKED,
        tally=[("zhipu", 2), ("openai", 1)],
        reveal=reveal("zhipu", "z-ai/glm-5"),
        called_by=["alice", "bob"],
    )
    embed = card_embed(revealed, announced=True)

    assert embed.title == "Revealed: Owl Alpha" and embed.colour == discord.Colour.green()
    assert (embed.description or "").splitlines()[:-1] == [
        f"Made by **Zhipu (GLM)** (`z-ai/glm-5`), revealed {relative_time('2026-06-09T12:00:00.000Z')}.",
        "Called by alice, bob (2 of 3 votes here).",
        "The bot's guess was **Zhipu (GLM)** (62%).",
    ]
    assert {f.name: f.value for f in embed.fields}["Votes here"] == (
        "**Zhipu (GLM)** 2 (67%) · **OpenAI** 1 (33%) · 3 votes"
    )


def test_a_removed_model_says_so_and_is_no_longer_new():
    embed = card_embed(card(model(removed_at="2026-06-10T08:00:00.000Z"), guessed=RANKED), announced=True)

    assert embed.title == "Stealth model: Owl Alpha"
    assert (embed.description or "").splitlines()[-2] == "No longer listed since <t:1781078400:R>."


def test_hidden_votes_show_how_many_voted_not_for_whom():
    hidden = {f.name: f.value for f in card_embed(card(tally=[("zhipu", 2), ("openai", 1)]), announced=True).fields}
    shown = {f.name: f.value for f in card_embed(card(tally=[("zhipu", 2)], hidden=False), announced=True).fields}

    assert hidden["Votes here"] == "3 votes so far; who voted for what stays hidden until the reveal."
    assert shown["Votes here"] == "**Zhipu (GLM)** 2 (100%) · 2 votes"


def test_times_are_discord_timestamps_and_listing_facts_fit_one_line():
    listing = (card_embed(card(), announced=True).description or "").splitlines()[-1]

    assert listing == "`openrouter/owl-alpha` · listed <t:1780790400:R> · 1,048,576 tokens · free · text, image → text"
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
    assert "context unknown" in (embed.description or "")
    assert embed.footer.text == "Model Scout · announcement #1"
    assert OWL_RAW["name"] not in rendered
    evidence = evidence_embed(hostile)
    assert within_discord_limits(evidence) and "@here" not in str(evidence.to_dict()).replace("@\\u200bhere", "")


def test_the_evidence_embed_keeps_every_signal_line_within_discords_limits_and_cuts_none_mid_word():
    lines = tuple(f"signal {i}: " + " ".join(f"word{j}" for j in range(120)) for i in range(12))
    embed = evidence_embed(card(guessed=guess(("zhipu", 0.7), ("openai", 0.3), evidence=lines)))
    every = [f for f in embed.fields if (f.name or "").startswith("Every signal")]

    assert within_discord_limits(embed) and len(every) > 1
    shown = [line for field in every for line in (field.value or "").splitlines()]
    assert len(shown) == len(lines)
    assert all(line.endswith("…") and line[:-1].split()[-1].startswith("word") for line in shown)
    assert all(line[:-1].split()[-1] in lines[0].split() for line in shown)
