"""A guess: the vendors that probably made a model, best first, with a calibrated confidence and the evidence.

The combiner makes guesses, the store keeps them and the cards show them; a guess without a ranking says why,
and a ranked guess whose evidence is too thin to name one vendor says so in `not_sure` (`NotSure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.attribution.findings import Finding


@dataclass(frozen=True)
class NearestModel:
    """A reference model close to the guessed one: the evidence a member can check for themselves."""

    model_id: str
    similarity: float


@dataclass(frozen=True)
class RankedVendor:
    """One vendor in a ranking, with the reference models that put it there."""

    vendor: str
    name: str
    probability: float
    nearest: tuple[NearestModel, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stored and exported form, rounded so a file does not pretend to more precision than the fit has."""
        return {
            "vendor": self.vendor,
            "name": self.name,
            "probability": round(self.probability, 4),
            "nearest": [{"model": n.model_id, "similarity": round(n.similarity, 4)} for n in self.nearest],
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RankedVendor:
        """Read back what `to_json` wrote; guesses stored before `nearest` existed have none."""
        nearest = tuple(NearestModel(item["model"], float(item["similarity"])) for item in record.get("nearest", ()))
        return cls(record["vendor"], record["name"], float(record["probability"]), nearest)


NOT_SURE_BETWEEN = "between"
"""`NotSure.kind` when a few labs share the evidence and none stands out enough: "OpenAI or Anthropic"."""
NOT_SURE_UNLIKE_ANY = "unlike_any"
"""`NotSure.kind` when the model resembles no reference enough: the lab without references leads."""


@dataclass(frozen=True)
class NotSure:
    """Why a ranked guess names no single vendor: its confidence is below the one the bot names a vendor at.

    `candidates` are the vendor keys the evidence leaves, best first (none for `NOT_SURE_UNLIKE_ANY`);
    `reason` is the line a card shows instead of a vendor; `threshold` is the confidence the top vendor
    needed, learnt with the rest of the confidence (`bot.attribution.calibration.fit_threshold`).
    """

    kind: str
    candidates: tuple[str, ...]
    reason: str
    threshold: float

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "kind": self.kind,
            "candidates": list(self.candidates),
            "reason": self.reason,
            "threshold": round(self.threshold, 4),
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> NotSure:
        """Read back what `to_json` wrote."""
        return cls(
            str(record["kind"]),
            tuple(str(vendor) for vendor in record.get("candidates", ())),
            str(record["reason"]),
            float(record["threshold"]),
        )


GUESS_RANKED = "ranked"
"""The status of a guess that ranks vendors; any other status says why there is no ranking (see `reason`)."""
GUESS_NO_REFERENCES = "no_references"
GUESS_PROBES_FAILED = "probes_failed"
GUESS_NOT_FOUND = "not_found"
GUESS_TOO_LITTLE_EVIDENCE = "too_little_evidence"
GUESS_NOT_PROBED = "not_probed"
"""No run was started: it would cost too much, or the gateway refuses the key; `reason` says which."""


@dataclass(frozen=True)
class Guess:
    """Who probably made a model: vendors best first, a calibrated confidence in the first, and why.

    A guess without a ranking is still stored: its `status` names what was missing (no references,
    probes failed, model not found…) and `reason` is the one line a card shows before anything else.
    A ranked guess below the confidence at which the bot names one vendor carries `not_sure`: it keeps
    its ranking (for votes and scoring the evidence) but names no vendor (`top_vendor` is None).
    `findings` say in plain words what supports the top vendor and what points elsewhere (`findings`).
    """

    model_id: str
    ranking: tuple[RankedVendor, ...]
    confidence: float
    evidence: tuple[str, ...]
    run_id: int | None = None
    id: int | None = None
    created_at: str | None = None
    status: str = GUESS_RANKED
    reason: str | None = None
    not_sure: NotSure | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def top_vendor(self) -> str | None:
        """The vendor a card names, or None for a guess that could not rank or is not sure."""
        return self.ranking[0].vendor if self.ranking and self.not_sure is None else None
