"""The vendor alias table: one place that turns a model id's author prefix, or a label such as
"Alibaba/Qwen", into the lab that made the model.

Catalogue namespaces, corpus labels and members' votes all go through `canonical_vendor`, so
"z-ai", "thudm", "Zhipu/GLM" and "zhipu" are one vendor everywhere (votes, scores, attribution).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Vendor:
    """A maker as members and models name it: the words in `aliases` all mean this one `key`."""

    key: str
    name: str
    aliases: tuple[str, ...]
    kind: str = "lab"  # "lab" trains base models; "tuner" publishes fine-tunes or products of others


VENDORS: tuple[Vendor, ...] = (
    Vendor("openai", "OpenAI", ("openai", "gpt", "chatgpt")),
    Vendor("anthropic", "Anthropic", ("anthropic", "claude")),
    Vendor("google", "Google", ("google", "gemini", "gemma", "deepmind", "google deepmind")),
    Vendor("xai", "xAI", ("x-ai", "xai", "grok")),
    Vendor("deepseek", "DeepSeek", ("deepseek", "deepseek-ai")),
    Vendor("alibaba", "Alibaba (Qwen)", ("qwen", "alibaba", "alibaba/qwen", "alibaba-nlp", "tongyi")),
    Vendor(
        "zhipu",
        "Zhipu (GLM)",
        ("z-ai", "zai", "zai-org", "z.ai", "thudm", "zhipu", "zhipu/glm", "zhipuai", "glm", "chatglm"),
    ),
    Vendor("moonshot", "Moonshot AI (Kimi)", ("moonshotai", "moonshot", "moonshot ai", "kimi")),
    Vendor("xiaomi", "Xiaomi (MiMo)", ("xiaomi", "xiaomimimo", "mimo")),
    Vendor("mistral", "Mistral AI", ("mistralai", "mistral", "mistral ai")),
    Vendor("meta", "Meta (Llama)", ("meta-llama", "meta", "llama", "facebook")),
    Vendor("minimax", "MiniMax", ("minimax", "minimaxai")),
    Vendor("amazon", "Amazon (Nova)", ("amazon", "nova")),
    Vendor("microsoft", "Microsoft", ("microsoft", "phi")),
    Vendor("nvidia", "NVIDIA", ("nvidia", "nemotron")),
    Vendor("cohere", "Cohere", ("cohere", "cohereforai", "command")),
    Vendor("baidu", "Baidu (ERNIE)", ("baidu", "ernie")),
    Vendor("bytedance", "ByteDance (Seed)", ("bytedance", "bytedance-seed", "seed", "doubao")),
    Vendor("tencent", "Tencent (Hunyuan)", ("tencent", "hunyuan")),
    Vendor("stepfun", "StepFun", ("stepfun", "stepfun-ai")),
    Vendor("ai21", "AI21 Labs", ("ai21", "ai21labs")),
    Vendor("ibm", "IBM (Granite)", ("ibm-granite", "ibm", "granite")),
    Vendor("perplexity", "Perplexity", ("perplexity", "sonar")),
    Vendor("inception", "Inception", ("inception",)),
    Vendor("liquid", "Liquid AI", ("liquid", "liquidai")),
    Vendor("allenai", "Ai2 (OLMo)", ("allenai", "ai2", "olmo")),
    Vendor("arcee", "Arcee AI", ("arcee-ai", "arcee")),
    Vendor("nous", "Nous Research", ("nousresearch", "nous", "nous research")),
    Vendor("inflection", "Inflection", ("inflection",)),
    Vendor("reka", "Reka", ("rekaai", "reka")),
    Vendor("meituan", "Meituan (LongCat)", ("meituan", "meituan-longcat", "longcat")),
    Vendor("kuaishou", "Kuaishou (Kwaipilot)", ("kwaipilot", "kuaishou")),
    Vendor("writer", "Writer", ("writer",)),
    Vendor("upstage", "Upstage", ("upstage",)),
    Vendor("poolside", "Poolside", ("poolside",)),
    Vendor("inclusionai", "inclusionAI (Ant Group)", ("inclusionai", "ant group", "ling")),
    Vendor("primeintellect", "Prime Intellect", ("prime-intellect", "primeintellect")),
    Vendor("essentialai", "Essential AI", ("essentialai",)),
    Vendor("deepcogito", "Deep Cogito", ("deepcogito",)),
    Vendor("perceptron", "Perceptron", ("perceptron",)),
    Vendor("nexagi", "Nex AGI", ("nex-agi",)),
    Vendor("baichuan", "Baichuan", ("baichuan", "baichuan-inc")),
    Vendor("01ai", "01.AI (Yi)", ("01-ai", "01.ai", "01.ai/yi", "yi")),
    Vendor("databricks", "Databricks", ("databricks", "dbrx")),
    Vendor("tii", "TII (Falcon)", ("tiiuae", "tii", "tii/falcon", "falcon")),
    Vendor(
        "shanghaiailab",
        "Shanghai AI Lab (InternLM)",
        ("shanghai ai lab", "shanghai ai lab/internlm", "internlm", "opengvlab"),
    ),
    Vendor("nanbeige", "Nanbeige", ("nanbeige",)),
    Vendor("eleutherai", "EleutherAI", ("eleutherai",)),
    Vendor("tngtech", "TNG Technology", ("tngtech", "tng"), kind="tuner"),
    Vendor("aionlabs", "Aion Labs", ("aion-labs",), kind="tuner"),
    Vendor("relace", "Relace", ("relace",), kind="tuner"),
    Vendor("morph", "Morph", ("morph",), kind="tuner"),
    Vendor("switchpoint", "Switchpoint", ("switchpoint",), kind="tuner"),
    Vendor("sao10k", "Sao10K", ("sao10k",), kind="tuner"),
    Vendor("thedrummer", "TheDrummer", ("thedrummer",), kind="tuner"),
    Vendor("gryphe", "Gryphe", ("gryphe",), kind="tuner"),
    Vendor("undi95", "Undi95", ("undi95",), kind="tuner"),
    Vendor("mancer", "Mancer", ("mancer",), kind="tuner"),
    Vendor("anthracite", "Anthracite", ("anthracite-org",), kind="tuner"),
    Vendor("alpindale", "Alpindale", ("alpindale",), kind="tuner"),
    Vendor("neversleep", "NeverSleep", ("neversleep",), kind="tuner"),
    Vendor("cognitivecomputations", "Cognitive Computations", ("cognitivecomputations",), kind="tuner"),
    Vendor("alfredpros", "AlfredPros", ("alfredpros",), kind="tuner"),
    Vendor("arliai", "ArliAI", ("arliai",), kind="tuner"),
    Vendor("raifle", "Raifle", ("raifle",), kind="tuner"),
)

_BY_ALIAS: dict[str, Vendor] = {}
for _vendor in VENDORS:
    for _alias in (_vendor.key, _vendor.name.lower(), *_vendor.aliases):
        _BY_ALIAS.setdefault(_alias.lower(), _vendor)
_BY_KEY = {vendor.key: vendor for vendor in VENDORS}

COMMON_VENDOR_KEYS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "google",
    "xai",
    "deepseek",
    "alibaba",
    "zhipu",
    "moonshot",
    "xiaomi",
    "mistral",
    "meta",
    "minimax",
    "amazon",
    "nvidia",
)

_SLUG = re.compile(r"[^a-z0-9]+")


def _normalise(label: str) -> str:
    return label.strip().lstrip("~").lower()


def vendor_for_label(label: str) -> Vendor | None:
    """The vendor a free-form label names: an author prefix, a corpus label or a member's typed answer."""
    text = _normalise(label)
    if not text:
        return None
    if text in _BY_ALIAS:
        return _BY_ALIAS[text]
    head = text.split("/", 1)[0]
    if head in _BY_ALIAS:
        return _BY_ALIAS[head]
    squashed = _SLUG.sub("", text)
    for alias, vendor in _BY_ALIAS.items():
        if _SLUG.sub("", alias) == squashed:
            return vendor
    return None


