"""The style signal: which vendor's models write most like the stealth model.

Production probes the references and the stealth model with the *same* prompts, so the
strongest evidence is one-to-one: how alike are two answers to the same prompt. For
every shared prompt we compare every pair of answers under several views of style
(`bot.attribution.style_features`). Each view's similarities are standardised across
the candidates of one answer, which removes what every model says about that prompt
(the content) and keeps how this model says it compared with the others (the style).

Similarity is read in both directions: how the reference stands out among the query's
candidates, and how the query stands out among the reference's candidates. The second
direction matters because some references are "hubs" that look a bit like everybody
(a generic, widely imitated style); seen from the hub, the query is then nothing special,
and the mutual score drops. A vendor scores as its best-matching model, so a vendor with
many references is not favoured by count.

Beside the per-prompt views, each model's answers are joined into one document and compared by
TF-IDF cosine (`bot.attribution.lexical`): a lab's pet words and phrasing across prompts. Its
similarity is standardised across the same candidates and added, at half the weight of the mean
per-prompt score, in both directions like the rest.

Probabilities come from a softmax whose temperature is fitted by attributing each
reference against the other references (their labels are known), never from the query; the same
cases teach the confidence at which one vendor is named (`StyleVerdict.threshold`).
The same cases, with the reference's own vendor held out whole, teach the probability that
the query comes from a lab with no reference at all (`StyleVerdict.unknown_probability`).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from operator import mul

from bot.attribution.calibration import Calibration, CalibrationExample, fit_calibration, fit_threshold, fit_unknown
from bot.attribution.lexical import joined, similarities_to, similarity_matrix
from bot.attribution.style_features import answer_profile, pair_similarities

# Weights of the views in the per-prompt score, in the order of `pair_similarities`
# (words, characters, layout, edges, compression) and then formatting. Character
# n-grams and compression carry most of the signal; the rest add habits that they see
# only weakly.
_VIEW_WEIGHTS = (1.0, 2.0, 0.5, 0.5, 2.0, 0.5)
_FORMAT_Z_CLIP = 3.0
# The lexical view (each model's answers joined, TF-IDF, `bot.attribution.lexical`) beside the mean of
# the per-prompt scores: 0.5 lifted top-1 on all three dev corpora (AlpacaEval +0.01, math/crux +0.07,
# refusals +0.05 on 5 draws of 8 prompts), so no corpus pays for another.
_LEXICAL_WEIGHT = 0.5
_NEAREST_PER_VENDOR = 3


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
    average candidate in similarity to the query's answers, averaged over prompts and
    over both directions (the model among the query's candidates, the query among the
    model's candidates).
    """

    vendor: str
    probability: float
    nearest: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class StyleVerdict:
    """Vendors ranked by probability, human-readable evidence, prompts compared.

    The ranking's probabilities assume the query's lab is among the references' vendors;
    `unknown_probability` is the chance that it is not (None when the calibration has no
    unknown entry, e.g. one passed in without it).
    """

    ranking: tuple[VendorScore, ...]
    evidence: tuple[str, ...]
    prompts_used: int
    unknown_probability: float | None = None
    threshold: float | None = None

    @property
    def names_a_vendor(self) -> bool:
        """Whether the top vendor is sure enough to be named (at or above the learnt threshold)."""
        return bool(self.ranking) and (self.threshold is None or self.ranking[0].probability >= self.threshold)


# --- per-prompt comparison ----------------------------------------------------------


def _standardise(values: Sequence[float]) -> list[float]:
    """z-scores; all zeros when the values do not vary (nothing to learn from them)."""
    n = len(values)
    if n < 2:
        return [0.0] * n
    mean = sum(values) / n
    deviations = [v - mean for v in values]
    spread = math.sqrt(sum(map(mul, deviations, deviations)) / n)
    if spread < 1e-12:
        return [0.0] * n
    return [d / spread for d in deviations]


class _FormattingScale:
    """Each formatting feature's mean and spread over the answers of the references.

    The scale comes from the references alone, so the query is measured on it without
    changing it: every reference-to-reference comparison is the same with or without
    the query, and can be shared between ranking the query and calibrating.
    """

    def __init__(self, vectors: Sequence[Sequence[float]]) -> None:
        self._columns = []
        for column in zip(*vectors, strict=True):
            mean = sum(column) / len(column)
            spread = math.sqrt(sum((v - mean) ** 2 for v in column) / len(column))
            self._columns.append((mean, spread))

    def scaled(self, vector: Sequence[float]) -> list[float]:
        """The vector standardised per feature (clipped; 0 for a feature the references do not vary on)."""
        clip = _FORMAT_Z_CLIP
        return [
            max(-clip, min(clip, (value - mean) / spread)) if spread > 1e-12 else 0.0
            for value, (mean, spread) in zip(vector, self._columns, strict=True)
        ]


