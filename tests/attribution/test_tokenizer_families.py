"""Which tokenizer family a model id belongs to."""

from __future__ import annotations

import pytest

from bot.attribution.tokenizer_families import TOKENIZER_FAMILIES, family_of


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("openai/gpt-4o-mini", "o200k"),
        ("openai/gpt-5.1", "o200k"),
        ("openai/gpt-oss-120b", "o200k"),
        ("openai/o3-mini", "o200k"),
        ("openai/gpt-4", "cl100k"),
        ("openai/gpt-3.5-turbo", "cl100k"),
        ("gpt4_0613", "cl100k"),
        ("gpt35_turbo_instruct", "cl100k"),
        ("Qwen1.5-110B-Chat", "qwen"),
        ("qwen/qwen-max", "qwen"),
        ("deepseek-llm-67b-chat", "deepseek-v2"),
        ("microsoft/phi-4", "cl100k"),
        ("allenai/olmo-2-0325-32b-instruct", "cl100k"),
        ("meta-llama/llama-3.3-70b-instruct", "llama3"),
        ("qwen/qwen3-235b-a22b", "qwen"),
        ("qwen/qwen-2.5-72b-instruct", "qwen"),
        ("qwen/qwen3.5-397b-a17b", "qwen3.5"),
        ("deepseek/deepseek-v3.2", "deepseek-v3"),
        ("deepseek/deepseek-r1-0528", "deepseek-v3"),
        ("z-ai/glm-4.6", "glm-4"),
        ("z-ai/glm-4.7", "glm-4.7"),
        ("z-ai/glm-5", "glm-4.7"),
        ("minimax/minimax-m2", "minimax"),
        ("mistralai/mistral-small-3.2-24b-instruct", "tekken"),
        ("mistralai/mistral-nemo", "tekken"),
        ("mistralai/mixtral-8x22b-instruct", "mistral-spm"),
    ],
)
def test_model_ids_fall_in_their_tokenizer_family(model_id, family):
    found = family_of(model_id)
    assert found is not None and found.key == family


def test_models_of_unlisted_families_have_none():
    assert family_of("anthropic/claude-sonnet-4.5") is None
    assert family_of("google/gemini-2.5-pro") is None


def test_only_cl100k_spans_several_labs():
    assert [family.key for family in TOKENIZER_FAMILIES if len(family.vendors) > 1] == ["cl100k"]
