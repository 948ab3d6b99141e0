"""Deciding alerts: which guild hears of which event, grouped one message per guild and kind."""

from __future__ import annotations

from typing import Any

import pytest

from bot.alerts import AlertPreferences, alert_text, matches_target, parse_list, plan_alerts, price_direction
from bot.catalogue.diff import CatalogueEvent, KnownModel, diff_catalogue
from bot.catalogue.entry import CatalogueEntry, parse_entries
from bot.catalogue.stealth import CatalogueContext, classify


def listing(model_id: str, prompt: str = "0.000001", context: int = 8192, inputs: tuple[str, ...] = ("text",)) -> dict:
    return {
        "id": model_id,
        "name": f"Lab: {model_id}",
        "context_length": context,
        "architecture": {"input_modalities": list(inputs), "output_modalities": ["text"]},
        "pricing": {"prompt": prompt, "completion": prompt},
        "hugging_face_id": None,
    }


def poll(before: list[dict], after: list[dict]) -> tuple[list[CatalogueEvent], dict[str, CatalogueEntry]]:
    """The events of polling `after` once `before` was recorded (models absent from `after` missing twice)."""
    known_entries, _ = parse_entries(before)
    known_context = CatalogueContext.of(known_entries)
    known = {
        entry.id: KnownModel(
            entry.id, entry.name, entry.tracked_json(), classify(entry, known_context).stealth, (), False, 1
        )
        for entry in known_entries
    }
    entries, _ = parse_entries(after)
    context = CatalogueContext.of(entries)
    verdicts = {entry.id: classify(entry, context) for entry in entries}
    return diff_catalogue(entries, verdicts, known), {entry.id: entry for entry in entries}


def guild(guild_id: int = 1, **preferences: Any) -> AlertPreferences:
    return AlertPreferences(guild_id, channel_id=100 + guild_id, **preferences)


BEFORE = [listing(f"openai/model-{index}") for index in range(60)] + [listing("z-ai/glm-4.6"), listing("qwen/qwen3")]


def test_a_guild_that_never_chose_gets_no_alert_messages() -> None:
    events, entries = poll(BEFORE, BEFORE[1:] + [listing("mistralai/new")])
    assert plan_alerts(events, entries, [guild()]) == []


def test_fifty_repriced_models_are_one_message_per_guild_listing_all_fifty() -> None:
    after = [listing(f"openai/model-{index}", prompt="0.000002") for index in range(50)] + BEFORE[50:]
    events, entries = poll(BEFORE, after)
    assert len([event for event in events if event.kind == "changed"]) == 50
    planned = plan_alerts(
        events, entries, [guild(1, prices=True, watched=("openai",)), guild(2, prices=True, watched=("openai",))]
    )
    assert [(alert.guild_id, alert.kind, len(alert.lines)) for alert in planned] == [(1, "price", 50), (2, "price", 50)]
    assert all(line.startswith("▲ openai/model-") and "$1.00/M → $2.00/M" in line for line in planned[0].lines)
    title, shown = alert_text("price", planned[0].lines)
    assert title == "Price changes: 50 models" and len(shown) == 21 and shown[-1].startswith("… and 30 more")


def test_price_alerts_follow_only_the_watched_models_and_vendors() -> None:
    after = [listing("openai/model-0", prompt="0.0000005"), listing("z-ai/glm-4.6", prompt="0.000003")] + BEFORE[1:60]
    after.append(listing("qwen/qwen3", prompt="0.000009"))
    events, entries = poll(BEFORE, after)
    by_vendor_alias = plan_alerts(events, entries, [guild(prices=True, watched=("zhipu", "openai/model-0"))])
    assert [line.split(" ")[:2] for line in by_vendor_alias[0].lines] == [
        ["▼", "openai/model-0"],
        ["▲", "z-ai/glm-4.6"],
    ]
    assert plan_alerts(events, entries, [guild(prices=False, watched=("zhipu",))]) == []


