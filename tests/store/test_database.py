import asyncio
import contextlib
import sqlite3

import pytest

from bot.store import Store, StoreError
from bot.store import schema as schema_module
from bot.store import sqlite as sqlite_module
from bot.store.database import Database, DatabaseBusy, is_transient
from bot.store.schema import ENGINES, expected_tables, latest_version, migration_files
from bot.store.sqlite import restore_database
from tests.support.store import list_owl


async def test_fresh_file_is_migrated_with_wal_and_foreign_keys(tmp_path):
    database = await Database.open(tmp_path / "a.db")
    try:
        assert await database.schema_version() >= 1
        assert (await database.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await database.fetchone("PRAGMA foreign_keys"))[0] == 1
    finally:
        await database.close()


async def test_a_fresh_database_of_either_engine_has_every_table_at_the_latest_version(database_target, engine):
    database = await Database.open(database_target)
    try:
        assert database.engine == engine
        assert await database.schema_version() == latest_version(engine) >= 1
        tables = await database.table_names()
        assert expected_tables(engine) <= tables
        assert {
            "models",
            "catalogue_events",
            "probe_runs",
            "probe_responses",
            "guesses",
            "votes",
            "vote_history",
            "notes",
            "announcements",
            "guild_settings",
            "reveals",
        } <= tables
    finally:
        await database.close()


async def test_reopening_does_not_migrate_twice(database_target):
    first = await Store.open(database_target)
    await first.state.set("k", "v")
    await first.close()
    second = await Store.open(database_target)
    try:
        assert await second.state.get("k") == "v"
    finally:
        await second.close()


async def test_unopenable_path_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open database"):
        await Database.open(tmp_path / "file" / "under-a-file.db")


async def test_garbage_file_is_a_clear_error(tmp_path):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="garbage.db"):
        await Database.open(path)


async def test_transaction_rolls_back_on_error(any_store):
    store = any_store
    with pytest.raises(RuntimeError):
        async with store.db.transaction() as tx:
            await tx.execute("INSERT INTO bot_state (key, value) VALUES ('a', 'b')")
            raise RuntimeError("boom")
    assert await store.state.get("a") is None


async def test_busy_database_is_retried_not_lost(tmp_path):
    """Another process holding the write lock delays a write; it is not dropped."""
    path = tmp_path / "busy.db"
    store = await Store.open(path)
    await store.db.fetchone("PRAGMA busy_timeout = 0")
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    write = asyncio.create_task(store.state.set("vote", "kept"))
    await asyncio.sleep(0.2)
    assert not write.done()
    blocker.rollback()
    blocker.close()
    await write
    assert await store.state.get("vote") == "kept"
    await store.close()


def _file_state(path):
    """What a refused open must leave untouched: the bytes of the file and the absence of journal files."""
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


async def test_a_database_from_newer_code_is_refused_and_left_unwritten(tmp_path):
    path = tmp_path / "newer.db"
    async with await Store.open(path):
        pass
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA user_version = 999")
    before = _file_state(path)
    with pytest.raises(StoreError, match=r"schema version 999, newer than this Model Scout knows"):
        await Database.open(path)
    assert _file_state(path) == before


@pytest.mark.parametrize("table", ["votes", "announcements", "bot_state"])
async def test_a_database_missing_a_table_is_refused_naming_it(tmp_path, table):
    path = tmp_path / "damaged.db"
    async with await Store.open(path):
        pass
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(f"DROP TABLE {table}")
    with pytest.raises(StoreError, match=rf"lacks the table\(s\) {table}\b"):
        await Database.open(path)


def test_expected_tables_follow_creates_renames_and_drops(monkeypatch):
    scripts = [
        (1, "CREATE TABLE a (x);\nCREATE TABLE IF NOT EXISTS b (y);\n-- CREATE TABLE in_a_comment (z);"),
        (2, 'ALTER TABLE a RENAME TO "c";\nDROP TABLE IF EXISTS b;\nCREATE INDEX c_x ON c (x)'),
    ]
    monkeypatch.setattr(schema_module, "migrations", lambda engine: scripts)
    assert schema_module.expected_tables("sqlite") == {"c"}


async def test_a_read_only_open_never_creates_a_database(tmp_path):
    with pytest.raises(StoreError, match=r"no database at .*absent\.db"):
        await Database.open(tmp_path / "absent.db", create=False)
    assert list(tmp_path.iterdir()) == []


async def test_a_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        await Database.open(tmp_path)


async def test_a_lock_held_through_every_retry_is_one_store_error_still_seen_as_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_module, "BUSY_FIRST_WAIT_S", 0.001)
    path = tmp_path / "locked.db"
    store = await Store.open(path)
    await store.db.fetchone("PRAGMA busy_timeout = 0")
    blocker = sqlite3.connect(path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy) as busy:
            await store.state.set("vote", "kept")
    finally:
        blocker.rollback()
        blocker.close()
    assert isinstance(busy.value, StoreError) and is_transient(busy.value)
    assert str(busy.value).startswith(f"database {path} is locked")
    await store.state.set("vote", "kept")
    assert await store.state.get("vote") == "kept"
    await store.close()


