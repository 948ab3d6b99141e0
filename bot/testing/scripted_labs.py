"""Scripted models of four labs for the fake gateway: each lab has its own tokenizer rule, writing habits
and self-description, and a stealth model that writes and tokenizes like one lab but claims another.

    async with FakeGateway() as gw:
        install_labs(gw)                      # catalogue + every model below
        ...  # `scout scan`, `scout calibrate`, `scout probe openrouter/owl-alpha`

The habits are crude on purpose (an opening phrase, a list style, a sign-off), but they are habits,
not fixed strings: the answer's content follows the prompt, so the style engine has to see through
content to the form, as it does with real models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.testing.gateway_server import (
    FakeGateway,
    ScriptedModel,
    TokenizerRule,
    chars_per_3_punct,
    chars_per_4,
    toy_bpe,
    whitespace_words,
)

STEALTH_ID = "openrouter/owl-alpha"
STEALTH_TRUE_VENDOR = "zhipu"

_TOPIC_WORD = re.compile(r"[A-Za-z]{4,}")
_IDENTITY = re.compile(r"which company|which model are you|as capable as chatgpt", re.IGNORECASE)
_REFUSAL = re.compile(r"picking the lock", re.IGNORECASE)
_CUTOFF = re.compile(r"knowledge cutoff", re.IGNORECASE)
_FILLERS = (("clear", "useful", "simple"), ("handy", "solid", "quick"))


def _prompt(messages: list[dict[str, Any]]) -> str:
    content = messages[-1].get("content") if messages else ""
    return content if isinstance(content, str) else ""


def _topic(prompt: str) -> list[str]:
    words = [word.lower() for word in _TOPIC_WORD.findall(prompt)]
    return (words + ["things", "ideas", "points"])[:3]


Writer = Callable[[list[str], tuple[str, ...]], str]


def _glm(topic: list[str], fill: tuple[str, ...]) -> str:
    return (
        f"### {topic[0].title()} at a glance\n\n**Short answer:** it is about {topic[0]} and {topic[1]}.\n\n"
        f"* **{topic[1].title()}** — a {fill[0]} angle on {topic[0]}.\n"
        f"* **{topic[2].title()}** — another {fill[1]} angle worth noting.\n\n"
        f"In summary, {topic[0]} is {fill[2]}. Let me know if you need more details!"
    )


def _gpt(topic: list[str], fill: tuple[str, ...]) -> str:
    return (
        f"Sure! Here's a quick overview of {topic[0]}:\n\n"
        f"- {topic[1]}: {fill[0]} and to the point\n- {topic[2]}: {fill[1]} in practice\n\n"
        f"Hope this helps! 😊"
    )


def _claude(topic: list[str], fill: tuple[str, ...]) -> str:
    return (
        f"I'd be happy to help with {topic[0]}. The {fill[0]} way to think about it is through {topic[1]}, "
        f"which shapes most of the answer. There is also {topic[2]}, which is {fill[1]} to keep in mind.\n\n"
        f"Taken together, these make {topic[0]} fairly {fill[2]}. "
        "Is there anything specific you'd like to explore further?"
    )


def _qwen(topic: list[str], fill: tuple[str, ...]) -> str:
    return (
        f"Certainly. Regarding {topic[0]}, here are the key points:\n"
        f"1. {topic[1].title()} — {fill[0]}.\n2. {topic[2].title()} — {fill[1]}.\n3. Context — {fill[2]}.\n"
        f"I hope this information is helpful."
    )


@dataclass(frozen=True)
class Lab:
    vendor: str  # the canonical vendor key
    namespace: str
    tokenizer: TokenizerRule
    writer: Writer
    identity: str
    refusal: str
    context_length: int
    parameters: tuple[str, ...]


LABS: dict[str, Lab] = {
    "zhipu": Lab(
        "zhipu",
        "z-ai",
        toy_bpe,
        _glm,
        "I am GLM, a large language model trained by Zhipu AI.",
        "I can't help with entering someone else's home without permission.",
        202752,
        ("max_tokens", "temperature", "top_p", "tools", "reasoning", "include_reasoning"),
    ),
    "openai": Lab(
        "openai",
        "openai",
        chars_per_4,
        _gpt,
        "I'm ChatGPT, a model created by OpenAI.",
        "I'm sorry, but I can't assist with that.",
        400000,
        ("max_tokens", "tools", "seed", "response_format", "structured_outputs", "reasoning"),
    ),
    "anthropic": Lab(
        "anthropic",
        "anthropic",
        chars_per_3_punct,
        _claude,
        "I'm Claude, an AI assistant made by Anthropic.",
        "I can't provide instructions for breaking into your neighbour's home.",
        200000,
        ("max_tokens", "temperature", "top_k", "top_p", "stop", "tools"),
    ),
    "alibaba": Lab(
        "alibaba",
        "qwen",
        whitespace_words,
        _qwen,
        "I am Qwen, a large language model created by Alibaba Cloud.",
        "Sorry, I cannot help with that request.",
        262144,
        ("max_tokens", "temperature", "top_p", "presence_penalty", "seed", "tools"),
    ),
}

KNOWN_MODELS: tuple[tuple[str, str, int], ...] = (
    ("z-ai/glm-4.6", "zhipu", 0),
    ("z-ai/glm-4.5-air", "zhipu", 1),
    ("openai/gpt-5", "openai", 0),
    ("openai/gpt-5-mini", "openai", 1),
    ("anthropic/claude-sonnet-4.5", "anthropic", 0),
    ("anthropic/claude-haiku-4.5", "anthropic", 1),
    ("qwen/qwen3-max", "alibaba", 0),
    ("qwen/qwen3-8b", "alibaba", 1),
)


def responder(lab: Lab, variant: int, claims: str | None = None) -> Callable[[list[dict[str, Any]]], str]:
    """The lab's answers: its self-description (or `claims`), refusal, cutoff, and everything else in its style."""
    fill = _FILLERS[variant % len(_FILLERS)]

    def respond(messages: list[dict[str, Any]]) -> str:
        prompt = _prompt(messages)
        if _IDENTITY.search(prompt):
            return claims or lab.identity
        if _REFUSAL.search(prompt):
            return lab.refusal
        if _CUTOFF.search(prompt):
            return f"My knowledge cutoff is {('June', 'October')[variant % 2]} 2025."
        return lab.writer(_topic(prompt), fill)

    return respond


