"""`scout probe`, `scout calibrate`, `scout references import` and `scout bench attribution`: usage,
errors and output shapes, in real processes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bot.probes.suite import plan_probes
from bot.settings import Settings
from bot.testing.gateway_server import FakeGateway
from tests.support.scout_process import PROBE_JSON_KEYS, scout


def corpus(path: Path) -> Path:
    """Two vendors with two models each, three prompts; one vendor writes lists, the other prose."""
    lines = []
    for vendor, models, template in (
        ("Alibaba/Qwen", ("qwen-a", "qwen-b"), "1. {p} point one\n2. {p} point two\n3. {p} point three"),
        (
            "Anthropic",
            ("claude-a", "claude-b"),
            "I'd be happy to help with {p}. It is a prose answer about {p}, written plainly.",
        ),
    ):
        for model in models:
            for prompt_id in ("p1", "p2", "p3"):
                response = template.format(p=f"{prompt_id} {model[-1]}")
                lines.append(
                    {
                        "model": model,
                        "vendor": vendor,
                        "prompt_id": prompt_id,
                        "prompt": prompt_id,
                        "response": response,
                    }
                )
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
    return path


async def test_probing_without_an_api_key_is_a_usage_error(tmp_path):
    code, out, err = await scout(tmp_path, "probe", "openrouter/owl-alpha")
    assert (code, out) == (2, "") and "OPENROUTER_API_KEY is not set" in err and "Traceback" not in err
    code, _, err = await scout(tmp_path, "calibrate")
    assert code == 2 and "OPENROUTER_API_KEY" in err


async def test_calibrate_status_lists_references_per_lab_and_progress_without_a_key(tmp_path):
    code, out, err = await scout(tmp_path, "calibrate", "--status")
    assert (
        code == 0
        and "Traceback" not in err
        and out.splitlines()
        == [
            "calibration not started",
            "no references yet: no lab can be named",
        ]
    )
    code, _, err = await scout(tmp_path, "references", "import", str(corpus(tmp_path / "mini.jsonl.gz")))
    assert code == 0, err
    code, out, _ = await scout(tmp_path, "calibrate", "--status")
    assert out.splitlines()[1:] == [
        "Alibaba (Qwen): 2 references, newest 0 days old",
        "Anthropic: 2 references, newest 0 days old",
    ]


async def test_calibrate_on_an_empty_store_says_to_scan_first(tmp_path):
    code, _, err = await scout(tmp_path, "calibrate", OPENROUTER_API_KEY="sk-test")
    assert code == 1 and "run `scout scan` first" in err and "sk-test" not in err


async def test_probe_json_has_the_documented_shape_even_with_no_references(tmp_path):
    async with FakeGateway() as gw:
        from bot.testing.scripted_labs import install_labs

        install_labs(gw)
        code, out, err = await scout(
            tmp_path,
            "probe",
            "openrouter/owl-alpha",
            "--json",
            OPENROUTER_BASE_URL=gw.base_url,
            OPENROUTER_API_KEY="sk-test",
        )
    assert code == 0, err
    result = json.loads(out)
    assert list(result) == list(PROBE_JSON_KEYS)
    default_plan = plan_probes(
        Settings.model_fields["probe_max_requests"].default, Settings.model_fields["probe_max_tokens"].default
    )
    assert result["requests"] == len(default_plan.probes) == 18 and result["failures"] == []
    assert (result["status"], result["ranking"], result["confidence"]) == ("no_references", [], 0.0)
    assert result["not_sure"] is None
    assert result["reason"] == "no references yet — guesses start when calibration finishes (not started)"


async def test_references_import_loads_a_corpus_and_rejects_a_missing_file(tmp_path):
    code, out, err = await scout(tmp_path, "references", "import", str(corpus(tmp_path / "mini.jsonl.gz")))
    assert code == 0, err
    assert out.splitlines()[0].startswith(
        "imported 4 models of 2 vendors (12 answers, 0 with the gateway's token counts) from mini.jsonl.gz"
    )
    assert "references: 4 comparable with suite" in out
    code, _, err = await scout(tmp_path, "references", "import", str(tmp_path / "absent.jsonl"))
    assert code == 1 and err.startswith("error: cannot read corpus") and "Traceback" not in err


async def test_bench_attribution_prints_one_json_object(tmp_path):
    code, out, err = await scout(
        tmp_path,
        "bench",
        "attribution",
        "--corpus",
        str(corpus(tmp_path / "mini.jsonl.gz")),
        "--probes",
        "2",
        "--draws",
        "2",
        "--json",
    )
    report = json.loads(out)
    assert {"top1", "top3", "n", "ece", "seconds_per_query", "per_model", "selective", "targets"} <= set(report)
    assert report["top1"] == 1.0 and report["n"] == 8
    # Too small a corpus to time 100 references: that target is missed, and the exit code says so.
    assert code == 1 and report["targets"]["seconds_per_query_100_references"]["met"] is False, err
    code, text, _ = await scout(
        tmp_path, "bench", "attribution", "--corpus", str(tmp_path / "mini.jsonl.gz"), "--probes", "2", "--draws", "1"
    )
    assert code == 1 and "MISSED" in text
    code, _, err = await scout(
        tmp_path, "bench", "attribution", "--corpus", str(tmp_path / "mini.jsonl.gz"), "--probes", "0"
    )
    assert code == 2 and "must be at least 1" in err
