"""The attribution benchmark: how often the style signal names the right vendor.

Protocol (``scout bench attribution``):

* Without a reference corpus, leave-one-model-out: each model in turn plays the
  stealth model and every other model of the corpus is a reference. Only models whose
  vendor has another model can be right, so only those are scored.
* With a reference corpus, every model of the corpus is a query against the
  references (a reference with the query's exact model name is left out); queries
  whose vendor has no reference are run but not scored.
* Each draw picks K prompt ids answered by every model, seeded and blind to labels;
  queries and references use only those K answers, as a real probe run would.

Top-1/top-3 accuracy are means over all scored queries of all draws, among the known
vendors (the ranking's probabilities assume the lab is one of them); the expected
calibration error is that of the top-1 probability in ten equal-width bins; the time
per query is the wall time of ``rank_style`` alone.

Selective attribution: a query names its top vendor only when the top probability reaches the
threshold ``rank_style`` learnt on that query's references (the shipped rule, `fit_threshold`);
coverage is the share of scored queries that name one, precision the share of those that are
right; the area under the risk-coverage curve summarises every threshold at once. The naive
baseline is a document-level TF-IDF nearest neighbour over the same draws (each model's K
answers joined). The time with 100 references ranks a few corpus models, held out, against the
same 100 references: the other corpus models on the draw's prompts, plus stand-ins made of their
answers to other prompts (the median query, once the reference tables of the first are built).

Targets (issue 15, style alone): precision at least 0.90 at coverage at least 0.60, top-1 at
least the naive baseline's, under 0.5 s per query with 100 references. The command exits 1
when one is missed.

Open set (``--open-set``): every scored query is played a second time with every model
of its vendor removed from the references, so its lab is one without references. The
report adds the AUROC of the "unknown" probability between the two plays, and how often
"unknown" ranks first (above the best vendor's share of the rest) in each.
"""

from __future__ import annotations

import bisect
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.attribution.calibration import risk_coverage_area
from bot.attribution.corpus import CorpusError, ModelAnswers, load_corpus
from bot.attribution.lexical import joined, similarity_matrix
from bot.attribution.style import StyleReference, StyleVerdict, rank_style
from bot.benchmarks.measure import Target, targets_json

DEFAULT_PROBES = 8
DEFAULT_DRAWS = 15
TIMING_REFERENCES = 100
TIMING_QUERIES = 5
TARGET_PRECISION = 0.90
TARGET_COVERAGE = 0.60
TARGET_SECONDS = 0.5
TARGETS_SOURCE = "issue 15"
_ECE_BINS = 10
_PREDICTIONS_KEPT = 5

ProgressCallback = Callable[[int, int], None]


class BenchmarkError(CorpusError):
    """The corpora cannot support the requested benchmark (too few models or prompts).

    A kind of CorpusError, so a caller that reports bad corpora reports this too.
    """


@dataclass(frozen=True)
class ModelResult:
    """One query model across draws: how often it was right and what was predicted."""

    model: str
    vendor: str
    scored: bool
    top1_rate: float
    predictions: tuple[tuple[str, float], ...]  # (vendor, mean probability over draws)


@dataclass(frozen=True)
class OpenSetReport:
    """How well the "unknown" entry tells a lab without references from a known one."""

    auroc: float
    abstain_unknown: float
    abstain_known: float
    pairs: int

    def to_json(self) -> dict[str, object]:
        """The `open_set` object of the benchmark's JSON."""
        return {
            "auroc": round(self.auroc, 4),
            "abstain_unknown": round(self.abstain_unknown, 4),
            "abstain_known": round(self.abstain_known, 4),
            "n": self.pairs,
            "n_counts": "scored queries x draws, each played with and without its vendor",
        }


