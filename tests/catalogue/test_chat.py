"""Which listings may serve as references: chat models only, one rule for `scout calibrate` and the bot."""

from __future__ import annotations

import json

import pytest

from bot.catalogue.chat import is_chat_model
from bot.catalogue.entry import load_catalogue_file, parse_entry
from bot.jobs.polling import record_catalogue
from bot.jobs.references import choose_calibration_models
from bot.probes.suite import plan_probes

CHAT = {
    "id": "meta-llama/llama-4-maverick",
    "name": "Meta: Llama 4 Maverick",
    "description": "A general-purpose instruction-tuned model for chat, content classification and code.",
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"], "tokenizer": "Llama4"},
}


@pytest.mark.parametrize(
    "change",
    [
        {"id": "meta-llama/llama-guard-4-12b", "name": "Meta: Llama Guard 4 12B"},
        {"id": "meta-llama/llama-guard-2-8b", "name": "Meta: LlamaGuard 2 8B"},
        {"id": "openai/gpt-oss-safeguard-20b", "name": "OpenAI: gpt-oss-safeguard-20b"},
        {"id": "acme/text-embedding-3", "name": "Acme: Text Embedding 3"},
        {"id": "acme/rerank-v3", "name": "Acme: Rerank v3"},
        {"description": "A Llama 4 model fine-tuned for content safety classification of prompts."},
        {"id": "meta-llama/llama-4-maverick:free"},
        {"architecture": {"input_modalities": ["text"], "output_modalities": ["image"], "tokenizer": "Other"}},
        {"architecture": {"input_modalities": ["audio"], "output_modalities": ["text"], "tokenizer": "Other"}},
        {"architecture": {"input_modalities": ["text"], "output_modalities": ["text"], "tokenizer": "Router"}},
    ],
)
def test_what_is_not_a_chat_model(change):
    assert is_chat_model(parse_entry(CHAT))
    assert not is_chat_model(parse_entry({**CHAT, **change}))


def test_the_real_catalogues_lose_only_their_guards(catalogue_june, catalogue_december):
    dropped = set()
    for path in (catalogue_june, catalogue_december):
        for raw in json.loads(path.read_text())["data"]:
            entry = parse_entry(raw)
            plain_text = entry.output_modalities == ("text",) and entry.variant is None and entry.tokenizer != "Router"
            if plain_text and not is_chat_model(entry):
                dropped.add(entry.id)
    assert dropped == {
        "meta-llama/llama-guard-2-8b",
        "meta-llama/llama-guard-3-8b",
        "meta-llama/llama-guard-4-12b",
        "openai/gpt-oss-safeguard-20b",
    }


async def test_calibrate_never_chooses_a_safety_classifier(store, catalogue_june):
    await record_catalogue(store, load_catalogue_file(catalogue_june), "june")
    chosen = choose_calibration_models(await store.catalogue.models(), 10, plan_probes(20, 6000))
    assert any(model_id.startswith("meta-llama/") for model_id in chosen)
    assert not [model_id for model_id in chosen if "guard" in model_id]
