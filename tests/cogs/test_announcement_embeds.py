"""What an announcement shows, and that a hostile catalogue entry or note cannot break or abuse it."""

from __future__ import annotations

import discord

from bot.store.catalogue import ModelRecord
from bot.store.votes import Reveal, Tally, VendorVotes
from cogs.announcements import GuessSummary, announcement_footer, confidence_bar, model_embed, pricing_text

OWL_RAW = {
    "id": "openrouter/owl-alpha",
    "name": "Owl Alpha",
    "created": 1780790400,
    "description": "This is a cloaked model provided to gather feedback. Prompts and completions may be logged.",
    "context_length": 1_048_576,
    "pricing": {"prompt": "0", "completion": "0"},
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
}


def _model(
    raw: dict, *, stealth: bool = True, reasons: tuple[str, ...] = ("cloaked-model wording in the description",)
) -> ModelRecord:
    return ModelRecord(
        id=raw["id"],
        name=raw["name"],
        vendor=None,
        created=raw.get("created"),
        first_seen="2026-06-07T10:00:00.000Z",
        last_seen="2026-06-07T10:00:00.000Z",
        removed_at=None,
        stealth=stealth,
        stealth_score=0.9,
        stealth_reasons=reasons,
        raw=raw,
    )


def _fields(embed: discord.Embed) -> dict[str, str]:
    return {field.name: field.value for field in embed.fields}


def test_a_new_stealth_model_shows_its_facts_and_why_it_looks_anonymous():
    embed = model_embed(_model(OWL_RAW), guess=None, tally=Tally(0, (), hidden=False), footer=announcement_footer(7))
    fields = _fields(embed)

    assert embed.title == "New stealth model: Owl Alpha"
    assert embed.url == "https://openrouter.ai/openrouter/owl-alpha"
    assert fields["Model id"] == "`openrouter/owl-alpha`"
    assert fields["Listed"] == "2026-06-07"
    assert fields["Context"] == "1,048,576 tokens"
    assert fields["Pricing"] == "free"
    assert fields["Modalities"] == "text, image → text"
    assert "cloaked-model wording" in fields["Why it looks anonymous"]
    assert fields["Best guesses"].startswith("Probing")
    assert embed.footer.text == "Model Scout · announcement #7"


def test_pricing_is_shown_per_million_tokens():
    assert (
        pricing_text({"pricing": {"prompt": "0.00000125", "completion": "0.00001"}})
        == "input $1.25 · output $10.00 per 1M tokens"
    )
    assert pricing_text({"pricing": {"prompt": "-1", "completion": "oops"}}) == "unknown"
    assert pricing_text({}) == "unknown"


def test_guesses_show_the_top_three_with_bars_and_evidence():
    guess = GuessSummary(
        [("openai", 0.62), ("anthropic", 0.21), ("google", 0.1), ("xai", 0.07)],
        0.58,
        ["says it was trained by OpenAI", "tokenizer counts match o200k"],
    )
    value = _fields(model_embed(_model(OWL_RAW), guess=guess))["Best guesses"]

    assert "1. **OpenAI** `██████░░░░` 62%" in value
    assert "3. **Google**" in value and "xAI" not in value
    assert "Confidence in the first: 58%" in value and "• says it was trained by OpenAI" in value
    assert confidence_bar(0) == "░" * 10 and confidence_bar(1.7) == "█" * 10


def test_a_guess_without_a_ranking_shows_why_first_and_names_no_vendor():
    guess = GuessSummary(
        [], 0.0, ["probes: 11 of 11 failed (gateway error ×11)"], "no guess yet: probes failed — gateway error ×11"
    )
    value = _fields(model_embed(_model(OWL_RAW), guess=guess))["Best guesses"]
    assert value.splitlines()[0] == "no guess yet: probes failed — gateway error ×11"
    assert "probes: 11 of 11 failed" in value and "Confidence" not in value and "%" not in value.splitlines()[0]


def test_votes_and_the_revealed_truth_are_shown():
    reveal = Reveal(1, "openrouter/owl-alpha", "openai", "OpenAI", "openai/gpt-5.1", 5, "2026-06-08T00:00:00.000Z")
    embed = model_embed(
        _model(OWL_RAW),
        guess=None,
        tally=Tally(4, (VendorVotes("openai", "OpenAI", 3), VendorVotes("google", "Google", 1)), hidden=False),
        reveal=reveal,
        reveal_score=(3, 4),
    )
    fields = _fields(embed)

    assert "**OpenAI**: 3 (75%)" in fields["Votes here"] and "4 votes" in fields["Votes here"]
    assert (
        fields["Revealed"].startswith("**OpenAI** (`openai/gpt-5.1`)")
        and "3 of 4 votes here were right" in fields["Revealed"]
    )
    assert embed.colour == discord.Colour.green()


def test_a_hostile_catalogue_entry_is_escaped_and_cut_to_discords_limits():
    raw = {
        "id": "evil/`@everyone`<@1>" + "x" * 150,
        "name": "@everyone [free gift](https://evil.example) **NOW** " + "N" * 500,
        "description": "<@&42> @here \u202eevil\u200b " + "D" * 100_000,
        "context_length": "lots",
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        "architecture": {"input_modalities": ["text\n# injected"], "output_modalities": ["text"]},
    }
    reasons = tuple("reason with @everyone " + "r" * 2000 for _ in range(10))
    embed = model_embed(
        _model(raw, reasons=reasons),
        guess=None,
        tally=Tally(2, (VendorVotes("x" * 300, "x" * 300, 2),), hidden=False),
        footer=announcement_footer(1),
    )
    rendered = str(embed.to_dict())

    assert len(embed) <= 6000 and len(embed.title) <= 256 and len(embed.description or "") <= 4096
    assert all(len(field.value) <= 1024 and len(field.name) <= 256 for field in embed.fields)
    assert "@everyone" not in rendered.replace("@\\u200beveryone", "") and "@here" not in rendered.replace(
        "@\\u200bhere", ""
    )
    assert "[free gift](" not in rendered and "\u202e" not in rendered
    assert _fields(embed)["Context"] == "unknown"
    assert embed.footer.text == "Model Scout · announcement #1"
