"""Every store test runs on both engines: `store` here is a SQLite file, then a PostgreSQL database."""

from __future__ import annotations

import pytest

from bot.store import Store


@pytest.fixture
async def store(any_store: Store) -> Store:
    return any_store
