"""Views of one answer's style, and how alike two answers are under each view.

Each view looks at a different habit: which words and character sequences a model
reaches for, how it lays out lines (headers, bullets, numbered steps), how it opens and
closes, dense formatting statistics, and how well one answer compresses given the other
(normalised compression distance, which catches shared phrasing no n-gram list names).
The ranking in `bot.attribution.style` standardises these similarities across the other
answers to the same prompt, so only their order among those answers matters here.
"""

from __future__ import annotations

import math
import re
import sys
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import mul

# Past this length an answer adds little style evidence but costs memory and time.
_MAX_CHARS_FOR_NGRAMS = 6000
# A cached answer profile costs about 250 KiB (mostly character n-grams): 1024 of them
# hold a 50-model reference set probed with 8 prompts, plus the queries.
_PROFILE_CACHE_SIZE = 1024
_PAIR_CACHE_LIMIT = 200_000
_COMPRESSION_LEVEL = 9

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")
_HEADER_RE = re.compile(r"^\s{0,3}#{1,6}\s")
_BULLET_RE = re.compile(r"^\s*[-*+•·]\s+")
_NUMBERED_RE = re.compile(r"^\s*\d+[.)]\s+")
_BOLD_RE = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_BOLD_LEAD_RE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])?\s*\*\*[^*\n]+\*\*")
_ITALIC_RE = re.compile(r"(?<![*\w])\*[^*\n]+\*(?![*\w])")
_SENTENCE_END_RE = re.compile(r"[.!?]+(?:\s|$)")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_SPACES_RE = re.compile(r"[ \t]+")
_NOT_PUNCTUATION_RE = re.compile(r"[\w\s]+")


def line_kind(line: str) -> str:
    """A short code for what a line is (header, bullet, numbered item, paragraph ...)."""
    stripped = line.strip()
    if not stripped:
        return "E"
    if stripped.startswith("```"):
        return "C"
    if _HEADER_RE.match(line):
        return "H"
    if _NUMBERED_RE.match(line):
        kind = "N"
    elif _BULLET_RE.match(line):
        kind = "B"
    elif stripped.startswith(">"):
        kind = "Q"
    elif stripped.startswith("|"):
        kind = "T"
    else:
        kind = "P"
    if line[:1] in " \t" and kind in "NBP":
        kind = kind.lower()
    if _BOLD_LEAD_RE.match(line):
        kind += "*"
    if stripped.endswith(":"):
        kind += ":"
    return kind


def _sublinear(counts: Counter[str]) -> dict[str, float]:
    """Dampen repeats so one long list does not drown the rest of the answer.

    Keys are interned: two answers' vectors then share their key objects, and a lookup in `_cosine` that
    finds its term compares by identity (about 40% faster on character n-grams).
    """
    return {sys.intern(key): 1.0 + math.log(value) for key, value in counts.items()}


def _word_view(text: str) -> dict[str, float]:
    tokens = _WORD_RE.findall(text.lower())
    counts = Counter(tokens)
    counts.update(a + " " + b for a, b in zip(tokens, tokens[1:], strict=False))
    return _sublinear(counts)


def _char_view(text: str) -> dict[str, float]:
    flat = _SPACES_RE.sub(" ", text[:_MAX_CHARS_FOR_NGRAMS])
    counts: Counter[str] = Counter()
    for n in (2, 3, 4):
        counts.update(flat[i : i + n] for i in range(len(flat) - n + 1))
    return _sublinear(counts)


def _layout_view(text: str) -> dict[str, float]:
    """Sequences of line kinds plus the punctuation and markup skeleton."""
    kinds: list[str] = ["^"]
    for line in text.split("\n"):
        kind = line_kind(line)
        if not (kind == "E" and kinds[-1] == "E"):
            kinds.append(kind)
    kinds.append("$")
    counts = Counter(kinds)
    counts.update(a + b for a, b in zip(kinds, kinds[1:], strict=False))
    counts.update(a + b + c for a, b, c in zip(kinds, kinds[1:], kinds[2:], strict=False))
    counts.update("p:" + mark[:4] for mark in _NOT_PUNCTUATION_RE.sub(" ", text).split())
    return _sublinear(counts)


def edge_view(text: str) -> dict[str, float]:
    """Opening and closing words, and what kind of line opens and closes the answer."""
    tokens = _WORD_RE.findall(text.lower())
    view: dict[str, float] = {}
    for n in (1, 2, 3):
        if len(tokens) >= n:
            view["open:" + " ".join(tokens[:n])] = 1.0
            view["close:" + " ".join(tokens[-n:])] = 1.0
    stripped = text.strip()
    view["first-line:" + line_kind(stripped.split("\n", 1)[0])] = 1.0
    view["last-line:" + line_kind(stripped.rsplit("\n", 1)[-1])] = 1.0
    return view


