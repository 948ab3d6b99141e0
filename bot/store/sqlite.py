"""The SQLite engine: one connection to one file, pragmas, migrations, serialised transactions, busy retries,
backup and restore.

The WAL/foreign-key set-up and the handling of `database is locked` (another process, such as the CLI
next to the running bot) live here, in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiosqlite

from bot.settings import database_file
from bot.store.database import (
    Database,
    DatabaseBusy,
    DatabaseDamaged,
    DatabaseGone,
    Lease,
    Row,
    StorageFull,
    StoreError,
    Transaction,
)
from bot.store.schema import expected_tables, latest_version, migrations, statements

log = logging.getLogger(__name__)

ENGINE = "sqlite"
# SQLite's `application_id` of a Model Scout database ("MSCT"), set with the first migration.
APPLICATION_ID = 0x4D53_4354
# The migrations were once numbered V1, V3, V4, V5, V8; they are 1..5 now. A database without the application
# id still counts that way, and its version is translated once, in the transaction of its next migration.
OLD_NUMBERS = {0: 0, 1: 1, 3: 2, 4: 3, 5: 4, 8: 5}
# Tables whose ids reach Discord (in custom ids, footers and nonces): a restore keeps them from being handed out again.
SEQUENCED_TABLES = ("announcements", "alerts")
# When the database a restore replaces cannot be read, nobody knows which ids its channels show: jump this far.
RESTORE_ID_GAP = 1_000_000
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_RETRIES = 8
BUSY_FIRST_WAIT_S = 0.05
BUSY_TIMEOUT_MS = 5000
LEASE_RETRY_S = 0.5


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


class SQLiteTransaction(Transaction):
    """Statements on the one connection, inside `BEGIN IMMEDIATE`."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._conn = connection
        self.outbox_signalled = False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement; returns how many rows it changed."""
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows."""
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row, as this transaction sees them."""
        cursor = await self._conn.execute(sql, params)
        return list(await cursor.fetchall())

    def signal_outbox(self) -> None:
        """One process per SQLite file runs the announcer: the local event, set after the commit, is enough."""
        self.outbox_signalled = True


class SQLiteDatabase(Database):
    """An open SQLite file. Writes are serialised by an asyncio lock: one connection, one transaction at a time."""

    engine = ENGINE

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        super().__init__()
        self._conn = connection
        self.path = path
        self._write_lock = asyncio.Lock()
        self._identity = _identity(path)

    @property
    def name(self) -> str:
        """The file."""
        return str(self.path)

    @classmethod
    async def open(cls, path: Path | str, *, create: bool = True, pool_size: int = 1) -> SQLiteDatabase:
        """Open and migrate the database at `path`; with `create=False` a missing file is an error, not a new database.
        A SQLite file has one connection, whatever `pool_size` says.

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
        except BaseException as error:
            # Whatever went wrong, the connection's thread must end with it, or the process never exits.
            await connection.close()
            if isinstance(error, StoreError) or not isinstance(error, Exception):
                raise
            if _is_damage(error):
                raise damaged(path, error) from None
            if isinstance(error, sqlite3.Error):
                raise StoreError(f"cannot prepare database {path}: {error}") from None
            raise
        return database

    async def close(self) -> None:
        """Close the connection; the last one out checkpoints the write-ahead log into the file."""
        await self._conn.close()

    def missing(self) -> str | None:
        """Why the file at `path` is no longer the one this connection writes to (deleted, or replaced by another
        file), or None while it is. SQLite keeps writing to an unlinked file without a word: whatever it wrote
        there would be gone at the next start."""
        now = _identity(self.path)
        if now is None:
            return f"database {self.path} was deleted while in use"
        if now != self._identity:
            return f"database {self.path} was replaced by another file while in use"
        return None

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
        pending = [(number, sql) for number, sql in migrations(ENGINE) if number > current]
        stamped = await self._pragma("application_id") == APPLICATION_ID
        if not pending and stamped:
            return
        async with self.transaction() as tx:
            for number, sql in pending:
                for statement in statements(sql):
                    await tx.execute(statement)
                log.info("database %s migrated to schema version %d", self.path.name, number)
            await tx.execute(f"PRAGMA user_version = {pending[-1][0] if pending else current}")
            await tx.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    async def _check_schema(self) -> None:
        """Refuse a database written by a newer Model Scout (migrating or writing it could lose what it holds), and
        another program's database (migrating it would add our tables to someone else's file)."""
        current, known = await self.schema_version(), latest_version(ENGINE)
        if current > known:
            raise StoreError(
                f"database {self.path} has schema version {current}, newer than this Model Scout knows ({known}): "
                "upgrade Model Scout or restore a backup"
            )
        if current == 0 and await self.fetchone("SELECT name FROM sqlite_master LIMIT 1") is not None:
            raise StoreError(
                f"database {self.path} is not a Model Scout database (it holds another program's tables): "
                "point DATABASE_PATH or --database at Model Scout's file"
            )

    async def table_names(self) -> set[str]:
        """The tables in the file."""
        rows = await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}

    async def _check_tables(self) -> None:
        """Every table the migrations create must be there: a damaged or foreign file fails here, not mid-poll."""
        missing = sorted(expected_tables(ENGINE) - await self.table_names())
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
    async def transaction(self) -> AsyncIterator[SQLiteTransaction]:
        """BEGIN IMMEDIATE … COMMIT, retried while another process holds the write lock. Refused (`DatabaseGone`)
        once the file was deleted or replaced; a write that finds no room raises `StorageFull`."""
        async with self._write_lock:
            gone = self.missing()
            if gone is not None:
                raise DatabaseGone(f"{gone}; nothing more is written to it")
            await self._with_busy_retry(self._conn.execute, "BEGIN IMMEDIATE")
            tx = SQLiteTransaction(self._conn)
            try:
                yield tx
            except BaseException as error:
                await self._roll_back()
                if _no_room(error):
                    raise _full(self.path, error) from None
                raise
            try:
                await self._with_busy_retry(self._conn.execute, "COMMIT")
            except sqlite3.OperationalError as error:
                await self._roll_back()
                if _no_room(error):
                    raise _full(self.path, error) from None
                raise
        if tx.outbox_signalled:
            self.outbox_changed.set()

    async def _roll_back(self) -> None:
        """Roll back what is open; after some failures (a full disk at COMMIT) SQLite has already done it."""
        with contextlib.suppress(sqlite3.OperationalError):
            await self._conn.execute("ROLLBACK")

    async def _with_busy_retry(self, call: Any, *args: Any) -> Any:
        wait = BUSY_FIRST_WAIT_S
        for attempt in range(BUSY_RETRIES):
            try:
                return await call(*args)
            except UnicodeDecodeError as error:
                raise damaged(self.path, error) from None
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if attempt == BUSY_RETRIES - 1:
                    raise DatabaseBusy(
                        f"database {self.path} is locked: another process held it through {BUSY_RETRIES} retries"
                    ) from None
                log.warning("database busy, retrying in %.2fs", wait)
                await asyncio.sleep(wait)
                wait *= 2
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row, retried while the database is busy."""
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row or None, retried while the database is busy."""
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        row: Row | None = await cursor.fetchone()
        await cursor.close()
        return row

    async def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> AsyncGenerator[Row, None]:
        """Yield rows in batches, so an export of millions of rows never holds them all."""
        cursor = await self._with_busy_retry(self._conn.execute, sql, params)
        try:
            while rows := await cursor.fetchmany(batch):
                for row in rows:
                    yield row
        finally:
            await cursor.close()

    async def ids_handed_out(self) -> dict[str, int]:
        """The highest id each AUTOINCREMENT table ever handed out (SQLite's `sqlite_sequence`), which may be above
        its largest row's: a copy to another database continues above it, so no card's id is handed out again."""
        if "sqlite_sequence" not in await self.table_names():
            return {}
        return {row[0]: int(row[1]) for row in await self.fetchall("SELECT name, seq FROM sqlite_sequence")}

    def lease(self, name: str) -> Lease:
        """A lock on a file beside the database (`<file>.<name>.lease`): the kernel frees it when the holder dies."""
        return FileLease(self.path.with_name(f"{self.path.name}.{name}.lease"))

    @asynccontextmanager
    async def claim(self, name: str) -> AsyncIterator[bool]:
        """One bot runs on a SQLite file, and it never starts the same work twice itself: nothing to wait for."""
        yield False


