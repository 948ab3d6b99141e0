import asyncio
import sqlite3

import pytest

from bot.store import Store, StoreError
from bot.store.database import Database


async def test_fresh_file_is_migrated_with_wal_and_foreign_keys(tmp_path):
    database = await Database.open(tmp_path / "a.db")
    try:
        assert await database.schema_version() >= 1
        assert (await database.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await database.fetchone("PRAGMA foreign_keys"))[0] == 1
        tables = {row[0] for row in await database.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
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


async def test_reopening_does_not_migrate_twice(tmp_path):
    first = await Store.open(tmp_path / "a.db")
    await first.state.set("k", "v")
    await first.close()
    second = await Store.open(tmp_path / "a.db")
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


async def test_transaction_rolls_back_on_error(store):
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
