"""Fixtures shared by the whole suite: the shared snapshots, a real SQLite store, the fake gateway and its client,
and the two-guild world of the end-to-end, fault and abuse suites. Helpers live in `tests/support/`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.gateway import GatewayClient
from bot.store import Store
from bot.testing.gateway_server import FakeGateway
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


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Two guilds: the main one (alice and her admin) and another (mallory and hers), and both fakes."""
    async with open_world(tmp_path) as opened:
        yield opened
