"""Reading who a model says made it, and weighing the claim by what references say."""

from __future__ import annotations

import pytest

from bot.attribution.identity import IdentityReference, assess_identity, extract_claim

PROBES = frozenset({"identity", "identity-injection"})


@pytest.mark.parametrize(
    ("text", "vendor"),
    [
        ("I'm Claude, an AI assistant made by Anthropic.", "anthropic"),
        ("I am ChatGPT, a large language model trained by OpenAI.", "openai"),
        ("I am a large language model, trained by Google.", "google"),
        ("My name is Kimi, developed by Moonshot AI.", "moonshot"),
        ("I am not GPT-4. I was trained by Zhipu AI as GLM-4.6.", "zhipu"),
        ("We are both chatbots, but I was created by Meta, while ChatGPT was developed by OpenAI.", "meta"),
        ("ChatGPT is a model from OpenAI and I am a model from Mistral AI.", "mistral"),
        ("As an AI developed by 01.AI, I am based on the transformers architecture.", "01ai"),
        ("As an intelligent assistant developed by DeepSeek company, I am different from ChatGPT.", "deepseek"),
        ("我是DeepSeek，由深度求索公司开发。", "deepseek"),
        ("I'm Grok, built by xAI.", "xai"),
        ("I am Qwen-Max, created by Alibaba Cloud.", "alibaba"),
    ],
)
def test_first_person_claims_name_the_maker(text, vendor):
    assert extract_claim(text).vendor == vendor


@pytest.mark.parametrize(
    "text",
    [
        "Yes, I am just as capable as ChatGPT.",
        "I'm not sure how my capabilities compare to ChatGPT's.",
        "I am not affiliated with OpenAI in any way.",
        "While I strive to be helpful, I am a different AI system from ChatGPT.",
        "I'm Owl Alpha, provided through OpenRouter.",
        "ChatGPT was made by OpenAI.",
        "I can't share which company built me.",
        "I like to use Google Maps and a Falcon when I write with my Command line.",
    ],
)
def test_comparisons_denials_third_parties_and_ordinary_words_are_not_claims(text):
    assert extract_claim(text).vendor is None


def test_the_quote_shows_the_words_around_the_claim():
    text = (
        "While I strive to provide helpful and informative responses, it's important to note that I was trained "
        "by Mistral AI and I may not have the same capabilities as others in every respect whatsoever."
    )
    claim = extract_claim(text)
    assert claim.vendor == "mistral" and "trained by Mistral AI" in claim.quote
    assert claim.quote.startswith("…") and claim.quote.endswith("…") and len(claim.quote) < 110


def refs(vendor: str, *answers: str) -> list[IdentityReference]:
    return [IdentityReference(f"{vendor}/m{i}", vendor, {"identity": text}) for i, text in enumerate(answers)]


def test_a_claim_favours_the_vendor_whose_models_make_it():
    references = refs("openai", "I'm ChatGPT, made by OpenAI.", "I'm ChatGPT, made by OpenAI.") + refs(
        "zhipu", "I am GLM, made by Zhipu AI.", "I am GLM, made by Zhipu AI."
    )
    verdict = assess_identity({"identity": "I am ChatGPT, created by OpenAI."}, references, PROBES, {"google"})
    assert max(verdict.scores, key=verdict.scores.get) == "openai"
    assert set(verdict.scores) == {"openai", "zhipu", "google"}
    assert verdict.evidence == ('identity: says it was made by OpenAI ("I am ChatGPT, created by OpenAI.")',)


def test_claims_that_references_of_another_lab_also_make_are_weak():
    honest = refs("openai", "I'm ChatGPT, made by OpenAI.", "I'm ChatGPT, made by OpenAI.")
    distilled = refs("nanbeige", "As an AI developed by OpenAI, I help.", "As an AI developed by OpenAI, I assist.")
    verdict = assess_identity({"identity": "As an AI developed by OpenAI, I can help."}, honest + distilled, PROBES)
    assert 0 < verdict.scores["openai"] - verdict.scores["nanbeige"] < 0.5
    assert "2 reference answer(s) of other labs say the same, so this is weak" in verdict.evidence[0]

    alone = assess_identity({"identity": "As an AI developed by OpenAI, I can help."}, honest, PROBES, {"nanbeige"})
    assert alone.scores["openai"] - alone.scores["nanbeige"] > verdict.scores["openai"] - verdict.scores["nanbeige"]


def test_a_model_that_names_no_maker_is_scored_but_says_so():
    references = refs("anthropic", "I'm Claude, made by Anthropic.") + refs(
        "meta", "I'm an AI assistant.", "I'm a helpful assistant."
    )
    verdict = assess_identity({"identity": "I'm an assistant here to help."}, references, PROBES)
    assert max(verdict.scores, key=verdict.scores.get) == "meta"
    assert verdict.evidence[0].startswith("identity: names no maker in 1 of 1 answers")


def test_without_identity_answers_there_is_no_verdict():
    verdict = assess_identity({"style-1": "I'm Claude, made by Anthropic."}, [], PROBES)
    assert (verdict.scores, verdict.evidence) == ({}, ())


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    from bot.attribution.calibration import Calibration

    return Calibration().probabilities(scores)


CLAIMS_OPENAI = {
    "identity": "I am made by OpenAI.",
    "identity-injection": "I was created by OpenAI.",
    "third": "As an AI developed by OpenAI, I can help.",
}


@pytest.mark.parametrize("referenced_labs", [(), ("zhipu", "anthropic", "alibaba")], ids=["no-references", "others"])
def test_a_bare_claim_of_a_lab_without_references_stays_under_60_percent(referenced_labs):
    from bot.catalogue.vendors import COMMON_VENDOR_KEYS

    references = [r for lab in referenced_labs for r in refs(lab, f"I am a model made by {lab}.", "I am an AI.")]
    verdict = assess_identity(CLAIMS_OPENAI, references, set(CLAIMS_OPENAI), COMMON_VENDOR_KEYS)
    probabilities = _softmax(dict(verdict.scores))
    assert max(probabilities, key=probabilities.get) == "openai"  # it still moves the ranking, a little
    assert probabilities["openai"] < 0.6


def test_a_claim_counts_by_how_often_that_labs_references_name_themselves():
    honest = refs("openai", "I'm ChatGPT, made by OpenAI.", "I'm ChatGPT, made by OpenAI.")
    silent = refs("openai", "I am an AI assistant.", "I am an AI assistant.")
    others = refs("zhipu", "I am GLM, made by Zhipu AI.", "I am GLM.")
    query = {"identity": "I was made by OpenAI."}
    lift_honest = (v := assess_identity(query, honest + others, PROBES)).scores["openai"] - v.scores["zhipu"]
    lift_silent = (v := assess_identity(query, silent + others, PROBES)).scores["openai"] - v.scores["zhipu"]
    assert lift_honest > lift_silent > 0
