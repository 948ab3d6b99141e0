"""Exactly one announcement per guild and model, whatever point a crash interrupted.

A crash is simulated between two bot runs on the same database: the outbox row is left as the
interrupted run would have left it (`intended`; `posting` before the request reached Discord;
`posting` after Discord stored the message but before the bot recorded its id).
"""

from __future__ import annotations

import sqlite3

from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, eventually


def _set_outbox(world: World, sql: str, *params: object) -> None:
    """Edit the outbox as a crash would have left it; the bot is not running."""
    with sqlite3.connect(world.database) as connection:
        connection.execute(sql, params)


async def _no_post_pending(bot) -> bool:  # type: ignore[no-untyped-def]
    return not any(row.needs_post for row in await bot.store.outbox.pending())


async def test_intents_left_by_a_crash_are_posted_once_after_restart(world: World):
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await store.guilds.configure(world.other_guild.id, world.other_channel.id, all_models=False)
        await record_catalogue(store, [*ORDINARY_MODELS, OWL], "snapshot before the crash")
        assert {row.state for row in await store.outbox.pending()} == {"intended"}
    # the other guild's row was being posted when the process died, before Discord got the request
    _set_outbox(
        world, "UPDATE announcements SET state = 'posting', attempts = 1 WHERE guild_id = ?", world.other_guild.id
    )

    world.add_owl()
    async with world.run_bot() as bot:
        await eventually(lambda: _no_post_pending(bot), what="both announcements posted")

    assert len(announcements_in(world.fake, world.channel.id)) == 1
    assert len(announcements_in(world.fake, world.other_channel.id)) == 1


async def test_a_post_discord_stored_but_the_bot_never_recorded_is_adopted_not_repeated(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await world.owl_appears(bot)
        await eventually(lambda: _no_post_pending(bot), what="the announcement posted")
    [posted] = announcements_in(world.fake, world.channel.id)

    _set_outbox(world, "UPDATE announcements SET state = 'posting', message_id = NULL, posted_revision = 0")

    async with world.run_bot() as bot:

        async def adopted():  # type: ignore[no-untyped-def]
            row = await bot.store.outbox.for_model(world.guild.id, OWL["id"])
            return row if row.state == "posted" and row.posted_revision == row.revision else None

        row = await eventually(adopted, what="the row adopting the existing message")
        assert row.message_id == posted.id

    assert announcements_in(world.fake, world.channel.id) == [posted]
    assert world.fake.requests_to(f"GET /channels/{world.channel.id}/messages")  # it looked before posting
