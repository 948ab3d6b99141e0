"""Load a corpus of model answers: one JSON object per line, plain text or gzip.

Each line is ``{"model", "vendor", "prompt_id", "prompt", "response"}``, optionally with what the gateway
reported for that very request: ``prompt_tokens`` and ``completion_tokens`` (its ``usage``, counted by the
serving provider with the model's own tokenizer and chat template) and ``provider`` (who served it). Those
feed the tokenizer signal with real counts; a count that is not a positive whole number (the gateway's 0
means "not reported") is left out without losing the answer. Corpora are
collected by hand or by scripts and are rarely perfect, so a bad line is skipped and
logged with its number instead of aborting the whole load; only a file that cannot be
read at all is an error.

Corpora are untrusted too. Lines are read with a bounded length (a longer one is skipped without ever being
held whole), the decompressed size is bounded (a gzip bomb stops the load with an error, nothing saved), and
an answer or prompt longer than the store keeps is cut with a marker and counted in the load statistics.
"""

from __future__ import annotations

import gzip
import io
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from bot.probes.response import cap_answer
from bot.untrusted_json import clean_text, loads

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_GZIP_MAGIC = b"\x1f\x8b"
_REQUIRED_KEYS = ("model", "vendor", "prompt_id", "prompt", "response")
MAX_PROVIDER_CHARS = 100
# The longest line of the shared corpora is about 27,000 characters; a line is never held longer than this.
MAX_LINE_CHARS = 1_000_000
# The shared corpora decompress to 64 and 111 MB; reading stops with an error past this many bytes.
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024


class CorpusError(Exception):
    """The corpus file as a whole cannot be read (missing, unreadable, not text)."""


@dataclass
class ModelAnswers:
    """Every answer one model gave, keyed by prompt id."""

    model: str
    vendor: str
    answers: dict[str, str] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    prompt_tokens: dict[str, int] = field(default_factory=dict)
    completion_tokens: dict[str, int] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CorpusLoadStats:
    """What a load kept and what it dropped, so a caller can report a dirty corpus."""

    lines_read: int
    lines_skipped: int
    models_skipped: tuple[str, ...]
    texts_cut: int = 0
    first_skip: str | None = None  # "line N: why", so an import that kept nothing can say why in one line


@dataclass(frozen=True)
class Corpus:
    """Answers per model plus the load statistics."""

    models: dict[str, ModelAnswers]
    stats: CorpusLoadStats


class _BoundedReader(io.RawIOBase):
    """A binary stream that refuses to yield more than `MAX_DECOMPRESSED_BYTES`: the guard against gzip bombs."""

    def __init__(self, inner: io.BufferedIOBase, source: Path) -> None:
        super().__init__()
        self._inner = inner
        self._source = source
        self._total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        """Fill `buffer` from the inner stream, counting; past the bound the load fails as a whole."""
        target = memoryview(buffer).cast("B")
        data = self._inner.read(len(target))
        self._total += len(data)
        if self._total > MAX_DECOMPRESSED_BYTES:
            raise CorpusError(
                f"corpus {self._source} holds more than {MAX_DECOMPRESSED_BYTES // 2**20} MiB of text; not imported"
            )
        target[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _open_text(path: Path) -> IO[str]:
    """Open plain or gzip text with a bounded size; gzip is recognised by suffix or by its magic bytes."""
    try:
        with path.open("rb") as raw:
            head = raw.read(2)
        binary: io.BufferedIOBase = (
            gzip.GzipFile(path, "rb") if path.suffix == ".gz" or head == _GZIP_MAGIC else path.open("rb")
        )
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc.strerror or exc}") from exc
    return io.TextIOWrapper(io.BufferedReader(_BoundedReader(binary, path)), encoding="utf-8")


@dataclass(frozen=True)
class _Row:
    """One usable line: the required texts and whatever gateway usage came with it."""

    texts: dict[str, str]
    prompt_tokens: int | None
    completion_tokens: int | None
    provider: str | None


