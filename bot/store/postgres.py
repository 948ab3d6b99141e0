"""The PostgreSQL engine (asyncpg): a pool of connections, migrations, one writer at a time, reconnects,
LISTEN/NOTIFY for the outbox, advisory-lock leases and claims, and COPY for `scout migrate`.

- **One writer at a time.** Every write transaction first takes a transaction-level advisory lock, so the
  store's read-then-write transactions keep SQLite's semantics across processes; reads never wait.
- **A lost connection loses nothing acknowledged.** A read or a one-statement write whose connection drops is
  retried on a new connection. A transaction whose connection drops before COMMIT raises
  `DatabaseUnavailable` (nothing was written; callers such as a member's vote retry it); one that drops
  *during* COMMIT is settled by asking the server what became of its transaction id (`txid_status`), so a
  write is never reported lost when it landed, nor done when it did not.
- **The URL is a secret**: every message shows it with the password masked.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import asyncpg

from bot.settings import masked_url
from bot.store.database import Database, DatabaseUnavailable, Lease, Row, StorageFull, StoreError, Transaction
from bot.store.schema import expected_tables, latest_version, migrations, statements

log = logging.getLogger(__name__)

ENGINE = "postgresql"
SCHEMA_TABLE = "model_scout_schema"
OUTBOX_CHANNEL = "model_scout_outbox"
# Advisory lock keys: "MSCT" and a number, far from what another application would pick.
WRITE_LOCK = 0x4D53_4354_0001
MIGRATION_LOCK = 0x4D53_4354_0002
LEASE_KEYS = {"poller": 0x4D53_4354_0010}
# Claims are two-key advisory locks (this 32-bit namespace, then the name's hash): a key space apart from the above.
CLAIM_NAMESPACE = 0x4D53_4354
CONNECT_TIMEOUT_S = 10.0
RECONNECT_TRIES = 6
RECONNECT_FIRST_WAIT_S = 0.1
LEASE_CHECK_S = 5.0
# A writer waits this long for another's write lock (or any lock inside its transaction), then lets its pooled
# connection go and tries again, so a lock held elsewhere (a stuck session) cannot take every connection.
WRITE_LOCK_WAIT = "5s"
WRITERS_IN_FLIGHT = 2
LISTEN_RETRY_S = 1.0
# A dead lease holder's connection is found by the server within about 10 + 3 × 5 seconds, not TCP's 2 hours.
KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # What asyncpg raises for a query sent just as the server's "terminating connection" message arrives.
    asyncpg.InternalClientError,
)
PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?(\d*)")


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """The store's `?` (or `?N`) placeholders as PostgreSQL's `$N`; text inside quotes is left alone."""
    counter = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0).startswith("'"):
            return match.group(0)
        if match.group(1):
            return f"${match.group(1)}"
        counter += 1
        return f"${counter}"

    return PLACEHOLDER.sub(replace, sql)


def _rowcount(status: str) -> int:
    """asyncpg answers a write with its command tag ("UPDATE 3", "INSERT 0 1"): the last number is the count."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _numeric(text: str) -> int | float:
    """SUM over integers is NUMERIC in PostgreSQL: give it back as SQLite does, an int (or a float)."""
    return int(text) if text.lstrip("-").isdigit() else float(text)


