"""`scout bench tokenizer`: how well the default plan's strings tell real tokenizer families apart.

Run on the real vocabularies of the test extra (`bot.benchmarks.real_tokenizers`), offline. It prints
- the shared-tokenizer groups: whether every sibling release counts the suite exactly like its family;
- the separation table: for every pair of distinct families, how many of the default plan's probes
  give different count differences from the baseline (the tokenizer strings alone, and all probes);
- the agreement probabilities the tokenizer signal uses, re-measured next to the stored ones: per
  probe, the share of family pairs that agree by chance; and how often one family agrees with itself
  through its real chat templates and sibling releases;
- the ranking results with one reference per family: does each query vocabulary (every release,
  counted through its real chat template where the package has one) rank its own family first
  (same family), and with its family's reference removed, does any other family still match (other
  family, where the honest answer is "no match")?
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.attribution.tokenizer import (
    CHANCE,
    LATIN_TEXT,
    OUTCOMES,
    TokenCounts,
    TokenizerMatch,
    compare_tokenizers,
    outcome_of,
)
from bot.benchmarks.measure import machine
from bot.benchmarks.real_tokenizers import OfflineTokenizer, Vocabulary, installed_tokenizers, missing_packages
from bot.console import print_json
from bot.errors import EXIT_FAILURE, EXIT_OK, CommandError
from bot.probes.suite import PROBES, TOKENIZER_BASELINE_ID, Probe, plan_probes
from bot.settings import Settings

# Issue 12: every pair of distinct tokenizers separated by at least this many strings of the default plan.
TARGET_MIN_SEPARATION = 3
# Approximate chat templates for references and for queries without a real one: two different
# constants, on purpose, since the signal must not depend on the template.
REFERENCE_OVERHEAD = 11
QUERY_OVERHEAD = 5
# A reference model per family, named so that `family_of` places it in its family.
REFERENCE_MODELS = {
    "cl100k": ("openai/gpt-4", "openai"),
    "o200k": ("openai/gpt-4o", "openai"),
    "llama3": ("meta-llama/llama-3.3-70b-instruct", "meta"),
    "qwen": ("qwen/qwen3-235b-a22b", "alibaba"),
    "qwen3.5": ("qwen/qwen3.5-397b-a17b", "alibaba"),
    "deepseek-v2": ("deepseek/deepseek-v2.5", "deepseek"),
    "deepseek-v3": ("deepseek/deepseek-v3.2", "deepseek"),
    "glm-4": ("z-ai/glm-4.6", "zhipu"),
    "glm-4.7": ("z-ai/glm-4.7", "zhipu"),
    "minimax": ("minimax/minimax-m2", "minimax"),
    "tekken": ("mistralai/mistral-small-3.2-24b-instruct", "mistral"),
    "mistral-spm": ("mistralai/mixtral-8x22b-instruct", "mistral"),
}


def default_plan() -> tuple[Probe, ...]:
    """The probes a run sends with the settings' default budgets."""
    fields = Settings.model_fields
    return plan_probes(fields["probe_max_requests"].default, fields["probe_max_tokens"].default).probes


def count_differences(count: Callable[[str], int], probes: Sequence[Probe]) -> dict[str, int]:
    """Each probe's count minus the baseline's: what the tokenizer signal compares."""
    baseline = count(_baseline().prompt)
    return {
        probe.probe_id: count(probe.prompt) - baseline for probe in probes if probe.probe_id != TOKENIZER_BASELINE_ID
    }


def _baseline() -> Probe:
    return next(probe for probe in PROBES if probe.probe_id == TOKENIZER_BASELINE_ID)


