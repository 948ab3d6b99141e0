"""Load a corpus of model answers: one JSON object per line, plain text or gzip.

Each line is ``{"model", "vendor", "prompt_id", "prompt", "response"}``. Corpora are
collected by hand or by scripts and are rarely perfect, so a bad line is skipped and
logged with its number instead of aborting the whole load; only a file that cannot be
read at all is an error.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_REQUIRED_KEYS = ("model", "vendor", "prompt_id", "prompt", "response")


class CorpusError(Exception):
    """The corpus file as a whole cannot be read (missing, unreadable, not text)."""


@dataclass
class ModelAnswers:
    """Every answer one model gave, keyed by prompt id."""

    model: str
    vendor: str
    answers: dict[str, str] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CorpusLoadStats:
    """What a load kept and what it dropped, so a caller can report a dirty corpus."""

    lines_read: int
    lines_skipped: int
    models_skipped: tuple[str, ...]


@dataclass(frozen=True)
class Corpus:
    """Answers per model plus the load statistics."""

    models: dict[str, ModelAnswers]
    stats: CorpusLoadStats


def _open_text(path: Path) -> IO[str]:
    """Open plain or gzip text; gzip is recognised by suffix or by its magic bytes."""
    try:
        with path.open("rb") as raw:
            head = raw.read(2)
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc.strerror or exc}") from exc
    if path.suffix == ".gz" or head == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _parse_line(line: str) -> dict[str, str] | str:
    """Return the record, or a short reason why the line is unusable."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"invalid JSON ({exc.msg})"
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
    return record


def _records(handle: IO[str], source: Path) -> Iterator[tuple[int, dict[str, str] | str]]:
    """Yield (line number, record or reason), turning decoding failures into a CorpusError."""
    try:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, _parse_line(line)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise CorpusError(f"cannot read corpus {source}: {exc}") from exc


def load_corpus(path: str | Path) -> Corpus:
    """Stream a corpus file into answers per model, skipping (and logging) bad lines.

    A model seen under two vendor labels is dropped whole: its answers cannot be
    trusted as a reference for either vendor.
    """
    source = Path(path)
    models: dict[str, ModelAnswers] = {}
    conflicting: set[str] = set()
    read = skipped = 0
    with _open_text(source) as handle:
        for number, parsed in _records(handle, source):
            read += 1
            if isinstance(parsed, str):
                skipped += 1
                log.warning("corpus %s line %d skipped: %s", source.name, number, parsed)
                continue
            model = parsed["model"]
            entry = models.setdefault(model, ModelAnswers(model, parsed["vendor"]))
            if entry.vendor != parsed["vendor"]:
                if model not in conflicting:
                    log.warning(
                        "corpus %s line %d: model %r labelled %r and %r; model skipped",
                        source.name,
                        number,
                        model,
                        entry.vendor,
                        parsed["vendor"],
                    )
                conflicting.add(model)
                continue
            entry.answers[parsed["prompt_id"]] = parsed["response"]
            entry.prompts[parsed["prompt_id"]] = parsed["prompt"]
    for model in conflicting:
        del models[model]
    if skipped:
        log.warning("corpus %s: %d of %d lines skipped", source.name, skipped, read)
    stats = CorpusLoadStats(read, skipped, tuple(sorted(conflicting)))
    return Corpus(models, stats)