class FileLease(Lease):
    """An exclusive `flock` on a small file: one process at a time on this machine, released at its death."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: IO[bytes] | None = None

    async def acquire(self) -> None:
        """Try the lock every half second until it is ours."""
        while True:
            handle = self.path.open("ab")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                await asyncio.sleep(LEASE_RETRY_S)
                continue
            self._file = handle
            self.lost.clear()
            return

    async def release(self) -> None:
        """Unlock and close; the file stays for the next holder."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


async def restore_database(backup: Path, target: Path) -> Path | None:
    """Put a backup back at `target` (the bot stopped). The backup is checked first (a complete, intact Model Scout
    database this version can use) and `target` is not touched when it fails. It is then copied to a staging file
    beside `target`, migrated there like any database, given id sequences above every id `target` ever handed out
    (cards in the channels carry them), and only then copied over `target` with the backup API, which also takes
    care of `target`'s write-ahead log. The backup file itself is only read.

    A `target` that cannot be read (the damage a restore is for) is set aside, renamed with its journal files, and
    its new path returned, so nothing is lost that someone might still want to rescue."""
    if not backup.is_file():
        raise StoreError(f"no backup at {backup}")
    await asyncio.to_thread(check_backup, backup)
    staging = target.with_name(target.name + ".restoring")
    _remove_quietly(*_with_sidecars(staging))
    try:
        async with connected(staging) as copy:
            async with connected(f"{backup.resolve().as_uri()}?mode=ro", what="backup", uri=True) as source:
                try:
                    await source.backup(copy)
                except sqlite3.Error as error:
                    raise StoreError(f"cannot read backup {backup}: {error}") from None
        checked = await SQLiteDatabase.open(staging, create=False)
        await checked.close()
        held = await asyncio.to_thread(_ids_handed_out, target)
        await asyncio.to_thread(_continue_sequences, staging, held)
        set_aside = _set_aside(target) if held is None else None
        async with connected(staging) as source, connected(target) as live:
            await source.backup(live)
        return set_aside
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"cannot restore {target}: {getattr(error, 'strerror', None) or error}") from None
    finally:
        _remove_quietly(*_with_sidecars(staging))