def separation(differences: Mapping[str, Mapping[str, int]], probe_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """For every pair of families, how many of `probe_ids` give them different count differences."""
    table: dict[str, dict[str, int]] = {family: {} for family in differences}
    for first, second in itertools.combinations(differences, 2):
        apart = sum(differences[first][p] != differences[second][p] for p in probe_ids)
        table[first][second] = table[second][first] = apart
    return table


def measured_chance_odds(differences: Mapping[str, Mapping[str, int]], probe_ids: Sequence[str]) -> list[float]:
    """Share of (family pair, probe) cases whose count differences come out exact, near and far, add-one smoothed."""
    pairs = list(itertools.combinations(differences, 2))
    seen = [0] * len(OUTCOMES)
    for a, b in pairs:
        for p in probe_ids:
            seen[outcome_of(differences[a][p] - differences[b][p])] += 1
    total = sum(seen) + len(OUTCOMES)
    return [round((count + 1) / total, 3) for count in seen]


def same_family_agreement(tokenizers: Sequence[OfflineTokenizer]) -> tuple[int, int]:
    """(agreeing, compared) count differences of one family under its real chat templates and sibling releases."""
    agree = total = 0
    for tokenizer in tokenizers:
        expected = count_differences(tokenizer.count_text, PROBES)
        for counter in _release_counters(tokenizer):
            observed = count_differences(counter, PROBES)
            agree += sum(observed[p] == expected[p] for p in expected)
            total += len(expected)
    return agree, total


def _release_counters(tokenizer: OfflineTokenizer) -> list[Callable[[str], int]]:
    """Every other way the family's counts can reach us: real chat templates, then sibling releases."""
    counters: list[Callable[[str], int]] = [
        _chat_count(vocabulary) for vocabulary in (tokenizer.primary, *tokenizer.variants) if vocabulary.chat
    ]
    counters += [vocabulary.count_text for vocabulary in tokenizer.variants]
    return counters


def _chat_count(vocabulary: Vocabulary) -> Callable[[str], int]:
    return lambda text: vocabulary.count_chat([{"role": "user", "content": text}])


def _query_counts(tokenizer: OfflineTokenizer, plan: Sequence[Probe]) -> list[tuple[str, dict[str, int]]]:
    """Every release of the family as a query, through its real chat template where there is one."""
    queries = []
    for vocabulary in (tokenizer.primary, *tokenizer.variants):
        count = _chat_count(vocabulary) if vocabulary.chat else _approximate_chat(vocabulary.count_text, QUERY_OVERHEAD)
        queries.append((vocabulary.name, {probe.probe_id: count(probe.prompt) for probe in plan}))
    return queries


def _approximate_chat(count: Callable[[str], int], overhead: int) -> Callable[[str], int]:
    return lambda text: count(text) + overhead


def ranking(tokenizers: Sequence[OfflineTokenizer], plan: Sequence[Probe]) -> dict[str, Any]:
    """One reference per family; each release as a query, with and without its own family's reference."""
    references = {
        tokenizer.family.key: TokenCounts(
            *REFERENCE_MODELS[tokenizer.family.key],
            {p.probe_id: tokenizer.count_text(p.prompt) + REFERENCE_OVERHEAD for p in plan},
        )
        for tokenizer in tokenizers
    }
    prompts = {p.probe_id: p.prompt for p in plan}
    same, other = [], []
    for tokenizer in tokenizers:
        family = tokenizer.family.key
        for name, counts in _query_counts(tokenizer, plan):
            query = TokenCounts(name, "", counts)
            verdict = compare_tokenizers(query, list(references.values()), prompts)
            same.append(_ranked(name, family, verdict.matches, references))
            rest = [reference for key, reference in references.items() if key != family]
            closest = compare_tokenizers(query, rest, prompts).matches[0]
            other.append(
                {
                    "query": name,
                    "family": family,
                    "closest": closest.model_id,
                    "matched": f"{closest.matched}/{closest.compared}",
                    "false_match": closest.log_likelihood_ratio > 0,
                }
            )
    return {
        "every_pair": _every_pair(tokenizers, plan, prompts),
        "same_family": {
            "queries": len(same),
            "first_alone": sum(item["outcome"] == "first" for item in same),
            "results": same,
        },
        "other_family": {
            "queries": len(other),
            "false_matches": sum(item["false_match"] for item in other),
            "results": other,
        },
    }


def _every_pair(tokenizers: Sequence[OfflineTokenizer], plan: Sequence[Probe], prompts: Mapping[str, str]) -> dict:
    """Each family's counts (through another template) against each other family alone: how many match."""
    matches = []
    for query_family, reference_family in itertools.permutations(tokenizers, 2):
        counts = {p.probe_id: query_family.count_text(p.prompt) + QUERY_OVERHEAD for p in plan}
        reference = TokenCounts(
            *REFERENCE_MODELS[reference_family.family.key],
            {p.probe_id: reference_family.count_text(p.prompt) + REFERENCE_OVERHEAD for p in plan},
        )
        verdict = compare_tokenizers(TokenCounts("query", "", counts), [reference], prompts)
        if verdict.matches and verdict.matches[0].log_likelihood_ratio > 0:
            matches.append(f"{query_family.family.key} ~ {reference_family.family.key}")
    return {"pairs": len(tokenizers) * (len(tokenizers) - 1), "matching": matches}


def _ranked(
    name: str, family: str, matches: Sequence[TokenizerMatch], references: Mapping[str, TokenCounts]
) -> dict[str, Any]:
    """First alone, tied with other families at the top, beaten by another family, or no family matching."""
    own = references[family].model_id
    best = matches[0]
    tied = [m.model_id for m in matches if m.log_likelihood_ratio == best.log_likelihood_ratio]
    if best.log_likelihood_ratio <= 0:
        outcome = "no match"  # nothing matches: the honest answer when a template shifts many counts
    else:
        outcome = "first" if tied == [own] else "tied" if own in tied else "wrong"
    return {
        "query": name,
        "family": family,
        "top": tied,
        "matched": f"{best.matched}/{best.compared}",
        "outcome": outcome,
    }


def run_tokenizer_benchmark() -> dict[str, Any]:
    """Every figure of the benchmark, from the vocabularies installed here."""
    tokenizers = installed_tokenizers()
    if len(tokenizers) < 2:
        raise CommandError(
            f"fewer than two tokenizer families are installed (missing: {', '.join(missing_packages())}); "
            "pip install -e '.[test]'"
        )
    plan = default_plan()
    differences = {t.family.key: count_differences(t.count_text, PROBES) for t in tokenizers}
    strings = [p.probe_id for p in plan if p.kind == "tokenizer" and p.probe_id != TOKENIZER_BASELINE_ID]
    planned = [p.probe_id for p in plan if p.probe_id != TOKENIZER_BASELINE_ID]
    text_probes = [p.probe_id for p in PROBES if p.kind != "tokenizer"]
    tokenizer_probes = [p.probe_id for p in PROBES if p.kind == "tokenizer" and p.probe_id != TOKENIZER_BASELINE_ID]
    agree, total = same_family_agreement(tokenizers)
    strings_table = separation(differences, strings)
    minimum = _minimum(strings_table)
    return {
        "benchmark": "tokenizer",
        "machine": machine(),
        "families": {t.family.key: t.primary.name for t in tokenizers},
        "shared_groups": {t.family.key: _sibling_check(t) for t in tokenizers if t.variants},
        "missing_packages": list(missing_packages()),
        "plan": planned,
        "tokenizer_strings": strings,
        "separation": {
            "pairs": len(tokenizers) * (len(tokenizers) - 1) // 2,
            "min_by_tokenizer_strings": minimum,
            "target_min": TARGET_MIN_SEPARATION,
            "met": minimum >= TARGET_MIN_SEPARATION,
            "min_by_plan": _minimum(separation(differences, planned)),
            "table": strings_table,
        },
        "agreement": {
            "outcomes": list(OUTCOMES),
            "same_offline": {"exact": round((agree + 1) / (total + 2), 3), "cases": total},
            "chance_by_probe": {
                p: {"measured": measured_chance_odds(differences, [p]), "stored": _stored_odds(p)}
                for p in tokenizer_probes
            },
            "chance_text": {
                "measured": measured_chance_odds(differences, text_probes),
                "stored": _stored_odds(LATIN_TEXT),
            },
        },
        **ranking(tokenizers, plan),
    }


def _stored_odds(klass: str) -> list[float]:
    odds = CHANCE[klass]
    return [odds.exact, odds.near, odds.far]


def _sibling_check(tokenizer: OfflineTokenizer) -> dict[str, bool]:
    """Whether each sibling release counts every probe of the suite exactly like the family's primary."""
    expected = [tokenizer.count_text(probe.prompt) for probe in PROBES]
    return {v.name: [v.count_text(probe.prompt) for probe in PROBES] == expected for v in tokenizer.variants}


def _minimum(table: Mapping[str, Mapping[str, int]]) -> int:
    return min(value for row in table.values() for value in row.values())


def format_report(report: Mapping[str, Any]) -> str:
    """The tables for people: separation matrix, agreement probabilities, ranking outcomes."""
    families = list(report["families"])
    table = report["separation"]["table"]
    width = max(len(f) for f in families) + 1
    lines = [
        f"tokenizer strings of the default plan: {', '.join(report['tokenizer_strings'])}",
        f"separation: strings (of {len(report['tokenizer_strings'])}) whose count difference differs, per pair of "
        f"families; minimum {report['separation']['min_by_tokenizer_strings']} "
        f"({report['separation']['min_by_plan']} counting all {len(report['plan'])} probes of the plan) "
        f"over {report['separation']['pairs']} pairs (target at least {report['separation']['target_min']}: "
        f"{'met' if report['separation']['met'] else 'NOT met'})",
        " " * width + "".join(f"{index:>3}" for index in range(len(families))),
    ]
    for index, family in enumerate(families):
        cells = "".join(f"{'-' if other == family else table[family][other]:>3}" for other in families)
        lines.append(f"{family:<{width}}{cells}  {index}")
    for family, siblings in report["shared_groups"].items():
        verdicts = ", ".join(f"{name} {'identical' if same else 'DIFFERENT'}" for name, same in siblings.items())
        lines.append(f"shared tokenizer {family} ({report['families'][family]}): {verdicts}")
    agreement = report["agreement"]
    same_offline = agreement["same_offline"]
    lines.append(
        f"same tokenizer through real chat templates and sibling releases, exact: {same_offline['exact']} over "
        f"{same_offline['cases']} cases (the stored same-tokenizer odds come from real gateway counts: "
        "`scout bench token-counts`)"
    )
    for probe_id, values in agreement["chance_by_probe"].items():
        lines.append(
            f"different tokenizers on {probe_id}, exact/near/far: {values['measured']} (stored {values['stored']})"
        )
    text = agreement["chance_text"]
    lines.append(
        f"different tokenizers on an English prompt, exact/near/far: {text['measured']} "
        f"(stored for Latin text, from real gateway counts: {text['stored']})"
    )
    same, other = report["same_family"], report["other_family"]
    lines.append(f"same family ranks first, alone: {same['first_alone']}/{same['queries']} queries")
    lines += [
        f"  {item['query']}: "
        + ("no family matches (closest: " if item["outcome"] == "no match" else f"{item['outcome']} (")
        + f"{', '.join(item['top'])} at {item['matched']})"
        for item in same["results"]
        if item["outcome"] != "first"
    ]
    lines.append(f"own family removed, another still matches: {other['false_matches']}/{other['queries']} queries")
    every = report["every_pair"]
    lines.append(
        f"one family's counts against another family's reference: {len(every['matching'])} of {every['pairs']} "
        f"ordered pairs match{': ' + ', '.join(every['matching']) if every['matching'] else ''}"
    )
    lines += [
        f"  {item['query']}: {item['closest']} at {item['matched']}" for item in other["results"] if item["false_match"]
    ]
    lines.append(f"machine: {report['machine']}")
    return "\n".join(lines)


async def cmd_bench_tokenizer(settings: Settings, args: argparse.Namespace) -> int:
    """Loading a dozen vocabularies takes seconds of CPU, so it runs off the event loop."""
    report = await asyncio.to_thread(run_tokenizer_benchmark)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    met = report["separation"]["met"] and not report["every_pair"]["matching"]
    return EXIT_OK if met else EXIT_FAILURE


def register(names: argparse._SubParsersAction) -> None:
    """Found by `bot.cli.bench`, which registers every benchmark module that has this function."""
    bench = names.add_parser("tokenizer", help="how well the default plan's strings separate real tokenizers")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_tokenizer)
