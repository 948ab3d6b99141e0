"""Fixtures of the store's tests. Every store test runs on both engines: `store` here is a SQLite file, then a
PostgreSQL database."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.support.store import list_models_to_vote_on


@pytest.fixture
async def store(any_store: Store) -> Store:
    return any_store


@pytest.fixture
async def models_to_vote_on(store: Store) -> None:
    """The test's store with four anonymous models (Owl, Pony, Hunter, Silent) and two ordinary ones listed."""
    await list_models_to_vote_on(store)
