"""`scout restore` refuses anything that is not a complete, intact Model Scout database, and leaves the
database it would have replaced exactly as it was."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.bot_process import bot_environment, read_rows, run_scout
from tests.support.damage import damage_schema_names, flip_bytes
from tests.support.world import ORDINARY_MODELS, OWL

GUILD = 4242


async def _live_database(path: Path) -> None:
    async with await Store.open(path) as store:
        await record_catalogue(store, [*ORDINARY_MODELS, OWL], "fixture")
        for member in (1, 2):
            await store.votes.cast(GUILD, OWL["id"], member, f"member {member}", "openai")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(path: Path) -> tuple[int, int]:
    models = read_rows(path, "SELECT COUNT(*) AS n FROM models")[0]["n"]
    votes = read_rows(path, "SELECT COUNT(*) AS n FROM votes")[0]["n"]
    return models, votes


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _foreign(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE people (name TEXT)")
        connection.execute("INSERT INTO people VALUES ('ada')")
        connection.commit()


def _fresh_empty_sqlite(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA user_version = 0")
        connection.execute("VACUUM")


def _model_scout_missing_a_table(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("DROP TABLE votes")
        connection.commit()


def _damaged_page(path: Path) -> None:
    flip_bytes(path, 4096)  # the second page: its header and cell pointers


async def _backup_of_the_live_database(live: Path, backup: Path) -> None:
    async with await Store.open(live) as store:
        await store.db.backup_to(backup)


@pytest.mark.parametrize(
    ("make", "needs_backup", "says"),
    [
        (_empty, False, "not a Model Scout database"),
        (_foreign, False, "not a Model Scout database"),
        (_fresh_empty_sqlite, False, "not a Model Scout database"),
        (_model_scout_missing_a_table, True, "lacks the table(s) votes"),
        (_damaged_page, True, "damaged"),
        (damage_schema_names, True, "damaged"),
    ],
    ids=["empty file", "foreign sqlite", "empty sqlite", "missing table", "damaged page", "damaged schema"],
)
async def test_restore_refuses_and_leaves_the_database_untouched(tmp_path: Path, make, needs_backup, says):  # type: ignore[no-untyped-def]
    live = tmp_path / "scout.db"
    await _live_database(live)
    backup = tmp_path / "backup.db"
    if needs_backup:
        await _backup_of_the_live_database(live, backup)
    make(backup)
    before, counts = _digest(live), _counts(live)

    run = await run_scout("restore", str(backup), environment=bot_environment(database_path=live), workdir=tmp_path)

    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("error: ") and says in lines[0], lines[0]
    assert _digest(live) == before and _counts(live) == counts == (3, 2)
    assert not list(tmp_path.glob("*.restoring*"))


async def test_a_backup_of_an_older_model_scout_without_the_application_id_still_restores(tmp_path: Path):
    """Backups written while migrations were numbered V1, V3, V4, V5, V8 carry no application id."""
    live, backup = tmp_path / "scout.db", tmp_path / "backup.db"
    await _live_database(live)
    folder = resources.files("bot.store").joinpath("migrations")
    sqlite_files = [entry.name for entry in folder.iterdir() if not entry.name.endswith(".postgresql.sql")]
    old = sorted(sqlite_files, key=lambda name: int(name[1:].split("__")[0]))[:5]
    with contextlib.closing(sqlite3.connect(backup)) as connection:
        for name in old:
            connection.executescript(folder.joinpath(name).read_text(encoding="utf-8"))
        connection.execute("PRAGMA user_version = 8")
        connection.execute("INSERT INTO bot_state (key, value) VALUES ('from', 'the old backup')")
        connection.commit()

    run = await run_scout("restore", str(backup), environment=bot_environment(database_path=live), workdir=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _counts(live) == (0, 0)
    assert read_rows(live, "SELECT value FROM bot_state WHERE key = 'from'")[0]["value"] == "the old backup"
