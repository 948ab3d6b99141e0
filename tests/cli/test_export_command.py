"""`scout export`: the same vote log from a terminal, scoped to one guild."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from bot.cli import main
from bot.store import Store

GUILD, OTHER_GUILD = 111, 222


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A store with votes in two guilds, and the environment pointing `scout` at it."""
    path = tmp_path / "scout.db"

    async def fill() -> None:
        async with await Store.open(path) as store:
            await store.votes.cast(GUILD, "openrouter/owl-alpha", 1, "alice", "openai")
            await store.votes.cast(GUILD, "openrouter/owl-alpha", 1, "alice", "anthropic")
            await store.votes.add_note(GUILD, "openrouter/owl-alpha", 2, "bob", "=cmd|' /C calc'!A0")
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
    assert [(r["member_name"], r["vendor"]) for r in records] == [("mallory", "xai")]
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
