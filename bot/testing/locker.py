"""Another OS process holding a SQLite database's write lock, as `scout scan` or a backup next to the bot would.

The child takes the lock with `BEGIN IMMEDIATE` and keeps it until told to commit; it then prints the
UTC time (in the store's format) just before committing, so a caller can tell what was written after.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

HOLD_WRITE_LOCK = """
import datetime, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
print(datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), flush=True)
connection.execute("COMMIT")
"""


@asynccontextmanager
async def write_lock_held_elsewhere(database: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process holding the write lock; `release` it to commit (leaving the block kills it)."""
    locker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD_WRITE_LOCK,
        str(database),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert locker.stdout is not None
        assert (await asyncio.wait_for(locker.stdout.readline(), 30)).strip() == b"locked"
        yield locker
    finally:
        if locker.returncode is None:
            locker.kill()
        await locker.wait()


async def release(locker: asyncio.subprocess.Process) -> str:
    """Commit the other process's transaction; returns the time (store format) just before it did."""
    assert locker.stdin is not None and locker.stdout is not None
    locker.stdin.write(b"go\n")
    await locker.stdin.drain()
    released = (await asyncio.wait_for(locker.stdout.readline(), 30)).decode().strip()
    assert await locker.wait() == 0
    return released
