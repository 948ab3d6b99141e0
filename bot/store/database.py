"""The store's connection to its database, whichever engine: a SQLite file (the default) or PostgreSQL.

`Database.open` picks the engine from its target: a path opens SQLite (`bot/store/sqlite.py`), a
`postgresql://` URL opens PostgreSQL (`bot/store/postgres.py`). Every concern module of the store goes
through this interface, with `?` placeholders (PostgreSQL's backend numbers them), so a query is written
once where the two dialects agree. Both engines give the same guarantees:

- one writer at a time: a transaction holds the database's write lock from its first statement (SQLite's
  `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), so a read followed by a write in one transaction sees
  no other writer in between, across processes too;
- a failed write is either not written at all, or written and reported as done: a lock held elsewhere
  (SQLite) or a lost connection (PostgreSQL) is retried, and what stays unavailable raises
  `DatabaseUnavailable`, which callers that must not lose a write (a member's vote) retry;
- a signal when the outbox has new work (`Transaction.signal_outbox`), seen by every process of the bot;
- a lease (`Database.lease`) that one process at a time holds, for the work only one may do (polling), and
  claims (`Database.claim`) for work one process at a time may do on one thing (probing one model).
"""

from __future__ import annotations

import asyncio
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

POSTGRESQL_SCHEMES = ("postgresql", "postgres")


class StoreError(Exception):
    """The database could not be opened, migrated or used; the message says which one and why, on one line."""


class DatabaseUnavailable(StoreError):
    """The database cannot take this now (locked elsewhere, connection lost); nothing was written, try again."""


class DatabaseDamaged(StoreError):
    """The database's pages no longer read back (a damaged file): only a backup can help."""


class DatabaseGone(StoreError):
    """The database the store writes to is no longer the one at its address (the file was deleted or replaced):
    anything written now would be lost."""


class StorageFull(DatabaseUnavailable, sqlite3.OperationalError):
    """The disk has no room for the write (nothing was written); worth retrying once space is freed. Still an
    `OperationalError` saying "full", so code that recognises SQLite's own error keeps recognising it."""


class DatabaseBusy(DatabaseUnavailable, sqlite3.OperationalError):
    """Another process held SQLite's write lock through every retry. Still an `OperationalError` saying "locked",
    so callers that retry busy databases keep recognising it."""


class Row(Protocol):
    """A result row of either engine: by column name or position."""

    def __getitem__(self, key: int | str, /) -> Any: ...


def utc_now() -> str:
    """The one timestamp format of the store: ISO-8601 UTC to the millisecond, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def containing(text: str) -> str:
    """A `LIKE … ESCAPE '\\'` pattern for any text that contains `text` literally (its own % and _ are escaped)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class Shards:
    """The shards one bot process runs: Discord puts guild g on shard (g >> 22) % count."""

    count: int
    ids: tuple[int, ...]

    def condition(self, column: str = "guild_id") -> tuple[str, tuple[int, ...]]:
        """A WHERE condition (and its parameters) keeping the rows of this process's guilds."""
        marks = ", ".join("?" for _ in self.ids)
        return f"(({column} >> 22) % ?) IN ({marks})", (self.count, *self.ids)


def is_transient(error: BaseException) -> bool:
    """Whether a failed write is worth trying again: the database was busy, unreachable or out of room, and wrote
    nothing."""
    if isinstance(error, DatabaseUnavailable):
        return True
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


def is_storage_full(error: BaseException) -> bool:
    """Whether a write failed for want of room: what a member is told differs from a busy database's."""
    return isinstance(error, StorageFull)


def is_postgresql_url(target: Path | str) -> bool:
    """Whether `target` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.split(":", 1)[0].lower() in POSTGRESQL_SCHEMES


class Transaction(ABC):
    """The open transaction handed to a `with` block: every statement in it commits together, or none does."""

    @abstractmethod
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement; returns how many rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row; sees what this transaction wrote so far."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row or None (an `INSERT … RETURNING id` gives the new id)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    def signal_outbox(self) -> None:
        """Wake the announcers of every process once this transaction commits: it left work in the outbox."""


class Lease(ABC):
    """Work that one process at a time may do (polling, probing, calibrating). `acquire` waits for it;
    `lost` is set if it is taken away while held (PostgreSQL: the lease's connection died)."""

    def __init__(self) -> None:
        self.lost = asyncio.Event()

    @abstractmethod
    async def acquire(self) -> None:
        """Wait until this process holds the lease."""

    @abstractmethod
    async def release(self) -> None:
        """Give the lease up (another process may take it at once); harmless when not held."""


class Database(ABC):
    """An open database of either engine. `outbox_changed` is set when the outbox may hold new work."""

    engine: str

    def __init__(self) -> None:
        self.outbox_changed = asyncio.Event()

    @classmethod
    async def open(cls, target: Path | str, *, create: bool = True, pool_size: int = 4) -> Database:
        """Open (and migrate) a SQLite file or, for a `postgresql://` URL, a PostgreSQL database.

        `create=False` refuses a database that does not exist yet (or has no Model Scout schema) instead of
        making one; `pool_size` is how many connections a PostgreSQL database keeps open.
        """
        if is_postgresql_url(target):
            from bot.store.postgres import PostgresDatabase

            return await PostgresDatabase.open(str(target), create=create, pool_size=pool_size)
        from bot.store.sqlite import SQLiteDatabase

        return await SQLiteDatabase.open(Path(target), create=create)

    @property
    @abstractmethod
    def name(self) -> str:
        """The database as an error message or a log line shows it: the file, or the URL without its password."""

    @abstractmethod
    async def close(self) -> None:
        """Close every connection; the database is unusable afterwards."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The number of the last migration applied."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction holding the write lock; rolled back if the block raises."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a read."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a read, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> AsyncGenerator[Row, None]:
        """Yield rows in batches, so an export of millions of rows never holds them all."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns how many rows it changed."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One `INSERT … RETURNING id` in its own transaction; returns the new row's id."""
        async with self.transaction() as tx:
            row = await tx.fetchone(sql, params)
        assert row is not None, "insert() needs an INSERT … RETURNING id"
        return int(row[0])

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows, all in one transaction."""
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    @abstractmethod
    async def table_names(self) -> set[str]:
        """The tables in the database (the store's own among them)."""

    @abstractmethod
    def lease(self, name: str) -> Lease:
        """The lease called `name`, not yet acquired."""

    @abstractmethod
    def claim(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold `name` (e.g. one model's probe run) for the block, across processes; waits while another holds it.
        Yields whether it had to wait, so the caller can use the other's result instead of repeating the work."""

    async def wait_for_outbox(self, timeout: float) -> None:
        """Sleep until some writer (of any process) signals outbox work, or until `timeout`."""
        try:
            await asyncio.wait_for(self.outbox_changed.wait(), timeout)
        except TimeoutError:
            pass
        self.outbox_changed.clear()

    @abstractmethod
    async def backup_to(self, target: Path) -> None:
        """Write a consistent copy of the whole database to the file `target`."""

    def missing(self) -> str | None:
        """Why the database at the store's address is no longer the one it writes to (a SQLite file deleted or
        replaced), or None while it is. A server database (PostgreSQL) cannot be swapped under a connection."""
        return None

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
