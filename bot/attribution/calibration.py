"""Turn raw vendor scores into probabilities that mean what they say.

A softmax of raw similarity scores is badly calibrated: its sharpness depends on the
scale of the scores, which depends on how many prompts were used and how alike the
references are. Temperature scaling fixes the scale with one parameter fitted on
examples whose answer is known (the references attributed against each other), and a
small floor mixed in keeps a confident mistake from costing an infinite log-loss.
Both maps are monotone, so the ranking is never changed by calibration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_MIN_TEMPERATURE = 0.02
_MAX_TEMPERATURE = 50.0
_SEARCH_STEPS = 30


@dataclass(frozen=True)
class CalibrationExample:
    """Scores per vendor for one attribution whose true vendor is known."""

    scores: Mapping[str, float]
    true_vendor: str


@dataclass(frozen=True)
class Calibration:
    """Softmax temperature plus a uniform floor; ``Calibration()`` is the plain softmax."""

    temperature: float = 1.0
    floor: float = 0.0

    def probabilities(self, scores: Mapping[str, float]) -> dict[str, float]:
        """Map scores per vendor to probabilities that sum to one, order preserved."""
        if not scores:
            return {}
        top = max(scores.values())
        weights = {v: math.exp((s - top) / self.temperature) for v, s in scores.items()}
        total = sum(weights.values())
        uniform = 1.0 / len(scores)
        return {v: (1.0 - self.floor) * w / total + self.floor * uniform for v, w in weights.items()}


def _score_gaps(examples: Sequence[CalibrationExample]) -> list[tuple[list[float], float]]:
    """Per example, every score's gap below the top score, and the true vendor's gap.

    The search evaluates the loss at dozens of temperatures; computing these once keeps
    each evaluation a plain loop over numbers.
    """
    prepared = []
    for example in examples:
        top = max(example.scores.values())
        prepared.append(([s - top for s in example.scores.values()], example.scores[example.true_vendor] - top))
    return prepared


def _log_loss(prepared: Sequence[tuple[list[float], float]], calibration: Calibration) -> float:
    """Mean negative log-likelihood of the true vendors (same maths as `Calibration.probabilities`)."""
    scale = 1.0 / calibration.temperature
    floor = calibration.floor
    total = 0.0
    for gaps, true_gap in prepared:
        normaliser = sum(math.exp(gap * scale) for gap in gaps)
        probability = (1.0 - floor) * math.exp(true_gap * scale) / normaliser + floor / len(gaps)
        total -= math.log(max(probability, 1e-12))
    return total / len(prepared)


def _best_temperature(prepared: Sequence[tuple[list[float], float]], floor: float) -> float:
    """Golden-section search of the log-loss over log(temperature).

    The log-loss of temperature scaling is unimodal in practice, and one scalar does
    not justify an optimiser dependency.
    """
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    low, high = math.log(_MIN_TEMPERATURE), math.log(_MAX_TEMPERATURE)

    def loss(log_t: float) -> float:
        return _log_loss(prepared, Calibration(math.exp(log_t), floor))

    a, b = high - ratio * (high - low), low + ratio * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    for _ in range(_SEARCH_STEPS):
        if loss_a < loss_b:
            high, b, loss_b = b, a, loss_a
            a = high - ratio * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + ratio * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2.0)


def fit_calibration(
    examples: Sequence[CalibrationExample], floors: Sequence[float] = (0.0, 0.02, 0.05, 0.1)
) -> Calibration:
    """Fit temperature (and the floor, from a short list) by log-loss on known examples.

    With no usable example there is nothing to learn from, so the plain softmax is kept.
    """
    usable = [e for e in examples if e.true_vendor in e.scores and len(e.scores) > 1]
    if not usable:
        return Calibration()
    prepared = _score_gaps(usable)
    fits = [Calibration(_best_temperature(prepared, floor), floor) for floor in floors]
    return min(fits, key=lambda calibration: _log_loss(prepared, calibration))