def one_line(error: BaseException) -> str:
    """A driver error as one short line."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:300]


class PostgresTransaction(Transaction):
    """Statements on one pooled connection inside BEGIN … COMMIT, holding the write lock."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement; returns how many rows it changed."""
        return _rowcount(await self._conn.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows (an empty set sends nothing)."""
        batch = [tuple(row) for row in rows]
        if batch:
            await self._conn.executemany(numbered(sql), batch)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row, as this transaction sees them."""
        return list(await self._conn.fetch(numbered(sql), *params))

    def signal_outbox(self) -> None:
        """Set by the caller; `PostgresDatabase.transaction` sends the NOTIFY inside the transaction."""
        self.outbox_signalled = True

    outbox_signalled = False


class PostgresDatabase(Database):
    """A PostgreSQL database behind a connection pool."""

    engine = ENGINE

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        super().__init__()
        self._pool = pool
        self._url = url
        self._listener: asyncio.Task[None] | None = None
        self._closed = False
        # Writers of this process queue here, before taking a pooled connection: two at a time, one holding the
        # database's write lock and one waiting on the server so the lock passes on without a round trip (a single
        # writer cast 237 votes/s, two cast 713/s), and the rest of the pool stays free for reads.
        self._write_queue = asyncio.Semaphore(WRITERS_IN_FLIGHT)

    @property
    def name(self) -> str:
        """The URL with its password masked."""
        return masked_url(self._url)

    @classmethod
    async def open(cls, target: Path | str, *, create: bool = True, pool_size: int = 4) -> PostgresDatabase:
        """Connect, then check and migrate the schema; every failure is one `StoreError` line without the password."""
        url = str(target)
        shown = masked_url(url)
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=CONNECT_TIMEOUT_S,
                init=_prepare_connection,
                server_settings={"application_name": "model-scout"},
            )
        except (*CONNECTION_ERRORS, asyncpg.PostgresError, ValueError) as error:
            raise StoreError(f"cannot connect to database {shown}: {_without(url, one_line(error))}") from None
        assert pool is not None
        database = cls(pool, url)
        try:
            version = await database.schema_version()
            if not create and version == 0:
                raise StoreError(
                    f"no Model Scout database at {shown}: start the bot or run `scout scan` first, "
                    "or `scout migrate --to` it from SQLite"
                )
            known = latest_version(ENGINE)
            if version > known:
                raise StoreError(
                    f"database {shown} has schema version {version}, newer than this Model Scout knows ({known}): "
                    "upgrade Model Scout or restore a backup"
                )
            await database._migrate()
            missing = sorted(expected_tables(ENGINE) - await database.table_names())
            if missing:
                raise StoreError(
                    f"database {shown} lacks the table(s) {', '.join(missing)}: it is damaged or not a Model Scout "
                    "database; restore a backup or point DATABASE_URL elsewhere"
                )
        except BaseException as error:
            await pool.close()
            if isinstance(error, StoreError):
                raise
            if isinstance(error, asyncpg.PostgresError):
                raise StoreError(f"cannot prepare database {shown}: {one_line(error)}") from None
            raise
        return database

    async def close(self) -> None:
        """Stop listening and close the pool; a transaction still open is rolled back by the server."""
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._pool.close()

    # --- schema --------------------------------------------------------------------------------

    async def schema_version(self) -> int:
        """The last migration applied, from the one-row schema table (0 for an empty database)."""
        exists = await self.fetchone("SELECT to_regclass(?) IS NOT NULL", (SCHEMA_TABLE,))
        if exists is None or not exists[0]:
            return 0
        row = await self.fetchone(f"SELECT version FROM {SCHEMA_TABLE}")
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        """Apply the pending migrations in one transaction, under a lock, so processes starting together migrate
        once: the second waits, then finds nothing left to do."""
        async with self._connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await connection.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version INTEGER NOT NULL)")
            current = await connection.fetchval(f"SELECT version FROM {SCHEMA_TABLE}")
            if current is None:
                await connection.execute(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES (0)")
                current = 0
            pending = [(number, sql) for number, sql in migrations(ENGINE) if number > current]
            for number, sql in pending:
                for statement in statements(sql):
                    await connection.execute(statement)
                await connection.execute(f"UPDATE {SCHEMA_TABLE} SET version = $1", number)
                log.info("database %s migrated to schema version %d", self.name, number)

    async def table_names(self) -> set[str]:
        """The tables of the current schema."""
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE'"
        )
        return {row[0] for row in rows}

    # --- connections ---------------------------------------------------------------------------

    async def _acquire(self) -> asyncpg.Connection:
        """A pooled connection; one the server refuses to open (the database dropped, too many clients) is as
        unreachable as a server that does not answer. Once the store is closed, nothing is retried."""
        if self._closed:
            raise StoreError(f"database {self.name} is closed")
        try:
            return await self._pool.acquire(timeout=CONNECT_TIMEOUT_S)
        except asyncpg.PostgresError as error:
            raise self._unavailable(error) from None
        except TimeoutError:
            raise DatabaseUnavailable(
                f"database {self.name} is busy: no free connection of the pool ({self._pool.get_max_size()}) "
                f"within {CONNECT_TIMEOUT_S:g} s"
            ) from None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            connection = await self._acquire()
        except CONNECTION_ERRORS as error:
            raise self._unavailable(error) from None
        try:
            yield connection
        except CONNECTION_ERRORS as error:
            await self._discard(connection)
            raise self._unavailable(error) from None
        except BaseException:
            await self._discard(connection, broken=False)
            raise
        await self._discard(connection, broken=False)

    def _unavailable(self, error: BaseException) -> DatabaseUnavailable:
        return DatabaseUnavailable(f"database {self.name} unreachable: {_without(self._url, one_line(error))}")

    async def _retried(self, work: Callable[[asyncpg.Connection], Any]) -> Any:
        """Run `work` on a pooled connection, on a new one when the connection is lost, a few times over."""
        wait = RECONNECT_FIRST_WAIT_S
        for attempt in range(RECONNECT_TRIES):
            try:
                async with self._connection() as connection:
                    return await work(connection)
            except DatabaseUnavailable as unavailable:
                if attempt == RECONNECT_TRIES - 1:
                    raise
                reason = str(unavailable)
            except CONNECTION_ERRORS as error:
                if attempt == RECONNECT_TRIES - 1:
                    raise self._unavailable(error) from None
                reason = str(self._unavailable(error))
            log.warning("%s; retrying in %.1fs", reason, wait)
            await asyncio.sleep(wait)
            wait *= 2
        raise AssertionError("unreachable")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row; a lost connection is retried on a new one."""
        query = numbered(sql)
        return list(await self._retried(lambda connection: connection.fetch(query, *params)))

    async def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> AsyncGenerator[Row, None]:
        """Rows through a server-side cursor (it needs a transaction, a read-only one)."""
        async with self._connection() as connection, connection.transaction(readonly=True):
            async for row in connection.cursor(numbered(sql), *params, prefetch=batch):
                yield row

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement; retried whole when the connection is lost before it committed."""
        return int(await self._replayed(lambda tx: tx.execute(sql, params)))

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One `INSERT … RETURNING id`; retried whole when the connection is lost before it committed."""

        async def run(tx: PostgresTransaction) -> int:
            row = await tx.fetchone(sql, params)
            assert row is not None, "insert() needs an INSERT … RETURNING id"
            return int(row[0])

        return int(await self._replayed(run))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement for many rows in one transaction; retried whole when the connection is lost."""
        batch = [tuple(row) for row in rows]
        await self._replayed(lambda tx: tx.executemany(sql, batch))

    async def _replayed(self, work: Callable[[PostgresTransaction], Any]) -> Any:
        """A transaction whose whole body is known here, so it can be run again after a lost connection."""
        wait = RECONNECT_FIRST_WAIT_S
        for attempt in range(RECONNECT_TRIES):
            try:
                async with self.transaction() as tx:
                    return await work(tx)
            except DatabaseUnavailable:
                if attempt == RECONNECT_TRIES - 1:
                    raise
            log.warning("database %s: write interrupted, retrying in %.1fs", self.name, wait)
            await asyncio.sleep(wait)
            wait *= 2
        raise AssertionError("unreachable")

    # --- transactions ----------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """BEGIN, the write lock, the block, COMMIT. A connection lost before COMMIT raises `DatabaseUnavailable`
        (the server rolls it back); one lost during COMMIT is settled with `txid_status`."""
        async with self._write_queue:
            async with self._transaction() as tx:
                yield tx

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[PostgresTransaction]:
        connection, xid = await self._begin()
        try:
            tx = PostgresTransaction(connection)
            try:
                yield tx
                if tx.outbox_signalled:
                    await connection.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
            except BaseException as error:
                if isinstance(error, CONNECTION_ERRORS):
                    await self._discard(connection)
                    raise self._unavailable(error) from None
                await _rollback(connection)
                if isinstance(error, asyncpg.DiskFullError):
                    raise self._full(error) from None
                raise
            try:
                await connection.execute("COMMIT")
            except asyncpg.DiskFullError as error:
                await _rollback(connection)
                raise self._full(error) from None
            except CONNECTION_ERRORS as error:
                await self._discard(connection)
                if not await self._committed(xid):
                    raise self._unavailable(error) from None
                log.warning("database %s: connection lost during COMMIT, which had landed", self.name)
        finally:
            await self._discard(connection, broken=False)
        if tx.outbox_signalled:
            self.outbox_changed.set()

    def _full(self, error: BaseException) -> StorageFull:
        """The server's disk has no room for the write (SQLSTATE 53100): nothing was written, worth retrying later."""
        return StorageFull(f"database {self.name} could not be written: the server's disk is full ({one_line(error)})")

    async def _begin(self) -> tuple[asyncpg.Connection, int]:
        """A pooled connection in a transaction holding the write lock, and the transaction's id. Nothing is
        written yet, so a connection lost here (a server restart) is simply retried on a new one."""
        wait = RECONNECT_FIRST_WAIT_S
        for attempt in range(RECONNECT_TRIES):
            connection: asyncpg.Connection | None = None
            try:
                connection = await self._acquire()
                await connection.execute(f"BEGIN; SET LOCAL lock_timeout = '{WRITE_LOCK_WAIT}'")
                xid = await connection.fetchval("SELECT txid_current() FROM pg_advisory_xact_lock($1)", WRITE_LOCK)
                return connection, int(xid)
            except asyncpg.LockNotAvailableError:
                assert connection is not None  # the lock is asked for on an acquired connection
                await _rollback(connection)
                await self._discard(connection, broken=False)
                if attempt == RECONNECT_TRIES - 1:
                    raise DatabaseUnavailable(
                        f"database {self.name} is busy: another session held the write lock through "
                        f"{RECONNECT_TRIES} waits of {WRITE_LOCK_WAIT}"
                    ) from None
                log.warning("database %s: write lock held elsewhere, waiting again", self.name)
                continue
            except DatabaseUnavailable as unavailable:  # no free connection, or none could be opened
                if attempt == RECONNECT_TRIES - 1:
                    raise
                reason = str(unavailable)
            except CONNECTION_ERRORS as error:
                if connection is not None:
                    await self._discard(connection)
                if attempt == RECONNECT_TRIES - 1:
                    raise self._unavailable(error) from None
                reason = str(self._unavailable(error))
            except BaseException:
                if connection is not None:
                    await _rollback(connection)
                    await self._discard(connection, broken=False)
                raise
            log.warning("%s; retrying in %.1fs", reason, wait)
            await asyncio.sleep(wait)
            wait *= 2
        raise AssertionError("unreachable")

    async def _discard(self, connection: asyncpg.Connection, *, broken: bool = True) -> None:
        """Hand a connection back to the pool; a broken one is closed first, so the pool opens a new one. A
        connection the server closed may already be back in the pool (asyncpg takes it back itself)."""
        try:
            if broken:
                connection.terminate()
            await self._pool.release(connection)
        except asyncpg.InterfaceError:
            pass

    async def _committed(self, xid: int) -> bool:
        """What became of a transaction whose COMMIT got no answer; waits while the server still runs it."""
        while True:
            status = await self._retried(lambda connection: connection.fetchval("SELECT txid_status($1)", xid))
            if status != "in progress":
                return bool(status == "committed")
            await asyncio.sleep(RECONNECT_FIRST_WAIT_S)

    # --- the outbox signal ---------------------------------------------------------------------

    async def wait_for_outbox(self, timeout: float) -> None:
        """LISTEN on a connection of its own (started on first use), so another process's writes wake us too."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="scout-outbox-listener")
        await super().wait_for_outbox(timeout)

    async def _listen(self) -> None:
        """Keep one LISTEN connection open; after a reconnect, wake the announcer (it may have missed a NOTIFY)."""
        while True:
            try:
                connection = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
            except (*CONNECTION_ERRORS, asyncpg.PostgresError) as error:
                log.warning(
                    "database %s: cannot listen for outbox work (%s)", self.name, _without(self._url, str(error))
                )
            else:
                await self._listen_on(connection)
            await asyncio.sleep(LISTEN_RETRY_S)

    async def _listen_on(self, connection: asyncpg.Connection) -> None:
        """Wake the announcer on every NOTIFY until the connection ends."""
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _connection: closed.set())
        try:
            await connection.add_listener(OUTBOX_CHANNEL, lambda *_args: self.outbox_changed.set())
            self.outbox_changed.set()
            await closed.wait()
        except CONNECTION_ERRORS:
            pass
        finally:
            if not connection.is_closed():
                await connection.close()

    # --- leases and backups --------------------------------------------------------------------

    def lease(self, name: str) -> Lease:
        """A session-level advisory lock on a connection of its own: the server frees it when the holder dies."""
        return AdvisoryLease(self._url, LEASE_KEYS[name], self.name)

    @asynccontextmanager
    async def claim(self, name: str) -> AsyncIterator[bool]:
        """An advisory lock keyed by `name`, on a connection of its own for the block: a process that dies while
        holding it frees it with its connection."""
        try:
            connection = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S, server_settings=KEEPALIVES)
        except (*CONNECTION_ERRORS, asyncpg.PostgresError) as error:
            raise self._unavailable(error) from None
        try:
            key = (CLAIM_NAMESPACE, name)
            try:
                held = await connection.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", *key)
                if not held:
                    await connection.execute("SELECT pg_advisory_lock($1, hashtext($2))", *key)
            except CONNECTION_ERRORS as error:
                raise self._unavailable(error) from None
            yield not held
        finally:
            if not connection.is_closed():
                try:
                    await connection.close(timeout=5)
                except (*CONNECTION_ERRORS, asyncpg.PostgresError):
                    connection.terminate()

    async def backup_to(self, target: Path) -> None:
        """Refused in one line: a PostgreSQL database is backed up with its own tools."""
        raise StoreError(
            f"scout backup copies SQLite files; back up {self.name} with pg_dump "
            '(e.g. pg_dump --format=custom "$DATABASE_URL" > scout.dump) or your host\'s backups'
        )

    @asynccontextmanager
    async def bulk_load(self) -> AsyncIterator[Callable[[str, list[str], list[tuple[Any, ...]]], Awaitable[None]]]:
        """One transaction with the write lock, in which `await load(table, columns, rows)` COPYs rows in (what
        `scout migrate` uses): all of them land, or none."""
        async with self._connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)

            async def load(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
                await connection.copy_records_to_table(table, records=rows, columns=columns)

            yield load

    async def columns(self, table: str) -> list[str]:
        """The table's columns in order."""
        rows = await self.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [row[0] for row in rows]

    async def reset_identity(self, table: str, handed_out: int = 0) -> None:
        """After rows were copied in with their ids, each identity column continues above the largest copied, and
        above `handed_out` (the highest id the source ever gave: a deleted row's, or one a card in Discord shows)."""
        rows = await self.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND is_identity = 'YES'",
            (table,),
        )
        for column in (row[0] for row in rows):
            await self.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"GREATEST((SELECT MAX({column}) FROM {table}), ?, 1), "
                f"(SELECT COUNT(*) > 0 FROM {table}) OR ? > 0)",
                (handed_out, handed_out),
            )


