"""The two-guild world of the end-to-end tests, for the fault and abuse suites.

`tests/e2e/conftest.py` defines `World` (both fakes, a database path, two guilds with a member and an
admin each) and its `world` fixture; the fault and abuse suites need the same world, sometimes with a
`FakeDiscord` subclass that has more faults, so they build it here from the same parts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.testing.discord import FakeDiscord
from bot.testing.gateway_server import FakeGateway
from tests.e2e.conftest import API_KEY, ORDINARY_MODELS, World, make_guild


@contextlib.asynccontextmanager
async def open_world(tmp_path: Path, discord_class: type[FakeDiscord] = FakeDiscord) -> AsyncIterator[World]:
    """Main Guild (alice, alice-admin) and Other Guild (mallory, mallory-admin), the fakes, two ordinary models."""
    guild, channel, member, admin = make_guild("Main Guild", "alice")
    other_guild, other_channel, _, other_admin = make_guild("Other Guild", "mallory")
    async with FakeGateway(api_key=API_KEY) as gateway, discord_class(guilds=[guild, other_guild]) as fake:
        gateway.set_catalogue(ORDINARY_MODELS)
        yield World(
            fake, gateway, tmp_path / "scout.db", guild, channel, member, admin, other_guild, other_channel, other_admin
        )