def _formatting_similarity(a: Sequence[float], b: Sequence[float], a_squares: float, b_squares: float) -> float:
    """Minus the root-mean-square distance of two standardised formatting vectors.

    `a_squares` and `b_squares` are the vectors' sums of squares, computed once per answer.
    """
    squared = a_squares + b_squares - 2.0 * sum(map(mul, a, b))
    return -math.sqrt(max(0.0, squared) / len(a))


def _prompt_scores(similarities: Sequence[Sequence[float]]) -> list[float]:
    """How much more alike each candidate is to a row than the other candidates are, from their view similarities.

    Each view is standardised across the candidates, the views are weighted and
    summed, and the sum is standardised again so every prompt counts the same.
    """
    combined = [0.0] * len(similarities)
    for weight, per_view in zip(_VIEW_WEIGHTS, zip(*similarities, strict=True), strict=True):
        z = _standardise(per_view)
        combined = [total + weight * value for total, value in zip(combined, z, strict=True)]
    return _standardise(combined)


class _Moments:
    """Count, mean and scatter (summed outer products of deviations) of a row's similarity vectors to its candidates.

    Enough to place one more candidate among them exactly as `_prompt_scores` would, in O(views²) rather than
    a pass over every candidate: how a query stands among a reference's other candidates, whose similarities
    to the reference do not change from query to query.
    """

    __slots__ = ("count", "mean", "scatter")

    def __init__(self, vectors: Sequence[Sequence[float]]) -> None:
        self.count = len(vectors)
        columns = list(zip(*vectors, strict=True))
        self.mean = [sum(column) / self.count for column in columns]
        deviations = [[v - mean for v in column] for column, mean in zip(columns, self.mean, strict=True)]
        self.scatter = [[sum(map(mul, a, b)) for b in deviations] for a in deviations]

    def standing(self, added: Sequence[float], weights: Sequence[float]) -> float:
        """The score `_prompt_scores` (with `weights` per view) gives `added` among these vectors and itself."""
        count = self.count + 1
        share = self.count / count
        deltas = [value - mean for value, mean in zip(added, self.mean, strict=True)]
        views = range(len(deltas))
        # With `added` in: the mean moves by delta / count, the scatter gains share * delta delta^T.
        scatter = [[self.scatter[u][v] + share * deltas[u] * deltas[v] for v in views] for u in views]
        scales = []
        for v, weight in zip(views, weights, strict=True):
            spread = math.sqrt(scatter[v][v] / count)
            scales.append(weight / spread if spread >= 1e-12 else 0.0)
        combined = share * sum(map(mul, scales, deltas))
        variance = sum(scales[u] * scales[v] * scatter[u][v] for u in views for v in views) / count
        spread = math.sqrt(max(0.0, variance))
        return combined / spread if spread >= 1e-12 else 0.0


class _PromptComparison:
    """All pairwise view similarities among the answers to one prompt."""

    def __init__(self, texts: Sequence[str], scale_from: Sequence[int]) -> None:
        self.texts = texts
        vectors = [answer_profile(t).formatting for t in texts]
        self.scale = _FormattingScale([vectors[i] for i in scale_from])
        self._formatting = [self.scale.scaled(v) for v in vectors]
        self._formatting_squares = [sum(map(mul, v, v)) for v in self._formatting]
        self._pairs: dict[tuple[int, int], tuple[float, ...]] = {}

    def view_similarities(self, i: int, j: int) -> tuple[float, ...]:
        key = (i, j) if i < j else (j, i)
        sims = self._pairs.get(key)
        if sims is None:
            formatting = _formatting_similarity(
                self._formatting[i], self._formatting[j], self._formatting_squares[i], self._formatting_squares[j]
            )
            sims = (*pair_similarities(self.texts[i], self.texts[j]), formatting)
            self._pairs[key] = sims
        return sims

    def outside_similarities(self, text: str) -> list[tuple[float, ...]]:
        """The view similarities of an answer that is not among `texts` (the query's) to each of them.

        Its formatting is measured on the same scale as theirs, so nothing among them changes.
        """
        formatting = self.scale.scaled(answer_profile(text).formatting)
        squares = sum(map(mul, formatting, formatting))
        return [
            (
                *pair_similarities(text, other),
                _formatting_similarity(formatting, other_formatting, squares, other_squares),
            )
            for other, other_formatting, other_squares in zip(
                self.texts, self._formatting, self._formatting_squares, strict=True
            )
        ]

    def row_scores(self, row: int, candidates: Sequence[int]) -> list[float]:
        """How much more alike each candidate is to `row` than the other candidates are (`_prompt_scores`)."""
        return _prompt_scores([self.view_similarities(row, c) for c in candidates])


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


