"""`scout bench token-counts`: the tokenizer signal on real gateway counts, and the fit of its odds and tolerance.

A corpus that records the gateway's usage per answer (`prompt_tokens` and `provider`, as
speechmap_refusal_dev does) holds the same prompts sent to many models, so the count differences between
two models, prompt by prompt, say whether they share a tokenizer. Protocol:

- Pairs: every two corpus models whose sameness is known. Both in a known family (`tokenizer_families`):
  the same tokenizer exactly when the same family. Otherwise two different vendors that share no family
  have different tokenizers. Two models of one vendor outside the known families are left out (nobody says
  whether Grok 2 and Grok 3 share a vocabulary).
- Draws: for each pair, `--draws` seeded draws of `--prompts` prompts counted for both (the K of a probe
  run), aligned as the signal aligns them (`bot.attribution.tokenizer.align`: per provider pair, on the
  offset most prompts share), each compared prompt's outcome kept with its script class.
- Odds: the different side pools every different pair. The same side pools the same-tokenizer pairs but,
  per script class, the noisiest share of them (0, 25, 50 or 75%, by their share of exact prompts): as
  little as lets no two different tokenizers match on every shared prompt, matching the most same pairs.
  A provider whose counts drift prompt by prompt, or a template that shifts some prompts by a token,
  can look like a similar different tokenizer; the signal prefers missing such a pair to matching two
  different tokenizers.
- Tolerance: for each candidate `NEAR_TOKENS` t, the outcome odds (add-one smoothed) are fitted on the
  even draws and the held-out odd draws (then the other way round) score how well the log-likelihood
  ratio ranks same-tokenizer pairs above different ones (AUROC); the best is chosen (the smaller on a tie).
- Reported: the odds at the chosen t from every draw, next to the stored ones; at K prompts, how often a
  same-tokenizer pair matches (ratio above 1) and how often a different one does, with the stored odds;
  and on every shared prompt at once, each pair's verdict. Target: no two different tokenizers match
  (exit 1 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.attribution.corpus import ModelAnswers, load_corpus
from bot.attribution.tokenizer import (
    CHANCE,
    LATIN_TEXT,
    NEAR_TOKENS,
    OTHER_TEXT,
    OUTCOMES,
    SAME_TOKENIZER,
    OutcomeOdds,
    TokenCounts,
    align,
    outcome_of,
    prompt_class,
)
from bot.attribution.tokenizer_families import family_of
from bot.benchmarks.measure import machine
from bot.catalogue.vendors import canonical_vendor
from bot.console import positive_int, print_json
from bot.errors import EXIT_FAILURE, EXIT_OK, CommandError
from bot.settings import Settings

TEXT_CLASSES = (LATIN_TEXT, OTHER_TEXT)
TOLERANCES = tuple(range(0, 9))
LEFT_OUT = (0.0, 0.25, 0.5, 0.75)
DEFAULT_DRAWS = 40
DEFAULT_PROMPTS = 8
MIN_COUNTED_PROMPTS = 20

Residuals = list[tuple[str, int]]  # (class, residual) per compared prompt


@dataclass(frozen=True)
class Pair:
    """Two corpus models and whether they share a tokenizer."""

    first: TokenCounts
    second: TokenCounts
    same: bool


def known_pairs(models: Sequence[ModelAnswers]) -> list[Pair]:
    """Every pair of models whose tokenizer sameness is known (see the module docstring)."""
    counted = [m for m in models if len(m.prompt_tokens) >= MIN_COUNTED_PROMPTS]
    pairs = []
    for a, b in itertools.combinations(sorted(counted, key=lambda m: m.model), 2):
        same = _same_tokenizer(a, b)
        if same is not None:
            pairs.append(Pair(_counts(a), _counts(b), same))
    return pairs


def _same_tokenizer(a: ModelAnswers, b: ModelAnswers) -> bool | None:
    family_a, family_b = family_of(a.model), family_of(b.model)
    if family_a is not None and family_b is not None:
        return family_a.key == family_b.key
    if canonical_vendor(a.vendor) != canonical_vendor(b.vendor):
        return False
    return None


def _counts(model: ModelAnswers) -> TokenCounts:
    return TokenCounts(model.model, canonical_vendor(model.vendor), dict(model.prompt_tokens), dict(model.providers))


def pair_residuals(pair: Pair, prompt_ids: Sequence[str], classes: Mapping[str, str]) -> Residuals:
    """Each compared prompt's class and residual (its count difference minus its provider pair's offset)."""
    first = TokenCounts(pair.first.model_id, "", {p: pair.first.counts[p] for p in prompt_ids}, pair.first.providers)
    alignment = align(first, pair.second, classes)
    if alignment is None:
        return []
    return [(alignment.classes[p], residual) for p, residual in sorted(alignment.residuals.items())]


@dataclass(frozen=True)
class Draw:
    """One draw of prompts for one pair (`pair` is its index): what the alignment left to compare."""

    pair: int
    same: bool
    residuals: Residuals


def draw_pairs(pairs: Sequence[Pair], classes: Mapping[str, str], prompts: int, draws: int, seed: int) -> list[Draw]:
    """`draws` seeded draws of `prompts` prompts counted for both models of each pair."""
    rng = random.Random(seed)
    found = []
    for index, pair in enumerate(pairs):
        shared = sorted(set(pair.first.counts) & set(pair.second.counts))
        for _ in range(draws):
            chosen = rng.sample(shared, min(prompts, len(shared)))
            found.append(Draw(index, pair.same, pair_residuals(pair, chosen, classes)))
    return found


OddsTable = dict[str, OutcomeOdds]


def well_behaved(draws: Sequence[Draw], left_out: float) -> set[int]:
    """The same-tokenizer pairs but the noisiest `left_out` share of them (by their share of exact prompts).

    The noisiest are served by providers whose counts drift prompt by prompt, or through a template that
    shifts some prompts by a token: what they do can look like a similar tokenizer's small differences.
    """
    exact: dict[int, list[int]] = {}
    for draw in draws:
        if draw.same:
            seen = exact.setdefault(draw.pair, [0, 0])
            seen[0] += sum(residual == 0 for _, residual in draw.residuals)
            seen[1] += len(draw.residuals)
    shares = {pair: hits / max(1, total) for pair, (hits, total) in exact.items()}
    ordered = sorted(shares.values())
    cut = ordered[min(len(ordered) - 1, int(left_out * len(ordered)))] if ordered else 0.0
    return {pair for pair, share in shares.items() if share >= cut}


def fit_odds(draws: Sequence[Draw], same: bool, near_tokens: int, left_out: Mapping[str, float]) -> OddsTable:
    """Outcome odds per text class, add-one smoothed: every different pair, or the same pairs kept per class."""
    table = {}
    for klass in TEXT_CLASSES:
        kept = well_behaved(draws, left_out.get(klass, 0.0)) if same else None
        seen: Counter[int] = Counter()
        for draw in draws:
            if draw.same == same and (kept is None or draw.pair in kept):
                seen.update(outcome_of(residual, near_tokens) for k, residual in draw.residuals if k == klass)
        total = sum(seen.values()) + len(OUTCOMES)
        table[klass] = OutcomeOdds(*((seen[outcome] + 1) / total for outcome in range(len(OUTCOMES))))
    return table


def fit_left_out(
    draws: Sequence[Draw], pairs: Sequence[Pair], classes: Mapping[str, str], near_tokens: int
) -> dict[str, float]:
    """How much of the noisiest same-tokenizer pairs each class's odds leave out: as little as lets no two
    different tokenizers match on every shared prompt, and among those the choice that matches the most
    same-tokenizer pairs."""
    chance = fit_odds(draws, False, near_tokens, {})
    compared = [(pair.same, whole_pair(pair, classes)) for pair in pairs]
    best: tuple[tuple[int, float], dict[str, float]] | None = None
    for shares in itertools.product(LEFT_OUT, repeat=len(TEXT_CLASSES)):
        left_out = dict(zip(TEXT_CLASSES, shares, strict=True))
        same = fit_odds(draws, True, near_tokens, left_out)
        verdicts = [(is_same, ratio(residuals, same, chance, near_tokens) > 0) for is_same, residuals in compared]
        if any(match and not is_same for is_same, match in verdicts):
            continue
        key = (sum(match for is_same, match in verdicts if is_same), -sum(shares))
        if best is None or key > best[0]:
            best = (key, left_out)
    return best[1] if best else dict.fromkeys(TEXT_CLASSES, LEFT_OUT[-1])


def whole_pair(pair: Pair, classes: Mapping[str, str]) -> Residuals:
    """Every prompt both models have counts for, aligned (the whole-corpus check)."""
    alignment = align(pair.first, pair.second, classes)
    if alignment is None:
        return []
    return [(alignment.classes[p], residual) for p, residual in sorted(alignment.residuals.items())]


def ratio(residuals: Residuals, same: OddsTable, chance: OddsTable, near_tokens: int) -> float:
    """The log-likelihood ratio of one draw under the given odds (as `Alignment.log_likelihood_ratio`)."""
    return sum(
        math.log(same[klass].of(outcome_of(r, near_tokens)) / chance[klass].of(outcome_of(r, near_tokens)))
        for klass, r in residuals
    )


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half."""
    ordered = sorted(negatives)
    total = 0.0
    for value in positives:
        below = bisect.bisect_left(ordered, value)
        total += below + (bisect.bisect_right(ordered, value) - below) / 2.0
    return total / (len(positives) * len(negatives))


