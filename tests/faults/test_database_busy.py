"""SQLite busy: another process holds the write lock while members vote. Votes wait and are kept.

A second process (as `scout scan` or a backup next to the running bot would) takes the database's
write lock with `BEGIN IMMEDIATE` and keeps it until the test has seen the bot give up waiting once
and retry ("database busy, retrying" — SQLite's own 5 s busy timeout has run out by then). Then it
commits, and every vote has to be stored exactly once, after the lock was released.
"""

from __future__ import annotations

import logging

from bot.testing.discord import MemberSpec, StoredMessage
from bot.testing.locker import release, write_lock_held_elsewhere
from tests.support.world import OWL, World, eventually


async def _announced(world: World, bot) -> StoredMessage:  # type: ignore[no-untyped-def]
    return await world.announce_owl(bot)


def _busy_retried(caplog) -> bool:  # type: ignore[no-untyped-def]
    return any("database busy, retrying" in record.getMessage() for record in caplog.records)


async def _until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return bool(predicate())

    await eventually(check, timeout=30, what=what)


async def test_votes_cast_while_another_process_holds_the_write_lock_are_retried_and_kept(world: World, caplog):
    caplog.set_level(logging.WARNING, logger="bot.store.sqlite")
    voters = [world.member, world.admin, MemberSpec("bob"), MemberSpec("carol")]
    async with world.run_bot() as bot:
        announcement = await _announced(world, bot)
        [select] = [custom_id for custom_id in announcement.custom_ids() if custom_id.startswith("scout:vote:")]

        async with write_lock_held_elsewhere(world.database) as locker:
            clicks = [
                await world.fake.send_interaction(
                    world.fake.build_component(announcement.id, select, member=voter, values=["openai"])
                )
                for voter in voters
            ]
            await _until(lambda: _busy_retried(caplog), "the bot to retry a busy database")
            assert all(
                world.fake.interaction(click).callback is not None for click in clicks
            )  # deferred before the wait
            assert not any(world.fake.interaction(click).followup_ids for click in clicks)  # nothing stored yet
            released = await release(locker)

        answers = [(await world.answer(click))[0] for click in clicks]
        assert all(answer.startswith("Vote recorded") for answer in answers), answers
        history = [(row.member_id, row.at) async for row in bot.store.members.export_rows(world.guild.id)]
        assert sorted(member for member, _ in history) == sorted(voter.id for voter in voters)  # each vote once
        assert all(voted_at >= released for _, voted_at in history)  # stored after the lock was released
        assert [(i.vendor, i.votes) for i in (await bot.store.votes.tally(world.guild.id, OWL["id"])).by_vendor] == [
            ("openai", len(voters))
        ]


async def test_slash_votes_and_notes_are_acknowledged_while_the_database_is_locked(world: World, caplog):
    caplog.set_level(logging.WARNING, logger="bot.store.sqlite")
    async with world.run_bot() as bot:
        await _announced(world, bot)
        async with write_lock_held_elsewhere(world.database) as locker:
            vote = await world.command(bot, "scout vote", model=OWL["id"], vendor="openai")
            note = await world.command(bot, "scout note", world.admin, model=OWL["id"], text="sounds like GPT")
            await _until(lambda: _busy_retried(caplog), "the bot to retry a busy database")
            acknowledged = [world.fake.interaction(i).callback is not None for i in (vote, note)]
            await release(locker)
        await world.answer(vote)
        await world.answer(note)
        assert acknowledged == [True, True]