def _prompt_slots(
    answerers: Sequence[_Answerer], prompt_ids: Sequence[str], scale_from: Sequence[int]
) -> dict[str, _PromptSlot]:
    """One comparison per prompt answered by at least two answerers (formatting scaled on `scale_from`)."""
    slots = {}
    for prompt_id in prompt_ids:
        position: dict[int, int] = {}
        texts: list[str] = []
        for index, answerer in enumerate(answerers):
            text = answerer.answers.get(prompt_id)
            if isinstance(text, str):
                position[index] = len(texts)
                texts.append(text)
        scale = [position[i] for i in scale_from if i in position]
        if len(texts) >= 2 and scale:
            slots[prompt_id] = _PromptSlot(_PromptComparison(texts, scale), position)
    return slots


@dataclass(frozen=True)
class _Comparisons:
    """What the ranking compares: each shared prompt's answers, and every answerer's answers joined (lexical)."""

    slots: Mapping[str, _PromptSlot]
    lexical: Sequence[Sequence[float]]


def _comparisons(
    answerers: Sequence[_Answerer],
    prompt_ids: Sequence[str],
    scale_from: Sequence[int],
    documents_over: Sequence[str] | None = None,
) -> _Comparisons:
    """Per-prompt comparisons, and the lexical view of each answerer's answers to `documents_over` (the slots')."""
    slots = _prompt_slots(answerers, prompt_ids, scale_from)
    prompts = sorted(slots) if documents_over is None else documents_over
    documents = [joined(answerer.answers, prompts) for answerer in answerers]
    return _Comparisons(slots, similarity_matrix(documents, scale_from))


def _one_way_scores(row: int, candidates: Sequence[int], compared: _Comparisons) -> dict[int, float]:
    """Mean per-prompt score of each candidate seen from `row`, over prompts both answered, plus the lexical view.

    The lexical similarity is standardised across the same candidates, like each per-prompt view.
    """
    totals: dict[int, float] = {c: 0.0 for c in candidates}
    counts: dict[int, int] = {c: 0 for c in candidates}
    for slot in compared.slots.values():
        if row not in slot.position:
            continue
        present = [c for c in candidates if c in slot.position]
        if len(present) < 2:
            continue
        scores = slot.comparison.row_scores(slot.position[row], [slot.position[c] for c in present])
        for candidate, score in zip(present, scores, strict=True):
            totals[candidate] += score
            counts[candidate] += 1
    scored = [c for c in candidates if counts[c]]
    lexical = _standardise([compared.lexical[row][c] for c in scored])
    return {c: totals[c] / counts[c] + _LEXICAL_WEIGHT * z for c, z in zip(scored, lexical, strict=True)}


class _MutualScores:
    """Scores between all members of one group (the query and references, or references alone).

    Each member sees every other member as a candidate; the score of a pair is the
    mean of its two one-way scores, so a reference that resembles everybody (a hub)
    does not win every query.
    """

    def __init__(self, members: Sequence[int], compared: _Comparisons) -> None:
        self._compared = compared
        self._one_way = {row: _one_way_scores(row, [m for m in members if m != row], compared) for row in members}

    def scores_among(self, row: int, kept: Sequence[int]) -> dict[int, float]:
        """`scores_of` as if only `kept` were members beside `row`.

        The row's own view is recomputed over `kept`: removing its closest candidates
        raises the standing of the rest, which is most of what a smaller group changes.
        The kept members' views of the row stay as they were among everyone (recomputing
        them would cost a full comparison per removal).
        """
        scores = {}
        for other, forward in _one_way_scores(row, kept, self._compared).items():
            backward = self._one_way[other].get(row)
            if backward is not None:
                scores[other] = (forward + backward) / 2.0
        return scores

    def scores_of(self, row: int) -> dict[int, float]:
        """Mutual score of every other member with `row` (members with no shared prompt are left out)."""
        scores = {}
        for other, forward in self._one_way[row].items():
            backward = self._one_way[other].get(row)
            if backward is not None:
                scores[other] = (forward + backward) / 2.0
        return scores


def _vendor_scores(model_scores: Mapping[int, float], answerers: Sequence[_Answerer]) -> dict[str, float]:
    """A vendor scores as its best model: many models must not mean many votes."""
    vendors: dict[str, float] = {}
    for index, score in model_scores.items():
        vendor = answerers[index].vendor
        vendors[vendor] = max(score, vendors.get(vendor, -math.inf))
    return vendors


