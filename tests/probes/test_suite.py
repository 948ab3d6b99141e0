"""The probe suite: ids, the AlpacaEval prompt ids, and what a budget keeps."""

from __future__ import annotations

import hashlib
import re
import statistics

import pytest

from bot.attribution.corpus import load_corpus
from bot.catalogue.vendors import known_vendor_names
from bot.probes.suite import (
    PROBES,
    STYLE_ANSWER_WORDS,
    STYLE_GENRES,
    STYLE_PROMPTS,
    TOKENIZER_BASELINE_ID,
    TOKENIZER_MAX_TOKENS,
    plan_probes,
    retry_reserve,
    style_probe_id,
)
from bot.settings import Settings
from tests.support.shared_data import shared_file

DEFAULT_REQUESTS = Settings.model_fields["probe_max_requests"].default
DEFAULT_TOKENS = Settings.model_fields["probe_max_tokens"].default


def test_probe_ids_are_unique_and_every_probe_is_one_user_message():
    assert len({probe.probe_id for probe in PROBES}) == len(PROBES)
    for probe in PROBES:
        assert probe.messages() == [{"role": "user", "content": probe.prompt}]


def test_alpaca_probes_are_named_by_the_corpus_prompt_id():
    assert style_probe_id("What is Gremolata?") == "1d9358377588"
    assert style_probe_id("What is Gremolata?") == hashlib.sha1(b"What is Gremolata?").hexdigest()[:12]
    for probe in PROBES:
        if probe.kind == "style":
            assert probe.probe_id == style_probe_id(probe.prompt)


def test_tokenizer_probes_ask_for_one_token_and_no_text():
    tokenizer = [probe for probe in PROBES if probe.kind == "tokenizer"]
    assert TOKENIZER_BASELINE_ID in {probe.probe_id for probe in tokenizer}
    assert all(probe.max_tokens == TOKENIZER_MAX_TOKENS == 1 and not probe.wants_text for probe in tokenizer)


def test_default_budget_sends_every_style_prompt_and_keeps_two_retries_within_a_minute_of_free_requests():
    plan = plan_probes(DEFAULT_REQUESTS, DEFAULT_TOKENS)
    assert DEFAULT_REQUESTS <= Settings.model_fields["probe_requests_per_minute"].default
    assert len(plan.probes) + plan.spare_requests == DEFAULT_REQUESTS and plan.spare_requests == 2
    assert [probe.prompt for probe in plan.probes if probe.kind == "style"] == list(STYLE_PROMPTS)
    assert len(STYLE_PROMPTS) >= 8
    assert {probe.kind for probe in plan.probes} == {"identity", "refusal", "style", "tokenizer", "cutoff", "alignment"}
    assert sum(probe.probe_id.startswith("identity") for probe in plan.probes) == 2  # plain and injection-wrapped
    assert plan.reserved_tokens <= DEFAULT_TOKENS


def test_default_budget_sends_the_baseline_and_the_three_separating_strings():
    tokenizer = [p.probe_id for p in plan_probes(DEFAULT_REQUESTS, DEFAULT_TOKENS).probes if p.kind == "tokenizer"]
    assert tokenizer == [TOKENIZER_BASELINE_ID, "tok-korean", "tok-chinese", "tok-kanji"]


def test_the_code_string_is_the_first_probe_beyond_the_default_budget():
    default = plan_probes(DEFAULT_REQUESTS, DEFAULT_TOKENS).probes
    assert PROBES[len(default)].probe_id == "tok-code"


def _genre(instruction: str) -> str | None:
    return next((name for name, pattern in STYLE_GENRES if re.search(pattern, instruction.lower(), re.S)), None)


def test_the_style_prompts_are_what_the_stated_rule_picks_from_the_alpaca_eval_set():
    """One per genre: the smallest prompt id naming no lab, answered by every model, median answer 40-300 words."""
    models = list(load_corpus(shared_file("corpora/alpaca_eval_dev.jsonl.gz")).models.values())
    everyone = sorted(set.intersection(*({p for p, text in model.answers.items() if text.strip()} for model in models)))
    prompts = {p: text for model in models for p, text in model.prompts.items()}
    low, high = STYLE_ANSWER_WORDS
    picked = []
    for genre, _ in STYLE_GENRES:
        for prompt_id in everyone:
            text = prompts[prompt_id]
            if _genre(text) != genre or known_vendor_names(text):
                continue
            if low <= statistics.median(len(model.answers[prompt_id].split()) for model in models) <= high:
                picked.append(text)
                break
    assert picked == list(STYLE_PROMPTS)


def test_tokenizer_strings_start_like_the_baseline_and_no_probe_has_outer_whitespace():
    """Chat templates trim outer whitespace and join their text to the first character."""
    baseline = next(probe.prompt for probe in PROBES if probe.probe_id == TOKENIZER_BASELINE_ID)
    assert all(probe.prompt == probe.prompt.strip() for probe in PROBES)
    strings = [p for p in PROBES if p.kind == "tokenizer" and p.probe_id not in (TOKENIZER_BASELINE_ID, "tok-code")]
    assert strings and all(probe.prompt.startswith(f"{baseline} ") for probe in strings)


@pytest.mark.parametrize("budget", [1, 2, 5, 8, 12, 16, 40])
def test_smaller_budgets_keep_a_prefix_of_the_priority_order(budget):
    plan = plan_probes(budget, 100_000)
    assert len(plan.probes) <= budget
    assert plan.probes == PROBES[: len(plan.probes)]
    assert len(plan.probes) == min(len(PROBES), max(1, budget - retry_reserve(budget)))


def test_token_budget_skips_expensive_probes_but_keeps_cheaper_ones_after_them():
    plan = plan_probes(DEFAULT_REQUESTS, 500)
    assert plan.reserved_tokens <= 500
    assert PROBES[0] in plan.probes  # the first style probe fits
    skipped = [probe for probe in PROBES[: PROBES.index(plan.probes[-1])] if probe not in plan.probes]
    assert skipped and all(probe.max_tokens > 1 for probe in skipped)
    assert {"tok-baseline", "tok-korean", "cutoff"} <= {probe.probe_id for probe in plan.probes}


def test_a_budget_below_one_request_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        plan_probes(0, 4000)
