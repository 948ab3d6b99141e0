"""`run_bot`, what `scout run` calls: settings alone point it at Discord (here the fake) and the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import discord.gateway
import discord.http
import pytest

from bot.client import run_bot
from bot.errors import CommandError
from tests.support.world import OWL, World, footer


@contextlib.contextmanager
def restored_discord_addresses() -> Iterator[None]:
    """`run_bot` points discord.py at the configured server process-wide; put the addresses back afterwards."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


async def test_run_bot_connects_where_the_settings_say_and_announces(world: World):
    world.add_owl()
    settings = world.settings(
        discord_api_base=world.fake.api_base,
        discord_gateway_url=world.fake.gateway_url,
        announce_channel_id=world.channel.id,
    )
    with restored_discord_addresses():
        running = asyncio.create_task(run_bot(settings))
        try:
            announcement = await world.fake.wait_for_message(
                world.channel.id, lambda m: "· announcement #" in footer(m), timeout=15
            )
            assert OWL["id"] in str(announcement.embeds)
            assert world.fake.sync_count() == 1
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    assert not world.fake.connected


async def test_a_refused_token_is_one_clear_error_without_the_token(world: World):
    settings = world.settings(
        discord_token="not-the-token", discord_api_base=world.fake.api_base, discord_gateway_url=world.fake.gateway_url
    )
    with restored_discord_addresses(), pytest.raises(CommandError) as failure:
        await run_bot(settings)
    assert "DISCORD_TOKEN" in str(failure.value) and "not-the-token" not in str(failure.value)