def _calibration_examples(
    answerers: Sequence[_Answerer], references: Sequence[int], mutual: _MutualScores
) -> tuple[list[CalibrationExample], list[dict[str, float]]]:
    """Attribute each reference against the others (leave-one-model-out).

    The query, if among the answerers, is left out of these comparisons entirely, so
    the fit sees exactly the situation of a query: one model against all references.
    Returns the known cases (references whose vendor has another reference, the only
    ones that can be right) and the unknown cases: every reference scored with all the
    models of its own vendor held out (`_MutualScores.scores_among`). `mutual` holds the
    references' scores among themselves.
    """
    vendor_counts = Counter(answerers[i].vendor for i in references)
    known, unknown = [], []
    for held_out in references:
        vendor = answerers[held_out].vendor
        scores = _vendor_scores(mutual.scores_of(held_out), answerers)
        if vendor_counts[vendor] >= 2 and scores:
            known.append(CalibrationExample(scores, vendor))
            other_labs = [r for r in references if answerers[r].vendor != vendor]
            scores = _vendor_scores(mutual.scores_among(held_out, other_labs), answerers)
        if scores:
            unknown.append(scores)
    return known, unknown


def _fit(known: Sequence[CalibrationExample], unknown: Sequence[Mapping[str, float]]) -> Calibration:
    """The vendors' temperature and floor, the confidence a vendor is named at, and the unknown entry."""
    calibration = fit_calibration(known)
    outcomes = []
    for example in known:
        probabilities = calibration.probabilities(example.scores)
        top = max(probabilities, key=probabilities.__getitem__)
        outcomes.append((probabilities[top], top == example.true_vendor))
    return replace(
        calibration,
        unknown=fit_unknown([e.scores for e in known], unknown),
        threshold=fit_threshold(outcomes),
    )


def calibrate_references(references: Sequence[StyleReference]) -> Calibration:
    """Fit the calibration on the references alone, to reuse for many queries.

    Scores sharpen as more prompts are averaged, so fit it on the prompts the queries
    will answer (restrict the references' answers to them first).
    """
    answerers = [_Answerer(r.model, r.vendor, r.answers) for r in references]
    everyone = list(range(len(answerers)))
    compared = _comparisons(answerers, sorted({p for r in references for p in r.answers}), everyone)
    return _fit(*_calibration_examples(answerers, everyone, _MutualScores(everyone, compared)))


# --- evidence -------------------------------------------------------------------------