def _count(value: object, minimum: int) -> int | None:
    """A token count as the gateway reports it, or None for anything else (text, booleans, floats, below minimum)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value >= 2**63:
        return None
    return value


def _provider(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return clean_text(value.strip()[:MAX_PROVIDER_CHARS])


def _parse_line(line: str) -> _Row | str:
    """Return the record, or a short reason why the line is unusable."""
    try:
        record = loads(line)
    except ValueError as exc:
        return f"invalid JSON ({getattr(exc, 'msg', exc)})"
    if not isinstance(record, dict):
        return "not a JSON object"
    missing = [key for key in _REQUIRED_KEYS if key not in record]
    if missing:
        return "missing " + ", ".join(missing)
    wrong = [key for key in _REQUIRED_KEYS if not isinstance(record[key], str)]
    if wrong:
        return "not a string: " + ", ".join(wrong)
    if not record["model"] or not record["vendor"] or not record["prompt_id"]:
        return "empty model, vendor or prompt_id"
    return _Row(
        {key: clean_text(record[key]) for key in _REQUIRED_KEYS},
        # The gateway's usage reports 0 when the provider did not count: a prompt costs at least one token.
        _count(record.get("prompt_tokens"), 1),
        _count(record.get("completion_tokens"), 0),
        _provider(record.get("provider")),
    )


def _lines(handle: IO[str]) -> Iterator[str | int]:
    """Each line, or the length of a line over `MAX_LINE_CHARS`, read past without holding it."""
    while line := handle.readline(MAX_LINE_CHARS + 1):
        if len(line) <= MAX_LINE_CHARS or line.endswith("\n"):
            yield line
            continue
        length = len(line)
        while not line.endswith("\n") and (line := handle.readline(MAX_LINE_CHARS)):
            length += len(line)
        yield length


def _records(handle: IO[str], source: Path) -> Iterator[tuple[int, _Row | str]]:
    """Yield (line number, record or reason), turning decoding failures into a CorpusError."""
    try:
        for number, line in enumerate(_lines(handle), start=1):
            if isinstance(line, int):
                yield number, f"{line:,} characters long, over the {MAX_LINE_CHARS:,} character limit"
            elif line.strip():
                yield number, _parse_line(line)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise CorpusError(f"cannot read corpus {source}: {exc}") from exc


def _capped(text: str, what: str, source: Path, number: int) -> tuple[str, bool]:
    kept, cut = cap_answer(text)
    if cut:
        log.warning("corpus %s line %d: %s of %d characters cut to fit the store", source.name, number, what, len(text))
    return kept, cut


def _keep(entry: ModelAnswers, prompt_id: str, response: str, prompt: str, row: _Row) -> None:
    """Store one answer; a repeated prompt id replaces the earlier line whole, its usage included."""
    entry.answers[prompt_id] = response
    entry.prompts[prompt_id] = prompt
    _set_or_drop(entry.prompt_tokens, prompt_id, row.prompt_tokens)
    _set_or_drop(entry.completion_tokens, prompt_id, row.completion_tokens)
    _set_or_drop(entry.providers, prompt_id, row.provider)


def _set_or_drop(kept: dict[str, _T], key: str, value: _T | None) -> None:
    if value is None:
        kept.pop(key, None)
    else:
        kept[key] = value


def load_corpus(path: str | Path) -> Corpus:
    """Stream a corpus file into answers per model, skipping (and logging) bad lines.

    A model seen under two vendor labels is dropped whole: its answers cannot be
    trusted as a reference for either vendor.
    """
    source = Path(path)
    models: dict[str, ModelAnswers] = {}
    conflicting: set[str] = set()
    read = skipped = cut = 0
    first_skip: str | None = None
    with _open_text(source) as handle:
        for number, parsed in _records(handle, source):
            read += 1
            if isinstance(parsed, str):
                skipped += 1
                first_skip = first_skip or f"line {number}: {parsed}"
                log.info("corpus %s line %d skipped: %s", source.name, number, parsed)  # counted in the summary
                continue
            texts = parsed.texts
            model = texts["model"]
            entry = models.setdefault(model, ModelAnswers(model, texts["vendor"]))
            if entry.vendor != texts["vendor"]:
                if model not in conflicting:
                    log.warning(
                        "corpus %s line %d: model %r labelled %r and %r; model skipped",
                        source.name,
                        number,
                        model,
                        entry.vendor,
                        texts["vendor"],
                    )
                conflicting.add(model)
                continue
            response, response_cut = _capped(texts["response"], "response", source, number)
            prompt, prompt_cut = _capped(texts["prompt"], "prompt", source, number)
            cut += response_cut + prompt_cut
            _keep(entry, texts["prompt_id"], response, prompt, parsed)
    for model in conflicting:
        del models[model]
    if 0 < skipped < read:  # with every line skipped, the caller's error says so
        log.warning("corpus %s: %d of %d lines skipped (run with -v for each line and why)", source.name, skipped, read)
    stats = CorpusLoadStats(read, skipped, tuple(sorted(conflicting)), cut, first_skip)
    return Corpus(models, stats)
