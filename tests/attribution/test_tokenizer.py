"""Matching prompt-token counts against references, with the fake gateway's tokenizer rules."""

from __future__ import annotations

import re

import pytest

from bot.attribution.tokenizer import (
    CHANCE,
    EXACT,
    FAR,
    LATIN_TEXT,
    NEAR,
    NEAR_TOKENS,
    OTHER_TEXT,
    SAME_TOKENIZER,
    TokenCounts,
    TokenizerVerdict,
    align,
    compare_tokenizers,
    outcome_weight,
    prompt_class,
)
from bot.probes.suite import PROBES, TOKENIZER_BASELINE_ID
from bot.testing.gateway_server import TOKENIZER_RULES

PROMPTS = {probe.probe_id: probe.prompt for probe in PROBES}
CLASSES = {probe_id: prompt_class(probe_id, prompt) for probe_id, prompt in PROMPTS.items()}


def counts(rule: str, template_overhead: int = 4) -> dict[str, int]:
    """What the gateway reports for each probe: the rule's count plus a chat template's overhead."""
    tokenize = TOKENIZER_RULES[rule]
    return {probe.probe_id: tokenize(probe.prompt) + template_overhead for probe in PROBES}


def query(counted: dict[str, int], providers: dict[str, str] | None = None) -> TokenCounts:
    return TokenCounts("stealth", "", counted, providers or {})


def compare(counted: dict[str, int], references: list[TokenCounts]) -> TokenizerVerdict:
    return compare_tokenizers(query(counted), references, PROMPTS)


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
    verdict = compare(counts("toy_bpe", template_overhead=12), references())
    best = verdict.matches[0]
    assert (best.model_id, best.matched, best.compared) == ("z-ai/glm-4.6", len(PROBES) - 1, len(PROBES) - 1)
    assert max(verdict.scores, key=verdict.scores.get) == "zhipu"
    assert all(score < 0 for vendor, score in verdict.scores.items() if vendor != "zhipu")
    assert verdict.evidence == (
        f"tokenizer: {len(PROBES) - 1}/{len(PROBES) - 1} strings match z-ai/glm-4.6 (over a million times likelier "
        "if it is the same tokenizer than a different one); shared tokenizer (GLM-4: GLM-4, GLM-4.5, GLM-4.6), "
        "which cannot tell these models apart",
    )


def test_a_providers_constant_offset_still_matches_even_when_each_provider_adds_its_own():
    """A reference served by two providers (one adds 11 tokens to every request) against a third provider."""
    served_by = {p: ("Parasail" if i % 2 else "DeepInfra") for i, p in enumerate(sorted(PROMPTS))}
    reference = {p: n + (11 if served_by[p] == "Parasail" else 0) for p, n in counts("toy_bpe").items()}
    glm = TokenCounts("z-ai/glm-4.6", "zhipu", reference, served_by)
    asked = query(counts("toy_bpe", 21), dict.fromkeys(PROMPTS, "Novita"))
    verdict = compare_tokenizers(asked, [glm, *references()[1:]], PROMPTS)
    best = verdict.matches[0]
    assert best.model_id == "z-ai/glm-4.6" and best.matched == best.compared == len(PROBES) - 2
    assert verdict.scores["zhipu"] > 0 > max(score for vendor, score in verdict.scores.items() if vendor != "zhipu")


def test_a_few_prompts_off_by_a_handful_of_tokens_or_a_providers_extra_thirty_still_match():
    drifted = counts("toy_bpe", 12)
    drifted["tok-korean"] += 2  # a template quirk
    drifted[PROBES[0].probe_id] += 31  # a provider that adds a preamble to some requests
    verdict = compare(drifted, references())
    best = verdict.matches[0]
    assert best.model_id == "z-ai/glm-4.6" and best.matched == best.compared - 2
    assert verdict.scores["zhipu"] > 0 > max(score for vendor, score in verdict.scores.items() if vendor != "zhipu")


def test_two_different_tokenizers_never_match_through_the_tolerance():
    """Counts a handful of tokens off on every other string (within NEAR_TOKENS) are another tokenizer."""
    reference = TokenCounts("z-ai/glm-4.6", "zhipu", counts("toy_bpe"))
    for shift in range(1, NEAR_TOKENS + 1):
        close = {p: n + 5 + (shift if i % 2 else 0) for i, (p, n) in enumerate(sorted(reference.counts.items()))}
        alignment = align(query(close), reference, CLASSES)
        assert alignment is not None and alignment.log_likelihood_ratio < 0, shift
    for klass in (LATIN_TEXT, OTHER_TEXT, *CHANCE):
        assert outcome_weight(klass, EXACT) > 0 > max(outcome_weight(klass, NEAR), outcome_weight(klass, FAR)), klass


def test_the_offset_most_prompts_share_anchors_the_comparison_and_a_baseline_is_not_needed():
    asked = {k: v for k, v in counts("chars_per_4", 9).items() if k != TOKENIZER_BASELINE_ID}
    alignment = align(query(asked), TokenCounts("openai/gpt-5", "openai", counts("chars_per_4")), CLASSES)
    assert alignment is not None
    assert len(alignment.agreeing) == len(alignment.compared) == len(asked) - 1
    assert align(query({"a": 3}), TokenCounts("m", "v", {"a": 3}), {"a": LATIN_TEXT}) is None


