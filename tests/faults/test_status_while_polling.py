"""`/scout status` while a poll is under way says so, instead of calling the unfinished poll "failed: unknown error"."""

from __future__ import annotations

import asyncio

from bot.testing.gateway_server import Fault
from tests.support.world import World, eventually


def _catalogue_field(answer) -> str:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}["Catalogue"]


async def test_a_poll_under_way_shows_as_polling_now_then_as_its_outcome(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        world.gateway.set_fault("models", Fault.hang(30))
        polling = asyncio.create_task(bot.pipeline.poll_once())
        while len(world.gateway.requests_to("models")) < 2:
            await asyncio.sleep(0.02)

        shown = _catalogue_field(await world.answer(await world.command(bot, "scout status", world.admin)))
        assert shown.startswith("Polling now") and "failed" not in shown, shown

        world.gateway.set_fault("models", None)
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        assert (await bot.pipeline.poll_once()).ok
        shown = _catalogue_field(await world.answer(await world.command(bot, "scout status", world.admin)))
        assert ", ok." in shown and "Polling now" not in shown, shown
