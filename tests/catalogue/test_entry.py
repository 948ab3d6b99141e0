import pytest

from bot.catalogue.entry import EntryError, parse_entries, parse_entry


def entry(**overrides):
    base = {
        "id": "acme/widget-1",
        "name": "Acme: Widget 1",
        "description": "A model.",
        "created": 1700000000,
        "context_length": 8192,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"], "tokenizer": "GPT"},
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        "supported_parameters": ["temperature", "max_tokens"],
        "some_future_field": {"kept": True},
    }
    base.update(overrides)
    return base


def test_parse_keeps_unknown_fields_in_raw():
    parsed = parse_entry(entry())
    assert parsed.raw["some_future_field"] == {"kept": True}
    assert parsed.author == "acme" and parsed.slug == "widget-1"
    assert parsed.price("prompt") == pytest.approx(1e-6)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": None}, "id is missing"),
        ({"id": 42}, "id is int"),
        ({"id": "has space/x"}, "id is empty"),
        ({"context_length": "big"}, "context_length"),
        ({"pricing": []}, "pricing"),
        ({"architecture": {"input_modalities": "text"}}, "input_modalities"),
        ({"supported_parameters": [1, 2]}, "supported_parameters"),
    ],
)
def test_broken_fields_are_named(overrides, message):
    with pytest.raises(EntryError, match=message):
        parse_entry(entry(**overrides))


def test_broken_entries_are_skipped_not_fatal():
    entries, skipped = parse_entries([entry(), entry(id="acme/b", context_length="x"), "junk", entry()])
    assert [e.id for e in entries] == ["acme/widget-1"]
    assert [(s.position, s.model_id) for s in skipped] == [(1, "acme/b"), (2, None), (3, "acme/widget-1")]
    assert skipped[2].reason == "duplicate id"


def test_control_characters_and_huge_text_are_cut():
    parsed = parse_entry(entry(name="Evil\x00\x1b[31m Name", description="x" * 200_000))
    assert "\x00" not in parsed.name and "\x1b" not in parsed.name
    assert len(parsed.description) == 20_000


def test_tracked_fields_ignore_order_of_lists():
    a = parse_entry(entry(supported_parameters=["a", "b"]))
    b = parse_entry(entry(supported_parameters=["b", "a"]))
    assert a.tracked_json() == b.tracked_json()
