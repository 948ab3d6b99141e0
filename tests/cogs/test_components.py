"""The components on a card: persistent, namespaced ids that round-trip through their templates, and a vendor
menu that uses all 25 slots without presenting an unsupported guess as the bot's."""

from __future__ import annotations

import discord
import pytest

from bot.catalogue.vendors import COMMON_VENDOR_KEYS
from cogs._components import (
    OTHER_VALUE,
    ConfidenceSelect,
    NoteButton,
    TallyButton,
    VendorSelect,
    announcement_view,
    vendor_options,
)
from tests.support.cards import GPT4_RAW, card, guess, model, reveal

ITEMS = [
    (VendorSelect, "scout:vote:{}"),
    (NoteButton, "scout:note:{}"),
    (TallyButton, "scout:votes:{}"),
]
GUESSED = guess(("Zhipu/GLM", 0.5), ("openai", 0.3), ("qwen", 0.1), ("mistral", 0.1))


async def test_the_confidence_select_names_its_card_and_round_trips():
    announcement_id, card_message = 9_007_199_254_740_993, 1_579_477_154_469_642_240
    item = ConfidenceSelect(announcement_id, card_message)
    assert item.custom_id == f"scout:sure:{announcement_id}:{card_message}" and len(item.custom_id) <= 100
    match = ConfidenceSelect.__discord_ui_compiled_template__.fullmatch(item.custom_id)
    assert match is not None
    rebuilt = await ConfidenceSelect.from_custom_id(None, item.item, match)
    assert (rebuilt.announcement_id, rebuilt.card, rebuilt.custom_id) == (announcement_id, card_message, item.custom_id)


@pytest.mark.parametrize(("item_class", "pattern"), ITEMS)
async def test_custom_ids_round_trip_through_the_dynamic_item_template(item_class, pattern):
    announcement_id = 9_007_199_254_740_993  # bigger than a float can hold exactly
    item = item_class(announcement_id)
    custom_id = item.custom_id

    assert custom_id == pattern.format(announcement_id) and len(custom_id) <= 100
    match = item_class.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    rebuilt = await item_class.from_custom_id(None, item.item, match)
    assert rebuilt.announcement_id == announcement_id and rebuilt.custom_id == custom_id


@pytest.mark.parametrize(("item_class", "pattern"), ITEMS)
def test_templates_refuse_ids_of_other_components(item_class, pattern):
    template = item_class.__discord_ui_compiled_template__
    assert template.fullmatch(pattern.format("12abc")) is None
    assert template.fullmatch("other:" + pattern.format(1)) is None
    others = [p for _, p in ITEMS if p != pattern] + ["scout:sure:{}"]
    assert all(template.fullmatch(other.format(1)) is None for other in others)


def test_the_view_is_persistent_and_holds_the_select_and_two_buttons():
    view = announcement_view(42, card(guessed=GUESSED))
    assert view.timeout is None and view.is_persistent()
    assert [child.custom_id for child in view.children] == ["scout:vote:42", "scout:note:42", "scout:votes:42"]


@pytest.mark.parametrize(
    "closed",
    [card(guessed=GUESSED, reveal=reveal()), card(model(GPT4_RAW, stealth=False, vendor="openai"))],
    ids=["revealed", "not anonymous"],
)
def test_a_revealed_or_non_anonymous_model_has_no_vendor_vote(closed):
    view = announcement_view(42, closed)
    assert [child.custom_id for child in view.children] == ["scout:note:42", "scout:votes:42"]


def test_vendor_options_put_supported_guesses_first_then_labs_then_other_in_all_25_slots():
    options = vendor_options(card(guessed=GUESSED))
    values = [option.value for option in options]

    assert values[:3] == ["zhipu", "openai", "alibaba"]
    assert options[0].description == "The bot's guess #1"
    assert values[-1] == OTHER_VALUE and options[-1].label == "Other…"
    assert len(values) == len(set(values)) == 25
    assert set(COMMON_VENDOR_KEYS) | {"stepfun", "bytedance", "tencent", "meituan"} <= set(values)
    assert all(1 <= len(option.label) <= 100 and len(option.value) <= 100 for option in options)


@pytest.mark.parametrize(
    "unsupported",
    [guess(evidence=("no references yet: guesses start when calibration finishes (0/12)",)), None],
    ids=["no guess yet", "still probing"],
)
def test_without_a_supported_guess_no_vendor_is_offered_as_the_bots_guess(unsupported):
    options = vendor_options(card(guessed=unsupported))
    assert not any(option.description and "guess" in option.description for option in options)
    assert len(options) == 25


def test_the_open_set_entry_is_not_offered_as_a_vendor_to_vote_for():
    options = vendor_options(card(guessed=guess(("unknown", 0.6), ("openai", 0.3))))
    assert "unknown" not in [option.value for option in options]
    assert options[0].value == "openai" and options[0].description == "The bot's guess #2"


def test_a_select_serialises_within_discords_limits():
    payload = announcement_view(1, card(guessed=GUESSED)).to_components()
    select = payload[0]["components"][0]
    assert select["type"] == discord.ComponentType.select.value
    assert select["min_values"] == select["max_values"] == 1 and len(select["options"]) == 25
