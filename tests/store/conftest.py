"""Fixtures of the store's tests."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.support.store import list_models_to_vote_on


@pytest.fixture
async def models_to_vote_on(store: Store) -> None:
    """The test's store with four anonymous models (Owl, Pony, Hunter, Silent) and two ordinary ones listed."""
    await list_models_to_vote_on(store)