def vendor_for_model_id(model_id: str) -> Vendor | None:
    """The vendor behind a catalogue id, read from its author prefix (`z-ai/glm-4.6` -> Zhipu)."""
    if "/" not in model_id:
        return None
    return _BY_ALIAS.get(_normalise(model_id.split("/", 1)[0]))


def canonical_vendor(label: str) -> str:
    """A stable key for any vendor label; unknown labels become a slug of themselves rather than being lost."""
    vendor = vendor_for_label(label)
    if vendor:
        return vendor.key
    return _SLUG.sub("-", _normalise(label)).strip("-") or "unknown"


def display_name(key: str) -> str:
    """The maker's name as people write it; an unknown key is shown as it is rather than hidden."""
    vendor = _BY_KEY.get(key)
    return vendor.name if vendor else key


_LAB_ALIAS_WORDS = re.compile(
    r"(?<![a-z0-9])("
    + "|".join(
        re.escape(alias)
        for alias in sorted(_BY_ALIAS, key=len, reverse=True)
        if len(alias) >= 4 and _BY_ALIAS[alias].kind == "lab"
    )
    + r")(?![a-z0-9])"
)


def known_vendor_names(text: str) -> list[Vendor]:
    """Labs whose name or alias appears as a word in `text` (only aliases of 4+ letters, to avoid noise)."""
    found: list[Vendor] = []
    for match in _LAB_ALIAS_WORDS.finditer(text.lower()):
        vendor = _BY_ALIAS[match.group(1)]
        if vendor not in found:
            found.append(vendor)
    return found
