"""`scout scan`, `scout models` and the start-up errors, run as a user runs them: a real process."""

from __future__ import annotations

import asyncio
import json
import sys

from bot.testing.gateway_server import SNAPSHOT_2025_12_18, SNAPSHOT_2026_06_07, FakeGateway
from tests.support.scout_process import CLEAN_ENV, json_lines, scout
from tests.support.shared_data import snapshot_or_skip


async def test_scan_saved_catalogue_reports_owl_alpha_once(tmp_path, catalogue_june):
    code, out, _ = await scout(tmp_path, "scan", "--catalogue", str(catalogue_june), "--json")
    assert code == 0
    events = json_lines(out)
    assert [(e["event"], e["model_id"], e["stealth"]) for e in events] == [("new", "openrouter/owl-alpha", True)]
    assert events[0]["name"] == "Owl Alpha" and events[0]["stealth_reasons"]
    code, out, _ = await scout(tmp_path, "scan", "--catalogue", str(catalogue_june), "--json")
    assert (code, out) == (0, "")
    code, out, _ = await scout(tmp_path, "models", "--stealth", "--json")
    assert code == 0 and [m["model_id"] for m in json_lines(out)] == ["openrouter/owl-alpha"]


async def test_scan_replayed_history_from_the_gateway(tmp_path):
    """One `scout scan --json` per snapshot: each stealth listing once when it appears, once when it goes."""
    december, june = snapshot_or_skip(SNAPSHOT_2025_12_18), snapshot_or_skip(SNAPSHOT_2026_06_07)
    revealed = {
        "data": [e for e in june["data"] if e["id"] != "openrouter/owl-alpha"]
        + [{**june["data"][0], "id": "openai/gpt-6", "name": "OpenAI: GPT-6", "hugging_face_id": None}]
    }
    history = [december, june, june, revealed, revealed]
    seen: list[dict] = []
    async with FakeGateway() as gateway:
        gateway.replay(history)
        for _ in history:
            code, out, err = await scout(tmp_path, "scan", "--json", OPENROUTER_BASE_URL=gateway.base_url)
            assert code == 0, err
            seen.extend(json_lines(out))
    stealth = [(e["event"], e["model_id"]) for e in seen if e["stealth"]]
    assert stealth == [("new", "openrouter/owl-alpha"), ("removed", "openrouter/owl-alpha")]
    removal = next(e for e in seen if e["event"] == "removed" and e["model_id"] == "openrouter/owl-alpha")
    assert removal["reveal_candidates"] == ["openai/gpt-6"]
    assert {e["event"] for e in seen} <= {"new", "changed", "removed", "returned"}
    assert all("fields" in e for e in seen if e["event"] == "changed")


async def test_unreachable_gateway_is_one_line_exit_1(tmp_path):
    code, out, err = await scout(
        tmp_path, "scan", OPENROUTER_BASE_URL="http://127.0.0.1:9/api/v1", OPENROUTER_API_KEY="sk-or-SECRET-1"
    )
    assert code == 1 and out == ""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "http://127.0.0.1:9/api/v1/models" in lines[0]
    assert "Traceback" not in err and "SECRET" not in err


async def test_bad_setting_names_the_variable_exit_2(tmp_path):
    code, _, err = await scout(tmp_path, "scan", POLL_INTERVAL_SECONDS="1")
    assert code == 2 and err.strip().splitlines() == [err.strip()] and "POLL_INTERVAL_SECONDS" in err
    code, _, err = await scout(tmp_path, "scan", OPENROUTER_BASE_URL="ftp://x")
    assert code == 2 and "OPENROUTER_BASE_URL" in err


async def test_usage_error_is_exit_2(tmp_path):
    code, _, _ = await scout(tmp_path, "no-such-command")
    assert code == 2


async def test_python_m_bot_without_token_says_which_variable(tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env={**CLEAN_ENV, "DATABASE_PATH": str(tmp_path / "x.db")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 2
    assert err.decode().strip().count("\n") == 0 and "DISCORD_TOKEN" in err.decode()
    assert "Traceback" not in err.decode()


async def test_unreadable_catalogue_file_is_exit_1(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = await scout(tmp_path, "scan", "--catalogue", str(tmp_path / "bad.json"))
    assert code == 1 and "bad.json" in err


async def test_scan_prints_each_change_as_before_and_after_and_ends_with_a_summary(tmp_path):
    before = [
        {"id": "openai/a", "name": "OpenAI: A", "context_length": 8192, "pricing": {"prompt": "0.000001"}},
        {"id": "openai/b", "name": "OpenAI: B", "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
    ]
    after = [
        {"id": "openai/a", "name": "OpenAI: A", "context_length": 16384, "pricing": {"prompt": "0.000002"}},
        {
            "id": "openai/b",
            "name": "OpenAI: B",
            "pricing": {"prompt": "0.000001", "completion": "0.000002", "web_search": "0"},
        },
        {"id": "openrouter/kestrel-alpha", "name": "Kestrel Alpha", "pricing": {"prompt": "0", "completion": "0"}},
    ]
    for number, catalogue in enumerate((before, after)):
        (tmp_path / f"c{number}.json").write_text(json.dumps({"data": catalogue}))
    code, out, _ = await scout(tmp_path, "scan", "--catalogue", str(tmp_path / "c0.json"))
    assert (code, out) == (0, "summary: 0 new, 0 stealth, 0 changed, 0 removed\n")
    code, out, err = await scout(tmp_path, "scan", "--catalogue", str(tmp_path / "c1.json"))
    assert code == 0, err
    lines = out.splitlines()
    changed = lines.index("CHANGED  openai/a  OpenAI: A")
    assert lines[changed + 1 : changed + 3] == [
        "           pricing.prompt: 0.000001 → 0.000002",
        "           context_length: 8192 → 16384",
    ]
    assert not any("openai/b" in line for line in lines)
    assert lines[-1] == "summary: 1 new, 1 stealth, 1 changed, 0 removed"
