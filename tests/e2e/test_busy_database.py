"""Another OS process holds the database's write lock: every interaction is still acknowledged within
Discord's 3 seconds, and a vote cast meanwhile is queued, retried past the store's own retries, and lands
(the member is told it is queued, then told when it is stored)."""

from __future__ import annotations

import logging

import pytest

from bot.store import sqlite
from bot.testing.discord import ChannelArg, MemberSpec
from bot.testing.locker import release, write_lock_held_elsewhere
from tests.support.world import OWL, World, eventually

ACK_DEADLINE_S = 3.0


def _gave_up_once(caplog: pytest.LogCaptureFixture) -> bool:
    """The store's own busy retries ran out at least once, and the vote queue took over."""
    return any(record.getMessage().startswith("vote waits for the database") for record in caplog.records)


async def test_every_interaction_is_acknowledged_in_time_and_votes_land_after_a_long_lock(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sqlite, "BUSY_RETRIES", 1)  # the store gives up after one 5 s busy timeout
    caplog.set_level(logging.WARNING, logger="bot.store.busy")
    voters = [world.member, MemberSpec("bob"), MemberSpec("carol")]
    async with world.run_bot() as bot:
        announcement = await world.announce_owl(bot)
        ids = {
            kind: cid for cid in announcement.custom_ids() for kind in ("vote", "note", "votes") if f":{kind}:" in cid
        }

        async with write_lock_held_elsewhere(world.database) as locker:
            clicks = [
                await world.fake.send_interaction(
                    world.fake.build_component(announcement.id, ids["vote"], member=voter, values=["zhipu"])
                )
                for voter in voters
            ]
            slash_vote = await world.command(bot, "scout vote", world.admin, model="Owl Alpha", vendor="Meituan")
            others = [
                await world.command(bot, "scout status"),
                await world.command(bot, "scout model", model=OWL["id"]),
                await world.command(bot, "scout votes", model=OWL["id"]),
                await world.command(bot, "scout recent"),
                await world.command(bot, "scout help"),
                await world.command(bot, "scout note", model=OWL["id"], text="sounds like LongCat"),
                await world.command(bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id)),
                await world.command(bot, "scout leaderboard"),
                await world.command(bot, "scout export"),
                await world.command(bot, "scout forget-me"),
                await world.fake.send_interaction(
                    world.fake.build_component(announcement.id, ids["votes"], member=world.member)
                ),
                await world.fake.send_interaction(
                    world.fake.build_component(announcement.id, ids["note"], member=world.member)
                ),
            ]
            every = [*clicks, slash_vote, *others]
            await world.fake.wait_until(
                lambda: all(world.fake.interaction(i).callback for i in every), timeout=10, what="every acknowledgement"
            )
            latencies = [world.fake.interaction(i).callback.latency for i in every]
            assert max(latencies) < ACK_DEADLINE_S, latencies

            async def gave_up() -> bool:
                return _gave_up_once(caplog)

            async def told_queued() -> bool:
                answers = [world.fake.original_response(click) for click in clicks]
                return all(message is not None and "is queued" in message.content for message in answers)

            await eventually(gave_up, timeout=30, what="the store to give up once")
            await eventually(told_queued, timeout=10, what="each voter told their vote is queued")
            assert not any(world.fake.interaction(click).followup_ids for click in clicks)  # none stored yet
            released = await release(locker)

        answers = [(await world.answer(click, timeout=30))[0] for click in [*clicks, slash_vote]]
        assert all(answer.startswith("Vote recorded") for answer in answers), answers
        history = [row async for row in bot.store.members.export_rows(world.guild.id) if row.kind == "vote"]
        assert sorted(row.member_id for row in history) == sorted([*(v.id for v in voters), world.admin.id])
        assert all(row.at >= released for row in history)  # stored after the other process let go
        tally = await bot.store.votes.tally(world.guild.id, OWL["id"])
        assert sorted((item.vendor, item.votes) for item in tally.by_vendor) == [("meituan", 1), ("zhipu", 3)]


async def test_forget_member_is_acknowledged_in_time_while_a_vote_waits_for_the_lock(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """The admin's look-up of the member queues behind a vote stuck in SQLite's busy wait on the one connection:
    deferring first keeps the answer inside Discord's window, and the question follows once the lock is gone."""
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 20_000)  # the vote sits in one long busy wait
    async with world.run_bot() as bot:
        announcement = await world.announce_owl(bot)
        vote_id = next(cid for cid in announcement.custom_ids() if ":vote:" in cid)
        await bot.store.notes.add(world.guild.id, OWL["id"], 42, "left-already", "bye")

        async with write_lock_held_elsewhere(world.database) as locker:
            click = await world.fake.send_interaction(
                world.fake.build_component(announcement.id, vote_id, member=world.member, values=["zhipu"])
            )

            async def vote_queued() -> bool:
                message = world.fake.original_response(click)
                return message is not None and "is queued" in message.content

            await eventually(vote_queued, timeout=10, what="the vote to wait for the lock")
            forget = await world.fake.send_interaction(
                world.fake.build_command(
                    "scout forget-member",
                    guild_id=world.guild.id,
                    channel_id=world.channel.id,
                    member=world.admin,
                    options={"member": "42"},
                )
            )
            callback = await world.fake.wait_for_interaction_response(forget, timeout=30)
            assert callback.latency < ACK_DEADLINE_S and callback.deferred and callback.ephemeral
            await release(locker)

        question = world.fake.original_response(forget)
        assert question is not None
        await world.fake.wait_until(lambda: bool(question.components), timeout=30, what="the question")
        assert question.content == "This deletes every vote and note of left-already in this server, for good."