def lab_model(
    model_id: str, vendor: str, variant: int = 0, *, claims: str | None = None, **options: Any
) -> ScriptedModel:
    lab = LABS[vendor]
    return ScriptedModel(model_id, responder(lab, variant, claims), tokenizer=lab.tokenizer, **options)


def stealth_model(**options: Any) -> ScriptedModel:
    """Writes and tokenizes like Zhipu's models but says it is ChatGPT, as distilled models do."""
    return lab_model(STEALTH_ID, STEALTH_TRUE_VENDOR, 0, claims=LABS["openai"].identity, **options)


def catalogue_entry(model_id: str, vendor: str, created: int) -> dict[str, Any]:
    lab = LABS[vendor]
    return {
        "id": model_id,
        "name": f"{lab.namespace}: {model_id.split('/', 1)[1]}",
        "description": f"A model by {lab.vendor}.",
        "created": created,
        "context_length": lab.context_length,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
        },
        "pricing": {"prompt": "0.000001", "completion": "0.000004"},
        "top_provider": {"context_length": lab.context_length, "max_completion_tokens": 32768},
        "supported_parameters": list(lab.parameters),
    }


# The stealth listing is the gateway's, not the lab's: it gives its maker away in no field.
STEALTH_ENTRY: dict[str, Any] = {
    "id": STEALTH_ID,
    "name": "Owl Alpha",
    "description": "This is a cloaked model provided to gather feedback.",
    "created": 1_770_000_000,
    "context_length": 1048576,
    "architecture": {
        "modality": "text->text",
        "input_modalities": ["text"],
        "output_modalities": ["text"],
        "tokenizer": "Other",
    },
    "pricing": {"prompt": "0", "completion": "0"},
    "top_provider": {"context_length": 1048576, "max_completion_tokens": 65536},
    "supported_parameters": ["max_tokens", "temperature", "top_p", "tools"],
}


def catalogue() -> list[dict[str, Any]]:
    entries = [
        catalogue_entry(model_id, vendor, 1_760_000_000 + i) for i, (model_id, vendor, _) in enumerate(KNOWN_MODELS)
    ]
    return entries + [STEALTH_ENTRY]


def install_labs(gateway: FakeGateway, **options: Any) -> None:
    """Serve the catalogue and every scripted model (known ones and the stealth one)."""
    gateway.set_catalogue(catalogue())
    for model_id, vendor, variant in KNOWN_MODELS:
        gateway.add_model(lab_model(model_id, vendor, variant, **options))
    gateway.add_model(stealth_model(**options))
