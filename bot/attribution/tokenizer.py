"""The tokenizer signal: do the query's prompt-token counts line up with a reference model's?

The gateway reports `usage.prompt_tokens` as counted by the model's own tokenizer. Every probe is
one user message, so the chat template adds the same amount to each count and cancels out in the
difference with the baseline probe: two models with the same tokenizer give the same differences
on every string, even behind different templates or providers. Models of one family share a
tokenizer, and some families span labs (`tokenizer_families`): a match then says "one of these
labs", so the evidence names the shared tokenizer and every lab in it gets the same score.

A run whose baseline failed is aligned on the difference most strings agree on instead.

How much one agreeing string is worth depends on the string: a short English prompt counts alike
under most tokenizers, the suite's Korean, Chinese and kanji strings under none of the twelve
families available offline. The probabilities below were fitted on those real vocabularies, and a
test re-measures them and checks the stored values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.attribution.tokenizer_families import family_of
from bot.catalogue.vendors import display_name

# Fitted on the real vocabularies of the test extra; `scout bench tokenizer` re-measures every value,
# add-one smoothed. How often a probe's count difference agrees with a reference's under the same
# tokenizer: 545 of 558 cases through real chat templates and sibling releases. Of the 13 misses, 12
# are GLM-4-0414's template, which merges a prompt's final "?" or "." with what follows, and one is
# DeepSeek V2's, which costs a token more before the injection probe's leading ")".
P_AGREE_SAME = 0.975
# How often two different tokenizer families agree by chance on a probe, over their 66 pairs: the
# default plan's three strings never do (1/68 once smoothed); short English prompts mostly do.
P_AGREE_CHANCE: Mapping[str, float] = {
    "tok-korean": 0.015,
    "tok-chinese": 0.015,
    "tok-kanji": 0.015,
    "tok-code": 0.544,
    "tok-punct-unicode": 0.044,
}
P_AGREE_CHANCE_TEXT = 0.612
MIN_STRINGS = 2


def chance_agreement(probe_id: str) -> float:
    """The probability that a different tokenizer gives the same count difference on this probe."""
    return P_AGREE_CHANCE.get(probe_id, P_AGREE_CHANCE_TEXT)


def agreement_weight(probe_id: str, agrees: bool) -> float:
    """log P(this outcome | same tokenizer) - log P(this outcome | a different one)."""
    chance = chance_agreement(probe_id)
    if agrees:
        return math.log(P_AGREE_SAME / chance)
    return math.log((1 - P_AGREE_SAME) / (1 - chance))


@dataclass(frozen=True)
class TokenCounts:
    """A model's prompt token counts per probe: the fingerprint of its tokenizer."""

    model_id: str
    vendor: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Alignment:
    """Which probes' count differences agree with the anchor's, and which were compared at all."""

    agreeing: frozenset[str]
    compared: frozenset[str]

    @property
    def log_likelihood_ratio(self) -> float:
        """Each compared probe weighs by how rarely a different tokenizer would agree on it."""
        return sum(agreement_weight(probe_id, probe_id in self.agreeing) for probe_id in self.compared)


@dataclass(frozen=True)
class TokenizerMatch:
    """How far one reference's token counts agree with the stealth model's."""

    model_id: str
    vendor: str
    matched: int
    compared: int
    log_likelihood_ratio: float

    @classmethod
    def from_alignment(cls, model_id: str, vendor: str, alignment: Alignment) -> TokenizerMatch:
        """Keep the counts and the ratio only: the evidence and the combiner need no more."""
        return cls(model_id, vendor, len(alignment.agreeing), len(alignment.compared), alignment.log_likelihood_ratio)


@dataclass(frozen=True)
class TokenizerVerdict:
    """Vendor scores from token counts, with the matches behind them for the evidence line."""

    scores: Mapping[str, float]
    matches: tuple[TokenizerMatch, ...]
    evidence: tuple[str, ...]


