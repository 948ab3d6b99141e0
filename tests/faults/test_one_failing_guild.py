"""One guild whose channel answers 5xx must not hold up any other guild: 50 guilds, one failing channel.

discord.py retries a 500/502/504 inside its own HTTP client for about 25 s before it gives up; an
announcer that delivered guild after guild in one pass waited that long for every row behind the failing one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import FakeDiscord
from bot.testing.gateway_server import FakeGateway, ScriptedModel, constant_reply
from tests.support.world import API_KEY, ORDINARY_MODELS, OWL, OWL_SAYS, World, announcements_in, card_lead, make_guild

GUILDS = 50
WITHIN_S = 5.0
STEALTH = [
    {**OWL, "id": f"openrouter/{name}-alpha", "name": f"{name.title()} Alpha"}
    for name in ("owl", "ibis", "kite", "wren")
]


@pytest.fixture
async def fifty(tmp_path: Path) -> AsyncIterator[World]:
    built = [make_guild(f"Guild {index}", f"member{index}") for index in range(GUILDS)]
    async with FakeGateway(api_key=API_KEY) as gateway, FakeDiscord(guilds=[b[0] for b in built]) as fake:
        gateway.set_catalogue(ORDINARY_MODELS)
        (guild, channel, member, admin), (other, other_channel, _, other_admin) = built[0], built[1]
        world = World(
            fake, gateway, tmp_path / "scout.db", guild, channel, member, admin, other, other_channel, other_admin
        )
        async with await Store.open(world.database) as store:
            for spec, channel_spec, _, _ in built:
                await store.guilds.configure(spec.id, channel_spec.id, all_models=False)
            await record_catalogue(store, ORDINARY_MODELS, "baseline")
        world.channels = [b[1].id for b in built]  # type: ignore[attr-defined]
        yield world


def _list(world: World, *models: dict) -> None:
    world.gateway.set_catalogue([*ORDINARY_MODELS, *models])
    for model in models:
        world.gateway.add_model(ScriptedModel(model["id"], respond=constant_reply(OWL_SAYS)))


async def test_every_other_guild_gets_its_card_within_5_s_while_one_channel_answers_500(fifty: World):
    failing, *healthy = fifty.channels  # type: ignore[attr-defined]
    fifty.fake.server_error(f"POST /channels/{failing}/messages", status=500, times=None)
    async with fifty.run_bot() as bot:
        await asyncio.sleep(0.2)  # the watcher's first poll at start
        _list(fifty, OWL)
        started = asyncio.get_running_loop().time()
        await bot.pipeline.poll_once()
        await fifty.fake.wait_until(
            lambda: all(announcements_in(fifty.fake, channel) for channel in healthy),
            timeout=WITHIN_S,
            what=f"a card in each of the {len(healthy)} healthy guilds",
        )
        elapsed = asyncio.get_running_loop().time() - started
        assert elapsed < WITHIN_S and not announcements_in(fifty.fake, failing)


async def test_four_models_at_once_reach_every_other_guild_with_their_guesses(fifty: World):
    failing, *healthy = fifty.channels  # type: ignore[attr-defined]
    fifty.fake.server_error(f"POST /channels/{failing}/messages", status=500, times=None)
    async with fifty.run_bot(edit_interval=0.05) as bot:
        await asyncio.sleep(0.2)
        _list(fifty, *STEALTH)
        await bot.pipeline.poll_once()
        await bot.pipeline.wait_idle()

        def guessed_everywhere() -> bool:
            cards = [card for channel in healthy for card in announcements_in(fifty.fake, channel)]
            return len(cards) == len(healthy) * len(STEALTH) and not any(
                "Probing…" in card_lead(card) for card in cards
            )

        await fifty.fake.wait_until(guessed_everywhere, timeout=30, what="every healthy card showing its guess")