@dataclass(frozen=True)
class SelectiveReport:
    """How often a query names a vendor at the shipped threshold, and how often it is then right."""

    threshold: float
    coverage: float
    precision: float | None
    risk_coverage_area: float

    def to_json(self) -> dict[str, object]:
        """The `selective` object of the benchmark's JSON (the area beside it, as `aurc`)."""
        return {
            "threshold": round(self.threshold, 4),
            "coverage": round(self.coverage, 4),
            "precision": None if self.precision is None else round(self.precision, 4),
        }


@dataclass(frozen=True)
class BenchmarkReport:
    """Accuracy, calibration and speed of the style signal on one corpus."""

    mode: str
    probes: int
    draws: int
    seed: int
    queries_per_draw: int
    top1: float
    top3: float
    ece: float
    seconds_per_query: float
    per_model: tuple[ModelResult, ...]
    naive_top1: float
    naive_top3: float
    selective: SelectiveReport
    seconds_with_100_references: float | None
    open_set: OpenSetReport | None = None

    @property
    def targets(self) -> list[Target]:
        """The style signal's stated targets (issue 15)."""
        selective = self.selective
        return [
            Target("selective_precision", selective.precision, TARGET_PRECISION, False, TARGETS_SOURCE),
            Target("selective_coverage", selective.coverage, TARGET_COVERAGE, False, TARGETS_SOURCE),
            Target("top1_vs_naive", self.top1 - self.naive_top1, 0.0, False, f"{TARGETS_SOURCE}: top-1 >= naive"),
            Target(
                "seconds_per_query_100_references",
                self.seconds_with_100_references,
                TARGET_SECONDS,
                True,
                TARGETS_SOURCE,
            ),
        ]

    @property
    def n(self) -> int:
        """Scored queries over all draws (queries_per_draw x draws)."""
        return self.queries_per_draw * self.draws

    def to_json(self) -> dict[str, object]:
        """The report as `scout bench attribution --json` prints it."""
        payload: dict[str, object] = {
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "n": self.n,
            "n_counts": "scored queries per draw x draws",
            "queries_per_draw": self.queries_per_draw,
            "draws": self.draws,
            "probes": self.probes,
            "seed": self.seed,
            "mode": self.mode,
            "ece": round(self.ece, 4),
            "seconds_per_query": round(self.seconds_per_query, 4),
            "naive": {"top1": round(self.naive_top1, 4), "top3": round(self.naive_top3, 4)},
            "selective": self.selective.to_json(),
            "aurc": round(self.selective.risk_coverage_area, 4),
            "seconds_per_query_100_references": None
            if self.seconds_with_100_references is None
            else round(self.seconds_with_100_references, 4),
            "targets": targets_json(self.targets),
            "per_model": {
                result.model: {
                    "vendor": result.vendor,
                    "scored": result.scored,
                    "top1_rate": round(result.top1_rate, 4),
                    "predictions": [[vendor, round(p, 4)] for vendor, p in result.predictions],
                }
                for result in self.per_model
            },
        }
        if self.open_set is not None:
            payload["open_set"] = self.open_set.to_json()
        return payload

    def format_text(self) -> str:
        """The report as a table for a terminal."""
        lines = [
            f"attribution benchmark ({self.mode}), style signal, K={self.probes} probes, "
            f"{self.draws} draws, seed {self.seed}",
            f"top-1 {self.top1:.3f}  top-3 {self.top3:.3f}  ECE {self.ece:.3f}  "
            f"n={self.n} ({self.queries_per_draw} scored queries x {self.draws} draws)  "
            f"{self.seconds_per_query:.3f} s/query",
            f"naive baseline (TF-IDF nearest neighbour of the K answers joined, same draws): "
            f"top-1 {self.naive_top1:.3f}  top-3 {self.naive_top3:.3f}",
            f"selective: names a vendor for {self.selective.coverage:.0%} of queries (mean threshold "
            f"{self.selective.threshold:.2f}), right for "
            + ("n/a" if self.selective.precision is None else f"{self.selective.precision:.0%}")
            + f" of those; area under the risk-coverage curve {self.selective.risk_coverage_area:.3f}",
            "targets:",
            *(target.line() for target in self.targets),
            *self._open_set_lines(),
            "",
            f"{'model':40} {'vendor':24} {'top-1':>6}  predictions (mean probability)",
        ]
        for result in sorted(self.per_model, key=lambda r: (not r.scored, r.top1_rate, r.model)):
            guesses = ", ".join(f"{vendor} {p:.2f}" for vendor, p in result.predictions[:3])
            rate = f"{result.top1_rate:6.2f}" if result.scored else "     -"
            lines.append(f"{result.model[:40]:40} {result.vendor[:24]:24} {rate}  {guesses}")
        return "\n".join(lines)

    def _open_set_lines(self) -> list[str]:
        if self.open_set is None:
            return []
        found = self.open_set
        return [
            f"open set: AUROC {found.auroc:.3f}  unknown first for {found.abstain_unknown:.0%} of unknown-vendor "
            f"and {found.abstain_known:.0%} of known-vendor queries (n={found.pairs} pairs)"
        ]


