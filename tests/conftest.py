"""Fixtures shared by the whole suite: the shared data folder beside the checkout and a real SQLite store."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.gateway import GatewayClient
from bot.store import Store
from bot.testing.gateway_server import FakeGateway, load_snapshot
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


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "scout.db")
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


def probe_runs(store: Store, model_id: str) -> list[tuple[int, str]]:
    """The model's probe runs as (id, state), newest first, read from the file: the bot itself never lists them."""
    with contextlib.closing(sqlite3.connect(store.db.path)) as connection:
        query = "SELECT id, state FROM probe_runs WHERE model_id = ? ORDER BY id DESC"
        return connection.execute(query, (model_id,)).fetchall()


async def list_owl(store: Store) -> str:
    """Record a catalogue that lists Owl Alpha as the stealth model it is (votes are taken only on those); its id."""
    from bot.jobs.polling import record_catalogue
    from tests.e2e.conftest import OWL

    await record_catalogue(store, [OWL], "fixture")
    return OWL["id"]
