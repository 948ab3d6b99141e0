"""A brief permission loss, or a moderator deleting a card, must not leave a wrong card behind: a failed edit is
retried rather than counted as shown, a refused post is retried with backoff (and `/scout status` says what to
fix), and a deleted card is posted again once."""

from __future__ import annotations

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import StoredMessage
from cogs.announcements import Announcer
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, card_lead, eventually, footer


def _fast_retries(bot) -> None:  # type: ignore[no-untyped-def]
    bot.get_cog(Announcer.__cog_name__).retry_first_seconds = 0.05


def _status_here(answer) -> str:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}["This server"]


async def _row(bot, guild_id: int):  # type: ignore[no-untyped-def]
    return await bot.store.outbox.for_model(guild_id, OWL["id"])


async def test_a_403_while_the_guess_arrives_is_retried_until_the_card_shows_it(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        _fast_retries(bot)
        world.fake.forbid("PATCH /channels/*/messages/*", times=None)  # the permission is gone for a while
        card = await world.announce_owl(bot)
        await bot.pipeline.wait_idle()
        await world.fake.wait_until(
            lambda: len(world.fake.requests_to("PATCH /channels/*/messages/*")) >= 2, what="the refused edits"
        )
        row = await _row(bot, world.guild.id)
        assert row.posted_revision < row.revision, "a refused edit is not a shown revision"
        assert "Probing…" in card_lead(card)

        world.fake.clear_faults()  # the permission is back
        await world.fake.wait_until(lambda: "Probing…" not in card_lead(card), what="the guess on the card")

        async def rendered() -> bool:
            current = await _row(bot, world.guild.id)
            return current.posted_revision == current.revision

        await eventually(rendered, what="the revision recorded as shown")


async def test_a_403_on_a_post_is_retried_by_itself_and_status_says_what_to_fix(world: World):
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await record_catalogue(store, ORDINARY_MODELS, "baseline")
    async with world.run_bot() as bot:
        _fast_retries(bot)
        world.fake.forbid(f"POST /channels/{world.channel.id}/messages", times=None)
        world.add_owl()
        await bot.pipeline.poll_once()
        await world.fake.wait_until(
            lambda: len(world.fake.requests_to(f"POST /channels/{world.channel.id}/messages")) >= 3,
            what="the refused post retried",
        )
        assert (await _row(bot, world.guild.id)).state != "failed"
        general = next(channel for channel in world.guild.channels if channel.name == "general")
        here = _status_here(
            await world.answer(await world.command(bot, "scout status", world.admin, in_channel=general))
        )
        assert "missing permission" in here and "retrying" in here, here

        world.fake.clear_faults()  # an admin fixes the channel's permissions; nobody runs /scout setup
        card = await world.fake.wait_for_message(world.channel.id, lambda m: "· announcement #" in footer(m))
        await eventually(lambda: _is_posted(bot, world.guild.id, card), what="the card recorded")
        here = _status_here(
            await world.answer(await world.command(bot, "scout status", world.admin, in_channel=general))
        )
        assert "missing permission" not in here, here
    assert len(announcements_in(world.fake, world.channel.id)) == 1


async def _is_posted(bot, guild_id: int, card: StoredMessage) -> bool:  # type: ignore[no-untyped-def]
    row = await _row(bot, guild_id)
    return row.state == "posted" and row.message_id == card.id


async def _vote(world: World, card: StoredMessage, vendor: str) -> str:
    [select] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
    click = world.fake.build_component(card.id, select, member=world.member, values=[vendor])
    return (await world.answer(await world.fake.send_interaction(click)))[0]


async def test_a_card_a_moderator_deletes_is_posted_again_once(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        _fast_retries(bot)
        first = await world.announce_owl(bot)
        await bot.pipeline.wait_idle()
        await eventually(lambda: _is_posted(bot, world.guild.id, first), what="the first card recorded")
        await world.fake.delete_message(first.id)
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))  # an edit is due

        second = await world.fake.wait_for_message(world.channel.id, lambda m: "· announcement #" in footer(m))
        assert second.id != first.id and footer(second) == footer(first)
        await eventually(lambda: _is_posted(bot, world.guild.id, second), what="the new card recorded")
        assert (await _vote(world, second, "anthropic")).startswith("Vote changed")

        await world.fake.delete_message(second.id)
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))

        async def gave_up() -> bool:
            row = await _row(bot, world.guild.id)
            return row.posted_revision == row.revision and "deleted" in (row.last_error or "")

        await eventually(gave_up, what="the second deletion accepted")
        assert announcements_in(world.fake, world.channel.id) == []


async def test_with_reposting_off_a_deleted_card_stays_deleted(world: World):
    async with world.run_bot(edit_interval=0.05, repost_deleted_cards=False) as bot:
        first = await world.announce_owl(bot)
        await bot.pipeline.wait_idle()
        await eventually(lambda: _is_posted(bot, world.guild.id, first), what="the card recorded")
        await world.fake.delete_message(first.id)
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))

        async def gave_up() -> bool:
            row = await _row(bot, world.guild.id)
            return row.posted_revision == row.revision and "deleted" in (row.last_error or "")

        await eventually(gave_up, what="the deletion accepted")
        assert announcements_in(world.fake, world.channel.id) == []