@dataclass
class _Outcome:
    """Everything recorded about one query in one draw."""

    model: str
    vendor: str
    scored: bool
    verdict: StyleVerdict
    naive: tuple[str, ...] = ()  # vendors by their nearest document, best first (the naive baseline)
    without_vendor: StyleVerdict | None = None


def _unknown_probability(verdict: StyleVerdict) -> float:
    return verdict.unknown_probability or 0.0


def _unknown_first(verdict: StyleVerdict) -> bool:
    """Does "unknown" outrank the best vendor, whose probability is conditional on a known lab?"""
    unknown = _unknown_probability(verdict)
    best = verdict.ranking[0].probability if verdict.ranking else 0.0
    return unknown > (1.0 - unknown) * best


def _auroc(negatives: Sequence[float], positives: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half (the Mann-Whitney statistic)."""
    ordered = sorted(negatives)
    total = 0.0
    for value in positives:
        below = bisect.bisect_left(ordered, value)
        ties = bisect.bisect_right(ordered, value) - below
        total += below + ties / 2.0
    return total / (len(negatives) * len(positives))


def _open_set_report(scored: Sequence[_Outcome]) -> OpenSetReport:
    pairs = [(o.verdict, o.without_vendor) for o in scored if o.without_vendor is not None]
    known = [_unknown_probability(kept) for kept, _ in pairs]
    unknown = [_unknown_probability(removed) for _, removed in pairs]
    return OpenSetReport(
        auroc=_auroc(known, unknown),
        abstain_unknown=sum(_unknown_first(removed) for _, removed in pairs) / len(pairs),
        abstain_known=sum(_unknown_first(kept) for kept, _ in pairs) / len(pairs),
        pairs=len(pairs),
    )


class _NaiveBaseline:
    """A document-level TF-IDF nearest neighbour: each model's K answers joined, vendors by their nearest model.

    The IDF is taken over every document of the draw (references and queries), as a plain text classifier
    fitted on the draw would; a query is never its own neighbour.
    """

    def __init__(
        self, references: Sequence[StyleReference], queries: Sequence[ModelAnswers], prompts: list[str]
    ) -> None:
        self._vendors = [r.vendor for r in references]
        self._models = [r.model for r in references]
        documents = [joined(r.answers, prompts) for r in references]
        self._rows = {r.model: i for i, r in enumerate(references)}
        for query in queries:
            self._rows.setdefault(query.model, len(documents))
            documents.append(joined(query.answers, prompts))
        self._matrix = similarity_matrix(documents)

    def ranking(self, model: str) -> tuple[str, ...]:
        row = self._matrix[self._rows[model]]
        best: dict[str, float] = {}
        for index, vendor in enumerate(self._vendors):
            if self._models[index] != model:
                best[vendor] = max(best.get(vendor, -1.0), row[index])
        return tuple(sorted(best, key=lambda vendor: (-best[vendor], vendor)))


def _common_prompts(models: Sequence[ModelAnswers]) -> list[str]:
    common = set(models[0].answers)
    for entry in models[1:]:
        common &= set(entry.answers)
    return sorted(common)


def _restricted(entry: ModelAnswers, prompt_ids: Sequence[str]) -> StyleReference:
    return StyleReference(entry.model, entry.vendor, {p: entry.answers[p] for p in prompt_ids})


def _expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for confidence, hit in zip(confidences, correct, strict=True):
        bins[min(_ECE_BINS - 1, int(confidence * _ECE_BINS))].append((confidence, hit))
    total = len(confidences)
    error = 0.0
    for members in bins.values():
        mean_confidence = sum(c for c, _ in members) / len(members)
        accuracy = sum(h for _, h in members) / len(members)
        error += len(members) / total * abs(accuracy - mean_confidence)
    return error


def _summarise_models(outcomes: Sequence[_Outcome], draws: int) -> tuple[ModelResult, ...]:
    by_model: dict[str, list[_Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_model[outcome.model].append(outcome)
    results = []
    for model, runs in sorted(by_model.items()):
        probability_sums: dict[str, float] = defaultdict(float)
        hits = 0
        for run in runs:
            for score in run.verdict.ranking:
                probability_sums[score.vendor] += score.probability
            ranking = run.verdict.ranking
            hits += bool(ranking) and ranking[0].vendor == run.vendor
        predictions = tuple(
            (vendor, total / draws)
            for vendor, total in sorted(probability_sums.items(), key=lambda item: -item[1])[:_PREDICTIONS_KEPT]
        )
        results.append(ModelResult(model, runs[0].vendor, runs[0].scored, hits / len(runs), predictions))
    return tuple(results)


def run_attribution_benchmark(
    corpus_path: str | Path,
    references_path: str | Path | None = None,
    probes: int = DEFAULT_PROBES,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    open_set: bool = False,
) -> BenchmarkReport:
    """Run the protocol described in the module docstring and summarise it."""
    if probes < 1 or draws < 1:
        raise BenchmarkError("probes and draws must be at least 1")
    queries = list(load_corpus(corpus_path).models.values())
    leave_one_out = references_path is None
    references = queries if references_path is None else list(load_corpus(references_path).models.values())
    if not queries or len(references) < 2:
        raise BenchmarkError("the benchmark needs at least two reference models and one query")
    everyone = queries if leave_one_out else queries + references
    prompt_pool = _common_prompts(everyone)
    if len(prompt_pool) < probes:
        raise BenchmarkError(f"only {len(prompt_pool)} prompts are answered by every model; {probes} needed")

    reference_vendors = Counter(r.vendor for r in references)

    def is_scored(query: ModelAnswers) -> bool:
        needed = 2 if leave_one_out else 1
        return reference_vendors[query.vendor] >= needed

    queries_per_draw = sum(is_scored(q) for q in queries)
    if queries_per_draw == 0:
        raise BenchmarkError("no query model has a vendor among the references; nothing can be scored")

    rng = random.Random(seed)
    outcomes: list[_Outcome] = []
    elapsed = 0.0
    total_runs, done = draws * len(queries), 0
    for _ in range(draws):
        prompt_ids = sorted(rng.sample(prompt_pool, probes))
        pool = [_restricted(r, prompt_ids) for r in references]
        naive = _NaiveBaseline(pool, [] if leave_one_out else queries, prompt_ids)
        for query in queries:
            others = [r for r in pool if r.model != query.model]
            answers = {p: query.answers[p] for p in prompt_ids}
            started = time.perf_counter()
            verdict = rank_style(answers, others)
            elapsed += time.perf_counter() - started
            outcome = _Outcome(query.model, query.vendor, is_scored(query), verdict, naive.ranking(query.model))
            if open_set and outcome.scored:
                without = [r for r in others if r.vendor != query.vendor]
                outcome.without_vendor = rank_style(answers, without)
            outcomes.append(outcome)
            done += 1
            if progress is not None:
                progress(done, total_runs)

    seconds_100 = _time_with_references(references, prompt_pool, probes, rng) if leave_one_out else None
    scored = [o for o in outcomes if o.scored]
    naive_top1 = sum(bool(o.naive) and o.naive[0] == o.vendor for o in scored) / len(scored)
    naive_top3 = sum(o.vendor in o.naive[:3] for o in scored) / len(scored)
    top1_hits = [bool(o.verdict.ranking) and o.verdict.ranking[0].vendor == o.vendor for o in scored]
    top3_hits = [o.vendor in [s.vendor for s in o.verdict.ranking[:3]] for o in scored]
    confidences = [o.verdict.ranking[0].probability if o.verdict.ranking else 0.0 for o in scored]
    return BenchmarkReport(
        mode="leave-one-model-out" if leave_one_out else "against references",
        probes=probes,
        draws=draws,
        seed=seed,
        queries_per_draw=queries_per_draw,
        top1=sum(top1_hits) / len(scored),
        top3=sum(top3_hits) / len(scored),
        ece=_expected_calibration_error(confidences, top1_hits),
        seconds_per_query=elapsed / len(outcomes),
        per_model=_summarise_models(outcomes, draws),
        naive_top1=naive_top1,
        naive_top3=naive_top3,
        selective=_selective_report(scored),
        seconds_with_100_references=seconds_100,
        open_set=_open_set_report(scored) if open_set else None,
    )


def _selective_report(scored: Sequence[_Outcome]) -> SelectiveReport:
    named = right = 0
    thresholds = []
    outcomes = []
    for outcome in scored:
        verdict = outcome.verdict
        correct = bool(verdict.ranking) and verdict.ranking[0].vendor == outcome.vendor
        outcomes.append((verdict.ranking[0].probability if verdict.ranking else 0.0, correct))
        if verdict.threshold is not None:
            thresholds.append(verdict.threshold)
        if verdict.names_a_vendor:
            named += 1
            right += correct
    return SelectiveReport(
        threshold=sum(thresholds) / len(thresholds) if thresholds else 0.0,
        coverage=named / len(scored),
        precision=right / named if named else None,
        risk_coverage_area=risk_coverage_area(outcomes),
    )


def _time_with_references(
    models: Sequence[ModelAnswers], prompt_pool: Sequence[str], probes: int, rng: random.Random
) -> float | None:
    """Median seconds of `rank_style` for a few corpus models against the same `TIMING_REFERENCES` references.

    The queries are held out of the references, as a stealth model is; the references are every other
    corpus model on the draw's prompts plus stand-ins (their answers to other prompts filed under the
    draw's prompt ids) up to 100. The first query also builds the reference-to-reference tables the
    others reuse, as the bot's first guess after a calibration does: the median is the steady state.
    """
    sets = len(prompt_pool) // probes
    queries = list(models[:TIMING_QUERIES])
    pool = list(models[TIMING_QUERIES:])
    if sets < 2 or not pool:
        return None
    shuffled = rng.sample(list(prompt_pool), sets * probes)
    prompt_ids = shuffled[:probes]
    references = [_restricted(model, prompt_ids) for model in pool]
    for round_ in range(1, sets):
        other = shuffled[round_ * probes : (round_ + 1) * probes]
        for model in pool:
            if len(references) >= TIMING_REFERENCES:
                break
            answers = {p: model.answers[q] for p, q in zip(prompt_ids, other, strict=True)}
            references.append(StyleReference(f"{model.model} (stand-in {round_})", model.vendor, answers))
    if len(references) < TIMING_REFERENCES:
        return None
    timings = []
    for query in queries:
        started = time.perf_counter()
        rank_style({p: query.answers[p] for p in prompt_ids}, references)
        timings.append(time.perf_counter() - started)
    return sorted(timings)[len(timings) // 2]
