"""The components on an announcement: persistent, namespaced ids that round-trip through their templates."""

from __future__ import annotations

import discord
import pytest

from bot.catalogue.vendors import COMMON_VENDOR_KEYS
from cogs.voting import OTHER_VALUE, NoteButton, TallyButton, VendorSelect, announcement_view, vendor_options

ITEMS = [(VendorSelect, "scout:vote:{}"), (NoteButton, "scout:note:{}"), (TallyButton, "scout:votes:{}")]


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
    others = [p for _, p in ITEMS if p != pattern]
    assert all(template.fullmatch(other.format(1)) is None for other in others)


def test_the_view_is_persistent_and_holds_the_select_and_two_buttons():
    view = announcement_view(42, ["anthropic", "openai"])
    assert view.timeout is None and view.is_persistent()
    assert [child.custom_id for child in view.children] == ["scout:vote:42", "scout:note:42", "scout:votes:42"]


def test_once_revealed_the_view_drops_the_vendor_select():
    view = announcement_view(42, [], voting_open=False)
    assert [child.custom_id for child in view.children] == ["scout:note:42", "scout:votes:42"]


def test_vendor_options_put_guesses_first_then_common_vendors_then_other():
    options = vendor_options(["Zhipu/GLM", "openai", "qwen", "mistral"])
    values = [option.value for option in options]

    assert values[:3] == ["zhipu", "openai", "alibaba"]
    assert options[0].description == "The bot's guess #1"
    assert values[-1] == OTHER_VALUE and options[-1].label == "Other…"
    assert len(values) == len(set(values)) <= 25
    assert set(COMMON_VENDOR_KEYS) <= set(values)
    assert all(1 <= len(option.label) <= 100 and len(option.value) <= 100 for option in options)


def test_a_select_serialises_within_discords_limits():
    payload = announcement_view(1, ["openai"]).to_components()
    select = payload[0]["components"][0]
    assert select["type"] == discord.ComponentType.select.value
    assert select["min_values"] == select["max_values"] == 1 and len(select["options"]) <= 25
