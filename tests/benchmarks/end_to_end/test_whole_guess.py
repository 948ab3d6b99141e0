"""The whole-guess benchmark in a tiny version: what it counts and reports, never how fast it ran."""

from __future__ import annotations

import gzip
import json
from argparse import Namespace
from pathlib import Path

from bot.attribution.corpus import load_corpus
from bot.benchmarks.end_to_end.whole_guess import (
    auroc,
    format_text,
    load_token_counter,
    probe_corpus,
    probes_for,
    run,
    run_command,
    targets,
)
from bot.probes.suite import PROBES, plan_probes
from bot.settings import load_settings

STYLE_PROMPTS = [probe for probe in PROBES if probe.kind in ("style", "identity") and len(probe.probe_id) == 12]
WRITERS = {
    "OpenAI": "Sure! Here's a quick take on {p}:\n\n- first point\n- second point\n\nHope this helps! 😊",
    "Anthropic": "I'd be happy to help with {p}. The clearest way to think about it is in plain prose, step by step.",
    "Zhipu/GLM": "### {p}\n\n**Short answer:** it depends.\n\n* **One** — a first angle.\n* **Two** — another angle.",
}


def tiny_corpus(path: Path, counted: bool = False) -> Path:
    lines = [
        {
            "model": f"{vendor}-{n}",
            "vendor": vendor,
            "prompt_id": p.probe_id,
            "prompt": p.prompt,
            "response": template.format(p=p.prompt[: 30 + n]),
        }
        | ({"prompt_tokens": len(p.prompt) // (3 + v) + 9 * n, "provider": f"Host{n}"} if counted else {})
        for v, (vendor, template) in enumerate(WRITERS.items())
        for n in range(2)
        for p in STYLE_PROMPTS
    ]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
    return path


def tiny_run(tmp_path: Path, **options: object) -> Namespace:
    """The command's arguments for the tiny corpus: two folds, the 12-request plan, no tokenizer signal."""
    return Namespace(
        corpus=str(tiny_corpus(tmp_path / "tiny.jsonl.gz")),
        corpus_prompts=0,
        folds=2,
        max_requests=12,
        seed=0,
        no_tokenizers=True,
        **options,
    )


async def test_every_model_is_probed_once_and_attributed_with_and_without_its_lab(tmp_path):
    args = tiny_run(tmp_path, outcomes=True)
    result = await run(args)
    asked = {probe.probe_id for probe in plan_probes(12, 1_000_000).probes}
    assert (result["models"], result["vendors"]) == (6, 3)
    assert result["k_corpus_prompts"] == len(asked & {p.probe_id for p in STYLE_PROMPTS}) == 5
    assert result["requests"] == 6 * result["probes"]  # the real runner, one request per probe, over HTTP
    assert result["models_with_token_counts"] == 0 and "left out" in result["tokenizers"]
    outcomes = result["outcomes"]
    assert len([o for o in outcomes if o["case"] == "unknown"]) == 6
    known = [o for o in outcomes if o["case"] == "known"]
    assert result["scored"] == len(known) and result["top1"] == sum(o["top"] == o["vendor"] for o in known) / len(known)
    assert all(o["top"] != o["vendor"] for o in outcomes if o["case"] == "unknown")  # its lab was not there to name
    assert "known vendor" in format_text(result) and "open set" in format_text(result)


def test_auroc_and_the_token_counter_fallback(tmp_path):
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0 and auroc([0.5], [0.5]) == 0.5 and auroc([], [0.1]) is None
    models = list(load_corpus(tiny_corpus(tmp_path / "tiny.jsonl.gz")).models.values())
    counter, reason = load_token_counter(models)
    assert (counter is None) == ("left out" in reason)


async def test_a_corpus_with_gateway_counts_is_probed_with_its_real_counts_and_providers(tmp_path):
    models = list(load_corpus(tiny_corpus(tmp_path / "counted.jsonl.gz", counted=True)).models.values())
    counter, reason = load_token_counter(models)
    assert counter is not None and reason.startswith("real gateway token counts recorded in the corpus")
    probes = probes_for(models, 0, 0)
    fingerprints, asked, _ = await probe_corpus(models, probes, counter, 12)
    for model, fingerprint in zip(models, fingerprints, strict=True):
        expected = {p: n for p, n in model.prompt_tokens.items() if p in asked}
        assert expected and fingerprint.token_counts == expected, "recorded counts only: tokenizer strings have none"
        assert set(fingerprint.providers.values()) == {model.providers[next(iter(expected))]}


def test_each_whole_guess_target_is_checked_and_real_counts_raise_the_top1_bar():
    result = {
        "tokenizers": "real gateway token counts recorded in the corpus (every model)",
        "top1": 0.92,
        "top3": 0.99,
        "ece": 0.08,
        "open_set": {"auroc": 0.9, "abstain_unknown": 0.7, "abstain_known": 0.1},
    }
    missed = [target.name for target in targets(result) if not target.met]
    assert missed == ["top1"]
    simulated = {**result, "tokenizers": "token counts from the real tokenizer of the model's family"}
    assert all(target.met for target in targets(simulated))
    worse = {**simulated, "ece": 0.11, "open_set": {"auroc": None, "abstain_unknown": 0.5, "abstain_known": 0.2}}
    assert [t.name for t in targets(worse) if not t.met] == [
        "ece",
        "open_set_auroc",
        "unknown_first_unknown_lab",
        "unknown_first_known_lab",
    ]


async def test_the_command_exits_1_exactly_when_a_target_is_missed(tmp_path, capsys):
    args = tiny_run(tmp_path, outcomes=False, json=True)
    code = await run_command(load_settings(), args)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == (0 if printed["targets"]["all_met"] else 1)
    assert set(printed["selective"]) == {"threshold", "coverage", "precision"} and "aurc" in printed
