"""Fixtures shared by the whole suite: the shared data folder beside the checkout and a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.gateway import GatewayClient
from bot.store import Store
from bot.store.schema import ENGINES
from bot.testing.gateway_server import FakeGateway, load_snapshot
from bot.testing.postgres import PostgresServer, PostgresUnavailable, start_server
from bot.testing.scripted_labs import install_labs

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

SCOUT_SUBCOMMANDS = [
    "alerts",
    "export",
    "forget-me",
    "forget-member",
    "help",
    "leaderboard",
    "model",
    "note",
    "probe",
    "recent",
    "reveal",
    "setup",
    "status",
    "vote",
    "votes",
]
"""Every `/scout` subcommand, sorted: as the bot registers them and as Discord receives them."""


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or a visible skip when the folder is not beside the checkout."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"shared data not available: {path} is absent (it lives in ../shared beside the checkout)")
    return path


def snapshot_or_skip(name: str) -> dict[str, Any]:
    """A shared catalogue snapshot for a test, or a visible skip when the shared data is not beside the repo."""
    shared_file(f"catalogue/{name}")
    return load_snapshot(name)


@pytest.fixture
def catalogue_june() -> Path:
    return shared_file("catalogue/openrouter-models-2026-06-07.json")


@pytest.fixture
def catalogue_december() -> Path:
    return shared_file("catalogue/openrouter-models-2025-12-18.json")


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


async def probe_runs(store: Store, model_id: str) -> list[tuple[int, str]]:
    """The model's probe runs as (id, state), newest first, read from the database: the bot never lists them."""
    rows = await store.db.fetchall("SELECT id, state FROM probe_runs WHERE model_id = ? ORDER BY id DESC", (model_id,))
    return [(row[0], row[1]) for row in rows]


async def list_owl(store: Store) -> str:
    """Record a catalogue that lists Owl Alpha as the stealth model it is (votes are taken only on those); its id."""
    from bot.jobs.polling import record_catalogue
    from tests.e2e.conftest import OWL

    await record_catalogue(store, [OWL], "fixture")
    return OWL["id"]
