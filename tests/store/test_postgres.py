"""What only PostgreSQL has: URLs and their secret, refused and lost connections, several processes' worth of
connections on one database (migrating together, one writer at a time, NOTIFY, the lease)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.settings import SettingsError, load_settings, masked_url
from bot.store import Store, StoreError
from bot.store.database import Database, DatabaseUnavailable
from bot.store.postgres import numbered
from bot.store.schema import latest_version
from bot.testing.postgres import PostgresServer, free_port
from bot.testing.tcp_proxy import TcpProxy
from tests.support.store import list_owl


def test_placeholders_are_numbered_outside_quotes():
    assert numbered("SELECT ? , '?', ?") == "SELECT $1 , '?', $2"
    assert numbered("VALUES (?1, ?2, COALESCE(?1, 'it''s ?'))") == "VALUES ($1, $2, COALESCE($1, 'it''s ?'))"


def test_the_password_is_masked_wherever_the_url_is_shown():
    url = "postgresql://scout:s3cr%40t@db.example:5432/scout"
    assert masked_url(url) == "postgresql://scout:***@db.example:5432/scout"
    assert masked_url("postgresql://db.example/scout") == "postgresql://db.example/scout"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://u:p@h/db", "must be a postgresql:// URL"),
        ("postgresql://u:p@/db", "must name a host"),
        ("postgresql://u:p@h:5432", "must name a database"),
        ("postgresql://u:p@h:99999/db", "is not a URL"),
    ],
)
def test_a_bad_database_url_is_one_line_without_the_url(monkeypatch, url, reason):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith("DATABASE_URL: ") and reason in str(refused.value)
    assert "\n" not in str(refused.value) and ":p@" not in str(refused.value)


async def test_a_refused_connection_is_one_line_naming_the_masked_url():
    url = f"postgresql://scout:hunter2@127.0.0.1:{free_port()}/scout"
    with pytest.raises(StoreError) as refused:
        await Store.open(url)
    message = str(refused.value)
    assert message.startswith(f"cannot connect to database postgresql://scout:***@127.0.0.1:{url.split(':')[3]}")
    assert "hunter2" not in message and "\n" not in message


async def test_a_wrong_password_is_one_line_and_does_not_echo_it(postgres_server: PostgresServer, postgres_url: str):
    wrong = postgres_url.replace(postgres_server.password, "not-the-password")
    with pytest.raises(StoreError, match="password authentication failed") as refused:
        await Store.open(wrong)
    assert "not-the-password" not in str(refused.value) and "\n" not in str(refused.value)


async def test_a_database_that_does_not_exist_is_one_line(postgres_server: PostgresServer):
    with pytest.raises(StoreError, match='database "nowhere" does not exist'):
        await Store.open(postgres_server.url("nowhere"))


async def test_an_empty_database_is_refused_by_read_only_commands(postgres_url: str):
    with pytest.raises(StoreError, match="no Model Scout database at postgresql://scout:\\*\\*\\*@"):
        await Store.open(postgres_url, create=False)


async def test_processes_starting_together_migrate_once(postgres_url: str):
    opened = await asyncio.gather(*(Store.open(postgres_url) for _ in range(4)))
    try:
        assert {await store.db.schema_version() for store in opened} == {latest_version("postgresql")}
        rows = await opened[0].db.fetchall("SELECT version FROM model_scout_schema")
        assert [row[0] for row in rows] == [latest_version("postgresql")]
    finally:
        for store in opened:
            await store.close()


async def test_writers_of_several_processes_take_turns_and_lose_nothing(postgres_url: str):
    """Read-then-write transactions from many connections at once: with one writer at a time, every
    increment lands (without it, two would read the same value and one increment would be lost)."""
    stores = [await Store.open(postgres_url, pool_size=3) for _ in range(3)]
    await stores[0].state.set("counter", "0")

    async def increment(store: Store) -> None:
        async with store.db.transaction() as tx:
            row = await tx.fetchone("SELECT value FROM bot_state WHERE key = 'counter'")
            assert row is not None
            await tx.execute("UPDATE bot_state SET value = ? WHERE key = 'counter'", (str(int(row[0]) + 1),))

    try:
        await asyncio.gather(*(increment(stores[i % 3]) for i in range(60)))
        assert await stores[1].state.get("counter") == "60"
    finally:
        for store in stores:
            await store.close()


async def test_a_lost_connection_is_retried_and_the_vote_lands_once(postgres_server: PostgresServer, postgres_url: str):
    store = await Store.open(postgres_url)
    try:
        model = await list_owl(store)
        assert await postgres_server.terminate_connections(postgres_url) >= 1  # every pooled connection dies
        await store.votes.cast(1, model, 7, "alice", "openai")
        assert (await store.votes.current(1, model, 7)).vendor == "openai"
        history = await store.db.fetchall("SELECT COUNT(*) FROM vote_history")
        assert history[0][0] == 1
    finally:
        await store.close()


async def test_a_connection_lost_inside_a_transaction_writes_nothing_and_says_so_in_one_line(
    postgres_server: PostgresServer, postgres_url: str
):
    store = await Store.open(postgres_url)
    try:
        with pytest.raises(DatabaseUnavailable) as lost:
            async with store.db.transaction() as tx:
                await tx.execute("INSERT INTO bot_state (key, value) VALUES ('half', 'done')")
                await postgres_server.terminate_connections(postgres_url)
                await tx.execute("INSERT INTO bot_state (key, value) VALUES ('other', 'half')")
        assert str(lost.value).startswith("database postgresql://scout:***@") and "\n" not in str(lost.value)
        assert postgres_server.password not in str(lost.value)
        assert await store.state.get("half") is None  # rolled back by the server: nothing half-written
    finally:
        await store.close()


async def test_a_server_that_stays_away_is_one_line_not_a_hang(postgres_server: PostgresServer, monkeypatch):
    from bot.store import postgres

    monkeypatch.setattr(postgres, "RECONNECT_FIRST_WAIT_S", 0.01)
    url = await postgres_server.create_database()
    store = await Store.open(url)
    try:
        await postgres_server.drop_database(url)  # the database goes away for good
        with pytest.raises(DatabaseUnavailable, match="unreachable|does not exist"):
            await store.state.set("k", "v")
    finally:
        await store.close()


async def test_notify_wakes_another_process(postgres_url: str):
    poller, announcer = await Store.open(postgres_url), await Store.open(postgres_url)
    try:
        waiting = asyncio.create_task(announcer.outbox.wait_for_work(30))
        await asyncio.sleep(0.5)  # the first wait starts listening (and wakes once, for what it may have missed)
        await waiting
        waiting = asyncio.create_task(announcer.outbox.wait_for_work(30))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await poller.outbox.intend(1, "openrouter/owl-alpha", 10)
        await asyncio.wait_for(waiting, 5)
    finally:
        await poller.close()
        await announcer.close()


async def test_one_process_holds_the_lease_and_another_takes_it_when_the_holder_dies(
    postgres_server: PostgresServer, postgres_url: str
):
    first, second = await Database.open(postgres_url), await Database.open(postgres_url)
    try:
        held = first.lease("poller")
        await held.acquire()
        waiting = second.lease("poller")
        taking = asyncio.create_task(waiting.acquire())
        await asyncio.sleep(0.5)
        assert not taking.done()
        await postgres_server.terminate_connections(postgres_url)  # the holder's session dies with its process
        await asyncio.wait_for(held.lost.wait(), 10)
        await asyncio.wait_for(taking, 10)
        await waiting.release()
        await held.release()
    finally:
        await first.close()
        await second.close()


async def test_numeric_sums_come_back_as_numbers(postgres_url: str):
    async with await Store.open(postgres_url) as store:
        row = await store.db.fetchone("SELECT SUM(x) FROM (VALUES (CAST(1 AS BIGINT)), (2)) AS t (x)")
        assert row is not None and row[0] == 3 and isinstance(row[0], int)


async def test_driver_errors_are_not_swallowed_as_lost_connections(postgres_url: str):
    async with await Store.open(postgres_url) as store:
        with pytest.raises(asyncpg.UndefinedTableError):
            await store.db.fetchall("SELECT * FROM no_such_table")


@pytest.mark.parametrize("landed", [True, False], ids=["commit-landed", "commit-lost"])
async def test_a_connection_cut_during_commit_is_settled_by_asking_the_server(
    postgres_server: PostgresServer, postgres_url: str, landed: bool
):
    """The worst moment: COMMIT sent, no answer. A vote that landed is reported done (and not cast twice by a
    retry); one that did not is reported unavailable, so the caller retries it, and nothing of it is kept."""
    async with TcpProxy("127.0.0.1", postgres_server.port) as proxy:
        through_proxy = postgres_url.replace(f":{postgres_server.port}/", f":{proxy.port}/")
        async with await Store.open(through_proxy) as store:
            model = await list_owl(store)
            proxy.cut_at_commit(after_the_server_answers=landed)
            if landed:
                await store.votes.cast(1, model, 7, "alice", "openai")
            else:
                with pytest.raises(DatabaseUnavailable):
                    await store.votes.cast(1, model, 7, "alice", "openai")
            assert proxy.cuts == 1
            vote = await store.votes.current(1, model, 7)
            history = await store.db.fetchone("SELECT COUNT(*) FROM vote_history")
            assert (vote is not None, history[0] if history else None) == (landed, int(landed))
