from bot.catalogue.diff import KnownModel, diff_catalogue
from bot.catalogue.entry import load_catalogue_file, parse_entries
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


def remember(entries, verdicts, removed=(), missing_once=(), first_seen="2026-06-01T00:00:00.000Z"):
    """The store's memory after those entries were recorded; `missing_once` were absent from the last poll."""
    return {
        e.id: KnownModel(
            e.id,
            e.name,
            e.tracked_json(),
            verdicts[e.id].stealth,
            verdicts[e.id].reasons,
            e.id in removed,
            1 if e.id in missing_once else 0,
            first_seen,
            MISSING_SINCE if e.id in missing_once else None,
        )
        for e in entries
    }


MISSING_SINCE = "2026-06-02T00:00:00.000Z"


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


def test_one_missing_poll_removes_nothing():
    entries, verdicts, _ = run([raw("openai/a"), raw("openai/b"), STEALTH], {})
    _, _, events = run([raw("openai/a")], remember(entries, verdicts))
    assert events == []


def test_removed_stealth_lists_newcomers_since_it_went_missing_as_reveal_candidates():
    entries, verdicts, _ = run([raw("openai/a"), STEALTH], {})
    known = remember(entries, verdicts, missing_once={"openrouter/owl-alpha"})
    successor, _ = parse_entries([raw("openai/gpt-5.1")])
    known |= remember(successor, {"openai/gpt-5.1": verdicts["openai/a"]}, first_seen=MISSING_SINCE)
    _, _, events = run([raw("openai/a"), raw("openai/gpt-5.1"), raw("openai/o5")], known)
    kinds = {(e.kind, e.model_id): e for e in events}
    removed = kinds[("removed", "openrouter/owl-alpha")]
    assert removed.stealth and removed.reveal_candidates == ("openai/gpt-5.1", "openai/o5")
    assert removed.to_json()["reveal_candidates"] == ["openai/gpt-5.1", "openai/o5"]
    assert ("new", "openai/o5") in kinds


def test_removed_non_stealth_has_no_candidates_and_removed_stays_quiet():
    entries, verdicts, _ = run([raw("openai/a"), raw("openai/b")], {})
    known = remember(entries, verdicts, missing_once={"openai/b"})
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


def priced(model_id, **pricing):
    listing = raw(model_id)
    listing["pricing"] = pricing
    return listing


def test_a_price_key_appearing_or_listed_at_zero_is_not_a_change():
    entries, verdicts, _ = run([priced("openai/a", prompt="0.000001", completion="0.000002", image="0")], {})
    known = remember(entries, verdicts)
    for pricing in (
        {"prompt": "0.000001", "completion": "0.000002", "web_search": "0", "image": "0"},
        {"prompt": "0.0000010", "completion": "2e-06"},
        {"prompt": "0.000001", "completion": "0.000002", "request": 0, "image": "0.01"},
        {"prompt": "0.000001", "completion": "0.000002", "web_search": "0.01", "input_cache_read": "1e-7"},
    ):
        assert run([priced("openai/a", **pricing)], known)[2] == [], pricing


def test_real_price_changes_are_named_key_by_key():
    entries, verdicts, _ = run([priced("openai/a", prompt="0.000001", completion="0.000002", image="0.01")], {})
    known = remember(entries, verdicts)
    after = priced("openai/a", prompt="0.000001", completion="0.000003", image="0.02", web_search="0.01")
    [event] = run([after], known)[2]
    assert event.fields == ("pricing",)
    assert event.change_lines() == ["pricing.completion: 0.000002 → 0.000003", "pricing.image: 0.01 → 0.02"]
    [dropped] = run([priced("openai/a", completion="0.000002", image="0.01")], known)[2]
    assert dropped.change_lines() == ["pricing.prompt: 0.000001 → 0"]


MAIN_LINES = ("pricing.prompt:", "pricing.completion:")


def test_a_real_price_change_across_the_shared_snapshots_names_prompt_or_completion(catalogue_december, catalogue_june):
    """Across the two real snapshots, 78 models changed a prompt or completion price; key noise adds none."""
    december, _ = parse_entries(load_catalogue_file(str(catalogue_december)))
    context = CatalogueContext.of(december)
    verdicts = {entry.id: classify(entry, context) for entry in december}
    _, _, events = run(load_catalogue_file(str(catalogue_june)), remember(december, verdicts))
    repriced = [event for event in events if "pricing" in event.fields]
    main = [event for event in repriced if any(line.startswith(MAIN_LINES) for line in event.change_lines())]
    assert len(main) == 78
    assert all(event.change_lines() for event in repriced)
    extra = [line for event in repriced for line in event.change_lines() if not line.startswith(MAIN_LINES)]
    assert extra and not [line for line in extra if " 0 → " in line or "none" in line]


def test_change_lines_show_before_and_after_for_every_kind_of_field():
    entries, verdicts, _ = run([raw("openai/a", context=8192, description="old words")], {})
    after = raw("openai/a", context=16384, description="new words")
    after["supported_parameters"] = ["temperature", "tools"]
    after["architecture"]["input_modalities"] = ["text", "image"]
    [event] = run([after], remember(entries, verdicts))[2]
    assert event.change_lines() == [
        "description: old words → new words",
        "context_length: 8192 → 16384",
        'modalities.input: ["text"] → ["image", "text"]',
        "parameters: +tools",
    ]
