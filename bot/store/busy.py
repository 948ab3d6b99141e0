"""Waiting out a database that another process holds, or that is out of reach, for a write a member waits for.

`Database` already retries a busy database for a few seconds (SQLite's busy timeout, then its own retries;
PostgreSQL's lock waits and reconnects) and then raises `DatabaseUnavailable` (`DatabaseBusy` on SQLite), having
written nothing. A member's vote or note must not be lost to a longer lock (a backup, `scout scan` next to the
bot) or a longer outage (a PostgreSQL restart or failover): `until_stored` keeps trying for as long as Discord
lets the bot answer the member.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.store.database import is_transient

log = logging.getLogger(__name__)

STORED_RETRY_FIRST_S = 0.2
STORED_RETRY_MAX_S = 5.0
STORED_GIVE_UP_S = 14 * 60.0  # an interaction's token lasts 15 minutes: past that the member cannot be told

T = TypeVar("T")


async def until_stored(write: Callable[[], Awaitable[T]], what: str) -> T:
    """Run a write until the database takes it, waiting out another process's lock past the store's own retries;
    only a lock held elsewhere for 14 minutes (or any other error) gives up. `what` names the write in the log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STORED_GIVE_UP_S
    wait = STORED_RETRY_FIRST_S
    while True:
        try:
            return await write()
        except Exception as error:
            if not is_transient(error) or loop.time() + wait > deadline:
                raise
            log.warning("%s waits for the database (busy or unreachable); retrying in %.1fs", what, wait)
        await asyncio.sleep(wait)
        wait = min(wait * 2, STORED_RETRY_MAX_S)