def align(query: Mapping[str, int], reference: Mapping[str, int], baseline_id: str) -> Alignment | None:
    """The probes whose count difference agrees with the anchor's, or None with too few shared probes."""
    shared = sorted(set(query) & set(reference))
    if len(shared) < MIN_STRINGS:
        return None
    differences = {probe_id: query[probe_id] - reference[probe_id] for probe_id in shared}
    if baseline_id in differences:
        offset = differences.pop(baseline_id)
        return Alignment(frozenset(p for p, value in differences.items() if value == offset), frozenset(differences))
    # No shared baseline: anchor on the largest agreeing group, giving up its least telling string.
    groups: dict[int, list[str]] = defaultdict(list)
    for probe_id, value in differences.items():
        groups[value].append(probe_id)
    largest = max(groups.values(), key=lambda group: (len(group), sum(map(chance_agreement, group))))
    anchor = max(largest, key=lambda probe_id: (chance_agreement(probe_id), probe_id))
    compared = frozenset(differences) - {anchor}
    return Alignment(frozenset(largest) - {anchor}, compared)


def compare_tokenizers(
    query: Mapping[str, int], references: Sequence[TokenCounts], baseline_id: str
) -> TokenizerVerdict:
    """Score each vendor by its best-matching reference; vendors without comparable counts get no score.

    Labs that share a known tokenizer family are scored alike: the counts cannot tell them apart.
    """
    matches = []
    for reference in references:
        alignment = align(query, reference.counts, baseline_id)
        if alignment is not None:
            matches.append(TokenizerMatch.from_alignment(reference.model_id, reference.vendor, alignment))
    matches.sort(key=lambda match: (-match.log_likelihood_ratio, match.model_id))
    scores: dict[str, float] = {}
    for match in matches:
        scores.setdefault(match.vendor, match.log_likelihood_ratio)
    _share_within_families(scores, matches)
    return TokenizerVerdict(scores, tuple(matches), _evidence(matches, query))


def _share_within_families(scores: dict[str, float], matches: Sequence[TokenizerMatch]) -> None:
    best_in_family: dict[str, float] = {}
    for match in matches:
        family = family_of(match.model_id)
        if family is not None:
            best_in_family.setdefault(family.key, match.log_likelihood_ratio)
    for match in matches:
        family = family_of(match.model_id)
        if family is not None:
            scores[match.vendor] = max(scores[match.vendor], best_in_family[family.key])


def _evidence(matches: Sequence[TokenizerMatch], query: Mapping[str, int]) -> tuple[str, ...]:
    if not matches:
        if len(query) < MIN_STRINGS:
            return ("tokenizer: too few token counts came back to compare",)
        return ("tokenizer: no reference has token counts for these probes (run `scout calibrate`)",)
    best = matches[0]
    if best.log_likelihood_ratio <= 0:
        return (
            f"tokenizer: no reference's tokenizer matches (the closest, {best.model_id}, "
            f"agrees on {best.matched} of {best.compared} strings)",
        )
    line = f"tokenizer: {best.matched}/{best.compared} strings match {best.model_id} ({_odds(best)})"
    return (line + _sharing(best, matches[1:]),)


def _sharing(best: TokenizerMatch, others: Sequence[TokenizerMatch]) -> str:
    """Who else the best match's tokenizer fits: its known family, and other labs that match as well."""
    family = family_of(best.model_id)
    tied = [m for m in others if m.vendor != best.vendor and m.log_likelihood_ratio == best.log_likelihood_ratio]
    if family is None:
        return (
            f"; shared tokenizer ({_models_and_labs([best, *tied])}), which cannot tell these labs apart"
            if tied
            else ""
        )
    apart = "labs" if len(family.vendors) > 1 else "models"
    clause = f"; shared tokenizer ({family.label}: {family.members}), which cannot tell these {apart} apart"
    outsiders = [match for match in tied if match.vendor not in family.vendors]
    if outsiders:
        clause += f"; the same counts match {_models_and_labs(outsiders)}, so it cannot tell these labs apart either"
    return clause


def _odds(match: TokenizerMatch) -> str:
    """The likelihood ratio in words: how much likelier these counts are under the same tokenizer."""
    ratio = math.exp(min(match.log_likelihood_ratio, 50.0))
    if ratio < 10:
        return "a weak match"
    if ratio >= 1e6:
        return "over a million times likelier if it is the same tokenizer than a different one"
    return f"about {_round_for_people(ratio)} times likelier if it is the same tokenizer than a different one"


def _round_for_people(value: float) -> str:
    """Two significant figures with thousands separators: 3,400 rather than 3417.93 or 3.4e3."""
    digits = max(0, int(math.log10(value)) - 1)
    return f"{round(value, -digits):,.0f}"


def _models_and_labs(matches: Iterable[TokenizerMatch]) -> str:
    return ", ".join(f"{m.model_id} ({display_name(m.vendor)})" for m in list(matches)[:4])
