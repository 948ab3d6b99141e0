"""End to end as a user runs it: `scout scan`, `scout calibrate`, `scout probe` in real processes
against the fake gateway playing four labs and a stealth model that writes like Zhipu's GLM but
says it is ChatGPT. Every request the fake sees is counted against the budget."""

from __future__ import annotations

import json
from pathlib import Path

from bot.testing.gateway_server import FakeGateway, Fault
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ID
from tests.support.scout_process import PROBE_JSON_KEYS
from tests.support.scout_process import scout as scout_process

BUDGET = 12


async def scout(tmp_path: Path, gw: FakeGateway, *args: str, **env: str) -> tuple[int, str, str]:
    """`scout ARGS` against the fake gateway, with the probe budget these tests hold the bot to."""
    gateway_env = {"OPENROUTER_BASE_URL": gw.base_url, "OPENROUTER_API_KEY": "sk-test-key"}
    return await scout_process(tmp_path, *args, **{**gateway_env, "PROBE_MAX_REQUESTS": str(BUDGET), **env})


async def calibrated(tmp_path: Path, gw: FakeGateway) -> str:
    code, _, err = await scout(tmp_path, gw, "scan")
    assert code == 0, err
    code, out, err = await scout(tmp_path, gw, "calibrate")
    assert code == 0, err
    return out


async def probe(tmp_path: Path, gw: FakeGateway, **env: str) -> dict:
    """One `scout probe --json`; the fake must have seen no more requests than the budget allows."""
    before = len(gw.requests_to("chat", model=STEALTH_ID))
    code, out, err = await scout(tmp_path, gw, "probe", STEALTH_ID, "--json", **env)
    assert code == 0, err
    result = json.loads(out)
    assert len(gw.requests_to("chat", model=STEALTH_ID)) - before == result["requests"] <= BUDGET
    return result


async def test_calibrate_then_probe_names_the_true_vendor_with_readable_evidence(tmp_path, gw):
    out = await calibrated(tmp_path, gw)
    lines = out.splitlines()
    assert lines[0].startswith(f"calibrating {len(KNOWN_MODELS)} models with suite")
    progress = [line for line in lines if line.startswith("[")]
    assert len(progress) == len(KNOWN_MODELS) and all(
        ": done, 11 requests, 0 of 11 probes failed" in p for p in progress
    )
    assert {p.split("] ", 1)[1].split(":")[0] for p in progress} == {model_id for model_id, _, _ in KNOWN_MODELS}
    assert "combiner fitted on 8 leave-one-out cases" in out

    result = await probe(tmp_path, gw)
    assert set(result) == set(PROBE_JSON_KEYS)
    assert result["model_id"] == STEALTH_ID and result["failures"] == []
    assert result["requests"] == 11
    top = result["ranking"][0]
    assert (top["vendor"], top["name"]) == ("zhipu", "Zhipu (GLM)")
    assert top["nearest"][0]["model"].startswith("z-ai/glm-4.")
    assert result["confidence"] == top["probability"] > 0.5
    evidence = result["evidence"]
    assert any(line.startswith("tokenizer: 10/10 strings match z-ai/glm-4.") for line in evidence)
    assert 'identity: says it was made by OpenAI ("I\'m ChatGPT, a model created by OpenAI.")' in evidence
    assert any(line.startswith("identity disagrees with the ranking") for line in evidence)
    assert any(line.startswith("style nearest: z-ai/glm-4.") for line in evidence)

    code, text, _ = await scout(tmp_path, gw, "probe", STEALTH_ID)
    assert code == 0 and "most likely Zhipu (GLM), confidence" in text and "  - tokenizer: 10/10 strings match" in text


async def test_all_probes_failing_is_no_guess_and_exits_1_with_one_line(tmp_path, gw):
    await calibrated(tmp_path, gw)
    for fault, words in ((Fault.http(503), "gateway error ×11"), (Fault.rate_limited(), "rate limited ×11")):
        gw.set_fault("chat", fault, model=STEALTH_ID)
        before = len(gw.requests_to("chat", model=STEALTH_ID))
        code, out, err = await scout(tmp_path, gw, "probe", STEALTH_ID, "--json", LOG_LEVEL="WARNING")
        assert (code, out) == (1, "") and len(err.splitlines()) == 1 and "Traceback" not in err
        assert err.startswith(f"error: {STEALTH_ID}: no guess yet: probes failed — {words}")
        assert len(gw.requests_to("chat", model=STEALTH_ID)) - before <= BUDGET


async def test_probing_an_unknown_or_unreachable_model_exits_1_with_one_line(tmp_path, gw):
    await calibrated(tmp_path, gw)
    code, out, err = await scout(tmp_path, gw, "probe", "nobody/no-such-model", LOG_LEVEL="WARNING")
    assert (code, out) == (1, "") and err.splitlines() == [
        "error: nobody/no-such-model is not in the gateway's catalogue: its cost cannot be bounded; nothing was sent"
    ]
    unreachable = "http://127.0.0.1:9/api/v1"
    code, out, err = await scout(
        tmp_path, gw, "probe", STEALTH_ID, OPENROUTER_BASE_URL=unreachable, LOG_LEVEL="WARNING"
    )
    assert (code, out) == (1, "") and len(err.splitlines()) == 1 and "network error ×11" in err
    assert "sk-test-key" not in err


async def test_half_the_probes_failing_still_names_the_vendor_and_says_what_failed(tmp_path, gw):
    await calibrated(tmp_path, gw)
    healthy = await probe(tmp_path, gw)
    gw.inject("chat", *[Fault.http(400)] * 5, model=STEALTH_ID)  # refused requests, not worth a retry
    result = await probe(tmp_path, gw, PROBE_CONCURRENCY="1")  # one at a time: the first five probes fail
    assert [f["kind"] for f in result["failures"]] == ["client_error"] * 5
    assert result["ranking"][0]["vendor"] == "zhipu"
    assert result["status"] == healthy["status"] == "ranked"
    assert "probes: 5 of 11 failed (request refused ×5)" in result["evidence"]
    # what came back is still used
    assert any(line.startswith("tokenizer: 5/5 strings match z-ai/glm-4.5") for line in result["evidence"])


async def test_a_rate_limited_probe_waits_and_succeeds_within_budget(tmp_path, gw):
    await calibrated(tmp_path, gw)
    gw.inject("chat", Fault.rate_limited(retry_after=0.2), model=STEALTH_ID)
    result = await probe(tmp_path, gw)
    assert result["failures"] == [] and result["requests"] == BUDGET
    assert result["ranking"][0]["vendor"] == "zhipu"
