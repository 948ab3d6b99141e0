"""The style signal: which vendor's models write most like the stealth model.

Production probes the references and the stealth model with the *same* prompts, so the
strongest evidence is one-to-one: how alike are two answers to the same prompt. For
every shared prompt we compare the query's answer with each reference's answer under
several views of style (word and character n-grams, line layout, opening and closing
words, formatting statistics). Each view's similarities are standardised across the
references for that prompt, which removes what every model says about that prompt
(the content) and keeps how this model says it compared with the others (the style).
The per-prompt scores are averaged into one score per reference model; a vendor scores
as its best-matching model, so a vendor with many references is not favoured by count.

Probabilities come from a softmax whose temperature is fitted by attributing each
reference against the other references (their labels are known), never from the query.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from operator import mul
from typing import Callable, Mapping, Sequence

from bot.attribution.calibration import Calibration, CalibrationExample, fit_calibration

# Weights of the views in the per-prompt score. Character n-grams carry most of the
# signal; layout, edges and formatting add habits that n-grams see only weakly.
_SPARSE_VIEW_WEIGHTS = (1.0, 2.0, 0.5, 0.5)  # words, characters, layout, edges
_FORMAT_VIEW_WEIGHT = 0.5
_FORMAT_Z_CLIP = 3.0
# Past this length an answer adds little style evidence but costs memory and time.
_MAX_CHARS_FOR_NGRAMS = 6000
_NEAREST_PER_VENDOR = 3
# A cached answer profile costs about 250 KiB (mostly character n-grams): 1024 of them
# hold a 50-model reference set probed with 8 prompts, plus the queries.
_PROFILE_CACHE_SIZE = 1024
_PAIR_CACHE_LIMIT = 200_000

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


@dataclass(frozen=True)
class StyleReference:
    """A known model and its answers, keyed by prompt id."""

    model: str
    vendor: str
    answers: Mapping[str, str]


@dataclass(frozen=True)
class VendorScore:
    """One vendor's calibrated probability and its closest models (model, score).

    The score of a model is how many standard deviations its answers sit above the
    average reference in similarity to the query's answers, averaged over prompts.
    """

    vendor: str
    probability: float
    nearest: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class StyleVerdict:
    """Vendors ranked by probability, human-readable evidence, prompts compared."""

    ranking: tuple[VendorScore, ...]
    evidence: tuple[str, ...]
    prompts_used: int


# --- features of one answer -------------------------------------------------------


def _line_kind(line: str) -> str:
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
    """Dampen repeats so one long list does not drown the rest of the answer."""
    return {key: 1.0 + math.log(value) for key, value in counts.items()}


def _word_view(text: str) -> dict[str, float]:
    tokens = _WORD_RE.findall(text.lower())
    counts = Counter(tokens)
    counts.update(a + " " + b for a, b in zip(tokens, tokens[1:]))
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
        kind = _line_kind(line)
        if not (kind == "E" and kinds[-1] == "E"):
            kinds.append(kind)
    kinds.append("$")
    counts = Counter(kinds)
    counts.update(a + b for a, b in zip(kinds, kinds[1:]))
    counts.update(a + b + c for a, b, c in zip(kinds, kinds[1:], kinds[2:]))
    counts.update("p:" + mark[:4] for mark in _NOT_PUNCTUATION_RE.sub(" ", text).split())
    return _sublinear(counts)


def _edge_view(text: str) -> dict[str, float]:
    """Opening and closing words, and what kind of line opens and closes the answer."""
    tokens = _WORD_RE.findall(text.lower())
    view: dict[str, float] = {}
    for n in (1, 2, 3):
        if len(tokens) >= n:
            view["open:" + " ".join(tokens[:n])] = 1.0
            view["close:" + " ".join(tokens[-n:])] = 1.0
    stripped = text.strip()
    view["first-line:" + _line_kind(stripped.split("\n", 1)[0])] = 1.0
    view["last-line:" + _line_kind(stripped.rsplit("\n", 1)[-1])] = 1.0
    return view


def _formatting_view(text: str) -> tuple[float, ...]:
    """Dense formatting statistics; compared after standardising across answers."""
    nonempty = [line for line in text.split("\n") if line.strip()]
    lines = max(1, len(nonempty))
    kinds = [_line_kind(line) for line in nonempty]
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


def _markdown_habits(text: str) -> frozenset[str]:
    """Which markdown constructs an answer uses at all (for the evidence lines)."""
    kinds = {_line_kind(line)[:1] for line in text.split("\n")}
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
class _AnswerProfile:
    sparse: tuple[_SparseVector, ...]
    formatting: tuple[float, ...]
    habits: frozenset[str]
    opening: str


_SPARSE_VIEWS: tuple[Callable[[str], dict[str, float]], ...] = (
    _word_view,
    _char_view,
    _layout_view,
    _edge_view,
)


@lru_cache(maxsize=_PROFILE_CACHE_SIZE)
def _profile(text: str) -> _AnswerProfile:
    """All views of one answer; cached because references are compared again and again."""
    sparse = []
    for view in _SPARSE_VIEWS:
        weights = view(text)
        sparse.append(_SparseVector(weights, math.sqrt(sum(w * w for w in weights.values()))))
    opening = " ".join(text.split()[:2])
    return _AnswerProfile(tuple(sparse), _formatting_view(text), _markdown_habits(text), opening)


def _cosine(a: _SparseVector, b: _SparseVector) -> float:
    if not a.norm or not b.norm:
        return 0.0
    # Key intersection and map() keep the loop in C: this is the hot path of a ranking.
    shared = a.weights.keys() & b.weights.keys()
    dot = sum(map(mul, map(a.weights.__getitem__, shared), map(b.weights.__getitem__, shared)))
    return dot / (a.norm * b.norm)


_pair_cache: dict[tuple[str, str], tuple[float, ...]] = {}


def _sparse_similarities(a: str, b: str) -> tuple[float, ...]:
    """Cosine per sparse view; cached since reference pairs recur across queries."""
    key = (a, b) if a <= b else (b, a)
    cached = _pair_cache.get(key)
    if cached is None:
        if len(_pair_cache) >= _PAIR_CACHE_LIMIT:
            _pair_cache.clear()
        pa, pb = _profile(a), _profile(b)
        cached = tuple(_cosine(x, y) for x, y in zip(pa.sparse, pb.sparse))
        _pair_cache[key] = cached
    return cached


# --- per-prompt comparison ----------------------------------------------------------


def _standardise(values: Sequence[float]) -> list[float]:
    """z-scores; all zeros when the values do not vary (nothing to learn from them)."""
    n = len(values)
    if n < 2:
        return [0.0] * n
    mean = sum(values) / n
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    if spread < 1e-12:
        return [0.0] * n
    return [(v - mean) / spread for v in values]


def _standardised_formatting(texts: Sequence[str]) -> list[list[float]]:
    """Formatting vectors standardised per feature across the answers to one prompt."""
    vectors = [_profile(t).formatting for t in texts]
    columns = [_standardise(column) for column in zip(*vectors)]
    clip = _FORMAT_Z_CLIP
    return [[max(-clip, min(clip, column[i])) for column in columns] for i in range(len(texts))]


def _formatting_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Minus the root-mean-square distance of two standardised formatting vectors."""
    squared = sum(map(mul, a, a)) + sum(map(mul, b, b)) - 2.0 * sum(map(mul, a, b))
    return -math.sqrt(max(0.0, squared) / len(a))


