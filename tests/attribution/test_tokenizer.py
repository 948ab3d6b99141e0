"""Matching prompt-token counts against references, with the fake gateway's tokenizer rules."""

from __future__ import annotations

from bot.attribution.tokenizer import TokenCounts, TokenizerMatch, align, compare_tokenizers
from bot.probes.suite import PROBES, TOKENIZER_BASELINE_ID
from tests.fakes.gateway_server import TOKENIZER_RULES


def counts(rule: str, template_overhead: int = 4) -> dict[str, int]:
    """What the gateway reports for each probe: the rule's count plus a chat template's overhead."""
    tokenize = TOKENIZER_RULES[rule]
    return {probe.probe_id: tokenize(probe.prompt) + template_overhead for probe in PROBES}


def references() -> list[TokenCounts]:
    return [
        TokenCounts("z-ai/glm-4.6", "zhipu", counts("toy_bpe", 7)),
        TokenCounts("openai/gpt-5", "openai", counts("chars_per_4")),
        TokenCounts("anthropic/claude", "anthropic", counts("chars_per_3_punct")),
        TokenCounts("qwen/qwen3", "alibaba", counts("whitespace_words")),
    ]


def test_the_fake_tokenizer_families_disagree_on_the_crafted_strings():
    profiles = {
        name: tuple(c[p] - c[TOKENIZER_BASELINE_ID] for p in sorted(c))
        for name, c in ((name, counts(name)) for name in TOKENIZER_RULES)
    }
    assert len(set(profiles.values())) == len(TOKENIZER_RULES)


def test_the_same_tokenizer_matches_every_string_despite_another_chat_template():
    query = counts("toy_bpe", template_overhead=12)
    verdict = compare_tokenizers(query, references(), TOKENIZER_BASELINE_ID)
    best = verdict.matches[0]
    assert (best.model_id, best.matched, best.compared) == ("z-ai/glm-4.6", len(PROBES) - 1, len(PROBES) - 1)
    assert max(verdict.scores, key=verdict.scores.get) == "zhipu"
    assert all(score < 0 for vendor, score in verdict.scores.items() if vendor != "zhipu")
    assert verdict.evidence == (f"tokenizer: {len(PROBES) - 1}/{len(PROBES) - 1} strings match z-ai/glm-4.6",)


def test_without_a_shared_baseline_the_largest_agreeing_group_anchors_the_comparison():
    query = {k: v for k, v in counts("chars_per_4", 9).items() if k != TOKENIZER_BASELINE_ID}
    matched, compared = align(query, counts("chars_per_4"), TOKENIZER_BASELINE_ID)
    assert matched == compared == len(query) - 1
    assert align({"a": 3}, {"a": 3}, TOKENIZER_BASELINE_ID) is None


def test_a_run_with_only_a_few_counts_gives_a_weak_verdict():
    full = compare_tokenizers(counts("whitespace_words"), references(), TOKENIZER_BASELINE_ID)
    few = compare_tokenizers(
        {k: v for k, v in counts("whitespace_words").items() if k in (TOKENIZER_BASELINE_ID, "tok-emoji", "identity")},
        references(),
        TOKENIZER_BASELINE_ID,
    )
    assert max(few.scores, key=few.scores.get) == "alibaba"
    assert few.scores["alibaba"] < full.scores["alibaba"]


def test_a_shared_tokenizer_across_labs_is_pointed_out():
    shared = references() + [TokenCounts("xiaomi/mimo", "xiaomi", counts("toy_bpe", 3))]
    verdict = compare_tokenizers(counts("toy_bpe"), shared, TOKENIZER_BASELINE_ID)
    assert "and as many match" in verdict.evidence[0] and "a tokenizer shared across labs" in verdict.evidence[0]
    assert verdict.scores["zhipu"] == verdict.scores["xiaomi"]


def test_no_match_and_no_references_are_said_plainly():
    unknown = {probe.probe_id: len(probe.prompt.encode()) for probe in PROBES}
    verdict = compare_tokenizers(unknown, references(), TOKENIZER_BASELINE_ID)
    assert verdict.evidence[0].startswith("tokenizer: no reference matches (closest")
    assert compare_tokenizers(unknown, [], TOKENIZER_BASELINE_ID).evidence == (
        "tokenizer: no reference has token counts for these probes (run `scout calibrate`)",
    )
    assert compare_tokenizers({}, references(), TOKENIZER_BASELINE_ID).evidence == (
        "tokenizer: too few token counts came back to compare",
    )


def test_the_likelihood_ratio_grows_with_agreements():
    assert (
        TokenizerMatch("m", "v", 10, 10).log_likelihood_ratio > TokenizerMatch("m", "v", 9, 10).log_likelihood_ratio > 0
    )
    assert TokenizerMatch("m", "v", 2, 10).log_likelihood_ratio < 0