def _habit_counts(texts: Sequence[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(answer_profile(text).habits)
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
    openings = Counter(answer_profile(t).opening for t in query_texts if answer_profile(t).opening)
    if openings:
        opening, count = openings.most_common(1)[0]
        theirs = sum(answer_profile(t).opening == opening for t in reference_texts)
        lines.append(
            f'opens with "{opening}" in {count}/{len(query_texts)} answers '
            f"({nearest.model}: {theirs}/{len(reference_texts)})"
        )
    return tuple(lines)


# --- the references' tables, kept for the next query ---------------------------------


class _ReferenceTables:
    """What ranking a query needs from the references alone, computed once per reference set and prompts.

    Every reference-to-reference comparison is the same whatever the query (formatting and word weights are
    scaled on the references alone), so the references' mutual scores, the calibration fitted on them and,
    per prompt, each reference's `_Moments` over its other candidates are kept. A query then costs its own
    comparison with each reference answer, plus O(views²) per reference and prompt to place itself among
    that reference's candidates (the backward direction of the mutual score), instead of comparing every
    reference with every other again.
    """

    def __init__(self, references: Sequence[_Answerer], prompt_ids: Sequence[str]) -> None:
        self.references = references
        self.prompt_ids = prompt_ids
        everyone = list(range(len(references)))
        self.compared = _comparisons(references, prompt_ids, everyone, documents_over=prompt_ids)
        self.mutual = _MutualScores(everyone, self.compared)
        self.documents = [joined(r.answers, prompt_ids) for r in references]
        self.moments = {
            prompt_id: {
                row: _Moments([comparison.view_similarities(at, slot.position[c]) for c in slot.position if c != row])
                for row, at in slot.position.items()
            }
            for prompt_id, slot in self.compared.slots.items()
            for comparison in (slot.comparison,)
        }
        # A reference's candidates once a query joins: every reference it shares a prompt with (with the
        # query there, two references on a prompt are enough for each to score the other).
        sharing: dict[int, set[int]] = {row: set() for row in everyone}
        for slot in self.compared.slots.values():
            for row in slot.position:
                sharing[row].update(c for c in slot.position if c != row)
        self.lexical_moments = {
            row: _Moments([(self.compared.lexical[row][c],) for c in sorted(others)])
            for row, others in sharing.items()
            if others
        }
        self._calibration: Calibration | None = None

    def calibration(self) -> Calibration:
        """The calibration fitted on the references (leave-one-model-out), fitted at the first call."""
        if self._calibration is None:
            everyone = list(range(len(self.references)))
            self._calibration = _fit(*_calibration_examples(self.references, everyone, self.mutual))
        return self._calibration

    def query_scores(self, query: Mapping[str, str]) -> dict[int, float]:
        """The mutual score of each reference with the query (`_MutualScores.scores_of`, the query a member).

        The query must answer every prompt of the tables. References it shares no compared prompt with
        are left out.
        """
        forward: dict[int, float] = {}
        backward: dict[int, float] = {}
        counts: dict[int, int] = {}
        for prompt_id, slot in self.compared.slots.items():
            rows = list(slot.position)
            similarities = slot.comparison.outside_similarities(query[prompt_id])
            moments = self.moments[prompt_id]
            for row, score in zip(rows, _prompt_scores(similarities), strict=True):
                forward[row] = forward.get(row, 0.0) + score
                counts[row] = counts.get(row, 0) + 1
            for row, at in slot.position.items():
                backward[row] = backward.get(row, 0.0) + moments[row].standing(similarities[at], _VIEW_WEIGHTS)
        scored = sorted(counts)
        lexical = similarities_to(joined(query, self.prompt_ids), [self.documents[row] for row in scored])
        forward_lexical = _standardise(lexical)
        scores = {}
        for row, similarity, forward_z in zip(scored, lexical, forward_lexical, strict=True):
            backward_z = self.lexical_moments[row].standing((similarity,), (1.0,))
            one_way = forward[row] / counts[row] + _LEXICAL_WEIGHT * forward_z
            other_way = backward[row] / counts[row] + _LEXICAL_WEIGHT * backward_z
            scores[row] = (one_way + other_way) / 2.0
        return scores


_TABLES_KEPT = 8
_tables: OrderedDict[tuple[object, ...], _ReferenceTables] = OrderedDict()


def _references_key(references: Sequence[StyleReference], prompt_ids: Sequence[str]) -> tuple[object, ...]:
    """What a fit on the references depends on: their names, labs and answers to the compared prompts."""
    return (
        tuple(prompt_ids),
        tuple((r.model, r.vendor, tuple(r.answers.get(p) for p in prompt_ids)) for r in references),
    )


def _tables_for(references: Sequence[StyleReference], prompt_ids: Sequence[str]) -> _ReferenceTables:
    """The references' tables on these prompts, built at the first query and kept for the next ones."""
    key = _references_key(references, prompt_ids)
    tables = _tables.get(key)
    if tables is None:
        answerers = [_Answerer(r.model, r.vendor, r.answers) for r in references]
        tables = _tables[key] = _ReferenceTables(answerers, prompt_ids)
        while len(_tables) > _TABLES_KEPT:
            _tables.popitem(last=False)
    else:
        _tables.move_to_end(key)
    return tables


# --- public entry point --------------------------------------------------------------


def rank_style(
    query: Mapping[str, str],
    references: Sequence[StyleReference],
    calibration: Calibration | None = None,
) -> StyleVerdict:
    """Rank vendors by how alike the query's answers are to their models' answers.

    Only prompts answered by the query and a reference are compared for that
    reference. Without a `calibration`, one is fitted on the references themselves
    (leave-one-model-out, with the unknown entry); it is kept for the next query against
    the same references with the rest of their tables (`_ReferenceTables`); pass one from
    `calibrate_references` to use it instead.
    """
    query_answers = {p: t for p, t in query.items() if isinstance(t, str) and t.strip()}
    usable = [r for r in references if any(p in query_answers for p in r.answers)]
    if not query_answers or not usable:
        return StyleVerdict((), ("no reference answered the same prompts as the query",), 0)
    query_answerer = _Answerer("query", "", query_answers)
    shared = sorted(p for p in query_answers if any(p in r.answers for r in usable))
    tables = _tables_for(usable, shared)
    answerers = tables.references

    model_scores = tables.query_scores(query_answers)
    if not model_scores:
        return StyleVerdict((), ("too few references per prompt to compare styles",), len(shared))
    if calibration is None:
        calibration = tables.calibration()
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
    return StyleVerdict(
        ranking, evidence, len(shared), calibration.unknown_probability(vendor_scores), calibration.threshold
    )