async def test_backup_is_one_consistent_file_that_restores(tmp_path, sqlite_store):
    store = sqlite_store
    await store.votes.cast(1, await list_owl(store), 7, "alice", "openai")
    backup = tmp_path / "backup" / "copy.db"
    backup.parent.mkdir()
    await store.db.backup_to(backup)
    assert sorted(p.name for p in backup.parent.iterdir()) == ["copy.db"]
    restored = tmp_path / "restored.db"
    await restore_database(backup, restored)
    async with await Store.open(restored, create=False) as copy:
        assert (await copy.votes.current(1, "openrouter/owl-alpha", 7)).vendor == "openai"
    assert not list(tmp_path.glob("*.restoring*")) and not list(backup.parent.glob("*.partial"))


async def test_restore_refuses_what_is_not_a_usable_backup_and_keeps_the_database(tmp_path, sqlite_store):
    store = sqlite_store
    await store.state.set("kept", "yes")
    garbage, newer = tmp_path / "garbage.db", tmp_path / "newer.db"
    garbage.write_bytes(b"not sqlite" * 100)
    async with await Store.open(newer):
        pass
    with contextlib.closing(sqlite3.connect(newer)) as connection:
        connection.execute("PRAGMA user_version = 999")
    for bad, reason in ((garbage, "not an SQLite file"), (newer, "newer than"), (tmp_path / "absent.db", "no backup")):
        with pytest.raises(StoreError, match=reason):
            await restore_database(bad, store.db.path)
    assert await store.state.get("kept") == "yes"
    assert not list(tmp_path.glob("*.restoring*"))


@pytest.mark.parametrize("engine_name", ENGINES)
def test_migration_numbers_run_from_one_without_a_gap_on_every_engine(engine_name):
    numbers = [number for number, _ in migration_files(engine_name)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert latest_version(engine_name) == latest_version(ENGINES[0])


def test_a_migration_is_either_shared_or_written_for_every_engine():
    folder = schema_module.resources.files("bot.store").joinpath("migrations")
    by_number: dict[int, set[str | None]] = {}
    for entry in folder.iterdir():
        match = schema_module.MIGRATION_NAME.match(entry.name)
        assert match, f"{entry.name} is not named V<n>__<name>[.<engine>].sql"
        by_number.setdefault(int(match.group(1)), set()).add(match.group(3))
    for number, engines in by_number.items():
        assert engines in ({None}, set(ENGINES)), f"migration {number} has files for {engines}"


OLD_NUMBERED = 5
"""Migrations 1..5 existed while they were numbered V1, V3, V4, V5, V8; the ones after them never were."""


def _old_numbered_database(path, applied_files: list[str], old_version: int) -> None:
    """A database as Model Scout left it while migrations were numbered V1, V3, V4, V5, V8: no application id."""
    folder = schema_module.resources.files("bot.store").joinpath("migrations")
    with sqlite3.connect(path) as connection:
        for name in applied_files:
            connection.executescript(folder.joinpath(name).read_text(encoding="utf-8"))
        connection.execute(f"PRAGMA user_version = {old_version}")


async def test_a_database_numbered_the_old_way_is_translated_once_and_keeps_its_data(tmp_path):
    every = [name for _, name in migration_files("sqlite")]
    path = tmp_path / "old.db"
    _old_numbered_database(path, every[:OLD_NUMBERED], old_version=8)  # old V8 is today's 5
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO bot_state (key, value) VALUES ('kept', 'yes')")

    async with await Store.open(path) as store:  # applying any migration again would fail on its ALTER TABLEs
        assert await store.db.schema_version() == len(every)
        assert await store.state.get("kept") == "yes"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA application_id").fetchone()[0] == sqlite_module.APPLICATION_ID
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(every)


async def test_an_old_numbered_database_short_of_old_v8_gets_only_the_missing_migrations(tmp_path):
    every = [name for _, name in migration_files("sqlite")]
    path = tmp_path / "old.db"
    _old_numbered_database(path, every[: OLD_NUMBERED - 1], old_version=5)  # old V5 = today's 4

    async with await Store.open(path) as store:
        assert await store.db.schema_version() == len(every)
        columns = {row[1] for row in await store.db.fetchall("PRAGMA table_info(votes)")}
        assert {"vendor_name", "confidence"} <= columns


async def test_one_bot_on_a_sqlite_file_holds_the_poller_lease_until_it_lets_go(tmp_path):
    first, second = await Database.open(tmp_path / "a.db"), await Database.open(tmp_path / "a.db")
    try:
        held = first.lease("poller")
        await held.acquire()
        waiting = asyncio.create_task(second.lease("poller").acquire())
        await asyncio.sleep(1.2)
        assert not waiting.done()  # a second bot on the same file waits instead of polling too
        await held.release()
        await asyncio.wait_for(waiting, 5)
    finally:
        await first.close()
        await second.close()


async def test_a_restore_continues_card_ids_above_every_id_the_replaced_database_handed_out(tmp_path, sqlite_store):
    backup, unreadable = tmp_path / "backup.db", tmp_path / "unreadable.db"
    await sqlite_store.db.backup_to(backup)  # no card yet
    for guild in (1, 2, 3):
        await sqlite_store.outbox.intend(guild, "openrouter/owl-alpha", 10)
    unreadable.write_bytes(b"lost" * 1000)

    assert await restore_database(backup, sqlite_store.db.path) is None
    set_aside = await restore_database(backup, unreadable)
    assert set_aside is not None and set_aside.read_bytes() == b"lost" * 1000
    async with await Store.open(sqlite_store.db.path) as restored, await Store.open(unreadable) as guessed:
        assert (await restored.outbox.intend(9, "openrouter/owl-alpha", 10)).id == 4
        assert (await guessed.outbox.intend(9, "openrouter/owl-alpha", 10)).id == sqlite_module.RESTORE_ID_GAP + 1
