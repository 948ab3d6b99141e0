"""The tokenizer signal: do the query's prompt-token counts line up with a reference model's?

The gateway reports `usage.prompt_tokens` as counted by the serving provider with the model's own
tokenizer and chat template. Every probe is one user message, so the template adds the same amount to
each count: two models with the same tokenizer give the same count differences from prompt to prompt,
whatever their templates. That constant is a property of the model *and the provider* (one provider
adds 11 tokens to every Qwen request, another 21), so counts are aligned within each pair of providers:
the difference most prompts of the pair share is taken as its offset (the "anchor", given up from the
comparison), and every other prompt is then

- **exact**: the same difference (same tokenizer: 81-90% of prompts on real gateway counts),
- **near**: off by 1 to `NEAR_TOKENS` tokens (a template or provider quirk, or two similar tokenizers), or
- **far**: off by more (a provider that adds 30-odd tokens to some requests, or a different tokenizer).

Each outcome weighs by how much likelier it is under the same tokenizer than under a different one, and
that depends on the prompt: two tokenizers often count a short English prompt alike, rarely a Chinese
one, and never (of twelve families) the suite's crafted Korean, Chinese and kanji strings. The odds below
were measured, not assumed: the crafted strings' chance odds on the real vocabularies of the test extra
(`scout bench tokenizer`), everything else on real gateway counts of the same prompts sent to many models
(`scout bench token-counts --corpus ../shared/data/corpora/speechmap_refusal_dev.jsonl.gz`, which also
fits `NEAR_TOKENS`). A near or far outcome never counts for a match, so no tolerance lets two different
tokenizers match; it only keeps a few odd prompts from sinking a real one.

Models of one family share a tokenizer, and some families span labs (`tokenizer_families`): a match then
says "one of these labs", so the evidence names the shared tokenizer and every lab in it scores alike.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.attribution.tokenizer_families import family_of
from bot.catalogue.vendors import display_name

EXACT, NEAR, FAR = 0, 1, 2
OUTCOMES = ("exact", "near", "far")
# The widest offset still called "near": fitted on real gateway counts (`scout bench token-counts`), where
# it maximised how well same- and different-tokenizer pairs are told apart on held-out draws.
NEAR_TOKENS = 4


@dataclass(frozen=True)
class OutcomeOdds:
    """How often a compared prompt comes out exact, near or far (the three sum to one)."""

    exact: float
    near: float
    far: float

    def of(self, outcome: int) -> float:
        """The probability of one outcome (`EXACT`, `NEAR` or `FAR`)."""
        return (self.exact, self.near, self.far)[outcome]


LATIN_TEXT = "latin text"
OTHER_TEXT = "other script"
"""Classes of ordinary prompts by script: different tokenizers agree far less often outside Latin script."""

# Same tokenizer, on real gateway counts: pairs of models of one known family, aligned per provider pair,
# over seeded draws of 8 prompts (`scout bench token-counts`). On plain ASCII text every such pair counts
# (a template that shifts a prompt ending in "?" by a token is common, and so tolerated); on other scripts
# only the better half, as the fit needs for no two different tokenizers to match on the whole corpus.
# The crafted strings are weighed as other script.
SAME_TOKENIZER: Mapping[str, OutcomeOdds] = {
    LATIN_TEXT: OutcomeOdds(0.917, 0.0688, 0.0142),
    OTHER_TEXT: OutcomeOdds(0.9833, 0.0067, 0.0100),
}
# Different tokenizers agreeing by chance. Ordinary prompts: real gateway counts as above. The crafted
# strings: the 66 pairs of the twelve offline families (`scout bench tokenizer`), add-one smoothed.
CHANCE: Mapping[str, OutcomeOdds] = {
    LATIN_TEXT: OutcomeOdds(0.4381, 0.5292, 0.0328),
    OTHER_TEXT: OutcomeOdds(0.1644, 0.5429, 0.2927),
    "tok-korean": OutcomeOdds(0.014, 0.333, 0.652),
    "tok-chinese": OutcomeOdds(0.014, 0.391, 0.594),
    "tok-kanji": OutcomeOdds(0.014, 0.42, 0.565),
    "tok-code": OutcomeOdds(0.536, 0.159, 0.304),
    "tok-punct-unicode": OutcomeOdds(0.043, 0.319, 0.638),
}
# A prompt is plain ASCII text when at most this share of its letters are not ASCII (English; Finnish's
# ä and ö, or any CJK, make it "other"): tokenizers trained mostly on English agree most on English.
_OTHER_LETTERS_SHARE = 0.01


def prompt_class(probe_id: str, prompt: str | None) -> str:
    """Which odds a prompt's outcome is weighed with: a crafted string's own, else plain ASCII text or not."""
    if probe_id in CHANCE:
        return probe_id
    letters = [ch for ch in prompt or "" if ch.isalpha()]
    other = sum(1 for ch in letters if not ch.isascii())
    return OTHER_TEXT if letters and other / len(letters) > _OTHER_LETTERS_SHARE else LATIN_TEXT


def outcome_of(residual: int, near_tokens: int = NEAR_TOKENS) -> int:
    """`EXACT`, `NEAR` or `FAR` for a count difference minus its pair's offset."""
    gap = abs(residual)
    return EXACT if gap == 0 else NEAR if gap <= near_tokens else FAR