async def _rollback(connection: asyncpg.Connection) -> None:
    """Roll back what is left open; a dead connection has nothing to roll back (the server did it)."""
    if not connection.is_closed():
        try:
            await connection.execute("ROLLBACK")
        except (*CONNECTION_ERRORS, asyncpg.PostgresError):
            connection.terminate()


async def _prepare_connection(connection: asyncpg.Connection) -> None:
    """NUMERIC (what SUM over integers gives) decodes to int or float, as SQLite's answers do."""
    await connection.set_type_codec("numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text")


def _without(url: str, text: str) -> str:
    """`text` with the URL, or its password, masked (drivers sometimes echo what they were given)."""
    text = text.replace(url, masked_url(url))
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in filter(None, {password, unquote(password) if password else None}):
        text = text.replace(secret, "***")
    return text


class AdvisoryLease(Lease):
    """`pg_advisory_lock` held by a connection that does nothing else; checked every few seconds while held."""

    def __init__(self, url: str, key: int, shown: str) -> None:
        super().__init__()
        self._url = url
        self._key = key
        self._shown = shown
        self._connection: asyncpg.Connection | None = None
        self._watch: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """Wait on the lock itself (no polling): the server hands it over the moment the holder's session ends."""
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S, server_settings=KEEPALIVES)
                await connection.execute("SELECT pg_advisory_lock($1)", self._key)
            except (*CONNECTION_ERRORS, asyncpg.PostgresError) as error:
                log.warning("database %s: waiting for the lease failed (%s); retrying", self._shown, one_line(error))
                if connection is not None:
                    connection.terminate()
                await asyncio.sleep(LISTEN_RETRY_S)
                continue
            except BaseException:
                if connection is not None:
                    connection.terminate()
                raise
            self._connection = connection
            self.lost.clear()
            connection.add_termination_listener(lambda _connection: self.lost.set())
            self._watch = asyncio.create_task(self._check(connection), name="scout-lease-check")
            return

    async def _check(self, connection: asyncpg.Connection) -> None:
        """A connection can die without a word (a network cut): ask it something every few seconds."""
        while not self.lost.is_set():
            await asyncio.sleep(LEASE_CHECK_S)
            try:
                await connection.fetchval("SELECT 1", timeout=LEASE_CHECK_S)
            except (*CONNECTION_ERRORS, asyncpg.PostgresError):
                self.lost.set()
                connection.terminate()

    async def release(self) -> None:
        """Closing the session frees the lock."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.close(timeout=5)
            except (*CONNECTION_ERRORS, asyncpg.PostgresError):
                connection.terminate()
