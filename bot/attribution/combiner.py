"""Merge the signals into one ranking of vendors with a confidence that means what it says.

Each signal scores candidate vendors on a log-likelihood scale (tokenizer: a likelihood ratio of the
count agreements; identity: the likelihood of the claims made; style: the log of its probability;
metadata: a small look-alike bonus). Summed, they are a naive-Bayes posterior, which is overconfident
because the signals are not independent (a fine-tune shares style and tokenizer with its base). So
the weights are learnt, not assumed: every reference in turn plays the unknown model against the
others (leave one reference out, with only the probes a live run would ask), each signal's
temperature is fitted on those cases, then one final temperature and floor on the sum. "80%" then
means right about 80% of the time on the references, and the metrics reported with a fit come from
cross-fitting, never from the cases the parameters were fitted on.

A missing signal contributes nothing rather than breaking the ranking: with fewer signals the scores
spread less and the confidence drops by itself.

The ranking also carries "a lab without references" under the reserved vendor key `UNKNOWN_VENDOR`
("unknown"), with its own probability: a small model of how strong and how clear the best summed
score is, learnt on the same leave-one-out cases once as they are and once with the true vendor's
score taken out (`_with_unknown_lab`). The known vendors share the rest in their usual proportions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.attribution.calibration import (
    DEFAULT_THRESHOLD,
    UNKNOWN_VENDOR,
    Calibration,
    CalibrationExample,
    UnknownEntry,
    fit_calibration,
    fit_threshold,
    fit_unknown,
)
from bot.attribution.findings import explain, identity_clauses, model_names, style_clauses, tokenizer_clauses
from bot.attribution.guess import (
    GUESS_TOO_LITTLE_EVIDENCE,
    NOT_SURE_BETWEEN,
    NOT_SURE_UNLIKE_ANY,
    Guess,
    NearestModel,
    NotSure,
    RankedVendor,
)
from bot.attribution.identity import IdentityReference, assess_identity
from bot.attribution.metadata import compare_listing
from bot.attribution.style import StyleReference, rank_style
from bot.attribution.tokenizer import TokenCounts, compare_tokenizers
from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.lines import LINE_NAMES, LINES, line_of
from bot.catalogue.vendors import display_name, vendor_for_model_id
from bot.probes.suite import PROBES, PROBES_BY_ID

IDENTITY_PROBE_IDS = frozenset(probe.probe_id for probe in PROBES if probe.kind == "identity")
SUITE_PROMPTS = {probe_id: probe.prompt for probe_id, probe in PROBES_BY_ID.items()}
SIGNALS = ("tokenizer", "identity", "style", "metadata")
FITTED_SIGNALS = ("tokenizer", "identity", "style")
MIN_EXAMPLES = 5
FINAL_FLOORS = (0.0, 0.02, 0.05, 0.1)
UNCALIBRATED_TEMPERATURE = 2.0
PROBABILITY_FLOOR = 1e-6
TOP_VENDORS = 5
NEAREST_PER_VENDOR = 3
ECE_BINS = 10
FOLDS = 5
UNKNOWN_LAB_NAME = "a lab without references"
# Below this many cases the two sides are usually separable and the boundary between them could sit
# anywhere in the gap, so no unknown entry is learnt.
MIN_UNKNOWN_CASES = 20


@dataclass(frozen=True)
class Fingerprint:
    """What is known of one model: answers and token counts by probe id, its listing, its vendor if known.

    `providers` says who served each probe (token counts are aligned per provider); `prompts` gives the text
    of probes that are not the suite's own (corpus prompts), which the tokenizer signal reads their script from.
    """

    model_id: str
    vendor: str | None
    texts: Mapping[str, str]
    token_counts: Mapping[str, int]
    listing: CatalogueEntry | None = field(default=None, compare=False)
    providers: Mapping[str, str] = field(default_factory=dict)
    prompts: Mapping[str, str] = field(default_factory=dict, compare=False)

    def restricted(self, probe_ids: Collection[str]) -> Fingerprint:
        """The same model seen only through `probe_ids`, as a live run of a given plan sees it."""
        return replace(
            self,
            texts={k: v for k, v in self.texts.items() if k in probe_ids},
            token_counts={k: v for k, v in self.token_counts.items() if k in probe_ids},
            providers={k: v for k, v in self.providers.items() if k in probe_ids},
        )


@dataclass(frozen=True)
class SignalScores:
    """One signal's view: scores for the vendors it knows, the score of a vendor it knows nothing of."""

    name: str
    scores: Mapping[str, float]
    default: float
    nearest: Mapping[str, tuple[NearestModel, ...]]
    evidence: tuple[str, ...]
    named: frozenset[str] = frozenset()  # vendors the model named itself (identity only)
    said: Mapping[str, str] = field(default_factory=dict)  # a plain clause per vendor it speaks for (`findings`)

    def score(self, vendor: str) -> float:
        """A vendor's score, or the signal's default for a vendor it said nothing about."""
        return self.scores.get(vendor, self.default)