def formatting_view(text: str) -> tuple[float, ...]:
    """Dense formatting statistics; compared after standardising across answers."""
    nonempty = [line for line in text.split("\n") if line.strip()]
    lines = max(1, len(nonempty))
    kinds = [line_kind(line) for line in nonempty]
    words = text.split()
    word_count = max(1, len(words))
    paragraphs = [p for p in _PARAGRAPH_RE.split(text) if p.strip()]
    sentences = max(1, len(_SENTENCE_END_RE.findall(text)))
    per_kilochar = 1000.0 / max(1, len(text))
    return (
        math.log1p(len(text)),
        math.log1p(len(words)),
        math.log1p(len(nonempty)),
        math.log1p(len(paragraphs)),
        sum(k.startswith("H") for k in kinds) / lines,
        sum(k[:1] in "Bb" for k in kinds) / lines,
        sum(k[:1] in "Nn" for k in kinds) / lines,
        sum(k[:1] in "nbp" for k in kinds) / lines,
        len(_BOLD_RE.findall(text)) / lines,
        sum("*" in k for k in kinds) / lines,
        len(_ITALIC_RE.findall(text)) / lines,
        float("```" in text),
        text.count("`") * per_kilochar,
        sum(k.startswith("T") for k in kinds) / lines,
        sum(k.startswith("Q") for k in kinds) / lines,
        math.log1p(len(words) / lines),
        math.log1p(len(words) / sentences),
        math.log1p(len(words) / max(1, len(paragraphs))),
        sum(k.endswith(":") for k in kinds) / lines,
        text.count("!") * per_kilochar,
        text.count("?") * per_kilochar,
        text.count(",") * 100.0 / word_count,
        text.count(";") * per_kilochar,
        text.count("(") * per_kilochar,
        text.count("\u2014") * per_kilochar,
        text.count("\u2013") * per_kilochar,
        text.count(" - ") * per_kilochar,
        text.count("\u2019") * per_kilochar,
        (text.count("\u201c") + text.count("\u201d")) * per_kilochar,
        text.count('"') * per_kilochar,
        (text.count("...") + text.count("\u2026")) * per_kilochar,
        sum(1 for ch in text if ord(ch) >= 0x2600) * per_kilochar,
        sum(1 for ch in text if ord(ch) > 127) * per_kilochar,
        sum(1 for w in words if len(w) > 1 and w.isupper()) / word_count,
        sum(ch.isdigit() for ch in text) * per_kilochar,
        math.log1p(len(paragraphs[0].split())) if paragraphs else 0.0,
        math.log1p(len(paragraphs[-1].split())) if paragraphs else 0.0,
        float(text[:1] in "\n "),
        float(text[-1:] in "\n "),
        text.count("  ") * per_kilochar,
        float("\n\n\n" in text),
    )


def markdown_habits(text: str) -> frozenset[str]:
    """Which markdown constructs an answer uses at all (for the evidence lines)."""
    kinds = {line_kind(line)[:1] for line in text.split("\n")}
    habits = set()
    if "H" in kinds:
        habits.add("headers")
    if kinds & {"B", "b"}:
        habits.add("bullet lists")
    if kinds & {"N", "n"}:
        habits.add("numbered lists")
    if _BOLD_RE.search(text):
        habits.add("bold")
    if "```" in text:
        habits.add("code fences")
    return frozenset(habits)


@dataclass(frozen=True)
class _SparseVector:
    weights: dict[str, float]
    norm: float


@dataclass(frozen=True)
class AnswerProfile:
    """Everything the ranking needs from one answer, computed once."""

    sparse: tuple[_SparseVector, ...]
    formatting: tuple[float, ...]
    habits: frozenset[str]
    opening: str
    encoded: bytes
    compressed_size: int


_SPARSE_VIEWS: tuple[Callable[[str], dict[str, float]], ...] = (
    _word_view,
    _char_view,
    _layout_view,
    edge_view,
)


@lru_cache(maxsize=_PROFILE_CACHE_SIZE)
def answer_profile(text: str) -> AnswerProfile:
    """All views of one answer; cached because references are compared again and again."""
    sparse = []
    for view in _SPARSE_VIEWS:
        weights = view(text)
        sparse.append(_SparseVector(weights, math.sqrt(sum(w * w for w in weights.values()))))
    opening = " ".join(text.split()[:2])
    # JSON can carry lone surrogates, which UTF-8 cannot encode; they must not stop a ranking.
    encoded = text[:_MAX_CHARS_FOR_NGRAMS].encode("utf-8", "replace")
    return AnswerProfile(
        tuple(sparse), formatting_view(text), markdown_habits(text), opening, encoded, _compressed_size(encoded)
    )


def _compressed_size(data: bytes) -> int:
    return len(zlib.compress(data, _COMPRESSION_LEVEL))


def _compression_similarity(a: AnswerProfile, b: AnswerProfile) -> float:
    """Minus the normalised compression distance: near 0 when one answer predicts the other.

    Both orders are compressed and the smaller kept, so the measure is symmetric.
    """
    joint = min(_compressed_size(a.encoded + b.encoded), _compressed_size(b.encoded + a.encoded))
    smaller, larger = sorted((a.compressed_size, b.compressed_size))
    return -(joint - smaller) / max(1, larger)


def _cosine(a: _SparseVector, b: _SparseVector) -> float:
    if not a.norm or not b.norm:
        return 0.0
    # The hot path of a ranking: walk the smaller vector and look its terms up in the larger, all in C
    # (map over dict.get); about twice as fast as intersecting the key sets first.
    small, large = (a.weights, b.weights) if len(a.weights) <= len(b.weights) else (b.weights, a.weights)
    dot = sum(map(mul, map(large.get, small, repeat(0.0)), small.values()))
    return dot / (a.norm * b.norm)


_pair_cache: dict[tuple[str, str], tuple[float, ...]] = {}


def pair_similarities(a: str, b: str) -> tuple[float, ...]:
    """Similarity of two answers under each sparse view, then by compression.

    Cached, since pairs of reference answers recur across queries.
    """
    key = (a, b) if a <= b else (b, a)
    cached = _pair_cache.get(key)
    if cached is None:
        if len(_pair_cache) >= _PAIR_CACHE_LIMIT:
            _pair_cache.clear()
        pa, pb = answer_profile(a), answer_profile(b)
        cached = (*(_cosine(x, y) for x, y in zip(pa.sparse, pb.sparse, strict=True)), _compression_similarity(pa, pb))
        _pair_cache[key] = cached
    return cached
