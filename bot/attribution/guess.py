"""A guess: the vendors that probably made a model, best first, with a calibrated confidence and the evidence.

The combiner makes guesses, the store keeps them and the cards show them; a guess without a ranking says why.
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
    findings: tuple[Finding, ...] = ()

    @property
    def top_vendor(self) -> str | None:
        """The vendor a card names, or None for a guess that could not rank."""
        return self.ranking[0].vendor if self.ranking else None