def _style(query: Fingerprint, references: Sequence[Fingerprint], names: Mapping[str, str]) -> SignalScores | None:
    usable = [StyleReference(r.model_id, r.vendor, dict(r.texts)) for r in references if r.vendor and r.texts]
    if not query.texts or not usable:
        return None
    # A plain softmax: the style temperature is learnt with the other signals' weights (see `_fit`).
    verdict = rank_style(query.texts, usable, calibration=Calibration())
    if not verdict.ranking:
        return None
    scores = {item.vendor: math.log(max(item.probability, PROBABILITY_FLOOR)) for item in verdict.ranking}
    nearest = {
        item.vendor: tuple(NearestModel(model, similarity) for model, similarity in item.nearest[:NEAREST_PER_VENDOR])
        for item in verdict.ranking
    }
    evidence = tuple(line if line.startswith("style") else f"style: {line}" for line in verdict.evidence)
    said = style_clauses({item.vendor: item.nearest for item in verdict.ranking}, names)
    return SignalScores("style", scores, math.log(1.0 / len(scores)), nearest, evidence, said=said)


def _tokenizer(query: Fingerprint, references: Sequence[Fingerprint], names: Mapping[str, str]) -> SignalScores:
    usable = [
        TokenCounts(r.model_id, r.vendor, r.token_counts, r.providers)
        for r in references
        if r.vendor and r.token_counts
    ]
    prompts = {
        probe_id: SUITE_PROMPTS.get(probe_id) or query.prompts.get(probe_id, "") for probe_id in query.token_counts
    }
    asked = TokenCounts(query.model_id, query.vendor or "", query.token_counts, query.providers)
    verdict = compare_tokenizers(asked, usable, prompts)
    nearest: dict[str, list[NearestModel]] = {}
    for match in verdict.matches:
        nearest.setdefault(match.vendor, []).append(
            NearestModel(match.model_id, match.matched / max(1, match.compared))
        )
    return SignalScores(
        "tokenizer",
        verdict.scores,
        0.0,
        {v: tuple(items[:NEAREST_PER_VENDOR]) for v, items in nearest.items()},
        verdict.evidence,
        said=tokenizer_clauses(verdict.matches, names),
    )


def _identity(query: Fingerprint, references: Sequence[Fingerprint], candidates: set[str]) -> SignalScores | None:
    usable = [IdentityReference(r.model_id, r.vendor, r.texts) for r in references if r.vendor]
    verdict = assess_identity(query.texts, usable, IDENTITY_PROBE_IDS, candidates)
    if not verdict.scores:
        return None
    named = frozenset(claim.vendor for claim in verdict.claims.values() if claim.vendor)
    said = identity_clauses(verdict.claims.values())
    return SignalScores("identity", verdict.scores, min(verdict.scores.values()), {}, verdict.evidence, named, said)


@dataclass(frozen=True)
class SignalSet:
    """The vendors in the running and what each available signal says about them.

    Only vendors with references are candidates: a lab nobody has probed has nothing to be compared
    with, so naming it would rest on a bare self-claim or a prior, not on evidence. `reference_lines`
    gives each lab's references' product lines by model and `listed_lines` the lines it lists in the catalogue,
    so the evidence can say when a lab's nearest reference is of another line than one it lists.
    """

    candidates: tuple[str, ...]
    signals: Mapping[str, SignalScores]
    reference_lines: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    listed_lines: Mapping[str, frozenset[str]] = field(default_factory=dict)


