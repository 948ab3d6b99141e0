"""Product lines: the calibration plan on both real catalogue snapshots, and the rule on names and prices."""

from __future__ import annotations

import pytest

from bot.catalogue.chat import is_chat_model
from bot.catalogue.entry import CatalogueEntry, load_catalogue_file, parse_entries
from bot.catalogue.lines import (
    CODER,
    FLAGSHIP,
    LINES,
    OPEN_WEIGHT,
    REASONING,
    SMALL,
    is_derivative,
    line_of,
    plan_references,
)
from bot.catalogue.vendors import COMMON_VENDOR_KEYS, vendor_for_model_id
from bot.jobs.references import run_cost
from bot.probes.cost import most_prompt_tokens
from bot.probes.suite import plan_probes
from bot.settings import Settings
from tests.support.shared_data import shared_file

PLAN = plan_probes(
    Settings.model_fields["probe_max_requests"].default, Settings.model_fields["probe_max_tokens"].default
)
BUDGET = run_cost(PLAN)
SNAPSHOTS = ("openrouter-models-2025-12-18.json", "openrouter-models-2026-06-07.json")


def chat_entries(name: str) -> list[CatalogueEntry]:
    entries, _ = parse_entries(load_catalogue_file(str(shared_file(f"catalogue/{name}"))))
    return [entry for entry in entries if is_chat_model(entry)]


@pytest.mark.parametrize(
    ("model_id", "line"),
    [
        ("openai/gpt-5.2", FLAGSHIP),
        ("openai/gpt-5-mini", SMALL),
        ("openai/o4-mini-high", REASONING),
        ("openai/gpt-5.1-codex-max", CODER),
        ("google/gemini-3-flash-preview", SMALL),
        ("anthropic/claude-haiku-4.5", SMALL),
        ("minimax/minimax-m2.7", FLAGSHIP),
        ("qwen/qwen3-vl-8b-thinking", REASONING),
        ("qwen/qwen3-coder-flash", CODER),
        ("qwen/qwen3.5-9b", SMALL),
        ("qwen/qwen3.6-35b-a3b", FLAGSHIP),
        ("z-ai/glm-4.5-air", SMALL),
        ("deepseek/deepseek-r1-0528", REASONING),
        ("mistralai/devstral-2512", CODER),
        ("x-ai/grok-code-fast-1", CODER),
    ],
)
def test_a_listing_line_is_read_from_its_name(model_id, line):
    assert line_of(model_id) == line


def test_open_weights_are_a_line_only_where_the_lab_says_so():
    assert line_of("openai/gpt-oss-120b", open_weight_line=True) == OPEN_WEIGHT
    assert line_of("openai/gpt-oss-120b") == FLAGSHIP
    assert line_of("qwen/qwen3-coder-next", open_weight_line=True) == CODER  # a coder stays a coder


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_the_plan_covers_every_line_a_major_lab_lists_and_never_a_premium_variant(name):
    entries = chat_entries(name)
    plan = plan_references(entries, COMMON_VENDOR_KEYS, BUDGET)
    planned = {item.model_id: item for item in plan}
    assert len(planned) == len(plan), "a model is planned once"
    by_lab: dict[str, set[str]] = {}
    for item in plan:
        by_lab.setdefault(item.vendor, set()).add(item.line)
    listed: dict[str, list[CatalogueEntry]] = {}
    for entry in entries:
        vendor = vendor_for_model_id(entry.id)
        if vendor is not None and vendor.key in COMMON_VENDOR_KEYS:
            listed.setdefault(vendor.key, []).append(entry)
    assert set(by_lab) == set(listed), "every major lab in the catalogue gets references"
    for lab, lines in by_lab.items():
        only_small = lines == {SMALL}  # NVIDIA lists nothing but small models in December
        assert len(lines) <= 5 and (FLAGSHIP in lines or only_small), (lab, lines)
    for lab, listings in listed.items():
        named_lines = {line_of(e.id) for e in listings if not is_derivative(e)}
        if len(named_lines) >= 3:
            assert len(by_lab[lab]) >= 3, (lab, named_lines, by_lab[lab])
    broad = [lab for lab, lines in by_lab.items() if len(lines) >= 3]
    assert {"openai", "google", "alibaba"} <= set(broad), by_lab
    assert by_lab["openai"] == set(LINES)
    premium = ("-pro", "deep-research", "multi-agent", "customtools", "search", "-fast")
    chosen_openai_anthropic = [m for m in planned if m.startswith(("openai/", "anthropic/"))]
    assert not [m for m in chosen_openai_anthropic if any(word in m for word in premium)], chosen_openai_anthropic
    dearest = max(plan, key=lambda item: item.cost)
    assert dearest.cost < 0.25 and sum(item.cost for item in plan) < 2.0


def vars_of(entry: CatalogueEntry) -> dict:
    return {name: getattr(entry, name) for name in entry.__dataclass_fields__}


def test_a_newer_member_of_a_line_takes_the_older_ones_place():
    entries = chat_entries(SNAPSHOTS[1])
    newer = next(e for e in entries if e.id == "openai/gpt-5.4-nano")
    renamed = CatalogueEntry(**{**vars_of(newer), "id": "openai/gpt-6-nano", "created": (newer.created or 0) + 86_400})
    plan = plan_references([*entries, renamed], ("openai",), BUDGET)
    small = [item.model_id for item in plan if item.line == SMALL]
    assert small == ["openai/gpt-6-nano"]


def test_a_model_built_on_another_labs_model_is_not_a_reference():
    entries = {e.id: e for e in chat_entries(SNAPSHOTS[0])}
    assert is_derivative(entries["deepseek/deepseek-r1-0528-qwen3-8b"])
    assert is_derivative(entries["deepseek/deepseek-r1-distill-llama-70b"])
    assert not is_derivative(entries["deepseek/deepseek-r1-0528"])
    assert not is_derivative(entries["openai/gpt-oss-120b"])


def test_a_runs_cost_is_the_listing_prices_times_the_suites_budget_plus_the_request_price():
    entry = chat_entries(SNAPSHOTS[0])[0]
    priced = CatalogueEntry(
        **{**vars_of(entry), "pricing": {"prompt": "0.000001", "completion": "0.00001", "request": "0.002"}}
    )
    prompt_tokens = sum(most_prompt_tokens(probe) for probe in PLAN.probes)
    completion_tokens = PLAN.reserved_tokens
    dearest = max(most_prompt_tokens(p) * 1e-6 + p.max_tokens * 1e-5 + 0.002 for p in PLAN.probes)
    expected = (
        prompt_tokens * 1e-6 + completion_tokens * 1e-5 + len(PLAN.probes) * 0.002 + PLAN.spare_requests * dearest
    )
    assert BUDGET(priced) == pytest.approx(expected)
