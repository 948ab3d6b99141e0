"""`/scout setup #other`: every announcement not delivered yet follows to the new channel (also one left
`posting` after a Discord 503), and moving the channel changes no other setting."""

from __future__ import annotations

import asyncio

from bot.testing.discord import ChannelArg
from cogs.announcements import Announcer
from tests.support.world import OWL, World, announcements_in, eventually


async def _row(bot, guild_id: int):  # type: ignore[no-untyped-def]
    return await bot.store.outbox.for_model(guild_id, OWL["id"])


async def test_a_row_left_posting_after_a_503_is_delivered_in_the_new_channel(world: World):
    general = next(channel for channel in world.guild.channels if channel.name == "general")
    async with world.run_bot() as bot:
        bot.get_cog(Announcer.__cog_name__).retry_first_seconds = 600  # the old channel's backoff must not hold it
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        world.fake.server_error(f"POST /channels/{world.channel.id}/messages", status=503, times=None)
        await world.owl_appears(bot)

        async def stuck_posting() -> bool:
            row = await _row(bot, world.guild.id)
            return row is not None and row.state == "posting" and row.last_error is not None

        await eventually(stuck_posting, what="the row left posting by 503s")
        await world.fake.delete_channel(world.channel.id)

        text, _, _ = await world.answer(
            await world.command(bot, "scout setup", world.admin, in_channel=general, channel=ChannelArg(general.id))
        )
        assert f"<#{general.id}>" in text

        async def delivered() -> bool:
            row = await _row(bot, world.guild.id)
            return row.state == "posted" and row.channel_id == general.id

        await eventually(delivered, what="the announcement posted in the new channel")
    assert len(announcements_in(world.fake, general.id)) == 1


async def test_moving_the_channel_keeps_every_other_setting(world: World):
    general = next(channel for channel in world.guild.channels if channel.name == "general")
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        first, _, _ = await world.answer(
            await world.command(
                bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), all_models=True, hide_votes=False
            )
        )
        assert "every new model" in first and "shown as they come" in first

        moved, _, _ = await world.answer(
            await world.command(bot, "scout setup", world.admin, channel=ChannelArg(general.id))
        )

        settings = await bot.store.guilds.get(world.guild.id)
        assert (settings.channel_id, settings.all_models, settings.hide_votes) == (general.id, True, False)
        assert "every new model" in moved and "shown as they come" in moved


async def test_a_server_that_opts_in_gets_a_discussion_thread_on_each_new_card(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        text, _, _ = await world.answer(
            await world.command(bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), threads=True)
        )
        assert text.endswith("each with a discussion thread.")
        await world.owl_appears(bot)
        card = await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id)
        )
        await world.fake.wait_until(lambda: card.thread_id is not None, what="the thread")
        thread = world.fake.guilds[world.guild.id].channel(card.thread_id)
        assert (
            thread is not None
            and thread.name == "Who made openrouter/owl-alpha?"
            and thread.parent_id == world.channel.id
        )

        await world.set_up_channel(bot, other_guild=True)  # the other server did not opt in
        other = await world.fake.wait_for_message(
            world.other_channel.id, lambda m: m in announcements_in(world.fake, world.other_channel.id)
        )
        await asyncio.sleep(0.5)  # long enough for a thread the bot would have opened right after posting
    assert other.thread_id is None
