"""The disk fills up while the bot runs: a member's vote that cannot be stored is kept and retried, the member is
told the truth (not "something went wrong"), and it lands once there is room; a poll that could not be stored
shows as failed in `/scout status`, not as the last good one.

SQLite's `max_page_count` makes the bot's own connection meet a full disk exactly as a full volume does
(SQLITE_FULL, "database or disk is full") without filling the test machine's disk.
"""

from __future__ import annotations

import sqlite3

from tests.support.world import ORDINARY_MODELS, OWL, World, eventually

UNLIMITED_PAGES = 1_073_741_823
BIG_LISTING = {**ORDINARY_MODELS[0], "id": "acme/verbose", "name": "Acme: Verbose", "description": "word " * 3000}


async def _fill_the_disk(bot, guild_id: int) -> None:  # type: ignore[no-untyped-def]
    """No page left: the database may not grow, and filler votes take the room left inside its pages."""
    pages = (await bot.store.db.fetchone("PRAGMA page_count"))[0]
    await bot.store.db.fetchone(f"PRAGMA max_page_count = {pages}")
    for member in range(1, 100_000):
        try:
            await bot.store.votes.cast(guild_id, OWL["id"], member, f"filler {member}", "anthropic")
        except sqlite3.OperationalError as error:
            assert "full" in str(error)
            return
    raise AssertionError("the database never filled up")


async def _free_the_disk(bot) -> None:  # type: ignore[no-untyped-def]
    await bot.store.db.fetchone(f"PRAGMA max_page_count = {UNLIMITED_PAGES}")


def _status_fields(answer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}


async def test_a_vote_that_cannot_be_stored_is_kept_told_truthfully_and_lands_when_there_is_room(world: World):
    async with world.run_bot() as bot:
        card = await world.announce_owl(bot)
        await bot.pipeline.wait_idle()
        await _fill_the_disk(bot, world.guild.id)

        [select] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
        click = await world.fake.send_interaction(
            world.fake.build_component(card.id, select, member=world.member, values=["openai"])
        )
        notice = await world.fake.wait_until(
            lambda: (world.fake.original_response(click) or None) and world.fake.original_response(click).content,
            what="the member told what is happening",
        )
        assert "disk is full" in notice and "kept" in notice, notice
        assert await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id) is None

        world.gateway.set_catalogue([*ORDINARY_MODELS, OWL, BIG_LISTING])  # a poll that needs room to be stored
        assert not (await bot.pipeline.poll_once()).ok
        shown = _status_fields(await world.answer(await world.command(bot, "scout status", world.admin)))
        assert "failed" in shown["Catalogue"] and "disk is full" in shown["Catalogue"], shown["Catalogue"]

        await _free_the_disk(bot)
        text, _, _ = await world.answer(click, timeout=30)
        assert text.startswith("Vote recorded"), text
        vote = await eventually(
            lambda: bot.store.votes.current(world.guild.id, OWL["id"], world.member.id), what="the vote stored"
        )
        assert vote.vendor == "openai"
