"""Which models share a tokenizer: the families the tokenizer signal can tell apart, and no finer.

Models whose tokenizers give identical prompt-token counts are one family here, even across labs
(cl100k is OpenAI's GPT-3.5/GPT-4 tokenizer and also Microsoft's Phi-4 and Ai2's OLMo-2). Matching a
family's counts says "one of these", never which lab within it, so the tokenizer evidence names the
whole family and scores its labs alike. The groups were checked on the real vocabularies that the
test extra installs (`scout bench tokenizer`); families without an offline vocabulary (Claude,
Gemini, Kimi, Grok...) are simply absent and their models match by reference counts only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenizerFamily:
    """Models whose prompt-token counts are identical; `label` and `members` are written for people."""

    key: str
    label: str
    members: str
    vendors: tuple[str, ...]
    model_pattern: re.Pattern[str]

    def includes(self, model_id: str) -> bool:
        """Model ids are matched without their `vendor/` prefix, so re-hosted copies count too."""
        return bool(self.model_pattern.search(model_id.lower().rsplit("/", 1)[-1]))


def _family(key: str, label: str, members: str, vendors: tuple[str, ...], pattern: str) -> TokenizerFamily:
    return TokenizerFamily(key, label, members, vendors, re.compile(pattern))


# Order matters where patterns overlap: the first family that includes a model id is its family.
TOKENIZER_FAMILIES: tuple[TokenizerFamily, ...] = (
    _family(
        "o200k",
        "o200k",
        "OpenAI GPT-4o and later, o-series, gpt-oss",
        ("openai",),
        r"gpt-4o|gpt-4\.[15]|gpt-5|gpt-oss|chatgpt|^o[134](-|$)",
    ),
    _family(
        "cl100k",
        "cl100k",
        "OpenAI GPT-3.5/GPT-4, Microsoft Phi-4, Ai2 OLMo-2",
        ("openai", "microsoft", "allenai"),
        r"gpt-?3\.?5|gpt-?4([-_]|$)|phi-4|olmo-2",
    ),
    _family("llama3", "Llama 3", "Meta Llama 3.x", ("meta",), r"llama-?3"),
    _family("qwen3.5", "Qwen3.5", "Qwen3.5, Qwen3.6", ("alibaba",), r"qwen-?3\.[56]"),
    _family("qwen", "Qwen", "Qwen, Qwen1.5, Qwen2, Qwen2.5, Qwen3, QwQ, Qwen-Max", ("alibaba",), r"qwen|qwq"),
    _family("deepseek-v2", "DeepSeek V2", "DeepSeek LLM, V2, V2.5", ("deepseek",), r"deepseek-(llm|(coder-)?v2)"),
    _family(
        "deepseek-v3",
        "DeepSeek V3",
        "DeepSeek V3, V3.x, R1, V4",
        ("deepseek",),
        r"deepseek-(v3|v4|r1|chat|reasoner|prover-v2)",
    ),
    _family("glm-4.7", "GLM-4.7", "GLM-4.7, GLM-5", ("zhipu",), r"glm-(4\.7|5)"),
    _family("glm-4", "GLM-4", "GLM-4, GLM-4.5, GLM-4.6", ("zhipu",), r"glm-(4|z1)"),
    _family("minimax", "MiniMax", "MiniMax Text-01, M1, M2, M3", ("minimax",), r"minimax"),
    _family(
        "tekken",
        "Mistral Tekken",
        "Mistral NeMo, Pixtral, Small 3, Medium 3, Large 2411, Codestral 25, Magistral, Devstral",
        ("mistral",),
        r"nemo|pixtral|ministral|mistral-(small-(24|3)|medium|large-2411)|codestral-25|magistral|devstral",
    ),
    _family(
        "mistral-spm",
        "Mistral SentencePiece",
        "Mistral 7B, Mixtral, Mistral Large 2407",
        ("mistral",),
        r"mistral-7b|mixtral|mistral-(large|small|tiny)",
    ),
)
FAMILIES_BY_KEY = {family.key: family for family in TOKENIZER_FAMILIES}


def family_of(model_id: str) -> TokenizerFamily | None:
    """The tokenizer family of a model id, or None when no listed family includes it."""
    return next((family for family in TOKENIZER_FAMILIES if family.includes(model_id)), None)