def check_backup(backup: Path) -> int:
    """The schema version of a backup that is a complete, intact Model Scout database, or a `StoreError` saying why
    not: the file is only read (a plain connection in this thread, closed whatever happens)."""
    with backup.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreError(f"{backup} is not a Model Scout database (not an SQLite file); nothing was restored")
    try:
        with contextlib.closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return _checked_schema(backup, connection)
    except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
        raise damaged(backup, error, what="backup") from None


def _checked_schema(backup: Path, connection: sqlite3.Connection) -> int:
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    stored = connection.execute("PRAGMA user_version").fetchone()[0]
    version = stored if application_id == APPLICATION_ID else OLD_NUMBERS.get(stored, 0) if not application_id else 0
    if version == 0:
        raise StoreError(f"{backup} is not a Model Scout database (no Model Scout schema in it); nothing was restored")
    known = latest_version(ENGINE)
    if version > known:
        raise StoreError(
            f"backup {backup} has schema version {version}, newer than this Model Scout knows ({known}): "
            "upgrade Model Scout first; nothing was restored"
        )
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted(expected_tables(ENGINE, up_to=version) - tables)
    if missing:
        raise StoreError(
            f"backup {backup} lacks the table(s) {', '.join(missing)}: it is damaged or not a Model Scout database; "
            "nothing was restored"
        )
    problems = [row[0] for row in connection.execute("PRAGMA integrity_check(5)")]
    if problems != ["ok"]:
        raise damaged(backup, "; ".join(problems), what="backup")
    return int(version)


def _ids_handed_out(target: Path) -> dict[str, int] | None:
    """The highest id of each sequenced table `target` ever handed out, or None when it cannot be read."""
    if not target.is_file():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            return {table: _highest_id(connection, table) for table in SEQUENCED_TABLES}
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        return None


def _highest_id(connection: sqlite3.Connection, table: str) -> int:
    """The sequence's value where the table has one, else its highest id (a schema from before AUTOINCREMENT)."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    highest = 0
    if table in tables:
        highest = connection.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
    if "sqlite_sequence" in tables:
        row = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        highest = max(highest, row[0] if row else 0)
    return int(highest)


def _continue_sequences(staging: Path, held: dict[str, int] | None) -> None:
    """Make the restored sequences continue above every id the replaced database handed out; when it could not be
    read, above the backup's own ids by RESTORE_ID_GAP. A card posted after the backup then never shares its id."""
    with contextlib.closing(sqlite3.connect(staging)) as connection, connection:
        for table in SEQUENCED_TABLES:
            own = _highest_id(connection, table)
            floor = own + RESTORE_ID_GAP if held is None else max(own, held.get(table, 0))
            updated = connection.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (floor, table))
            if updated.rowcount == 0:
                connection.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, floor))


def damaged(path: Path, error: BaseException | str, *, what: str = "database") -> DatabaseDamaged:
    """The one line for a file whose pages do not read back, saying what to do about it."""
    detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    if what == "backup":
        advice = "nothing was restored; restore a backup taken before the damage"
    else:
        advice = "restore a backup (`scout restore`) or point DATABASE_PATH elsewhere"
    return DatabaseDamaged(f"{what} {path} is damaged ({detail}): {advice}")


def _is_damage(error: BaseException) -> bool:
    """Whether SQLite (or the text it hands back) says the file's pages are broken, not that it is busy or absent."""
    if isinstance(error, UnicodeDecodeError):
        return True
    text = str(error).lower()
    return isinstance(error, sqlite3.DatabaseError) and "malformed" in text


def _set_aside(target: Path) -> Path:
    """Rename an unreadable database and its journal files out of the way, under a name that says when and why."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = target.with_name(f"{target.name}.damaged-{stamp}")
    for path, moved in zip(_with_sidecars(target), _with_sidecars(kept), strict=True):
        if path.exists():
            path.replace(moved)
    return kept


def _identity(path: Path) -> tuple[int, int] | None:
    """The file's device and inode: what stays the same while the path names the same file."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _no_room(error: BaseException) -> bool:
    """A write failed for want of room (a full disk, SQLITE_FULL) or the file could not be extended (a write error
    such as EFBIG, SQLITE_IOERR): nothing was written, and it is worth retrying once space is freed."""
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("disk is full" in text or "disk i/o error" in text)


def _full(path: Path, error: BaseException) -> StorageFull:
    return StorageFull(
        f"database {path} could not be written: the disk is full or failing ({str(error).splitlines()[0]})"
    )


def _with_sidecars(path: Path) -> tuple[Path, ...]:
    """A database file and the journal files SQLite keeps beside it."""
    return (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")))


def _remove_quietly(*paths: Path) -> None:
    """Remove leftovers; where even that fails (a read-only file system), nothing could have been written."""
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