def gather_signals(
    query: Fingerprint, references: Sequence[Fingerprint], listings: Sequence[CatalogueEntry]
) -> SignalSet:
    """Every signal that has something to say about `query`."""
    names = model_names(listings)
    signals: dict[str, SignalScores] = {"tokenizer": _tokenizer(query, references, names)}
    style = _style(query, references, names)
    if style is not None:
        signals["style"] = style
    candidates = {r.vendor for r in references if r.vendor}
    identity = _identity(query, references, candidates)
    if identity is not None:
        signals["identity"] = identity
    metadata = compare_listing(query.listing, listings, candidates)
    if metadata.scores:
        nearest = {v: (NearestModel(m.model_id, m.similarity),) for v, m in metadata.nearest.items()}
        mean = sum(metadata.scores.values()) / len(metadata.scores)
        signals["metadata"] = SignalScores("metadata", metadata.scores, mean, nearest, metadata.evidence)
    listed: dict[str, set[str]] = {}
    for listing in listings:
        vendor = vendor_for_model_id(listing.id)
        if vendor is not None and vendor.key in candidates:
            listed.setdefault(vendor.key, set()).add(line_of(listing.id))
    referenced: dict[str, dict[str, str]] = {}
    for reference in references:
        if reference.vendor:
            referenced.setdefault(reference.vendor, {})[reference.model_id] = line_of(reference.model_id)
    return SignalSet(
        tuple(sorted(candidates)),
        signals,
        referenced,
        {vendor: frozenset(lines) for vendor, lines in listed.items()},
    )


