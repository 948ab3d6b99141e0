"""A member's write outlasts another OS process's lock on the database, and only a busy database is waited for."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.store import Store, busy, postgres, sqlite
from bot.store.database import DatabaseBusy
from bot.testing.locker import release, write_lock_held_elsewhere


async def test_a_write_waits_out_a_lock_held_past_the_stores_own_retries_until_it_is_stored(
    database_target, engine, monkeypatch
):
    monkeypatch.setattr(sqlite, "BUSY_RETRIES", 1)
    monkeypatch.setattr(postgres, "RECONNECT_TRIES", 1)
    monkeypatch.setattr(postgres, "WRITE_LOCK_WAIT", "50ms")
    monkeypatch.setattr(busy, "STORED_RETRY_FIRST_S", 0.01)
    async with await Store.open(database_target) as store:
        if engine == "sqlite":
            await store.db.fetchone("PRAGMA busy_timeout = 0")
        attempts = 0

        async def write() -> str:
            nonlocal attempts
            attempts += 1
            await store.state.set("vote", "kept")
            return "stored"

        async with write_lock_held_elsewhere(database_target) as locker:
            landing = asyncio.ensure_future(busy.until_stored(write, "vote"))
            await asyncio.sleep(0.5)
            assert not landing.done() and attempts > 1  # the store's own retry gave up, and the write is tried again
            await release(locker)
            assert await landing == "stored"
        assert await store.state.get("vote") == "kept"


async def test_waiting_gives_up_at_the_deadline_and_never_retries_other_errors(monkeypatch):
    monkeypatch.setattr(busy, "STORED_RETRY_FIRST_S", 0.01)
    monkeypatch.setattr(busy, "STORED_GIVE_UP_S", 0.05)
    calls: list[str] = []

    async def failing(error: Exception) -> None:
        calls.append(type(error).__name__)
        raise error

    with pytest.raises(DatabaseBusy):
        await busy.until_stored(lambda: failing(DatabaseBusy("database is locked")), "vote")
    assert 2 <= len(calls) <= 4  # waits of 0.01 s and 0.02 s fit before the deadline, one of 0.04 s more would not
    calls.clear()
    with pytest.raises(sqlite3.IntegrityError):
        await busy.until_stored(lambda: failing(sqlite3.IntegrityError("constraint failed")), "note")
    assert calls == ["IntegrityError"]