def test_context_changes_of_watched_models_are_their_own_alert() -> None:
    after = [listing("z-ai/glm-4.6", context=200_000)] + [entry for entry in BEFORE if entry["id"] != "z-ai/glm-4.6"]
    events, entries = poll(BEFORE, after)
    [alert] = plan_alerts(events, entries, [guild(context=True, prices=True, watched=("z-ai",))])
    assert alert.kind == "context" and alert.lines == ("▲ z-ai/glm-4.6 (Lab: z-ai/glm-4.6): 8,192 → 200,000 tokens",)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["google/gemma-free", "mistralai/pixtral", "newlab/one"]),
        ({"free_only": True}, ["google/gemma-free"]),
        ({"namespaces": ("mistral",)}, ["mistralai/pixtral"]),
        ({"namespaces": ("newlab", "google")}, ["google/gemma-free", "newlab/one"]),
        ({"modalities": ("image",)}, ["mistralai/pixtral"]),
        ({"free_only": True, "modalities": ("image",)}, []),
    ],
)
def test_new_model_alerts_apply_the_guilds_filters(filters: dict[str, Any], expected: list[str]) -> None:
    fresh = [
        listing("google/gemma-free", prompt="0"),
        listing("mistralai/pixtral", inputs=("text", "image")),
        listing("newlab/one"),
    ]
    events, entries = poll(BEFORE, BEFORE + fresh)
    planned = plan_alerts(events, entries, [guild(new_models=True, **filters)])
    assert [line.split(" ")[0] for alert in planned for line in alert.lines] == expected


def test_new_stealth_models_are_left_to_their_announcement_card() -> None:
    owl = {**listing("openrouter/owl-alpha", prompt="0"), "name": "Owl Alpha"}
    events, entries = poll(BEFORE, BEFORE + [owl])
    assert [event.stealth for event in events] == [True]
    assert plan_alerts(events, entries, [guild(new_models=True)]) == []


def test_removals_are_one_grouped_alert() -> None:
    events, entries = poll(BEFORE, BEFORE[10:])
    [alert] = plan_alerts(events, entries, [guild(removals=True)])
    assert alert.kind == "removed" and len(alert.lines) == 10


def test_a_paused_guild_or_one_without_a_channel_gets_nothing() -> None:
    events, entries = poll(BEFORE, BEFORE[10:])
    silent = [guild(1, removals=True, paused=True), AlertPreferences(2, channel_id=None, removals=True)]
    assert plan_alerts(events, entries, silent) == []


def test_one_poll_with_every_kind_gives_one_message_per_kind() -> None:
    after = [listing("openai/model-0", prompt="0.000002", context=16384)] + BEFORE[2:] + [listing("newlab/one")]
    events, entries = poll(BEFORE, after)
    everything = guild(new_models=True, prices=True, context=True, removals=True, watched=("openai",))
    assert [alert.kind for alert in plan_alerts(events, entries, [everything])] == [
        "new",
        "price",
        "context",
        "removed",
    ]


@pytest.mark.parametrize(
    ("before", "after", "direction"),
    [
        ({"prompt": "2", "completion": "2"}, {"prompt": "1", "completion": "2"}, "drop"),
        ({"prompt": "1", "completion": "1"}, {"prompt": "1", "completion": "3"}, "rise"),
        ({"prompt": "1", "completion": "3"}, {"prompt": "2", "completion": "1"}, "change"),
    ],
)
def test_price_direction(before: dict, after: dict, direction: str) -> None:
    assert price_direction(before, after) == direction


def test_targets_match_ids_namespaces_and_vendor_aliases() -> None:
    assert matches_target("z-ai/glm-4.6", ("zhipu",)) and matches_target("z-ai/glm-4.6:free", ("z-ai/glm-4.6",))
    assert matches_target("~openai/gpt-latest", ("openai",)) and not matches_target("openai/gpt-5", ("anthropic",))


def test_member_lists_are_parsed_or_refused_in_one_sentence() -> None:
    assert parse_list(" OpenAI, z-ai  openai ") == ("openai", "z-ai")
    with pytest.raises(ValueError, match="at most 25 items"):
        parse_list(" ".join(f"lab{index}" for index in range(30)))
