"""Findings: what each signal says for a vendor in plain words, and which of them support or contradict a guess."""

from __future__ import annotations

from bot.attribution.combiner import SignalScores
from bot.attribution.findings import (
    AGAINST,
    MANY_LABS,
    SUPPORT,
    Finding,
    explain,
    identity_clauses,
    model_names,
    short_model_name,
    style_clauses,
    tokenizer_clauses,
)
from bot.attribution.identity import Claim, extract_claim
from bot.attribution.tokenizer import TokenizerMatch
from bot.catalogue.entry import parse_entry

NAMES = {"z-ai/glm-4.6": "GLM 4.6", "openai/gpt-5": "GPT-5", "openai/gpt-4": "GPT-4"}


def spoken(name: str, scores: dict[str, float], said: dict[str, str]) -> SignalScores:
    return SignalScores(name, scores, min(scores.values()), {}, (), said=said)


def test_names_come_from_the_listing_without_the_lab_prefix_and_are_never_cut():
    names = model_names([parse_entry({"id": "z-ai/glm-4.6", "name": "Z.AI: GLM 4.6"})])
    assert names == {"z-ai/glm-4.6": "GLM 4.6"}
    assert short_model_name("z-ai/glm-4.6", names) == "GLM 4.6"
    assert short_model_name("acme/some-model:free", {"acme/some-model:free": "N" * 200}) == "some-model"
    assert short_model_name("acme/" + "x" * 100, {}) == "one of its models"


def test_token_counts_speak_for_a_vendor_only_with_clear_odds_and_name_its_own_model():
    matches = [
        TokenizerMatch("z-ai/glm-4.6", "zhipu", 10, 10, 30.0),
        TokenizerMatch("openai/gpt-5", "openai", 7, 10, 3.0),
        TokenizerMatch("qwen/qwen3-max", "alibaba", 2, 10, 0.5),
    ]
    said = tokenizer_clauses(matches, NAMES)
    assert said == {
        "zhipu": "counts tokens exactly like GLM 4.6",
        "openai": "counts tokens like GPT-5 (7 of 10 test strings agree)",
    }


def test_a_tokenizer_shared_across_labs_says_so_without_naming_another_labs_model_as_support():
    said = tokenizer_clauses([TokenizerMatch("openai/gpt-4", "openai", 9, 9, 25.0)], NAMES)
    assert said["openai"] == "counts tokens exactly like GPT-4, a tokenizer other labs use too"
    assert said["microsoft"] == "uses the cl100k tokenizer, which several labs use"
    assert "GPT" not in said["microsoft"]


def test_style_names_each_vendors_closest_model_and_identity_quotes_the_word_the_model_used():
    assert style_clauses({"zhipu": [("z-ai/glm-4.6", 0.7)], "openai": []}, NAMES) == {
        "zhipu": "writes most like GLM 4.6"
    }
    claims = [extract_claim("I'm ChatGPT, a model created by OpenAI."), extract_claim("I was trained by OpenAI.")]
    assert identity_clauses(claims) == {"openai": "calls itself ChatGPT"}
    assert identity_clauses([Claim("openai", "…", "OpenAI")]) == {"openai": "says OpenAI made it"}
    assert identity_clauses([Claim(None, "no maker")]) == {}


def test_explain_keeps_what_supports_the_top_vendor_and_words_what_points_elsewhere():
    signals = {
        "tokenizer": spoken("tokenizer", {"zhipu": 30.0, "openai": 3.0}, {"zhipu": "counts tokens exactly like GLM"}),
        "style": spoken("style", {"zhipu": -0.2, "openai": -1.8}, {"zhipu": "writes most like GLM 4.6"}),
        "identity": spoken("identity", {"zhipu": -3.0, "openai": -0.5}, {"openai": "calls itself ChatGPT"}),
    }
    assert explain(signals, "zhipu") == (
        Finding("tokenizer", "zhipu", SUPPORT, "counts tokens exactly like GLM"),
        Finding("style", "zhipu", SUPPORT, "writes most like GLM 4.6"),
        Finding("identity", "openai", AGAINST, f"calls itself ChatGPT, {MANY_LABS}"),
    )


def test_a_signal_that_clearly_prefers_another_lab_is_a_disagreement_and_a_slight_preference_is_nothing():
    tokenizer = spoken("tokenizer", {"zhipu": 2.0, "openai": 30.0}, {"openai": "counts tokens exactly like GPT-5"})
    clear = spoken("style", {"zhipu": -2.0, "openai": -0.1}, {"openai": "writes most like GPT-5"})
    slight = spoken("style", {"zhipu": -0.6, "openai": -0.4}, {"openai": "writes most like GPT-5"})
    assert explain({"tokenizer": tokenizer, "style": clear}, "zhipu") == (
        Finding("tokenizer", "openai", AGAINST, "counts tokens exactly like GPT-5"),
        Finding("style", "openai", AGAINST, "writes more like OpenAI's models"),
    )
    assert explain({"style": slight}, "zhipu") == ()


def test_findings_round_trip_through_their_stored_form():
    finding = Finding("identity", "openai", AGAINST, f"calls itself ChatGPT, {MANY_LABS}")
    assert Finding.from_json(finding.to_json()) == finding
