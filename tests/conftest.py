"""Fixtures shared by the whole suite: the shared snapshots, a real SQLite store (and a PostgreSQL server the tests
start, for the store on both engines), the fake gateway and its client, and the two-guild world of the end-to-end,
fault and abuse suites. Helpers live in `tests/support/`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.gateway import GatewayClient
from bot.store import Store
from bot.store.schema import ENGINES
from bot.testing.gateway_server import FakeGateway
from bot.testing.postgres import PostgresServer, PostgresUnavailable, start_server
from bot.testing.scripted_labs import install_labs
from tests.support.shared_data import shared_file
from tests.support.world import World, open_world


@pytest.fixture
def catalogue_june() -> Path:
    return shared_file("catalogue/openrouter-models-2026-06-07.json")


@pytest.fixture
def catalogue_december() -> Path:
    return shared_file("catalogue/openrouter-models-2025-12-18.json")


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store on a SQLite file, for what only SQLite has (its file, its locks, its backups)."""
    opened = await Store.open(tmp_path / "scout.db")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    """The default store, SQLite; tests/store runs every test on both engines instead (`any_store`)."""
    return sqlite_store


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started from the machine's binaries; a visible skip without them."""
    try:
        server = start_server()
    except PostgresUnavailable as error:
        pytest.skip(f"PostgreSQL tests need a server: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test server, dropped afterwards."""
    url = await postgres_server.create_database()
    try:
        yield url
    finally:
        await postgres_server.drop_database(url)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each engine in turn, for the tests that must hold on both."""
    return str(request.param)


@pytest.fixture
async def database_target(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Path | str]:
    """A fresh database of `engine`: a SQLite file, or an empty PostgreSQL database (dropped afterwards)."""
    if engine == "sqlite":
        yield tmp_path / "scout.db"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.create_database()
    try:
        yield url
    finally:
        await server.drop_database(url)


@pytest.fixture
async def any_store(database_target: Path | str) -> AsyncIterator[Store]:
    """A store on each engine in turn."""
    opened = await Store.open(database_target)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    """The fake OpenRouter serving the scripted labs; a module that needs a bare gateway defines its own `gw`."""
    async with FakeGateway() as gateway:
        install_labs(gateway)
        yield gateway


@pytest.fixture
async def client(gw: FakeGateway) -> AsyncIterator[GatewayClient]:
    async with GatewayClient(gw.base_url, "sk-test", timeout_s=5.0) as gateway_client:
        yield gateway_client


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Two guilds: the main one (alice and her admin) and another (mallory and hers), and both fakes."""
    async with open_world(tmp_path) as opened:
        yield opened
