"""The fault suite's world: the end-to-end world, with a fake Discord that can also hold or fail posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.holding_discord import HoldingDiscord
from tests.support.world import World, open_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path, HoldingDiscord) as opened:
        yield opened
        opened.fake.release_all()  # type: ignore[attr-defined]
