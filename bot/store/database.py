"""The one SQLite connection: pragmas, numbered migrations, serialised transactions, busy retries.

Every concern module of the store goes through `Database`, so the WAL/foreign-key set-up and the
handling of `database is locked` (another process, such as the CLI next to the running bot) live in
one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.settings import database_file

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^V(\d+)__\w+\.sql$")
CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`]?(\w+)", re.IGNORECASE)
DROP_TABLE = re.compile(r"DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?[\"`]?(\w+)", re.IGNORECASE)
RENAME_TABLE = re.compile(r"ALTER\s+TABLE\s+[\"`]?(\w+)[\"`]?\s+RENAME\s+TO\s+[\"`]?(\w+)", re.IGNORECASE)
# SQLite's `application_id` of a Model Scout database ("MSCT"), set with the first migration.
APPLICATION_ID = 0x4D53_4354
# The migrations were once numbered V1, V3, V4, V5, V8; they are 1..5 now. A database without the application
# id still counts that way, and its version is translated once, in the transaction of its next migration.
OLD_NUMBERS = {0: 0, 1: 1, 3: 2, 4: 3, 5: 4, 8: 5}
BUSY_RETRIES = 8
BUSY_FIRST_WAIT_S = 0.05
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database could not be opened or migrated; the message says which file and why."""


class DatabaseBusy(StoreError, sqlite3.OperationalError):
    """Another process held the write lock through every retry. Still an `OperationalError` saying "locked",
    so callers that retry busy databases keep recognising it."""