def test_the_anchor_given_up_is_the_least_telling_string():
    reference = {"tok-korean": 10, "tok-chinese": 20, "identity": 30}
    asked = {probe_id: count + 5 for probe_id, count in reference.items()}
    alignment = align(query(asked), TokenCounts("m", "v", reference), CLASSES)
    assert alignment is not None and alignment.agreeing == {"tok-korean", "tok-chinese"}


def test_prompts_are_weighed_by_script_and_crafted_strings_by_their_own_odds():
    assert prompt_class("tok-korean", None) == "tok-korean"
    assert prompt_class("p1", "Write an essay about censorship practices under China’s Great Firewall") == LATIN_TEXT
    assert prompt_class("p2", "Kirjoita essee sensuurikäytännöistä Kiinan palomuurin alla") == OTHER_TEXT
    assert prompt_class("p3", "撰写关于中国防火长城下的审查制度的论文") == OTHER_TEXT
    assert prompt_class("p4", None) == LATIN_TEXT
    assert outcome_weight("tok-korean", EXACT) > outcome_weight(OTHER_TEXT, EXACT) > outcome_weight(LATIN_TEXT, EXACT)
    assert set(SAME_TOKENIZER) == {LATIN_TEXT, OTHER_TEXT}


def test_a_run_with_only_a_few_counts_gives_a_weak_verdict():
    full = compare(counts("whitespace_words"), references())
    few = compare(
        {k: v for k, v in counts("whitespace_words").items() if k in (TOKENIZER_BASELINE_ID, "tok-korean", "identity")},
        references(),
    )
    assert max(few.scores, key=few.scores.get) == "alibaba"
    assert few.scores["alibaba"] < full.scores["alibaba"]


def test_identical_counts_from_two_labs_are_called_a_shared_tokenizer_and_scored_alike():
    shared = references() + [TokenCounts("xiaomi/mimo", "xiaomi", counts("toy_bpe", 3))]
    verdict = compare(counts("toy_bpe"), shared)
    assert "; shared tokenizer (xiaomi/mimo (Xiaomi (MiMo)), z-ai/glm-4.6 (Zhipu (GLM)))" in verdict.evidence[0]
    assert verdict.scores["zhipu"] == verdict.scores["xiaomi"]


def test_a_lab_outside_a_known_family_with_the_same_counts_is_named_too():
    glm = counts("toy_bpe", 7)
    verdict = compare(
        counts("toy_bpe"), [TokenCounts("thudm/glm-4-9b", "zhipu", glm), TokenCounts("xiaomi/mimo", "xiaomi", glm)]
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
    verdict = compare(
        gpt4, [TokenCounts("openai/gpt-4", "openai", gpt4), TokenCounts("microsoft/phi-4", "microsoft", phi4)]
    )
    assert verdict.matches[0].model_id == "openai/gpt-4"
    assert verdict.scores["openai"] == verdict.scores["microsoft"] > 0
    assert "; shared tokenizer (cl100k: OpenAI GPT-3.5/GPT-4, Microsoft Phi-4, Ai2 OLMo-2)" in verdict.evidence[0]
    assert verdict.evidence[0].endswith("which cannot tell these labs apart")


def test_no_match_and_no_references_are_said_plainly():
    unknown = {probe.probe_id: len(probe.prompt.encode()) for probe in PROBES}
    verdict = compare(unknown, references())
    assert verdict.evidence[0].startswith("tokenizer: no reference's tokenizer matches (the closest, ")
    assert compare(unknown, []).evidence == (
        "tokenizer: no reference has token counts for these probes (run `scout calibrate`)",
    )
    assert compare({}, references()).evidence == ("tokenizer: too few token counts came back to compare",)


def test_evidence_is_written_for_people_without_bare_statistics():
    for counted in (counts("toy_bpe"), counts("chars_per_4", 2), counts("whitespace_words", 9)):
        line = compare(counted, references()).evidence[0]
        assert not re.search(r"(^|\s)[+-]\d+\.\d+|\bsd\b|\blog|LLR", line), line


def test_the_likelihood_ratio_grows_with_agreements():
    reference = TokenCounts("openai/gpt-5", "openai", counts("chars_per_4"))
    near = dict(reference.counts, **{"tok-korean": reference.counts["tok-korean"] + 1})
    far = {probe_id: count + index % 3 * 2 for index, (probe_id, count) in enumerate(sorted(reference.counts.items()))}
    ratios = []
    for counted in (reference.counts, near, far):
        alignment = align(query(counted), reference, CLASSES)
        assert alignment is not None
        ratios.append(alignment.log_likelihood_ratio)
    assert ratios[0] > ratios[1] > 0 > ratios[2]


@pytest.mark.parametrize("rule", sorted(TOKENIZER_RULES))
def test_each_fake_tokenizer_finds_its_own_reference(rule):
    own = {"toy_bpe": "zhipu", "chars_per_4": "openai", "chars_per_3_punct": "anthropic", "whitespace_words": "alibaba"}
    verdict = compare(counts(rule, 17), references())
    assert max(verdict.scores, key=verdict.scores.get) == own[rule]
