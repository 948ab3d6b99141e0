"""The bot SIGKILLed around posting an announcement: after a restart, every guild has exactly one.

The real bot runs as a child process against the fakes. The fake Discord holds the first post to the
main guild's channel at one of the two moments a crash can split, the test kills the bot there, and a
second bot on the same database has to finish the job without posting anything twice:

- between "intended" and "posted": the bot marked the row `posting` and sent the request, Discord
  never stored it;
- between "posted" and "recorded": Discord stored the message, the bot died before writing its id.

The reply that follows a stealth model's removal goes through the same outbox, and is checked the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import StoredMessage, new_snowflake
from bot.testing.gateway_server import ScriptedModel, constant_reply
from tests.support.bot_process import read_rows, running_bot
from tests.support.holding_discord import HoldingDiscord
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, footer


def _rows(world: World) -> dict[int, dict[str, object]]:
    rows = read_rows(
        world.database, "SELECT guild_id, state, message_id FROM announcements WHERE model_id = ?", OWL["id"]
    )
    return {row["guild_id"]: dict(row) for row in rows}


async def _configure_both_guilds(world: World) -> None:
    """Both guilds set up and the ordinary models known, so the bot's first poll announces Owl Alpha in each."""
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await store.guilds.configure(world.other_guild.id, world.other_channel.id, all_models=False)
        await record_catalogue(store, ORDINARY_MODELS, "before the first start")


@pytest.mark.parametrize("after_storing", [False, True], ids=["before-discord-stored-it", "after-discord-stored-it"])
async def test_sigkill_around_a_post_leaves_exactly_one_announcement_per_guild(
    world: World, tmp_path: Path, after_storing: bool
):
    await _configure_both_guilds(world)
    world.add_owl()
    fake: HoldingDiscord = world.fake  # type: ignore[assignment]
    hold = fake.hold_post(world.channel.id, after_storing=after_storing)
    environment = world.process_environment()

    async with running_bot(environment, tmp_path / "run", name="first") as first:
        await first.wait_for(hold.arrived.is_set, what="the announcement post reaching Discord")
        assert _rows(world)[world.guild.id]["state"] == "posting"
        await first.kill()
    hold.release(drop=not after_storing)
    stored = announcements_in(fake, world.channel.id)
    assert len(stored) == (1 if after_storing else 0)
    assert _rows(world)[world.guild.id]["message_id"] is None  # the held post was not recorded before the kill

    async with running_bot(environment, tmp_path / "run", name="second") as second:

        def both_posted() -> bool:
            rows = _rows(world)
            return len(rows) == 2 and all(row["state"] == "posted" for row in rows.values())

        await second.wait_for(both_posted, what="both guilds' announcements recorded as posted")

    [main] = announcements_in(fake, world.channel.id)
    [other] = announcements_in(fake, world.other_channel.id)
    rows = _rows(world)
    assert rows[world.guild.id]["message_id"] == main.id and rows[world.other_guild.id]["message_id"] == other.id
    if after_storing:
        assert main.id == stored[0].id  # the message Discord already had was adopted, not posted again


def _removal_rows(world: World) -> dict[int, dict[str, object]]:
    rows = read_rows(
        world.database,
        "SELECT guild_id, removal_state, removal_message_id FROM announcements WHERE model_id = ?",
        OWL["id"],
    )
    return {row["guild_id"]: dict(row) for row in rows}


async def _announced_before_the_first_start(world: World) -> None:
    """Owl Alpha announced in both guilds by an earlier run: its messages are in Discord, its rows `posted`."""
    await _configure_both_guilds(world)
    async with await Store.open(world.database) as store:
        await record_catalogue(store, [*ORDINARY_MODELS, OWL], "while Owl Alpha was listed")
        for announcement in await store.outbox.pending():
            message = StoredMessage(
                new_snowflake(),
                announcement.channel_id,
                announcement.guild_id,
                world.fake.bot_user,
                embeds=[{"type": "rich", "title": "New stealth model: Owl Alpha"}],
            )
            world.fake.messages[message.id] = message
            await store.outbox.mark_posted(announcement.id, message.id, announcement.revision)
        await record_catalogue(store, ORDINARY_MODELS, "Owl Alpha missing once, so the next poll confirms its removal")


async def test_sigkill_after_discord_stored_a_removal_reply_leaves_exactly_one_reply_per_guild(
    world: World, tmp_path: Path
):
    await _announced_before_the_first_start(world)
    world.gateway.add_model(ScriptedModel(OWL["id"], respond=constant_reply("I am a helpful assistant.")))
    world.gateway.set_catalogue(ORDINARY_MODELS)  # Owl Alpha is gone at the bot's first poll
    fake: HoldingDiscord = world.fake  # type: ignore[assignment]
    hold = fake.hold_post(world.channel.id, after_storing=True)
    environment = world.process_environment()

    async with running_bot(environment, tmp_path / "run", name="first") as first:
        await first.wait_for(hold.arrived.is_set, what="the removal reply reaching Discord")
        assert _removal_rows(world)[world.guild.id]["removal_state"] == "posting"
        await first.kill()
    hold.release()
    [stored] = [m for m in fake.channel_messages(world.channel.id) if "· removal #" in footer(m)]

    async with running_bot(environment, tmp_path / "run", name="second") as second:

        def both_replied() -> bool:
            return all(row["removal_state"] == "posted" for row in _removal_rows(world).values())

        await second.wait_for(both_replied, what="both guilds' removal replies recorded")

    replies = {
        channel: [m for m in fake.channel_messages(channel) if "· removal #" in footer(m)]
        for channel in (world.channel.id, world.other_channel.id)
    }
    assert replies[world.channel.id] == [stored] and len(replies[world.other_channel.id]) == 1
    assert _removal_rows(world)[world.guild.id]["removal_message_id"] == stored.id