def utc_now() -> str:
    """The one timestamp format of the store: ISO-8601 UTC to the millisecond, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_busy(error: BaseException) -> bool:
    """Whether another connection holds the lock: worth waiting for, unlike every other SQLite error."""
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


async def connect(target: Path | str, *, what: str = "database", uri: bool = False) -> aiosqlite.Connection:
    """An aiosqlite connection in autocommit mode, or a `StoreError` naming `what` and the file.

    The file is opened once in a plain thread first: when aiosqlite's own connect fails, its worker thread
    outlives the event loop and prints an "Event loop is closed" traceback after the one-line error.
    """
    try:
        await asyncio.to_thread(lambda: sqlite3.connect(target, uri=uri).close())
        return await aiosqlite.connect(target, isolation_level=None, uri=uri)
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"cannot open {what} {_display(target)}: {error}") from None


@asynccontextmanager
async def connected(
    target: Path | str, *, what: str = "database", uri: bool = False
) -> AsyncIterator[aiosqlite.Connection]:
    """`connect`, closed on the way out."""
    connection = await connect(target, what=what, uri=uri)
    try:
        yield connection
    finally:
        await connection.close()


def _display(target: Path | str) -> str:
    """A file name for an error line: a `file:` URI is shown as the path it names."""
    text = str(target)
    return text.removeprefix("file://").split("?", 1)[0] if text.startswith("file:") else text


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
    async def open(cls, path: Path | str, *, create: bool = True) -> Database:
        """Open and migrate the database at `path`; with `create=False` a missing file is an error, not a new database.

        A file this code cannot use (not SQLite, a newer schema, a missing table) is refused before anything
        is written to it.
        """
        try:
            path = database_file(Path(path))
        except ValueError as error:
            raise StoreError(f"cannot open database: {error}") from None
        if not create and not path.is_file():
            raise StoreError(f"no database at {path}: run `scout scan` or start the bot first, or pass --database")
        try:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot open database {path}: {error}") from None
        connection = await connect(path)
        connection.row_factory = aiosqlite.Row
        database = cls(connection, path)
        try:
            await database._check_schema()
            await database._configure()
            await database._migrate()
            await database._check_tables()
        except (sqlite3.Error, StoreError) as error:
            await connection.close()
            if isinstance(error, StoreError):
                raise
            raise StoreError(f"cannot prepare database {path}: {error}") from None
        return database

    async def close(self) -> None:
        """Close the connection; the last one out checkpoints the write-ahead log into the file."""
        await self._conn.close()

    async def _configure(self) -> None:
        await self._conn.execute("PRAGMA journal_mode = WAL")
        await self._conn.execute("PRAGMA foreign_keys = ON")
        await self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await self._conn.execute("PRAGMA synchronous = NORMAL")

    async def _pragma(self, name: str) -> int:
        row = await (await self._conn.execute(f"PRAGMA {name}")).fetchone()
        assert row is not None  # the pragma answers one row on every SQLite database
        return int(row[0])

    async def schema_version(self) -> int:
        """The number of the last migration applied (SQLite's `user_version`, in today's numbering)."""
        version = await self._pragma("user_version")
        if await self._pragma("application_id") == APPLICATION_ID:
            return version
        return OLD_NUMBERS.get(version, version)

    async def _migrate(self) -> None:
        """Apply the migrations newer than the schema version in one transaction: a failed upgrade leaves the old
        schema. The same transaction stamps the application id, so an old numbering is translated exactly once."""
        current = await self.schema_version()
        pending = [(number, sql) for number, sql in _migrations() if number > current]
        stamped = await self._pragma("application_id") == APPLICATION_ID
        if not pending and stamped:
            return
        async with self.transaction() as tx:
            for number, sql in pending:
                for statement in _statements(sql):
                    await tx.execute(statement)
                log.info("database %s migrated to schema version %d", self.path.name, number)
            await tx.execute(f"PRAGMA user_version = {pending[-1][0] if pending else current}")
            await tx.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    async def _check_schema(self) -> None:
        """Refuse a database written by a newer Model Scout: migrating or writing it could lose what it holds."""
        current, known = await self.schema_version(), _migrations()[-1][0]
        if current > known:
            raise StoreError(
                f"database {self.path} has schema version {current}, newer than this Model Scout knows ({known}): "
                "upgrade Model Scout or restore a backup"
            )

    async def _check_tables(self) -> None:
        """Every table the migrations create must be there: a damaged or foreign file fails here, not mid-poll."""
        rows = await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        missing = sorted(expected_tables() - {row[0] for row in rows})
        if missing:
            raise StoreError(
                f"database {self.path} lacks the table(s) {', '.join(missing)}: "
                "it is damaged or not a Model Scout database; restore a backup or point DATABASE_PATH elsewhere"
            )

    async def backup_to(self, target: Path) -> None:
        """Copy the database to `target` with SQLite's online backup API: a consistent snapshot, even while
        another process (the running bot) writes. The copy is written beside `target` and renamed into place,
        so a failed backup never leaves a half-written file under the backup's name."""
        partial = target.with_name(target.name + ".partial")
        _remove_quietly(partial)
        try:
            async with connected(partial, what="backup") as destination:
                await self._with_busy_retry(self._conn.backup, destination)
                await destination.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            partial.replace(target)
        except OSError as error:
            raise StoreError(f"cannot write backup {target}: {error.strerror or error}") from None
        finally:
            _remove_quietly(partial)

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
                if not is_busy(error):
                    raise
                if attempt == BUSY_RETRIES - 1:
                    raise DatabaseBusy(
                        f"database {self.path} is locked: another process held it through {BUSY_RETRIES} retries"
                    ) from None
                log.warning("database busy, retrying in %.2fs", wait)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Every row, retried while the database is busy."""
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        """The first row or None, retried while the database is busy."""
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        return await cursor.fetchone()

    async def iterate(
        self, sql: str, params: Sequence[Any] = (), batch: int = 500
    ) -> AsyncGenerator[aiosqlite.Row, None]:
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
        """One statement for many rows, all in one transaction."""
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)


async def restore_database(backup: Path, target: Path) -> None:
    """Put a backup back at `target` (the bot stopped): the backup is copied to a staging file beside `target`,
    checked and migrated there like any database, and only then copied over `target` with the backup API,
    which also takes care of `target`'s write-ahead log. The backup file itself is only read."""
    if not backup.is_file():
        raise StoreError(f"no backup at {backup}")
    staging = target.with_name(target.name + ".restoring")
    _remove_quietly(*_with_sidecars(staging))
    try:
        async with connected(staging) as copy:
            async with connected(f"{backup.resolve().as_uri()}?mode=ro", what="backup", uri=True) as source:
                try:
                    await source.backup(copy)
                except sqlite3.Error as error:
                    raise StoreError(f"cannot read backup {backup}: {error}") from None
        checked = await Database.open(staging, create=False)
        await checked.close()
        async with connected(staging) as source, connected(target) as live:
            await source.backup(live)
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"cannot restore {target}: {getattr(error, 'strerror', None) or error}") from None
    finally:
        _remove_quietly(*_with_sidecars(staging))


def _with_sidecars(path: Path) -> tuple[Path, ...]:
    """A database file and the journal files SQLite keeps beside it."""
    return (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")))


def _remove_quietly(*paths: Path) -> None:
    """Remove leftovers; where even that fails (a read-only file system), nothing could have been written."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def expected_tables() -> set[str]:
    """The tables the migrations leave, replayed in order: created, renamed and dropped."""
    tables: set[str] = set()
    for _, script in _migrations():
        for statement in _statements(script):
            if created := CREATE_TABLE.match(statement):
                tables.add(created.group(1))
            elif dropped := DROP_TABLE.match(statement):
                tables.discard(dropped.group(1))
            elif renamed := RENAME_TABLE.match(statement):
                tables.discard(renamed.group(1))
                tables.add(renamed.group(2))
    return tables


def _statements(script: str) -> list[str]:
    """Split a migration into statements; our migrations hold no semicolons inside literals or triggers."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
