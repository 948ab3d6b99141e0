"""SIGTERM, as a service manager or a platform sends it on every deploy, ends the bot within 10 s in every state:
idle, Discord unreachable, a probe hanging at the gateway, a post hanging at Discord. Past that, a supervisor
kills it, with no chance to close anything cleanly."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.testing.gateway_server import Fault
from tests.support.bot_process import BotProcess, running_bot
from tests.support.holding_discord import HoldingDiscord
from tests.support.world import OWL, World, announcements_in

WITHIN_S = 10.0


async def _idle(world: World, bot: BotProcess) -> None:
    return None


async def _discord_unreachable(world: World, bot: BotProcess) -> None:
    await world.fake.close()  # the gateway connection drops and every REST request is refused
    await asyncio.sleep(1.0)


async def _discord_silent(world: World, bot: BotProcess) -> None:
    world.fake.go_silent()  # a dead network: requests and frames are swallowed, nothing is refused
    await asyncio.sleep(1.0)


async def _gateway_down_at_start(world: World, bot: BotProcess) -> None:
    await bot.wait_for(lambda: "Failed to connect" in bot.log(), what="discord.py retrying the gateway")


async def _probe_hanging(world: World, bot: BotProcess) -> None:
    world.gateway.set_fault("chat", Fault.hang(600))
    world.add_owl()
    await bot.wait_for(lambda: world.gateway.requests_to("chat", model=OWL["id"]), what="a probe at the gateway")


async def _post_hanging(world: World, bot: BotProcess) -> None:
    fake: HoldingDiscord = world.fake  # type: ignore[assignment]
    hold = fake.hold_post(world.channel.id, after_storing=False)
    world.add_owl()
    await bot.wait_for(hold.arrived.is_set, what="the card's post held at Discord")
    assert not announcements_in(world.fake, world.channel.id)


STATES: dict[str, Callable[[World, BotProcess], Awaitable[None]]] = {
    "idle": _idle,
    "Discord unreachable": _discord_unreachable,
    "Discord silent": _discord_silent,
    "gateway down at start": _gateway_down_at_start,
    "a probe hanging": _probe_hanging,
    "a post hanging": _post_hanging,
}


@pytest.mark.parametrize("state", list(STATES), ids=list(STATES))
async def test_sigterm_ends_the_bot_within_10_s(world: World, tmp_path: Path, state: str):
    from bot.store import Store

    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
    environment = world.process_environment(log_level="INFO", poll_interval_seconds=5)
    world.fake.refuse_gateway(state == "gateway down at start")
    async with running_bot(environment, tmp_path / "run") as bot:
        if state != "gateway down at start":
            await bot.wait_for(lambda: world.fake.connected, what="the gateway connection")
            await bot.wait_for(lambda: "application commands" in bot.log(), what="the bot ready")
        await STATES[state](world, bot)
        assert bot.running
        stopped_at = asyncio.get_running_loop().time()
        bot.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.process.wait(), WITHIN_S + 20)
        finally:
            took = asyncio.get_running_loop().time() - stopped_at
        log = bot.log()
    assert took < WITHIN_S, f"SIGTERM took {took:.1f}s ({state}):\n{log[-2000:]}"
    assert bot.process.returncode == 0, log[-2000:]
