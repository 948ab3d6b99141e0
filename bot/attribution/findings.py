"""What a guess rests on, in plain words: the findings a card's headline and its Evidence panel are made of.

Each signal says, for the vendors it can speak for, one clause a member understands without the
engine's vocabulary ("counts tokens exactly like GLM 4.6", "writes most like GPT-5", "calls itself
ChatGPT"). Once the vendors are ranked, `explain` keeps the clauses that support the top vendor and
turns a signal that points elsewhere into a disagreement ("calls itself ChatGPT, which many labs'
models do"). A supporting clause only ever names a model of the vendor it supports, so a card never
says "most likely Alibaba" because of a model of Amazon's.

Names come from the catalogue listing ("Z.AI: GLM 4.6" reads "GLM 4.6"); a name too long to read is
replaced by the model id's last part, never cut.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.attribution.identity import Claim
from bot.attribution.tokenizer import TokenizerMatch
from bot.attribution.tokenizer_families import family_of
from bot.catalogue.vendors import display_name

SUPPORT = "support"
AGAINST = "against"
STANCES = (SUPPORT, AGAINST)
CLEAR_TOKENIZER_ODDS = math.log(10.0)
"""A tokenizer match counts as a finding from ten-to-one odds on: below that the tokenizer rarely tells labs apart."""
CLEAR_STYLE_GAP = math.log(2.0)
"""Another lab's style counts against the top vendor when the style signal finds it at least twice as likely."""
NAME_LIMIT = 40
ID_NAME_LIMIT = 60
CLAIM_WORD_LIMIT = 30
MANY_LABS = "which many labs' models do"
SIGNAL_ORDER = ("tokenizer", "style", "identity")


@dataclass(frozen=True)
class Finding:
    """One signal's point about one vendor, as a clause: `support` for the guessed vendor, `against` when it
    points to another lab (`vendor` is then that lab)."""

    signal: str
    vendor: str
    stance: str
    text: str

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {"signal": self.signal, "vendor": self.vendor, "stance": self.stance, "text": self.text}

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Finding:
        """Read back what `to_json` wrote."""
        return cls(str(record["signal"]), str(record["vendor"]), str(record["stance"]), str(record["text"]))


class SpokenSignal(Protocol):
    """What `explain` needs of a signal: its scores and the clause it says for each vendor it can speak for."""

    @property
    def name(self) -> str:
        """The signal's name ("tokenizer", "style", "identity", "metadata")."""
        ...

    @property
    def scores(self) -> Mapping[str, float]:
        """Log-scale scores of the vendors it knows."""
        ...

    @property
    def said(self) -> Mapping[str, str]:
        """A plain clause for each vendor it speaks for."""
        ...

    def score(self, vendor: str) -> float:
        """A vendor's score, or the signal's default for one it said nothing about."""
        ...


def model_names(listings: Iterable[Any]) -> dict[str, str]:
    """Readable names by model id from catalogue listings: "Z.AI: GLM 4.6" becomes "GLM 4.6"."""
    names = {}
    for listing in listings:
        name = str(getattr(listing, "name", "") or "").split(": ", 1)[-1].strip()
        if name:
            names[str(listing.id)] = name
    return names


def short_model_name(model_id: str, names: Mapping[str, str]) -> str:
    """A model as a member knows it: its listed name, else the id's last part; never a cut word."""
    name = names.get(model_id, "")
    if name and len(name) <= NAME_LIMIT:
        return name
    tail = model_id.rsplit("/", 1)[-1].split(":", 1)[0]
    return tail if tail and len(tail) <= ID_NAME_LIMIT else "one of its models"


