"""The tokenizer signal: do the query's prompt-token counts line up with a reference model's?

The gateway reports `usage.prompt_tokens` as counted by the model's own tokenizer. Every probe is
one user message, so the chat template adds the same amount to each count and cancels out in the
difference with the baseline probe: two models with the same tokenizer give the same differences
on every string, even behind different templates or providers. Models of one family share a
tokenizer, so a match points at the family (and, as Hunter Alpha showed, families can share
tokenizers across labs: the evidence names the models, not only the vendors).

A run whose baseline failed is aligned on the difference most strings agree on instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.catalogue.vendors import display_name

# How often a string's count agrees with a reference's under the same tokenizer (a little below 1 for
# providers that count slightly differently), and by chance under a different one.
P_AGREE_SAME = 0.95
P_AGREE_CHANCE = 0.2
MIN_STRINGS = 2


@dataclass(frozen=True)
class TokenCounts:
    model_id: str
    vendor: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class TokenizerMatch:
    model_id: str
    vendor: str
    matched: int
    compared: int

    @property
    def log_likelihood_ratio(self) -> float:
        """log P(agreements | same tokenizer) - log P(agreements | a different one)."""
        misses = self.compared - self.matched
        return self.matched * math.log(P_AGREE_SAME / P_AGREE_CHANCE) + misses * math.log(
            (1 - P_AGREE_SAME) / (1 - P_AGREE_CHANCE)
        )


@dataclass(frozen=True)
class TokenizerVerdict:
    scores: Mapping[str, float]
    matches: tuple[TokenizerMatch, ...]
    evidence: tuple[str, ...]


def align(query: Mapping[str, int], reference: Mapping[str, int], baseline_id: str) -> tuple[int, int] | None:
    """(strings whose count difference agrees, strings compared), or None with too few shared probes."""
    shared = sorted(set(query) & set(reference))
    if len(shared) < MIN_STRINGS:
        return None
    differences = {probe_id: query[probe_id] - reference[probe_id] for probe_id in shared}
    if baseline_id in differences:
        offset = differences.pop(baseline_id)
        return sum(1 for value in differences.values() if value == offset), len(differences)
    # No shared baseline: the best anchor is any string of the largest group that agrees.
    agreeing = Counter(differences.values()).most_common(1)[0][1]
    return agreeing - 1, len(differences) - 1


def compare_tokenizers(
    query: Mapping[str, int], references: Sequence[TokenCounts], baseline_id: str
) -> TokenizerVerdict:
    """Score each vendor by its best-matching reference; vendors without comparable counts get no score."""
    matches = []
    for reference in references:
        aligned = align(query, reference.counts, baseline_id)
        if aligned is not None:
            matches.append(TokenizerMatch(reference.model_id, reference.vendor, *aligned))
    matches.sort(key=lambda match: (-match.log_likelihood_ratio, match.model_id))
    scores: dict[str, float] = {}
    for match in matches:
        scores.setdefault(match.vendor, match.log_likelihood_ratio)
    return TokenizerVerdict(scores, tuple(matches), _evidence(matches, query))


def _evidence(matches: Sequence[TokenizerMatch], query: Mapping[str, int]) -> tuple[str, ...]:
    if not matches:
        if len(query) < MIN_STRINGS:
            return ("tokenizer: too few token counts came back to compare",)
        return ("tokenizer: no reference has token counts for these probes (run `scout calibrate`)",)
    best = matches[0]
    if best.log_likelihood_ratio <= 0:
        return (f"tokenizer: no reference matches (closest {best.matched}/{best.compared} strings, {best.model_id})",)
    line = f"tokenizer: {best.matched}/{best.compared} strings match {best.model_id}"
    rivals = [
        m for m in matches[1:] if m.vendor != best.vendor and m.matched == best.matched and m.compared == best.compared
    ]
    if rivals:
        line += (
            ", and as many match "
            + ", ".join(f"{m.model_id} ({display_name(m.vendor)})" for m in rivals[:2])
            + ": a tokenizer shared across labs"
        )
    return (line,)