class _PromptComparison:
    """All pairwise view similarities among the answers (query and references) to one prompt."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self._formatting = _standardised_formatting(texts)
        self._pairs: dict[tuple[int, int], tuple[float, ...]] = {}

    def view_similarities(self, i: int, j: int) -> tuple[float, ...]:
        key = (i, j) if i < j else (j, i)
        sims = self._pairs.get(key)
        if sims is None:
            sparse = _sparse_similarities(self.texts[i], self.texts[j])
            sims = (*sparse, _formatting_similarity(self._formatting[i], self._formatting[j]))
            self._pairs[key] = sims
        return sims

    def row_scores(self, row: int, candidates: Sequence[int]) -> list[float]:
        """How much more alike each candidate is to `row` than the other candidates are.

        Each view is standardised across the candidates, the views are weighted and
        summed, and the sum is standardised again so every prompt counts the same.
        """
        per_candidate = [self.view_similarities(row, c) for c in candidates]
        weights = (*_SPARSE_VIEW_WEIGHTS, _FORMAT_VIEW_WEIGHT)
        combined = [0.0] * len(candidates)
        for view, weight in enumerate(weights):
            for index, z in enumerate(_standardise([sims[view] for sims in per_candidate])):
                combined[index] += weight * z
        return _standardise(combined)


@dataclass(frozen=True)
class _Answerer:
    """A query or reference as seen by the ranking: name, label, answers."""

    model: str
    vendor: str
    answers: Mapping[str, str]


@dataclass(frozen=True)
class _PromptSlot:
    comparison: _PromptComparison
    position: dict[int, int]  # answerer index -> index in comparison.texts


def _model_scores(row: int, candidates: Sequence[int], prompts: Mapping[str, _PromptSlot]) -> dict[int, float]:
    """Mean per-prompt score of each candidate against `row`, over prompts both answered."""
    totals: dict[int, float] = {c: 0.0 for c in candidates}
    counts: dict[int, int] = {c: 0 for c in candidates}
    candidate_set = set(candidates)
    for slot in prompts.values():
        if row not in slot.position:
            continue
        present = [c for c in candidates if c in slot.position]
        if len(present) < 2:
            continue
        scores = slot.comparison.row_scores(slot.position[row], [slot.position[c] for c in present])
        for candidate, score in zip(present, scores):
            totals[candidate] += score
            counts[candidate] += 1
    return {c: totals[c] / counts[c] for c in candidate_set if counts[c]}


def _prompt_slots(answerers: Sequence[_Answerer], prompt_ids: Sequence[str]) -> dict[str, _PromptSlot]:
    slots = {}
    for prompt_id in prompt_ids:
        position: dict[int, int] = {}
        texts: list[str] = []
        for index, answerer in enumerate(answerers):
            text = answerer.answers.get(prompt_id)
            if isinstance(text, str):
                position[index] = len(texts)
                texts.append(text)
        if len(texts) >= 2:
            slots[prompt_id] = _PromptSlot(_PromptComparison(texts), position)
    return slots


def _vendor_scores(model_scores: Mapping[int, float], answerers: Sequence[_Answerer]) -> dict[str, float]:
    """A vendor scores as its best model: many models must not mean many votes."""
    vendors: dict[str, float] = {}
    for index, score in model_scores.items():
        vendor = answerers[index].vendor
        vendors[vendor] = max(score, vendors.get(vendor, -math.inf))
    return vendors


def _calibration_examples(
    answerers: Sequence[_Answerer], references: Sequence[int], slots: Mapping[str, _PromptSlot]
) -> list[CalibrationExample]:
    """Attribute each reference against the others (leave-one-model-out).

    Only references whose vendor has another reference can be right, exactly as a
    stealth model can only be attributed to a vendor we hold references for.
    """
    vendor_counts = Counter(answerers[i].vendor for i in references)
    examples = []
    for held_out in references:
        if vendor_counts[answerers[held_out].vendor] < 2:
            continue
        others = [i for i in references if i != held_out]
        scores = _vendor_scores(_model_scores(held_out, others, slots), answerers)
        if scores:
            examples.append(CalibrationExample(scores, answerers[held_out].vendor))
    return examples


def calibrate_references(references: Sequence[StyleReference]) -> Calibration:
    """Fit the temperature on the references alone, to reuse for many queries.

    Scores sharpen as more prompts are averaged, so fit it on the prompts the queries
    will answer (restrict the references' answers to them first).
    """
    answerers = [_Answerer(r.model, r.vendor, r.answers) for r in references]
    prompt_ids = sorted({p for r in references for p in r.answers})
    slots = _prompt_slots(answerers, prompt_ids)
    return fit_calibration(_calibration_examples(answerers, list(range(len(answerers))), slots))


# --- evidence -------------------------------------------------------------------------


def _habit_counts(texts: Sequence[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_profile(text).habits)
    return counts


def _evidence(
    query: _Answerer, nearest: _Answerer, shared: Sequence[str], top_models: Sequence[tuple[str, float]], vendor: str
) -> tuple[str, ...]:
    lines = ["style nearest: " + ", ".join(f"{model} ({score:+.2f} sd)" for model, score in top_models)]
    query_texts = [query.answers[p] for p in shared]
    reference_texts = [nearest.answers[p] for p in shared if p in nearest.answers]
    query_habits, reference_habits = _habit_counts(query_texts), _habit_counts(reference_texts)
    habits = ("headers", "bullet lists", "numbered lists", "bold", "code fences")
    lines.append(
        f"markdown habits vs {vendor} ({nearest.model}): "
        + ", ".join(
            f"{habit} {query_habits[habit]}/{len(query_texts)} vs {reference_habits[habit]}/{len(reference_texts)}"
            for habit in habits
        )
    )
    openings = Counter(_profile(t).opening for t in query_texts if _profile(t).opening)
    if openings:
        opening, count = openings.most_common(1)[0]
        theirs = sum(_profile(t).opening == opening for t in reference_texts)
        lines.append(
            f'opens with "{opening}" in {count}/{len(query_texts)} answers '
            f"({nearest.model}: {theirs}/{len(reference_texts)})"
        )
    return tuple(lines)


# --- public entry point --------------------------------------------------------------


def rank_style(
    query: Mapping[str, str],
    references: Sequence[StyleReference],
    calibration: Calibration | None = None,
) -> StyleVerdict:
    """Rank vendors by how alike the query's answers are to their models' answers.

    Only prompts answered by the query and a reference are compared for that
    reference. Without a `calibration`, one is fitted on the references themselves
    (leave-one-model-out); pass one from `calibrate_references` to reuse it.
    """
    query_answers = {p: t for p, t in query.items() if isinstance(t, str) and t.strip()}
    usable = [r for r in references if any(p in query_answers for p in r.answers)]
    if not query_answers or not usable:
        return StyleVerdict((), ("no reference answered the same prompts as the query",), 0)
    query_answerer = _Answerer("query", "", query_answers)
    answerers = [query_answerer] + [_Answerer(r.model, r.vendor, r.answers) for r in usable]
    reference_indices = list(range(1, len(answerers)))
    shared = sorted(p for p in query_answers if any(p in r.answers for r in usable))
    slots = _prompt_slots(answerers, shared)

    model_scores = _model_scores(0, reference_indices, slots)
    if not model_scores:
        return StyleVerdict((), ("too few references per prompt to compare styles",), len(shared))
    if calibration is None:
        calibration = fit_calibration(_calibration_examples(answerers, reference_indices, slots))
    vendor_scores = _vendor_scores(model_scores, answerers)
    probabilities = calibration.probabilities(vendor_scores)

    by_vendor: dict[str, list[tuple[str, float]]] = {}
    for index, score in sorted(model_scores.items(), key=lambda item: -item[1]):
        by_vendor.setdefault(answerers[index].vendor, []).append((answerers[index].model, round(score, 3)))
    ranking = tuple(
        VendorScore(vendor, probabilities[vendor], tuple(by_vendor[vendor][:_NEAREST_PER_VENDOR]))
        for vendor in sorted(probabilities, key=lambda v: (-probabilities[v], v))
    )
    best_index = max(model_scores, key=model_scores.__getitem__)
    top_models = [(answerers[i].model, s) for i, s in sorted(model_scores.items(), key=lambda item: -item[1])[:3]]
    evidence = _evidence(query_answerer, answerers[best_index], shared, top_models, answerers[best_index].vendor)
    return StyleVerdict(ranking, evidence, len(shared))
