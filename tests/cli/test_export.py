"""`scout export`: the same vote log from a terminal, scoped to one guild."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess

import pytest

from bot.cli import main
from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.store.votes import Vote
from tests.support.scout_process import CLEAN_ENV, SCOUT
from tests.support.world import OWL

GUILD, OTHER_GUILD = 111, 222
BIG_GUILD, ZOE = 1234567890123456789, 987654321098765432


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A store with votes in two guilds, and the environment pointing `scout` at it."""
    path = tmp_path / "scout.db"

    async def fill() -> None:
        async with await Store.open(path) as store:
            await record_catalogue(store, [OWL], "fixture")
            await store.votes.cast(BIG_GUILD, OWL["id"], ZOE, "Zoë 🦉 山田", "Totally Unknown Lab", confidence=0.6)
            await store.votes.cast(GUILD, "openrouter/owl-alpha", 1, "alice", "openai")
            await store.votes.cast(GUILD, "openrouter/owl-alpha", 1, "alice", "anthropic")
            await store.notes.add(GUILD, "openrouter/owl-alpha", 2, "bob", "=cmd|' /C calc'!A0")
            await store.votes.cast(OTHER_GUILD, "openrouter/owl-alpha", 3, "mallory", "xai")

    asyncio.run(fill())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(path))
    return path


def test_csv_to_stdout_holds_only_that_guilds_rows(database, capsys):
    assert main(["export", "--guild", str(GUILD)]) == 0
    records = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    rows = [(r["member_name"], r["kind"], r["vendor"], r["current_vote"]) for r in records]
    # Rows come in time order; the note and the second vote may share a millisecond, so only the votes' order is fixed.
    assert sorted(rows) == sorted(
        [
            ("alice", "vote", "openai", "false"),
            ("alice", "vote", "anthropic", "true"),
            ("bob", "note", "", ""),
        ]
    )
    assert rows.index(("alice", "vote", "openai", "false")) < rows.index(("alice", "vote", "anthropic", "true"))
    assert {r["guild_id"] for r in records} == {str(GUILD)}
    [note] = [r for r in records if r["kind"] == "note"]
    assert note["note"].startswith("'=")


def test_jsonl_to_a_file(database, tmp_path, capsys):
    out = tmp_path / "log.jsonl"
    assert main(["export", "--guild", str(OTHER_GUILD), "--format", "jsonl", "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["member_name"], r["vendor"], r["member_id"]) for r in records] == [("mallory", "xai", "3")]
    assert "wrote 1 rows" in capsys.readouterr().err
    assert not (tmp_path / "log.jsonl.partial").exists()


def test_bad_arguments_are_one_line_errors(database, capsys):
    assert main(["export", "--guild", "not-a-number"]) == 2
    assert main(["export", "--guild", str(GUILD), "--since", "last tuesday"]) == 2
    assert "ISO-8601" in capsys.readouterr().err


def test_an_unwritable_target_is_a_clear_error_and_leaves_nothing(database, tmp_path, capsys):
    target = tmp_path / "missing-dir" / "log.csv"
    assert main(["export", "--guild", str(GUILD), "--out", str(target)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_jsonl_keeps_19_digit_ids_exact_for_jq_and_the_typed_vendor_name(database, capsys):
    assert main(["export", "--guild", str(BIG_GUILD), "--format", "jsonl"]) == 0
    [record] = [json.loads(line, parse_int=float) for line in capsys.readouterr().out.splitlines()]
    assert (record["guild_id"], record["member_id"]) == (str(BIG_GUILD), str(ZOE))
    assert (record["member_name"], record["vendor_name"], record["confidence"]) == (
        "Zoë 🦉 山田",
        "Totally Unknown Lab",
        0.6,
    )
    assert record["time"].endswith("Z")


def test_excel_csv_to_a_file_has_a_byte_order_mark_crlf_and_every_character(database, tmp_path):
    out = tmp_path / "for-excel.csv"
    assert main(["export", "--guild", str(BIG_GUILD), "--excel", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n") and b"\r\n" in data[:-2]
    [record] = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert (record["member_name"], record["member_id"]) == ("Zoë 🦉 山田", str(ZOE))


def test_excel_with_json_lines_is_a_usage_error_in_one_line(database, capsys):
    assert main(["export", "--guild", str(GUILD), "--format", "jsonl", "--excel"]) == 2
    err = capsys.readouterr().err
    assert "Excel option is for CSV" in err and err.count("\n") == 1


def test_member_scope_exports_only_that_members_rows(database, capsys):
    assert main(["export", "--guild", str(GUILD), "--member", "2"]) == 0
    records = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["member_id"], r["kind"]) for r in records] == [("2", "note")]


@pytest.fixture
def long_log(tmp_path):
    """A database whose log (about 3 MB of CSV) is far bigger than a pipe's 64 KiB buffer."""
    path = tmp_path / "long.db"

    async def fill() -> None:
        async with await Store.open(path) as store:
            await store.votes.import_votes(
                Vote(
                    GUILD, OWL["id"], member, f"member {member}", "openai", f"2026-06-07T12:00:00.{member % 1000:03d}Z"
                )
                for member in range(1, 30_001)
            )

    asyncio.run(fill())
    return path


def test_export_into_head_ends_quietly_with_exit_code_0(long_log, tmp_path):
    """`scout export | head` through a real shell pipe: head leaves after three lines, scout must not complain."""
    script = f'"{SCOUT}" export --guild {GUILD} | head -n 3; echo "scout exited with ${{PIPESTATUS[0]}}" >&2'
    run = subprocess.run(
        ["bash", "-c", script],
        env={**CLEAN_ENV, "DATABASE_PATH": str(long_log)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert len(run.stdout.splitlines()) == 3 and run.stdout.startswith('"time","guild_id"')
    assert run.stderr == "scout exited with 0\n", run.stderr
