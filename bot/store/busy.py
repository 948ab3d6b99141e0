"""Waiting out a database that another process holds, that is out of reach or out of room, for a write a member
waits for.

`Database` already retries a busy database for a few seconds (SQLite's busy timeout, then its own retries;
PostgreSQL's lock waits and reconnects) and then raises `DatabaseUnavailable` (`DatabaseBusy` on SQLite,
`StorageFull` on a full disk), having written nothing. A member's vote or note must not be lost to a longer lock (a
backup, `scout scan` next to the bot), a longer outage (a PostgreSQL restart or failover) or a full disk:
`until_stored` keeps the write and keeps trying for as long as Discord lets the bot answer the member, and says
(once) why it waits, so the member can be told the truth.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.store.database import is_storage_full, is_transient

log = logging.getLogger(__name__)

STORED_RETRY_FIRST_S = 0.2
STORED_RETRY_MAX_S = 5.0
STORED_GIVE_UP_S = 14 * 60.0  # an interaction's token lasts 15 minutes: past that the member cannot be told

BUSY, FULL = "busy", "full"

T = TypeVar("T")


def _waits_for(error: BaseException) -> str | None:
    """What a failed write is waiting for: room on the disk, the database (busy or unreachable), or nothing (a real
    error)."""
    if is_storage_full(error):
        return FULL
    if is_transient(error):
        return BUSY
    return None


async def until_stored(
    write: Callable[[], Awaitable[T]], what: str, *, waiting: Callable[[str], None] | None = None
) -> T:
    """Run a write until the database takes it, waiting out another process's lock or an outage past the store's own
    retries, or a full disk until space is freed; only 14 minutes of it (or any other error) gives up. `what` names the
    write in the log; `waiting` is told once, with BUSY or FULL, the first time the write has to wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STORED_GIVE_UP_S
    wait = STORED_RETRY_FIRST_S
    told: str | None = None
    while True:
        try:
            return await write()
        except Exception as error:
            reason = _waits_for(error)
            if reason is None or loop.time() + wait > deadline:
                raise
            if reason == FULL:
                log.error("%s waits for room on the disk (%s); retrying in %.1fs", what, error, wait)
            else:
                log.warning("%s waits for the database (busy or unreachable); retrying in %.1fs", what, wait)
            if waiting is not None and reason != told:
                told = reason
                waiting(reason)
        await asyncio.sleep(wait)
        wait = min(wait * 2, STORED_RETRY_MAX_S)
