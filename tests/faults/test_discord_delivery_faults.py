"""Discord failing the bot's posts and edits in ways the end-to-end suite does not: a 5xx for a message
Discord did store, a permission taken away by a channel overwrite, a channel deleted under a live
announcement. Each guild's trouble stays in that guild and shows in its `/scout status`."""

from __future__ import annotations

import logging

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import ChannelArg, OverwriteSpec, Permission
from cogs.announcements import Announcer
from tests.support.holding_discord import HoldingDiscord
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, eventually, fields


async def _configure_both_guilds(world: World) -> None:
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await store.guilds.configure(world.other_guild.id, world.other_channel.id, all_models=False)
        await record_catalogue(store, ORDINARY_MODELS, "baseline")


def _deny_the_bot(
    world: World, guild_id: int, channel_id: int, permission: Permission
) -> tuple[list[OverwriteSpec], OverwriteSpec]:
    """Add a channel overwrite denying the bot `permission` in the fake's own copy of the guild (before the bot
    connects)."""
    overwrites = world.fake.guilds[guild_id].channel(channel_id).overwrites  # type: ignore[union-attr]
    deny = OverwriteSpec(world.fake.bot.id, type="member", deny=int(permission))
    overwrites.append(deny)
    return overwrites, deny


async def _state(bot, guild_id: int) -> str | None:  # type: ignore[no-untyped-def]
    row = await bot.store.outbox.for_model(guild_id, OWL["id"])
    return row.state if row else None


def _status(answer) -> str:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}["This server"]


@pytest.mark.parametrize(
    "status",
    [
        503,
        502,
    ],
)
async def test_a_server_error_for_a_post_discord_stored_does_not_announce_twice(world: World, status: int):
    await _configure_both_guilds(world)
    fake: HoldingDiscord = world.fake  # type: ignore[assignment]
    async with world.run_bot() as bot:
        bot.get_cog(Announcer.__cog_name__).retry_first_seconds = 0.05
        fake.fail_after_storing(world.channel.id, status=status)
        world.add_owl()
        await bot.pipeline.poll_once()

        async def both_posted() -> bool:
            return await _state(bot, world.guild.id) == await _state(bot, world.other_guild.id) == "posted"

        await eventually(both_posted, what="both announcements recorded")
        row = await bot.store.outbox.for_model(world.guild.id, OWL["id"])
    [announcement] = announcements_in(fake, world.channel.id)
    assert row.message_id == announcement.id
    assert len(announcements_in(fake, world.other_channel.id)) == 1


async def test_a_permission_denied_by_an_overwrite_is_logged_shown_and_setup_retries_at_once(world: World, caplog):
    caplog.set_level(logging.WARNING, logger="cogs.announcements")
    await _configure_both_guilds(world)
    overwrites, deny = _deny_the_bot(world, world.other_guild.id, world.other_channel.id, Permission.SEND_MESSAGES)
    async with world.run_bot() as bot:
        world.add_owl()
        await bot.pipeline.poll_once()
        await eventually(lambda: _refused(bot, world.other_guild.id), what="the refused guild's error recorded")
        await eventually(lambda: _is(bot, world.guild.id, "posted"), what="the other guild posting")

        logged = [r.getMessage() for r in caplog.records if f"guild {world.other_guild.id}" in r.getMessage()]
        assert logged and "missing permission" in logged[0]
        assert not [r for r in caplog.records if f"guild {world.guild.id}:" in r.getMessage()]

        general = next(channel for channel in world.other_guild.channels if channel.name == "general")
        callback = await world.answer(
            await world.command(bot, "scout status", world.other_admin, guild=world.other_guild, in_channel=general)
        )
        here = _status(callback)
        assert "Missing permissions there: Send Messages" in here and "Last delivery error" in here
        mine = _status(await world.answer(await world.command(bot, "scout status")))
        assert "Missing" not in mine and "error" not in mine

        overwrites.remove(deny)  # an admin fixes the channel, then runs setup again
        await world.set_up_channel(bot, other_guild=True)
        await eventually(lambda: _is(bot, world.other_guild.id, "posted"), what="the announcement after the fix")
    assert len(announcements_in(world.fake, world.other_channel.id)) == 1
    assert len(announcements_in(world.fake, world.channel.id)) == 1


async def _refused(bot, guild_id: int) -> bool:  # type: ignore[no-untyped-def]
    settings = await bot.store.guilds.get(guild_id)
    return "missing permission" in (settings.last_error or "")


async def _is(bot, guild_id: int, state: str) -> bool:  # type: ignore[no-untyped-def]
    return await _state(bot, guild_id) == state


async def test_a_channel_deleted_under_a_live_announcement_stops_only_that_guilds_updates(world: World, caplog):
    caplog.set_level(logging.WARNING, logger="cogs.announcements")
    await _configure_both_guilds(world)
    async with world.run_bot() as bot:
        world.add_owl()
        await bot.pipeline.poll_once()
        await eventually(lambda: _is(bot, world.guild.id, "posted"), what="the main guild's announcement")
        await eventually(lambda: _is(bot, world.other_guild.id, "posted"), what="the other guild's announcement")
        [survivor] = announcements_in(world.fake, world.other_channel.id)
        await bot.pipeline.wait_idle()

        async def edited_with_guesses() -> bool:
            row = await bot.store.outbox.for_model(world.other_guild.id, OWL["id"])
            return row.posted_revision == row.revision

        await eventually(edited_with_guesses, what="the first guesses shown")
        await world.fake.delete_channel(world.channel.id)
        edits_before = survivor.edit_count
        await world.answer(
            await world.command(
                bot, "scout vote", world.other_admin, guild=world.other_guild, model=OWL["id"], vendor="openai"
            )
        )
        await bot.pipeline.reprobe(OWL["id"])  # new guesses: every guild's announcement wants an edit

        async def main_guild_error() -> str | None:
            return (await bot.store.guilds.get(world.guild.id)).last_error

        error = await eventually(main_guild_error, what="the deleted channel recorded")
        assert "no longer exists" in error
        assert any(
            f"guild {world.guild.id}:" in r.getMessage() and "no longer exists" in r.getMessage()
            for r in caplog.records
        )
        await world.fake.wait_until(lambda: survivor.edit_count > edits_before, what="the other guild's edit")
        assert fields(survivor)["Votes here"].startswith("1 vote so far")
        assert (await bot.store.guilds.get(world.other_guild.id)).last_error is None

        general = next(channel for channel in world.guild.channels if channel.name == "general")
        callback = await world.answer(await world.command(bot, "scout status", world.admin, in_channel=general))
        assert "That channel no longer exists" in _status(callback) and "no longer exists; run /scout setup" in _status(
            callback
        )


async def test_setup_pointing_at_a_channel_the_bot_cannot_post_in_says_so(world: World):
    _deny_the_bot(world, world.guild.id, world.channel.id, Permission.EMBED_LINKS)
    async with world.run_bot() as bot:
        interaction = await world.command(bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id))
        text, _, _ = await world.answer(interaction)
        assert "will go to" in text and "missing these permissions there: Embed Links" in text
