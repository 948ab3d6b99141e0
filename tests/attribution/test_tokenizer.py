"""Matching prompt-token counts against references, with the fake gateway's tokenizer rules."""

from __future__ import annotations

import re

from bot.attribution.tokenizer import (
    P_AGREE_CHANCE,
    TokenCounts,
    agreement_weight,
    align,
    compare_tokenizers,
)
from bot.probes.suite import PROBES, TOKENIZER_BASELINE_ID
from bot.testing.gateway_server import TOKENIZER_RULES


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
    assert verdict.evidence == (
        f"tokenizer: {len(PROBES) - 1}/{len(PROBES) - 1} strings match z-ai/glm-4.6 (over a million times likelier "
        "if it is the same tokenizer than a different one); shared tokenizer (GLM-4: GLM-4, GLM-4.5, GLM-4.6), "
        "which cannot tell these models apart",
    )


def test_without_a_shared_baseline_the_largest_agreeing_group_anchors_the_comparison():
    query = {k: v for k, v in counts("chars_per_4", 9).items() if k != TOKENIZER_BASELINE_ID}
    alignment = align(query, counts("chars_per_4"), TOKENIZER_BASELINE_ID)
    assert alignment is not None
    assert len(alignment.agreeing) == len(alignment.compared) == len(query) - 1
    assert align({"a": 3}, {"a": 3}, TOKENIZER_BASELINE_ID) is None


def test_without_a_baseline_the_anchor_given_up_is_the_least_telling_string():
    reference = {"tok-korean": 10, "tok-chinese": 20, "identity": 30}
    query = {probe_id: count + 5 for probe_id, count in reference.items()}
    alignment = align(query, reference, TOKENIZER_BASELINE_ID)
    assert alignment is not None and alignment.agreeing == {"tok-korean", "tok-chinese"}


def test_a_run_with_only_a_few_counts_gives_a_weak_verdict():
    full = compare_tokenizers(counts("whitespace_words"), references(), TOKENIZER_BASELINE_ID)
    few = compare_tokenizers(
        {k: v for k, v in counts("whitespace_words").items() if k in (TOKENIZER_BASELINE_ID, "tok-korean", "identity")},
        references(),
        TOKENIZER_BASELINE_ID,
    )
    assert max(few.scores, key=few.scores.get) == "alibaba"
    assert few.scores["alibaba"] < full.scores["alibaba"]


def test_identical_counts_from_two_labs_are_called_a_shared_tokenizer_and_scored_alike():
    shared = references() + [TokenCounts("xiaomi/mimo", "xiaomi", counts("toy_bpe", 3))]
    verdict = compare_tokenizers(counts("toy_bpe"), shared, TOKENIZER_BASELINE_ID)
    assert "; shared tokenizer (xiaomi/mimo (Xiaomi (MiMo)), z-ai/glm-4.6 (Zhipu (GLM)))" in verdict.evidence[0]
    assert verdict.scores["zhipu"] == verdict.scores["xiaomi"]


def test_a_lab_outside_a_known_family_with_the_same_counts_is_named_too():
    glm = counts("toy_bpe", 7)
    verdict = compare_tokenizers(
        counts("toy_bpe"),
        [TokenCounts("thudm/glm-4-9b", "zhipu", glm), TokenCounts("xiaomi/mimo", "xiaomi", glm)],
        TOKENIZER_BASELINE_ID,
    )
    assert (
        "; shared tokenizer (GLM-4: GLM-4, GLM-4.5, GLM-4.6), which cannot tell these models apart"
        in (verdict.evidence[0])
    )
    assert verdict.evidence[0].endswith(
        "; the same counts match xiaomi/mimo (Xiaomi (MiMo)), so it cannot tell these labs apart either"
    )
    assert verdict.scores["zhipu"] == verdict.scores["xiaomi"]


def test_labs_of_a_known_shared_family_are_scored_alike_even_when_one_count_drifts():
    """GPT-4 and Phi-4 both use cl100k: a template that moves one count must not pick OpenAI over Microsoft."""
    gpt4 = counts("chars_per_4")
    phi4 = dict(gpt4, identity=gpt4["identity"] + 1)
    verdict = compare_tokenizers(
        gpt4,
        [TokenCounts("openai/gpt-4", "openai", gpt4), TokenCounts("microsoft/phi-4", "microsoft", phi4)],
        TOKENIZER_BASELINE_ID,
    )
    assert verdict.matches[0].model_id == "openai/gpt-4"
    assert verdict.scores["openai"] == verdict.scores["microsoft"] > 0
    assert "; shared tokenizer (cl100k: OpenAI GPT-3.5/GPT-4, Microsoft Phi-4, Ai2 OLMo-2)" in verdict.evidence[0]
    assert verdict.evidence[0].endswith("which cannot tell these labs apart")


def test_no_match_and_no_references_are_said_plainly():
    unknown = {probe.probe_id: len(probe.prompt.encode()) for probe in PROBES}
    verdict = compare_tokenizers(unknown, references(), TOKENIZER_BASELINE_ID)
    assert verdict.evidence[0].startswith("tokenizer: no reference's tokenizer matches (the closest, ")
    assert compare_tokenizers(unknown, [], TOKENIZER_BASELINE_ID).evidence == (
        "tokenizer: no reference has token counts for these probes (run `scout calibrate`)",
    )
    assert compare_tokenizers({}, references(), TOKENIZER_BASELINE_ID).evidence == (
        "tokenizer: too few token counts came back to compare",
    )


def test_evidence_is_written_for_people_without_bare_statistics():
    for query in (counts("toy_bpe"), counts("chars_per_4", 2), counts("whitespace_words", 9)):
        line = compare_tokenizers(query, references(), TOKENIZER_BASELINE_ID).evidence[0]
        assert not re.search(r"(^|\s)[+-]\d+\.\d+|\bsd\b|\blog|LLR", line), line


def test_a_rare_string_agreeing_weighs_more_than_an_english_prompt_agreeing():
    assert agreement_weight("tok-korean", True) > agreement_weight("identity", True) > 0
    assert agreement_weight("tok-korean", False) < 0 and agreement_weight("identity", False) < 0
    assert set(P_AGREE_CHANCE) == {probe.probe_id for probe in PROBES if probe.kind == "tokenizer"} - {
        TOKENIZER_BASELINE_ID
    }


def test_the_likelihood_ratio_grows_with_agreements():
    reference = counts("chars_per_4")
    near = dict(reference, **{"tok-korean": reference["tok-korean"] + 1})
    far = {probe_id: count + (probe_id != TOKENIZER_BASELINE_ID) * 3 for probe_id, count in reference.items()}
    ratios = [
        align(query, reference, TOKENIZER_BASELINE_ID).log_likelihood_ratio  # type: ignore[union-attr]
        for query in (reference, near, far)
    ]
    assert ratios[0] > ratios[1] > 0 > ratios[2]