def tokenizer_clauses(matches: Sequence[TokenizerMatch], names: Mapping[str, str]) -> dict[str, str]:
    """For each vendor the token counts clearly point to, how: its own model's counts, or a family it shares."""
    said: dict[str, str] = {}
    for match in matches:  # best first
        if match.log_likelihood_ratio < CLEAR_TOKENIZER_ODDS or match.vendor in said:
            continue
        how = "exactly like" if match.matched == match.compared else "like"
        clause = f"counts tokens {how} {short_model_name(match.model_id, names)}"
        if match.matched != match.compared:
            clause += f" ({match.matched} of {match.compared} test strings agree)"
        family = family_of(match.model_id)
        if family is not None and len(family.vendors) > 1:
            clause += ", a tokenizer other labs use too"
        said[match.vendor] = clause
    best = matches[0] if matches else None
    family = family_of(best.model_id) if best else None
    if best is not None and family is not None and best.log_likelihood_ratio >= CLEAR_TOKENIZER_ODDS:
        shared = ", which several labs use" if len(family.vendors) > 1 else ""
        for vendor in family.vendors:
            said.setdefault(vendor, f"uses the {family.label} tokenizer{shared}")
    return said


def style_clauses(nearest: Mapping[str, Sequence[tuple[str, float]]], names: Mapping[str, str]) -> dict[str, str]:
    """For each vendor, the model of its own whose writing is closest to the stealth model's."""
    return {
        vendor: f"writes most like {short_model_name(models[0][0], names)}"
        for vendor, models in nearest.items()
        if models
    }


def _claim_word(claim: Claim) -> str:
    word = claim.name.strip()
    return word if word and len(word) <= CLAIM_WORD_LIMIT else display_name(claim.vendor or "")


def identity_clauses(claims: Iterable[Claim]) -> dict[str, str]:
    """For each maker the model named: "calls itself ChatGPT" for a model's name, "says OpenAI made it" for a lab's."""
    said: dict[str, str] = {}
    for claim in claims:
        if claim.vendor is None or claim.vendor in said:
            continue
        word = _claim_word(claim)
        lab = display_name(claim.vendor)
        is_lab = word.casefold() in {lab.casefold(), lab.split(" (")[0].casefold(), claim.vendor.casefold()}
        said[claim.vendor] = f"says {word} made it" if is_lab else f"calls itself {word}"
    return said


def _favourites(signal: SpokenSignal) -> list[str]:
    """The vendors a signal scores highest, when it tells any apart."""
    if not signal.scores:
        return []
    best = max(signal.scores.values())
    if all(abs(value - best) < 1e-9 for value in signal.scores.values()) and len(signal.scores) > 1:
        return []
    return sorted(vendor for vendor, value in signal.scores.items() if abs(value - best) < 1e-9)


def _supports(signal: SpokenSignal, top: str) -> bool:
    if top not in signal.said:
        return False
    if signal.name == "identity":
        return True  # the model named this vendor; how much that is worth is the identity score's business
    return top in _favourites(signal)


def _against(signal: SpokenSignal, top: str) -> Finding | None:
    """A clear pointer to another lab, in words; None when the signal does not clearly prefer anyone else."""
    if signal.name == "identity":
        others = [vendor for vendor in signal.said if vendor != top]
        if not others:
            return None
        return Finding(signal.name, others[0], AGAINST, f"{signal.said[others[0]]}, {MANY_LABS}")
    rivals = [vendor for vendor in _favourites(signal) if vendor != top and vendor in signal.said]
    if not rivals or top in _favourites(signal):
        return None
    rival = rivals[0]
    if signal.name == "style":
        if signal.score(rival) - signal.score(top) < CLEAR_STYLE_GAP:
            return None
        return Finding(signal.name, rival, AGAINST, f"writes more like {display_name(rival)}'s models")
    return Finding(signal.name, rival, AGAINST, signal.said[rival])


def explain(signals: Mapping[str, SpokenSignal], top: str) -> tuple[Finding, ...]:
    """The findings for a guess whose top vendor is `top`: supporting clauses first, then disagreements."""
    ordered = [signals[name] for name in SIGNAL_ORDER if name in signals]
    support = [Finding(s.name, top, SUPPORT, s.said[top]) for s in ordered if _supports(s, top)]
    against = [finding for s in ordered if (finding := _against(s, top)) is not None]
    return (*support, *against)
