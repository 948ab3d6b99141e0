"""The self-identification signal: who a model says made it, weighed by how often such claims are true.

Self-reports are weak evidence on their own: distilled models repeat their teacher's name (fine-tunes
of GPT outputs say "developed by OpenAI", some say "Anthropic"), and stealth deployments are told to
hide. So a claim is not taken at its word. For each identity probe, the references show how often
models of each vendor make each claim; the score of a vendor is the log-likelihood of the claims
the query made, given that vendor, smoothed towards "a model names its own maker half the time" for
vendors the references say little about.

Claims are read from first-person clauses only ("I was created by Meta, while ChatGPT was developed
by OpenAI" claims Meta), and comparisons or denials ("as capable as ChatGPT", "I am not GPT-4") are
not claims.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.catalogue.vendors import display_name, vendor_for_label

CLAUSE_BREAK = re.compile(
    r"(?<=[.!?;:])\s+|\n+|,?\s+(?:but|while|whereas|although|however|unlike)\s+|,\s*(?:which|who)\s+", re.IGNORECASE
)
FIRST_PERSON = re.compile(
    r"(?-i:\bI\b)|\b(?:my|me|myself|we|our)\b|我|\bas an? (?:[\w-]+ ){0,3}(?:AI|assistant|model|chatbot)\b",
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z0-9][\w.\-]*[A-Za-z0-9]|[A-Za-z]")
LEADING_LETTERS = re.compile(r"^[A-Za-z]+")
# Words before a name that turn it into a comparison or a denial rather than a claim.
NOT_A_CLAIM = frozenset(
    {
        "than",
        "like",
        "unlike",
        "similar",
        "similarly",
        "compare",
        "compared",
        "comparing",
        "comparison",
        "versus",
        "vs",
        "as",
        "not",
        "different",
        "differs",
        "such",
        "including",
        "rival",
        "competitor",
        "competitors",
        "or",
        "that",
        "match",
        "matching",
        "capable",
        "capabilities",
        "abilities",
        "outperform",
    }
)
# Vendor aliases that are also ordinary words; a model talking about them is not naming its maker.
AMBIGUOUS_NAMES = frozenset(
    {
        "command",
        "seed",
        "nova",
        "phi",
        "sonar",
        "falcon",
        "yi",
        "ling",
        "writer",
        "morph",
        "inception",
        "liquid",
        "perplexity",
        "granite",
        "inflection",
        "perceptron",
        "poolside",
        "relace",
        "switchpoint",
        "essentialai",
        "i",
    }
)
WINDOW_WORDS = 4
QUOTE_BEFORE = 60
QUOTE_AFTER = 30

# Smoothing: with no reference data a model names its own maker with probability OWN, names no maker
# with probability NONE, and names one of about OTHER_CLAIMS other makers with the rest.
PRIOR_OWN = 0.5
PRIOR_NONE = 0.35
OTHER_CLAIMS = 10
PRIOR_WEIGHT = 2.0
# A vendor no reference speaks for is scored as the average referenced vendor, and naming it lifts that by
# this factor only: without references nobody knows how often its models name it, or how often others do.
UNREFERENCED_CLAIM_LIFT = 1.3


@dataclass(frozen=True)
class Claim:
    """The maker an answer names (a vendor key), or None when it names none; `quote` shows where and `name` is
    the word it used ("ChatGPT", "OpenAI")."""

    vendor: str | None
    quote: str
    name: str = ""


@dataclass(frozen=True)
class IdentityReference:
    """A reference model's answers to the identity probes: what a lab's own models say they are."""

    model_id: str
    vendor: str
    answers: Mapping[str, str]


@dataclass(frozen=True)
class IdentityVerdict:
    """Vendor scores from what the model claims to be, with each claim, so a card can quote it."""

    scores: Mapping[str, float]
    claims: Mapping[str, Claim]
    evidence: tuple[str, ...]


def _vendor_named(word: str) -> str | None:
    letters = LEADING_LETTERS.match(word)
    for candidate in (word, letters.group() if letters else ""):
        if not candidate or candidate.lower() in AMBIGUOUS_NAMES:
            continue
        vendor = vendor_for_label(candidate)
        if vendor is not None:
            return vendor.key
    return None


def _quote(text: str, start: int, end: int) -> str:
    """The words of `text` around a claim, with ellipses where it was cut."""
    start, end = max(0, start), min(len(text), end)
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    piece = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + piece + ("…" if text[end:].strip() else "")


def _claim_in_clause(clause: str) -> Claim | None:
    """The first maker named after a first-person marker, skipping comparisons and denials."""
    person = FIRST_PERSON.search(clause)
    if person is None:
        return None
    words = list(WORD.finditer(clause))
    for index, match in enumerate(words):
        word = match.group()
        if match.start() < person.start() or not (word[0].isupper() or word[0].isdigit()):
            continue
        if {w.group().lower() for w in words[max(0, index - WINDOW_WORDS) : index]} & NOT_A_CLAIM:
            continue
        vendor = _vendor_named(word)
        if vendor is not None:
            start = max(person.start(), match.start() - QUOTE_BEFORE)
            return Claim(vendor, _quote(clause, start, match.end() + QUOTE_AFTER), word)
    return None


@lru_cache(maxsize=8192)
def extract_claim(text: str) -> Claim:
    """Who `text` says made its author; the first first-person clause that names a maker wins."""
    for clause in CLAUSE_BREAK.split(text):
        if clause and clause.strip():
            claim = _claim_in_clause(clause)
            if claim is not None:
                return claim
    return Claim(None, _quote(text.strip(), 0, QUOTE_BEFORE + QUOTE_AFTER))


def _prior(claim: str | None, vendor: str) -> float:
    if claim == vendor:
        return PRIOR_OWN
    if claim is None:
        return PRIOR_NONE
    return (1.0 - PRIOR_OWN - PRIOR_NONE) / OTHER_CLAIMS


def assess_identity(
    answers: Mapping[str, str],
    references: Sequence[IdentityReference],
    probe_ids: Collection[str],
    candidates: Collection[str] = (),
) -> IdentityVerdict:
    """Score vendors by how well they explain the claims in the query's answers to the identity probes.

    Every vendor of the references, every vendor claimed and every extra candidate gets a score. A
    vendor the references never saw scores like the average referenced vendor, lifted a little when
    named: a bare claim, with no reference to say how often it is true, moves the ranking only a little.
    """
    claims = {
        probe_id: extract_claim(text) for probe_id, text in answers.items() if probe_id in probe_ids and text.strip()
    }
    if not claims:
        return IdentityVerdict({}, {}, ())
    # counts[probe][vendor][claim]: what references of each vendor said to each identity probe.
    counts: dict[str, dict[str, Counter[str | None]]] = defaultdict(lambda: defaultdict(Counter))
    for reference in references:
        for probe_id in claims:
            text = reference.answers.get(probe_id)
            if text and text.strip():
                counts[probe_id][reference.vendor][extract_claim(text).vendor] += 1
    referenced = {r.vendor for r in references}
    vendors = referenced | {c.vendor for c in claims.values() if c.vendor} | set(candidates)
    scores = {vendor: 0.0 for vendor in vendors}
    for probe_id, claim in claims.items():
        for vendor, value in _claim_scores(claim, vendors, referenced, counts[probe_id]).items():
            scores[vendor] += value
    return IdentityVerdict(scores, claims, _evidence(claims, counts))


def _claim_scores(
    claim: Claim, vendors: Collection[str], referenced: Collection[str], seen: Mapping[str, Counter[str | None]]
) -> dict[str, float]:
    """Log-likelihood of one claim under each vendor: from its references' answers, smoothed by the prior.

    A claimed vendor without references is capped at the other vendors' average lifted by
    UNREFERENCED_CLAIM_LIFT: the prior alone ("models name their maker half the time") would turn a
    bare "I am made by X" into near-certainty, which is exactly what nobody has measured for X.
    """
    values = {
        vendor: math.log(
            (seen[vendor][claim.vendor] + PRIOR_WEIGHT * _prior(claim.vendor, vendor))
            / (sum(seen[vendor].values()) + PRIOR_WEIGHT)
        )
        for vendor in vendors
    }
    if claim.vendor in values and claim.vendor not in referenced and len(values) > 1:
        others = [value for vendor, value in values.items() if vendor != claim.vendor]
        typical = sum(others) / len(others)
        values[claim.vendor] = min(values[claim.vendor], typical + math.log(UNREFERENCED_CLAIM_LIFT))
    return values


def _evidence(claims: Mapping[str, Claim], counts: Mapping[str, Mapping[str, Counter[str | None]]]) -> tuple[str, ...]:
    lines = []
    for vendor in dict.fromkeys(claim.vendor for claim in claims.values()):
        said = [(probe_id, claim) for probe_id, claim in claims.items() if claim.vendor == vendor]
        quote = said[0][1].quote
        if vendor is None:
            lines.append(f'identity: names no maker in {len(said)} of {len(claims)} answers ("{quote}")')
            continue
        others = sum(
            count
            for probe_id, _ in said
            for ref_vendor, seen in counts[probe_id].items()
            if ref_vendor != vendor
            for claim, count in seen.items()
            if claim == vendor
        )
        line = f'identity: says it was made by {display_name(vendor)} ("{quote}")'
        if others:
            line += f"; {others} reference answer(s) of other labs say the same, so this is weak"
        lines.append(line)
    return tuple(lines)