def outcome_weight(klass: str, outcome: int) -> float:
    """log P(outcome | same tokenizer) - log P(outcome | a different one), for a prompt of class `klass`."""
    same = SAME_TOKENIZER[LATIN_TEXT if klass == LATIN_TEXT else OTHER_TEXT]
    chance = CHANCE.get(klass, CHANCE[LATIN_TEXT])
    return math.log(same.of(outcome) / chance.of(outcome))


@dataclass(frozen=True)
class TokenCounts:
    """A model's prompt token counts per probe (the fingerprint of its tokenizer) and who served each."""

    model_id: str
    vendor: str
    counts: Mapping[str, int]
    providers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Alignment:
    """Each compared probe's residual: its count difference minus its provider pair's offset (anchors left out)."""

    residuals: Mapping[str, int]
    classes: Mapping[str, str]
    near_tokens: int = NEAR_TOKENS

    @property
    def outcomes(self) -> dict[str, int]:
        """`EXACT`, `NEAR` or `FAR` per compared probe."""
        return {p: outcome_of(residual, self.near_tokens) for p, residual in self.residuals.items()}

    @property
    def agreeing(self) -> frozenset[str]:
        """Probes whose count difference is exactly their provider pair's offset."""
        return frozenset(p for p, residual in self.residuals.items() if residual == 0)

    @property
    def compared(self) -> frozenset[str]:
        """Every probe that was compared (shared, counted, and not its group's anchor)."""
        return frozenset(self.residuals)

    @property
    def log_likelihood_ratio(self) -> float:
        """Each outcome weighs by how much likelier it is under the same tokenizer than a different one."""
        return sum(outcome_weight(self.classes[p], outcome) for p, outcome in self.outcomes.items())


def _anchor(differences: Mapping[str, int], classes: Mapping[str, str]) -> tuple[str, int]:
    """The offset most probes of a provider pair share, and the probe given up for it.

    Ties go to the value whose probes agree most often by chance, and the probe given up is the least
    telling of its group: the comparison keeps the strings that say the most.
    """
    groups: dict[int, list[str]] = defaultdict(list)
    for probe_id, value in differences.items():
        groups[value].append(probe_id)

    def chance(probe_id: str) -> float:
        return CHANCE.get(classes[probe_id], CHANCE[LATIN_TEXT]).exact

    offset = max(groups, key=lambda value: (len(groups[value]), sum(map(chance, groups[value])), -abs(value), value))
    anchor = max(groups[offset], key=lambda probe_id: (chance(probe_id), probe_id))
    return anchor, offset


def align(
    query: TokenCounts, reference: TokenCounts, classes: Mapping[str, str], near_tokens: int = NEAR_TOKENS
) -> Alignment | None:
    """Every shared probe's residual, aligned within each pair of providers; None when nothing could be compared."""
    by_providers: dict[tuple[str | None, str | None], dict[str, int]] = defaultdict(dict)
    for probe_id in sorted(set(query.counts) & set(reference.counts)):
        key = (query.providers.get(probe_id), reference.providers.get(probe_id))
        by_providers[key][probe_id] = query.counts[probe_id] - reference.counts[probe_id]
    residuals: dict[str, int] = {}
    for differences in by_providers.values():
        if len(differences) < 2:
            continue
        anchor, offset = _anchor(differences, classes)
        residuals.update((p, value - offset) for p, value in differences.items() if p != anchor)
    if not residuals:
        return None
    return Alignment(residuals, {p: classes[p] for p in residuals}, near_tokens)


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


def compare_tokenizers(
    query: TokenCounts, references: Sequence[TokenCounts], prompts: Mapping[str, str]
) -> TokenizerVerdict:
    """Score each vendor by its best-matching reference; vendors without comparable counts get no score.

    `prompts` gives the text of each probe (its script decides how telling an agreement is). Labs that
    share a known tokenizer family are scored alike: the counts cannot tell them apart.
    """
    classes = {probe_id: prompt_class(probe_id, prompts.get(probe_id)) for probe_id in query.counts}
    matches = []
    for reference in references:
        alignment = align(query, reference, classes)
        if alignment is not None:
            matches.append(TokenizerMatch.from_alignment(reference.model_id, reference.vendor, alignment))
    matches.sort(key=lambda match: (-match.log_likelihood_ratio, match.model_id))
    scores: dict[str, float] = {}
    for match in matches:
        scores.setdefault(match.vendor, match.log_likelihood_ratio)
    _share_within_families(scores, matches)
    return TokenizerVerdict(scores, tuple(matches), _evidence(matches, query.counts))


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
        if len(query) < 2:
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