def fit_tolerance(draws: Sequence[Draw]) -> dict[int, float]:
    """Held-out AUROC per candidate tolerance: odds fitted on half the draws, scored on the other half, both ways."""
    halves = (draws[::2], draws[1::2])
    scores = {}
    for near_tokens in TOLERANCES:
        folds = []
        for fit, held in (halves, halves[::-1]):
            same, chance = fit_odds(fit, True, near_tokens, {}), fit_odds(fit, False, near_tokens, {})
            ratios = [(draw.same, ratio(draw.residuals, same, chance, near_tokens)) for draw in held]
            folds.append(auroc([r for s, r in ratios if s], [r for s, r in ratios if not s]))
        scores[near_tokens] = sum(folds) / len(folds)
    return scores


def _stored_table(source: Mapping[str, OutcomeOdds]) -> OddsTable:
    return {klass: source[klass] for klass in TEXT_CLASSES}


def whole_corpus_verdicts(pairs: Sequence[Pair], classes: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every pair compared on every prompt both have counts for, with the stored odds and tolerance."""
    verdicts = []
    for pair in pairs:
        alignment = align(pair.first, pair.second, classes)
        if alignment is None:
            continue
        verdicts.append(
            {
                "pair": [pair.first.model_id, pair.second.model_id],
                "same_tokenizer": pair.same,
                "matched": f"{len(alignment.agreeing)}/{len(alignment.compared)}",
                "log_likelihood_ratio": round(alignment.log_likelihood_ratio, 1),
                "match": alignment.log_likelihood_ratio > 0,
            }
        )
    return verdicts


def _rates(draws: Sequence[Draw]) -> dict[str, float]:
    same, chance = _stored_table(SAME_TOKENIZER), _stored_table(CHANCE)
    verdicts = [(d.same, ratio(d.residuals, same, chance, NEAR_TOKENS) > 0) for d in draws if d.residuals]
    positives = [match for is_same, match in verdicts if is_same]
    negatives = [match for is_same, match in verdicts if not is_same]
    return {
        "same_tokenizer_matches": round(sum(positives) / max(1, len(positives)), 3),
        "different_tokenizers_match": round(sum(negatives) / max(1, len(negatives)), 3),
    }


def _odds_json(table: Mapping[str, OutcomeOdds]) -> dict[str, list[float]]:
    return {klass: [round(odds.of(o), 4) for o in range(len(OUTCOMES))] for klass, odds in table.items()}


def run_token_count_benchmark(corpus: Path, prompts: int, draws: int, seed: int) -> dict[str, Any]:
    """Every figure of the benchmark on one corpus with gateway counts."""
    models = list(load_corpus(corpus).models.values())
    pairs = known_pairs(models)
    if not any(p.same for p in pairs) or all(p.same for p in pairs):
        raise CommandError(
            f"{corpus.name} has no pair of models with gateway counts on both sides of the question "
            "(same tokenizer and different ones): nothing to fit"
        )
    texts = {p: text for model in models for p, text in model.prompts.items()}
    classes = {p: prompt_class(p, text) for p, text in texts.items()}
    found = draw_pairs(pairs, classes, prompts, draws, seed)
    by_tolerance = fit_tolerance(found)
    chosen = max(by_tolerance, key=lambda t: (by_tolerance[t], -t))
    left_out = fit_left_out(found, pairs, classes, chosen)
    verdicts = whole_corpus_verdicts(pairs, classes)
    false_matches = [v for v in verdicts if v["match"] and not v["same_tokenizer"]]
    return {
        "benchmark": "token-counts",
        "corpus": corpus.name,
        "machine": machine(),
        "models_with_counts": len({m for p in pairs for m in (p.first.model_id, p.second.model_id)}),
        "pairs": {"same_tokenizer": sum(p.same for p in pairs), "different": sum(not p.same for p in pairs)},
        "prompts_per_draw": prompts,
        "draws_per_pair": draws,
        "seed": seed,
        "tolerance": {
            "held_out_auroc": {str(t): round(score, 4) for t, score in by_tolerance.items()},
            "fitted": chosen,
            "stored": NEAR_TOKENS,
        },
        "same_tokenizer_pairs_left_out": left_out,
        "odds": {
            "outcomes": list(OUTCOMES),
            "same_tokenizer": {
                "fitted": _odds_json(fit_odds(found, True, chosen, left_out)),
                "stored": _odds_json(_stored_table(SAME_TOKENIZER)),
            },
            "different_tokenizers": {
                "fitted": _odds_json(fit_odds(found, False, chosen, {})),
                "stored": _odds_json(_stored_table(CHANCE)),
            },
        },
        "at_k": _rates(found),
        "whole_corpus": {
            "pairs": len(verdicts),
            "same_tokenizer_matched": sum(v["match"] for v in verdicts if v["same_tokenizer"]),
            "same_tokenizer_pairs": sum(v["same_tokenizer"] for v in verdicts),
            "different_tokenizers_matched": len(false_matches),
            "target": "no two different tokenizers match",
            "met": not false_matches,
            "missed": [v for v in verdicts if v["match"] != v["same_tokenizer"]],
        },
    }


def format_report(report: Mapping[str, Any]) -> str:
    """The fit and the verdicts for people."""
    tolerance, odds, whole = report["tolerance"], report["odds"], report["whole_corpus"]
    lines = [
        f"token counts of {report['corpus']}: {report['models_with_counts']} models, "
        f"{report['pairs']['same_tokenizer']} same-tokenizer and {report['pairs']['different']} different pairs, "
        f"{report['draws_per_pair']} draws of {report['prompts_per_draw']} prompts each (seed {report['seed']})",
        "held-out AUROC by tolerance: "
        + ", ".join(f"{t}: {score:.3f}" for t, score in tolerance["held_out_auroc"].items()),
        f"tolerance fitted {tolerance['fitted']} tokens (stored {tolerance['stored']})",
        "noisiest same-tokenizer pairs left out of the same-tokenizer odds: "
        + ", ".join(f"{klass} {share:.0%}" for klass, share in report["same_tokenizer_pairs_left_out"].items()),
    ]
    for side in ("same_tokenizer", "different_tokenizers"):
        for klass in TEXT_CLASSES:
            fitted, stored = odds[side]["fitted"][klass], odds[side]["stored"][klass]
            lines.append(f"{side.replace('_', ' ')}, {klass}: exact/near/far fitted {fitted}, stored {stored}")
    at_k = report["at_k"]
    lines.append(
        f"at {report['prompts_per_draw']} prompts: same tokenizer matches {at_k['same_tokenizer_matches']:.0%}, "
        f"different tokenizers match {at_k['different_tokenizers_match']:.0%}"
    )
    lines.append(
        f"every shared prompt: {whole['same_tokenizer_matched']}/{whole['same_tokenizer_pairs']} same-tokenizer pairs "
        f"match, {whole['different_tokenizers_matched']} different pairs match "
        f"(target: none; {'met' if whole['met'] else 'NOT met'})"
    )
    lines += [
        f"  {'same' if v['same_tokenizer'] else 'different'}: {v['pair'][0]} ~ {v['pair'][1]} at {v['matched']}"
        f" (log ratio {v['log_likelihood_ratio']})"
        for v in whole["missed"]
    ]
    lines.append(f"machine: {report['machine']}")
    return "\n".join(lines)


async def cmd_bench_token_counts(settings: Settings, args: argparse.Namespace) -> int:
    """Fit and check off the event loop; exit 1 when two different tokenizers match on the whole corpus."""
    report = await asyncio.to_thread(run_token_count_benchmark, Path(args.corpus), args.prompts, args.draws, args.seed)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return EXIT_OK if report["whole_corpus"]["met"] else EXIT_FAILURE


def register(names: argparse._SubParsersAction) -> None:
    """Found by `bot.cli.bench`."""
    bench = names.add_parser(
        "token-counts", help="fit and check the tokenizer signal on a corpus with real gateway token counts"
    )
    bench.add_argument("--corpus", required=True, metavar="FILE", help="JSONL(.gz) with prompt_tokens and provider")
    bench.add_argument("--prompts", type=positive_int, default=DEFAULT_PROMPTS, metavar="K", help="prompts per draw")
    bench.add_argument("--draws", type=positive_int, default=DEFAULT_DRAWS, metavar="N", help="draws per pair")
    bench.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the draws (default 0)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_token_counts)
