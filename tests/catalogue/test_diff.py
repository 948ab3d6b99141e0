from bot.catalogue.diff import KnownModel, diff_catalogue
from bot.catalogue.entry import parse_entries
from bot.catalogue.stealth import CatalogueContext, classify


def raw(model_id, name=None, price="0.000001", context=8192, description="d"):
    return {
        "id": model_id,
        "name": name or f"Lab: {model_id}",
        "description": description,
        "context_length": context,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        "pricing": {"prompt": price, "completion": price},
        "supported_parameters": ["temperature"],
    }


STEALTH = raw("openrouter/owl-alpha", "Owl Alpha", price="0")


def run(raw_entries, known):
    entries, _ = parse_entries(raw_entries)
    context = CatalogueContext.of(entries)
    verdicts = {entry.id: classify(entry, context) for entry in entries}
    return entries, verdicts, diff_catalogue(entries, verdicts, known)


def remember(entries, verdicts, removed=()):
    return {
        e.id: KnownModel(
            e.id, e.name, e.tracked_json(), verdicts[e.id].stealth, verdicts[e.id].reasons, e.id in removed
        )
        for e in entries
    }


def test_baseline_reports_only_stealth():
    _, _, events = run([raw("openai/a"), raw("anthropic/b"), STEALTH], {})
    assert [(e.kind, e.model_id, e.stealth) for e in events] == [("new", "openrouter/owl-alpha", True)]


def test_same_catalogue_twice_gives_nothing():
    entries, verdicts, _ = run([raw("openai/a"), STEALTH], {})
    _, _, events = run([raw("openai/a"), STEALTH], remember(entries, verdicts))
    assert events == []


def test_changed_fields_are_named_with_before_and_after():
    entries, verdicts, _ = run([raw("openai/a")], {})
    _, _, events = run([raw("openai/a", price="0.000002", context=16384)], remember(entries, verdicts))
    assert [(e.kind, e.fields) for e in events] == [("changed", ("pricing", "context_length"))]
    assert events[0].before["context_length"] == 8192 and events[0].after["context_length"] == 16384


def test_removed_stealth_lists_newcomers_as_reveal_candidates():
    entries, verdicts, _ = run([raw("openai/a"), STEALTH], {})
    _, _, events = run([raw("openai/a"), raw("openai/gpt-5.1")], remember(entries, verdicts))
    kinds = {(e.kind, e.model_id): e for e in events}
    removed = kinds[("removed", "openrouter/owl-alpha")]
    assert removed.stealth and removed.reveal_candidates == ("openai/gpt-5.1",)
    assert removed.to_json()["reveal_candidates"] == ["openai/gpt-5.1"]
    assert ("new", "openai/gpt-5.1") in kinds


def test_removed_non_stealth_has_no_candidates_and_removed_stays_quiet():
    entries, verdicts, _ = run([raw("openai/a"), raw("openai/b")], {})
    known = remember(entries, verdicts)
    _, _, events = run([raw("openai/a"), raw("openai/c")], known)
    assert [(e.kind, e.model_id, e.reveal_candidates) for e in events] == [
        ("new", "openai/c", ()),
        ("removed", "openai/b", ()),
    ]
    known_after = remember(entries, verdicts, removed={"openai/b"})
    _, _, again = run([raw("openai/a")], known_after)
    assert again == []


def test_a_removed_model_that_comes_back_is_returned_not_new():
    entries, verdicts, _ = run([raw("openai/a"), raw("openai/b")], {})
    _, _, events = run([raw("openai/a"), raw("openai/b")], remember(entries, verdicts, removed={"openai/b"}))
    assert [(e.kind, e.model_id) for e in events] == [("returned", "openai/b")]
