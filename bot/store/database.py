"""The one SQLite connection: pragmas, numbered migrations, serialised transactions, busy retries.

Every concern module of the store goes through `Database`, so the WAL/foreign-key set-up and the
handling of `database is locked` (another process, such as the CLI next to the running bot) live in
one place.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^V(\d+)__\w+\.sql$")
BUSY_RETRIES = 8
BUSY_FIRST_WAIT_S = 0.05


class StoreError(Exception):
    """The database could not be opened or migrated; the message says which file and why."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


def _migrations() -> list[tuple[int, str]]:
    found = []
    for entry in resources.files("bot.store").joinpath("migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """An open SQLite file. Writes are serialised by an asyncio lock: one connection, one transaction at a time."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._conn = connection
        self.path = path
        self._write_lock = asyncio.Lock()
        self.outbox_changed = asyncio.Event()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        try:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open database {path}: {error}") from None
        connection.row_factory = aiosqlite.Row
        database = cls(connection, path)
        try:
            await database._configure()
            await database._migrate()
        except sqlite3.Error as error:
            await connection.close()
            raise StoreError(f"cannot prepare database {path}: {error}") from None
        return database

    async def close(self) -> None:
        await self._conn.close()

    async def _configure(self) -> None:
        await self._conn.execute("PRAGMA journal_mode = WAL")
        await self._conn.execute("PRAGMA foreign_keys = ON")
        await self._conn.execute("PRAGMA busy_timeout = 5000")
        await self._conn.execute("PRAGMA synchronous = NORMAL")

    async def schema_version(self) -> int:
        row = await (await self._conn.execute("PRAGMA user_version")).fetchone()
        return int(row[0])

    async def _migrate(self) -> None:
        """Apply every migration newer than `user_version` in one transaction, so a failed upgrade leaves the old schema."""
        current = await self.schema_version()
        pending = [(number, sql) for number, sql in _migrations() if number > current]
        if not pending:
            return
        async with self.transaction() as tx:
            for number, sql in pending:
                for statement in _statements(sql):
                    await tx.execute(statement)
                await tx.execute(f"PRAGMA user_version = {number}")
                log.info("database %s migrated to schema version %d", self.path.name, number)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, retried while another process holds the write lock."""
        async with self._write_lock:
            await self._begin_immediate()
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._with_busy_retry(self._conn.execute, "COMMIT")

    async def _begin_immediate(self) -> None:
        await self._with_busy_retry(self._conn.execute, "BEGIN IMMEDIATE")

    async def _with_busy_retry(self, call: Any, *args: Any) -> Any:
        wait = BUSY_FIRST_WAIT_S
        for attempt in range(BUSY_RETRIES):
            try:
                return await call(*args)
            except sqlite3.OperationalError as error:
                if not is_busy(error) or attempt == BUSY_RETRIES - 1:
                    raise
                log.warning("database busy, retrying in %.2fs", wait)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        return await cursor.fetchone()

    async def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> AsyncIterator[aiosqlite.Row]:
        """Yield rows in batches, so an export of millions of rows never holds them all."""
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        try:
            while rows := await cursor.fetchmany(batch):
                for row in rows:
                    yield row
        finally:
            await cursor.close()

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns lastrowid."""
        async with self.transaction() as tx:
            cursor = await tx.execute(sql, params)
            return cursor.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)


def _statements(script: str) -> list[str]:
    """Split a migration into statements; our migrations hold no semicolons inside literals or triggers."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
