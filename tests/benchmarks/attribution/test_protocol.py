"""The attribution benchmark protocol on a synthetic corpus, and once on the shared corpus."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from bot.benchmarks.attribution.protocol import BenchmarkError, run_attribution_benchmark
from tests.support.scout_process import scout
from tests.support.shared_data import shared_file

PROMPT_IDS = [f"q{i:02d}" for i in range(12)]
WORDS = "seed soil light water budget saving rest sleep code test route map salt heat".split()


def _sentence(rng: random.Random) -> str:
    words = rng.sample(WORDS, 5)
    return f"{words[0].capitalize()} and {words[1]} matter for {words[2]}, {words[3]} and {words[4]}."


def _headers(rng: random.Random) -> str:
    bullets = "\n".join(f"- **{rng.choice(WORDS)}**: {_sentence(rng)}" for _ in range(3))
    return f"## Overview\n\n{bullets}\n\n## Summary\n\n{_sentence(rng)}"


def _prose(rng: random.Random) -> str:
    return f"Well, it depends; {_sentence(rng)} {_sentence(rng)}\n\n{_sentence(rng)} I hope that helps!"


def _steps(rng: random.Random) -> str:
    steps = "\n".join(f"{i}. {_sentence(rng)}" for i in range(1, 5))
    return f"Sure! Here are the steps:\n\n{steps}\n\nLet me know if you have questions."


def _shouting(rng: random.Random) -> str:
    return f"OK!!! {_sentence(rng).upper()} ... {_sentence(rng).upper()}"


# model -> (vendor, writer). "Split Co" has one model writing like Prose Labs and one like
# Steps AI: if a query were ever its own reference, split-prose would find itself and be
# attributed to Split Co; honestly held out, it can only look like Prose Labs.
MODELS = {
    "hb-1": ("Headers Inc", _headers),
    "hb-2": ("Headers Inc", _headers),
    "prose-1": ("Prose Labs", _prose),
    "prose-2": ("Prose Labs", _prose),
    "steps-1": ("Steps AI", _steps),
    "steps-2": ("Steps AI", _steps),
    "split-prose": ("Split Co", _prose),
    "split-steps": ("Split Co", _steps),
    "solo": ("Solo Ltd", _shouting),
}


def _write_corpus(path: Path, models: dict, prompt_ids=PROMPT_IDS) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for seed, (model, (vendor, writer)) in enumerate(models.items()):
            rng = random.Random(seed)
            for prompt_id in prompt_ids:
                record = {"model": model, "vendor": vendor, "prompt_id": prompt_id, "prompt": "?"}
                handle.write(json.dumps(record | {"response": writer(rng)}) + "\n")
    return path


def test_leave_one_model_out_report_has_the_agreed_keys_and_counts(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", MODELS)
    calls: list[tuple[int, int]] = []
    report = run_attribution_benchmark(corpus, probes=4, draws=3, seed=1, progress=lambda d, t: calls.append((d, t)))
    data = report.to_json()
    assert {"top1", "top3", "n", "ece", "seconds_per_query", "per_model"} <= data.keys()
    assert data["queries_per_draw"] == 8  # every model but the vendor-less "solo"
    assert data["n"] == 8 * 3
    assert data["mode"] == "leave-one-model-out"
    assert 0.0 <= data["ece"] <= 1.0 and data["seconds_per_query"] > 0
    assert data["per_model"]["solo"]["scored"] is False
    assert data["per_model"]["hb-1"]["vendor"] == "Headers Inc"
    assert data["per_model"]["hb-1"]["predictions"][0][0] == "Headers Inc"
    assert calls[-1] == (len(MODELS) * 3, len(MODELS) * 3)
    json.dumps(data)  # serialisable as it is
    text = report.format_text()
    assert "top-1" in text and "split-prose" in text


def test_leave_one_model_out_never_lets_a_query_be_its_own_reference(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", MODELS)
    report = run_attribution_benchmark(corpus, probes=4, draws=3, seed=2)
    per_model = report.to_json()["per_model"]
    assert per_model["split-prose"]["top1_rate"] == 0.0
    assert per_model["split-prose"]["predictions"][0][0] == "Prose Labs"
    assert per_model["split-steps"]["predictions"][0][0] == "Steps AI"
    assert per_model["hb-1"]["top1_rate"] == per_model["hb-2"]["top1_rate"] == 1.0


def test_against_references_excludes_the_reference_with_the_query_name(tmp_path: Path) -> None:
    references = _write_corpus(tmp_path / "references.jsonl.gz", MODELS)
    query_models = {"split-prose": MODELS["split-prose"], "hb-9": MODELS["hb-1"]}
    queries = _write_corpus(tmp_path / "queries.jsonl.gz", query_models)
    report = run_attribution_benchmark(queries, references_path=references, probes=4, draws=2)
    per_model = report.to_json()["per_model"]
    assert report.mode == "against references"
    assert report.queries_per_draw == 2
    assert per_model["split-prose"]["predictions"][0][0] == "Prose Labs"
    assert per_model["hb-9"]["top1_rate"] == 1.0


def test_draws_are_reproducible_for_a_seed(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", MODELS)
    first = run_attribution_benchmark(corpus, probes=3, draws=2, seed=7).to_json()
    second = run_attribution_benchmark(corpus, probes=3, draws=2, seed=7).to_json()
    first.pop("seconds_per_query"), second.pop("seconds_per_query")
    assert first == second


def test_too_few_common_prompts_is_a_clear_error(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", MODELS, prompt_ids=PROMPT_IDS[:3])
    with pytest.raises(BenchmarkError, match="only 3 prompts"):
        run_attribution_benchmark(corpus, probes=8, draws=1)


def test_corpus_without_any_scorable_model_is_a_clear_error(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", {m: MODELS[m] for m in ("hb-1", "prose-1", "solo")})
    with pytest.raises(BenchmarkError, match="nothing can be scored"):
        run_attribution_benchmark(corpus, probes=4, draws=1)


# Four vendors with habits of their own and no look-alike vendor (unlike "Split Co" above).
DISTINCT_MODELS = {name: MODELS[name] for name in ("hb-1", "hb-2", "prose-1", "prose-2", "steps-1", "steps-2")} | {
    "shout-1": ("Shout Co", _shouting),
    "shout-2": ("Shout Co", _shouting),
}


def test_open_set_plays_each_scored_query_with_and_without_its_vendor(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", DISTINCT_MODELS)
    report = run_attribution_benchmark(corpus, probes=4, draws=3, seed=1, open_set=True)
    found = report.to_json()["open_set"]
    assert found["n"] == report.queries_per_draw * report.draws == 8 * 3
    # Without its own vendor a query resembles no reference and "unknown" rises; with it, the
    # query finds its twin.
    assert found["auroc"] >= 0.8
    assert found["abstain_unknown"] > found["abstain_known"]
    assert "open set: AUROC" in report.format_text()


def test_closed_set_report_has_no_open_set_figures(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", MODELS)
    report = run_attribution_benchmark(corpus, probes=4, draws=1)
    assert "open_set" not in report.to_json() and "open set" not in report.format_text()


async def test_bench_attribution_open_set_flag_adds_the_open_set_object(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus.jsonl.gz", MODELS)
    code, out, err = await scout(
        tmp_path,
        "bench",
        "attribution",
        "--corpus",
        str(corpus),
        "--probes",
        "4",
        "--draws",
        "1",
        "--open-set",
        "--json",
    )
    report = json.loads(out)
    assert set(report["open_set"]) >= {"auroc", "abstain_unknown", "abstain_known"}
    assert code == (0 if report["targets"]["all_met"] else 1), err


@pytest.mark.parametrize(
    ("corpus_name", "scored", "vendors"),
    [("alpaca_eval_dev.jsonl.gz", 35, 16), ("zeroeval_math_crux_dev.jsonl.gz", 35, 11)],
)
def test_shared_corpora_attribute_and_spot_unknown_labs_well_above_chance(
    corpus_name: str, scored: int, vendors: int
) -> None:
    corpus = shared_file(f"corpora/{corpus_name}")
    report = run_attribution_benchmark(corpus, probes=8, draws=1, seed=3, open_set=True)
    assert report.queries_per_draw == scored
    # Chance is 1/vendors for top-1 and 0.5 for the AUROC; the measured figures are in the README.
    assert report.top1 >= max(0.5, 5 / vendors)
    assert report.top3 >= report.top1
    assert report.open_set is not None and report.open_set.auroc >= 0.65
