"""Another OS process holding a database's write lock, as `scout scan` or a backup next to the bot would.

On a SQLite file the child takes the lock with `BEGIN IMMEDIATE`; on PostgreSQL (a `postgresql://` URL) it
takes the store's write lock, the advisory lock every write transaction waits for. It keeps it until told
to let go; it then prints the UTC time (in the store's format) just before, so a caller can tell what was
written after.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.store.database import is_postgresql_url

HOLD_WRITE_LOCK = """
import datetime, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
print(datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), flush=True)
connection.execute("COMMIT")
"""


HOLD_POSTGRES_WRITE_LOCK = """
import asyncio, datetime, sys
import asyncpg
from bot.store.postgres import WRITE_LOCK

async def main():
    connection = await asyncpg.connect(sys.argv[1])
    await connection.execute("SELECT pg_advisory_lock($1)", WRITE_LOCK)
    print("locked", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"), flush=True)
    await connection.execute("SELECT pg_advisory_unlock($1)", WRITE_LOCK)
    await connection.close()

asyncio.run(main())
"""


@asynccontextmanager
async def write_lock_held_elsewhere(database: Path | str) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process holding the write lock of a SQLite file or a PostgreSQL URL; `release` it to let go
    (leaving the block kills it)."""
    script = HOLD_POSTGRES_WRITE_LOCK if is_postgresql_url(database) else HOLD_WRITE_LOCK
    locker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
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
