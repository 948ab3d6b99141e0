"""Delivery to Discord when things go wrong, reveal replies, the default channel and command syncing."""

from __future__ import annotations

from dataclasses import replace

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import FakeDiscord, Permission
from cogs.announcements import Announcer
from tests.support.world import (
    ORDINARY_MODELS,
    OWL,
    SCOUT_SUBCOMMANDS,
    World,
    announcements_in,
    eventually,
    footer,
    make_guild,
)


async def _configure_both_guilds(world: World) -> None:
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await store.guilds.configure(world.other_guild.id, world.other_channel.id, all_models=False)
        await record_catalogue(store, ORDINARY_MODELS, "baseline")


async def _row_state(bot, guild_id: int) -> str | None:  # type: ignore[no-untyped-def]
    row = await bot.store.outbox.for_model(guild_id, OWL["id"])
    return row.state if row else None


async def test_a_deleted_channel_fails_only_that_guild_and_shows_in_status(world: World):
    await _configure_both_guilds(world)
    general = next(channel for channel in world.other_guild.channels if channel.name == "general")
    async with world.run_bot() as bot:
        await world.fake.delete_channel(world.other_channel.id)
        world.add_owl()
        await bot.pipeline.poll_once()

        await eventually(lambda: _row_state(bot, world.other_guild.id), what="the failed row")
        await eventually(lambda: _is(bot, world.other_guild.id, "failed"), what="the failure recorded")
        await world.fake.wait_for_message(world.channel.id, lambda m: "· announcement #" in footer(m))
        settings = await bot.store.guilds.get(world.other_guild.id)
        assert "no longer exists" in settings.last_error

        callback = await world.answer(
            await world.command(bot, "scout status", world.other_admin, guild=world.other_guild, in_channel=general)
        )
        _, embeds, _ = callback
        assert "no longer exists" in str(embeds) and "1 failed" in str(embeds)


async def _is(bot, guild_id: int, state: str) -> bool:  # type: ignore[no-untyped-def]
    return await _row_state(bot, guild_id) == state


async def test_a_missing_permission_keeps_only_that_guild_waiting(world: World):
    await _configure_both_guilds(world)
    async with world.run_bot() as bot:
        world.fake.forbid(f"POST /channels/{world.other_channel.id}/messages", times=None)
        world.add_owl()
        await bot.pipeline.poll_once()

        async def refused() -> str | None:
            return (await bot.store.guilds.get(world.other_guild.id)).last_error

        assert "missing permission" in await eventually(refused, what="the refusal recorded")
        await eventually(lambda: _is(bot, world.guild.id, "posted"), what="the other guild posting")
        assert await _row_state(bot, world.other_guild.id) in ("intended", "posting")  # retried, not given up
        assert (await bot.store.guilds.get(world.guild.id)).last_error is None


async def test_discord_server_errors_and_rate_limits_are_retried_into_one_announcement(world: World):
    await _configure_both_guilds(world)
    async with world.run_bot() as bot:
        announcer = bot.get_cog(Announcer.__cog_name__)
        announcer.retry_first_seconds = 0.05
        world.fake.server_error(f"POST /channels/{world.channel.id}/messages", status=503, times=2)
        world.fake.rate_limit(f"POST /channels/{world.other_channel.id}/messages", times=2)
        world.add_owl()
        await bot.pipeline.poll_once()

        await eventually(lambda: _is(bot, world.guild.id, "posted"), what="posting after the 503s")
        await eventually(lambda: _is(bot, world.other_guild.id, "posted"), what="posting after the 429s")
    assert len(announcements_in(world.fake, world.channel.id)) == 1
    assert len(announcements_in(world.fake, world.other_channel.id)) == 1
    assert len(world.fake.requests_to(f"POST /channels/{world.channel.id}/messages")) == 3


async def test_a_removed_stealth_model_gets_a_reply_with_the_reveal_candidates(world: World):
    async with world.run_bot() as bot:
        announcement = await world.announce_owl(bot)

        successor = {**ORDINARY_MODELS[0], "id": "openai/gpt-5.1", "name": "OpenAI: GPT-5.1"}
        world.gateway.set_catalogue([*ORDINARY_MODELS, successor])
        await bot.pipeline.poll_once()
        await bot.pipeline.poll_once()  # a removal is confirmed by the second poll without the model

        reply = await world.fake.wait_for_message(world.channel.id, lambda m: "· removal #" in footer(m), timeout=10)
        assert int(reply.message_reference["message_id"]) == announcement.id
        assert "openai/gpt-5.1" in reply.embeds[0]["description"]
        await eventually(lambda: _removal_posted(bot, world.guild.id), what="the removal reply recorded")


async def _removal_posted(bot, guild_id: int) -> bool:  # type: ignore[no-untyped-def]
    row = await bot.store.outbox.for_model(guild_id, OWL["id"])
    return row is not None and row.removal_state == "posted"


async def test_the_default_channel_is_adopted_and_announces_current_stealth_models(world: World):
    world.add_owl()
    async with world.run_bot(announce_channel_id=world.channel.id) as bot:
        announcement = await world.fake.wait_for_message(
            world.channel.id, lambda m: "· announcement #" in footer(m), timeout=10
        )
        assert OWL["id"] in str(announcement.embeds)
        assert (await bot.store.guilds.get(world.guild.id)).channel_id == world.channel.id
        assert await bot.store.guilds.get(world.other_guild.id) is None  # that channel is not in the other guild


async def test_commands_sync_to_the_dev_guild_and_only_when_the_tree_changed(world: World):
    async with world.run_bot(dev_guild_id=world.guild.id):
        pass
    async with world.run_bot(dev_guild_id=world.guild.id):
        pass
    assert world.fake.sync_count(world.guild.id) == 1 and world.fake.sync_count(None) == 0
    [scout] = world.fake.commands(world.guild.id)
    assert scout["name"] == "scout"
    assert sorted(option["name"] for option in scout["options"]) == SCOUT_SUBCOMMANDS

    async with world.run_bot():
        pass
    assert world.fake.sync_count(None) == 1  # a new scope is a change


async def test_status_names_the_permissions_the_bot_lacks_in_the_channel(world: World):
    guild, channel, member, admin = make_guild("Locked Guild", "lee")
    guild.everyone_permissions &= ~int(Permission.EMBED_LINKS | Permission.ATTACH_FILES)
    guild.bot_permissions = int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.READ_MESSAGE_HISTORY)
    async with FakeDiscord(guilds=[guild]) as fake:
        locked = replace(world, fake=fake, guild=guild, channel=channel, member=member, admin=admin)
        async with locked.run_bot() as bot:
            setup_answer = await locked.set_up_channel(bot)
            assert "missing these permissions there: Embed Links, Attach Files" in setup_answer
            callback = await locked.answer(await locked.command(bot, "scout status"))
            assert "Missing permissions there: Embed Links, Attach Files." in str(callback[1])