@dataclass(frozen=True)
class CombinerModel:
    """The learnt part of the combiner: one temperature per signal, a final calibration, and how it fared."""

    temperatures: Mapping[str, float]
    final: Calibration
    examples: int = 0
    top1: float | None = None
    top3: float | None = None
    ece: float | None = None
    unknown: UnknownEntry | None = None
    threshold: float | None = None

    @property
    def naming_threshold(self) -> float:
        """The confidence at which one vendor is named: learnt by cross-fitting, or `DEFAULT_THRESHOLD`."""
        return DEFAULT_THRESHOLD if self.threshold is None else self.threshold

    @classmethod
    def uncalibrated(cls) -> CombinerModel:
        """Equal weights and a cautious temperature, for a store with too few references to learn from."""
        return cls({}, Calibration(UNCALIBRATED_TEMPERATURE))

    @property
    def calibrated(self) -> bool:
        """Whether enough held-out cases were seen for the temperatures to be trusted over the defaults."""
        return self.examples >= MIN_EXAMPLES

    def totals(self, found: SignalSet) -> dict[str, float]:
        """Each candidate's summed score, every signal weighted by its learnt temperature; empty without signals."""
        if not found.signals:
            return {}
        return {
            vendor: sum(
                signal.score(vendor) / self.temperatures.get(name, 1.0) for name, signal in found.signals.items()
            )
            for vendor in found.candidates
        }

    def probabilities(self, found: SignalSet) -> dict[str, float]:
        """Known vendors only, summing to one: the ranking if the lab is one of them."""
        return self.final.probabilities(self.totals(found))

    def ranked_probabilities(self, found: SignalSet) -> dict[str, float]:
        """`probabilities` plus the `UNKNOWN_VENDOR` entry once one is learnt; the known vendors share the rest."""
        known = self.probabilities(found)
        if self.unknown is None or not known:
            return known
        unknown = self.unknown.probability(self.totals(found))
        return {**{v: (1.0 - unknown) * p for v, p in known.items()}, UNKNOWN_VENDOR: unknown}

    def to_json(self) -> dict[str, Any]:
        """The fitted model as JSON, cached in the store so a restart does not refit it."""
        return {
            "temperatures": dict(self.temperatures),
            "final": {"temperature": self.final.temperature, "floor": self.final.floor},
            "examples": self.examples,
            "top1": self.top1,
            "top3": self.top3,
            "ece": self.ece,
            "unknown": None if self.unknown is None else vars(self.unknown),
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> CombinerModel:
        """The model `to_json` wrote."""
        final = record["final"]
        return cls(
            {str(k): float(v) for k, v in record["temperatures"].items()},
            Calibration(float(final["temperature"]), float(final["floor"])),
            int(record.get("examples", 0)),
            record.get("top1"),
            record.get("top3"),
            record.get("ece"),
            UnknownEntry(**record["unknown"]) if record.get("unknown") else None,
            record.get("threshold"),
        )

    def describe(self) -> str:
        """One line for the evidence: how well calibrated the confidence is, and on how many cases."""
        if not self.calibrated:
            return f"combiner not calibrated: {self.examples} leave-one-out case(s), {MIN_EXAMPLES} needed"
        if self.top1 is None or self.ece is None:
            return f"combiner fitted on {self.examples} leave-one-out cases (too few to measure it separately)"
        return (
            f"combiner fitted on {self.examples} leave-one-out cases; cross-fitted top-1 {self.top1:.2f}, "
            f"top-3 {self.top3:.2f}, ECE {self.ece:.3f}; names one lab from {self.naming_threshold:.0%} confidence"
        )


def missing_evidence(found: SignalSet) -> str | None:
    """Why the signals that came back cannot support a ranking, or None when they can.

    The catalogue listing alone never can (stealth listings are written by the gateway), and a
    signal that scores every candidate alike says nothing: at least one of tokenizer, identity and
    style must tell the candidates apart.
    """
    if not found.candidates:
        return "no guess yet: no references to compare with"
    spoke = [found.signals[name] for name in FITTED_SIGNALS if name in found.signals and found.signals[name].scores]
    if not spoke:
        return "no guess yet: too little evidence — no answer or token count could be compared with the references"
    if len(found.candidates) > 1 and not any(
        len({round(signal.score(vendor), 9) for vendor in found.candidates}) > 1 for signal in spoke
    ):
        return "no guess yet: too little evidence — no tokenizer, identity or style signal tells the labs apart"
    return None


def combine(model_id: str, found: SignalSet, model: CombinerModel) -> Guess:
    """The ranked guess for one model: vendors, confidence in the first, evidence a person can check.

    When the signals cannot support a ranking the guess has none: its status and reason say what is missing.
    """
    signals = found.signals
    missing_reason = missing_evidence(found)
    if missing_reason is not None:
        said = tuple(line for name in SIGNALS if name in signals for line in signals[name].evidence)
        return Guess(model_id, (), 0.0, said, status=GUESS_TOO_LITTLE_EVIDENCE, reason=missing_reason)
    probabilities = model.ranked_probabilities(found)
    ordered = sorted(probabilities.items(), key=lambda item: (-item[1], item[0]))[:TOP_VENDORS]
    ranking = tuple(
        RankedVendor(vendor, _display_name(vendor), probability, _nearest(vendor, signals))
        for vendor, probability in ordered
    )
    not_sure = _not_sure(ranking[0].vendor, model.probabilities(found), model.naming_threshold)
    evidence: list[str] = []
    for name in SIGNALS:
        if name in signals:
            evidence.extend(signals[name].evidence)
            if ranking and signals[name].named and ranking[0].vendor not in signals[name].named:
                evidence.append(
                    f"{name} disagrees with the ranking: self-reports are weak, "
                    "distilled models repeat their teacher's name"
                )
    coverage = _line_coverage(ranking, found)
    if coverage:
        evidence.append(coverage)
    missing = [name for name in FITTED_SIGNALS if name not in signals or not signals[name].scores]
    if missing:
        evidence.append(f"without {', '.join(missing)} evidence: confidence is lower")
    if not model.calibrated:
        evidence.append(f"confidence not yet calibrated ({model.describe()})")
    if not_sure is not None:
        evidence.insert(0, f"not sure: {not_sure.reason} ({_why_not_sure(not_sure, model)})")
    findings = explain(signals, ranking[0].vendor) if ranking[0].vendor != UNKNOWN_VENDOR else ()
    return Guess(model_id, ranking, ranking[0].probability, tuple(evidence), not_sure=not_sure, findings=findings)


CANDIDATES_NAMED = 3


def _line_coverage(ranking: Sequence[RankedVendor], found: SignalSet) -> str | None:
    """Which line the top lab's nearest reference is of, and the lines it lists that no reference covers.

    A lab's reasoning or small model writes unlike its flagship, so a stealth model of a line nobody
    probed is easily missed or misplaced: the reader should know when that may be the case.
    """
    top = next((item for item in ranking if item.vendor != UNKNOWN_VENDOR), None)
    if top is None or not top.nearest:
        return None
    lines = found.reference_lines.get(top.vendor, {})
    line = lines.get(top.nearest[0].model_id)
    listed = found.listed_lines.get(top.vendor, frozenset())
    missing = [LINE_NAMES[other] for other in LINES if other in listed and other not in lines.values()]
    if line is None or not missing:
        return None
    return (
        f"nearest {display_name(top.vendor)} reference is a {LINE_NAMES[line]} ({top.nearest[0].model_id}); "
        f"no {' or '.join(missing)} reference yet"
    )


def _not_sure(first: str, known: Mapping[str, float], threshold: float) -> NotSure | None:
    """Why no single vendor may be named, or None when the top known vendor reaches the threshold.

    The candidates are the fewest vendors (at most `CANDIDATES_NAMED`) that together reach the threshold.
    """
    if first == UNKNOWN_VENDOR:
        return NotSure(NOT_SURE_UNLIKE_ANY, (), "no reference writes like it", threshold)
    ordered = sorted(known.items(), key=lambda item: (-item[1], item[0]))
    if not ordered or ordered[0][1] >= threshold:
        return None
    candidates: list[str] = []
    total = 0.0
    for vendor, probability in ordered[:CANDIDATES_NAMED]:
        candidates.append(vendor)
        total += probability
        if total >= threshold and len(candidates) >= 2:
            break
    names = [display_name(vendor) for vendor in candidates]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"
    return NotSure(NOT_SURE_BETWEEN, tuple(candidates), f"{listed}, not sure which", threshold)


def _why_not_sure(not_sure: NotSure, model: CombinerModel) -> str:
    if not_sure.kind == NOT_SURE_UNLIKE_ANY:
        return "a lab without references is likelier than any lab the references cover"
    learnt = "learnt on the references" if model.threshold is not None else "too few references to learn it"
    return f"no lab reaches the {not_sure.threshold:.0%} confidence at which one is named, {learnt}"


def _display_name(vendor: str) -> str:
    return UNKNOWN_LAB_NAME if vendor == UNKNOWN_VENDOR else display_name(vendor)


def _nearest(vendor: str, signals: Mapping[str, SignalScores]) -> tuple[NearestModel, ...]:
    for name in ("style", "tokenizer", "metadata"):
        signal = signals.get(name)
        if signal is not None and signal.nearest.get(vendor):
            return signal.nearest[vendor]
    return ()


# --- learning from the references ----------------------------------------------------------------


@dataclass(frozen=True)
class LeaveOneOutCase:
    """One reference attributed against the others: what the signals said, and who really made it."""

    found: SignalSet
    true_vendor: str


def leave_one_out_cases(
    references: Sequence[Fingerprint], listings: Sequence[CatalogueEntry], query_probe_ids: Collection[str]
) -> list[LeaveOneOutCase]:
    """Each reference whose vendor has another reference, attributed against all the others.

    The query side keeps only `query_probe_ids` (what a live run asks); another reference of the
    same model id (one probed, one imported) is left out with it.
    """
    cases = []
    for index, held_out in enumerate(references):
        if held_out.vendor is None:
            continue
        others = [r for i, r in enumerate(references) if i != index and r.model_id != held_out.model_id]
        if not any(other.vendor == held_out.vendor for other in others):
            continue
        query = held_out.restricted(query_probe_ids)
        if not query.texts and not query.token_counts:
            continue
        cases.append(LeaveOneOutCase(gather_signals(query, others, listings), held_out.vendor))
    return cases


def _humble(calibration: Calibration, examples: int) -> Calibration:
    """Keep the confidence near what `examples` cases can vouch for.

    After n cases all right, the rule of succession puts the accuracy at (n+1)/(n+2); mixing in a
    uniform share of 1/(n+2) keeps the top probability about there, so ten references never yield
    "99.99%".
    """
    return Calibration(calibration.temperature, max(calibration.floor, 1.0 / (examples + 2)))


def _fit(cases: Sequence[LeaveOneOutCase]) -> CombinerModel:
    """Each signal's temperature on the cases where it spoke, then the final calibration of their sum."""
    temperatures: dict[str, float] = {}
    for name in FITTED_SIGNALS:
        examples = [
            CalibrationExample({v: case.found.signals[name].score(v) for v in case.found.candidates}, case.true_vendor)
            for case in cases
            if name in case.found.signals and case.found.signals[name].scores
        ]
        if len(examples) >= MIN_EXAMPLES:
            temperatures[name] = fit_calibration(examples, floors=(0.0,)).temperature
    partial = CombinerModel(temperatures, Calibration())
    totals = [CalibrationExample(partial.totals(case.found), case.true_vendor) for case in cases if case.found.signals]
    if len(totals) < MIN_EXAMPLES:
        return replace(CombinerModel.uncalibrated(), temperatures=temperatures, examples=len(cases))
    return CombinerModel(temperatures, _humble(fit_calibration(totals, FINAL_FLOORS), len(totals)), len(cases))


def expected_calibration_error(outcomes: Iterable[tuple[float, bool]], bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by bin size."""
    grouped: dict[int, list[tuple[float, bool]]] = {}
    items = list(outcomes)
    for confidence, correct in items:
        grouped.setdefault(min(bins - 1, int(confidence * bins)), []).append((confidence, correct))
    return sum(
        abs(sum(c for c, _ in group) / len(group) - sum(ok for _, ok in group) / len(group)) * len(group)
        for group in grouped.values()
    ) / max(1, len(items))


def fit_combiner(cases: Sequence[LeaveOneOutCase], folds: int = FOLDS) -> CombinerModel:
    """Fit on all cases; measure top-1, top-3 and ECE by cross-fitting (each fold scored by a fit without it)."""
    model = _with_unknown_lab(_fit(cases), cases)
    if len(cases) < 2 * MIN_EXAMPLES:
        return model
    outcomes: list[tuple[float, bool, bool]] = []
    for fold in range(folds):
        held = [case for i, case in enumerate(cases) if i % folds == fold]
        fitted = _fit([case for i, case in enumerate(cases) if i % folds != fold])
        for case in held:
            ranked = sorted(fitted.probabilities(case.found).items(), key=lambda item: (-item[1], item[0]))
            top = [vendor for vendor, _ in ranked[:3]]
            confidence = ranked[0][1] if ranked else 0.0
            outcomes.append((confidence, bool(top) and top[0] == case.true_vendor, case.true_vendor in top))
    return replace(
        model,
        top1=sum(o[1] for o in outcomes) / len(outcomes),
        top3=sum(o[2] for o in outcomes) / len(outcomes),
        ece=expected_calibration_error((o[0], o[1]) for o in outcomes),
        threshold=fit_threshold([(o[0], o[1]) for o in outcomes]),
    )


# --- "a lab without references" ----------------------------------------------------------------


def _with_unknown_lab(model: CombinerModel, cases: Sequence[LeaveOneOutCase]) -> CombinerModel:
    """Learn the unknown entry: each case's summed scores as they are, and with its true vendor held out.

    Holding the vendor out drops its score instead of gathering the signals again without its
    references, which would double the cost of a refit. `scout bench attribution --open-set`
    measures the style signal's own entry with the references really removed.
    """
    known = [model.totals(case.found) for case in cases if case.found.signals]
    if len(known) < MIN_UNKNOWN_CASES:
        return model
    held_out = [
        {vendor: score for vendor, score in model.totals(case.found).items() if vendor != case.true_vendor}
        for case in cases
        if case.found.signals
    ]
    return replace(model, unknown=fit_unknown(known, held_out))
