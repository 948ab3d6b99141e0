"""`scout backup` while another process writes votes, and `scout restore` back: every acknowledged vote survives."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from pathlib import Path

from bot.store import Store
from tests.support.scout_process import CLEAN_ENV, scout
from tests.support.store import list_owl

GUILD, MODEL = 111, "openrouter/owl-alpha"
# A member votes, and the vote is acknowledged (its number printed) only once the store has committed it.
VOTER = f"""
import asyncio, sys
from bot.store import Store

async def vote(path):
    async with await Store.open(path) as store:
        member = 0
        while True:
            member += 1
            await store.votes.cast({GUILD}, "{MODEL}", member, f"member {{member}}", "openai")
            print(member, flush=True)

asyncio.run(vote(sys.argv[1]))
"""


def _votes(database: Path) -> tuple[list[int], int]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        members = [row[0] for row in connection.execute("SELECT member_id FROM votes ORDER BY member_id")]
        history = connection.execute("SELECT COUNT(*) FROM vote_history").fetchone()[0]
    return members, history


async def test_a_backup_during_a_vote_storm_restores_every_acknowledged_vote(tmp_path: Path):
    database = tmp_path / "scout.db"
    async with await Store.open(database) as store:
        await list_owl(store)
    voter = await asyncio.create_subprocess_exec(
        sys.executable, "-c", VOTER, str(database), env=CLEAN_ENV, stdout=asyncio.subprocess.PIPE
    )
    acknowledged = 0

    async def read_acknowledgements() -> None:
        nonlocal acknowledged
        assert voter.stdout is not None
        while line := await voter.stdout.readline():
            acknowledged = int(line)

    reader = asyncio.create_task(read_acknowledgements())
    try:
        while acknowledged < 200:
            assert voter.returncode is None, "the voting process died"
            await asyncio.sleep(0.01)
        before_backup = acknowledged
        code, _, err = await scout(tmp_path, "backup", "backup.db")
        assert code == 0, err
        after_backup = acknowledged
        await asyncio.sleep(0.2)
        assert acknowledged > after_backup, "the votes must still be flowing after the backup"
    finally:
        voter.kill()
        await voter.wait()
        reader.cancel()
    members, history = _votes(tmp_path / "backup.db")
    assert members == list(range(1, len(members) + 1)) and history == len(members)  # one consistent moment
    assert before_backup <= len(members) <= acknowledged

    code, _, err = await scout(tmp_path, "restore", "backup.db", "--database", "restored.db")
    assert code == 0 and err == "restored restored.db from backup.db\n"
    assert _votes(tmp_path / "restored.db") == (members, history)
    code, out, _ = await scout(tmp_path, "export", "--guild", str(GUILD), "--database", "restored.db")
    assert code == 0 and len(out.splitlines()) == 1 + len(members)


async def test_restore_puts_the_backed_up_state_back_over_a_later_one(tmp_path: Path):
    async def vote(member: int) -> None:
        async with await Store.open(tmp_path / "scout.db") as store:
            await store.votes.cast(GUILD, MODEL, member, f"member {member}", "openai")

    async with await Store.open(tmp_path / "scout.db") as store:
        await list_owl(store)
    await vote(1)
    (tmp_path / "backups").mkdir()
    code, _, err = await scout(tmp_path, "backup", "backups")
    assert code == 0 and (tmp_path / "backups" / "scout.db").is_file(), err
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["scout.db"]  # one file, no -wal beside it
    await vote(2)
    assert _votes(tmp_path / "scout.db")[0] == [1, 2]
    code, _, err = await scout(tmp_path, "restore", str(Path("backups") / "scout.db"))
    assert code == 0, err
    assert _votes(tmp_path / "scout.db") == ([1], 1)
    assert not list(tmp_path.glob("*.restoring*"))


async def test_on_postgresql_backup_and_restore_say_in_one_line_to_use_pg_dump(tmp_path: Path, postgres_url: str):
    password = postgres_url.split(":")[2].split("@")[0]
    for args in (("backup", "copy.db"), ("restore", "copy.db")):
        code, out, err = await scout(tmp_path, *args, DATABASE_URL=postgres_url)
        assert (code, out) == (1, "") and err.count("\n") == 1, err
        assert "pg_dump" in err and password not in err
    assert not (tmp_path / "copy.db").exists()


async def test_the_cli_works_on_postgresql_and_a_refused_connection_is_one_line(tmp_path: Path, postgres_url: str):
    (tmp_path / "catalogue.json").write_text('{"data": []}')
    code, _, err = await scout(tmp_path, "scan", "--catalogue", "catalogue.json", DATABASE_URL=postgres_url)
    assert code == 0, err
    refused = postgres_url.rsplit(":", 1)[0] + ":1/nowhere"
    code, out, err = await scout(tmp_path, "models", DATABASE_URL=refused)
    assert (code, out) == (1, "") and err.count("\n") == 1 and "cannot connect to database" in err, err
    assert postgres_url.split(":")[2].split("@")[0] not in err
