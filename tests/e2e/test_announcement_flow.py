"""The whole flow on the real client: a stealth model appears, is announced, guessed, voted on, exported,
and its components still work after a restart."""

from __future__ import annotations

import asyncio
import csv
import io
import logging

from bot.testing.discord import MemberSpec
from tests.support.world import API_KEY, OWL, World, announcements_in, card_lead, eventually, fields, footer


async def test_stealth_model_is_announced_guessed_voted_exported_and_survives_a_restart(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)

        world.add_owl(latency_s=0.3)
        await bot.pipeline.poll_once()

        announcement = await world.fake.wait_for_message(
            world.channel.id, lambda m: "· announcement #" in footer(m), timeout=10
        )
        assert fields(announcement)["Listing"].startswith(f"`{OWL['id']}`")
        await world.fake.wait_until(
            lambda: "Probing" not in card_lead(announcement), timeout=30, what="the announcement edited after probing"
        )
        assert announcement.edit_count >= 1
        assert "Probing" in str(announcement.history[0]["embeds"])  # first posted before the probes finished
        assert announcement.allowed_mentions == {"parse": []}

        # a member picks a vendor in the select
        [select_id] = [cid for cid in announcement.custom_ids() if cid.startswith("scout:vote:")]
        click = world.fake.build_component(announcement.id, select_id, member=world.member, values=["openai"])
        text, _, _ = await world.answer(await world.fake.send_interaction(click))
        assert "Vote recorded" in text and "OpenAI" in text
        vote = await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)
        assert vote is not None and vote.vendor == "openai"
        await world.fake.wait_until(
            lambda: fields(announcement).get("Votes here", "").startswith("1 vote so far;"), what="the tally edit"
        )
        assert "OpenAI" not in fields(announcement)["Votes here"]  # hidden until the reveal in a new server

        # /scout export returns a CSV holding that vote
        exported = await world.command(bot, "scout export")
        text, _, message = await world.answer(exported)
        [attachment] = message.attachments
        records = list(csv.DictReader(io.StringIO(attachment.text)))
        assert [
            (r["guild_id"], r["model_id"], r["member_id"], r["member_name"], r["vendor"], r["current_vote"])
            for r in records
        ] == [(str(world.guild.id), OWL["id"], str(world.member.id), "alice", "openai", "true")]
        assert records[0]["time"].endswith("Z") and "1 row" in text

    async with world.run_bot() as bot:
        # after a restart, the same select on the old message still works
        again = world.fake.build_component(announcement.id, select_id, member=world.member, values=["anthropic"])
        text, _, _ = await world.answer(await world.fake.send_interaction(again))
        assert "Vote changed" in text and "Anthropic" in text
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)).vendor == "anthropic"
        [tally_id] = [cid for cid in announcement.custom_ids() if cid.startswith("scout:votes:")]
        callback_id = await world.fake.send_interaction(
            world.fake.build_component(announcement.id, tally_id, member=world.admin)
        )
        callback = await world.fake.wait_for_interaction_response(callback_id)
        _, embeds, _ = await world.answer(callback_id)
        assert callback.ephemeral and embeds[0]["description"].startswith("1 vote so far;")

    assert len(announcements_in(world.fake, world.channel.id)) == 1
    assert world.fake.sync_count() == 1  # the second start found the command tree unchanged


async def test_many_votes_are_each_stored_once_and_coalesced_into_few_edits(world: World, caplog):
    caplog.set_level(logging.DEBUG)
    voters = [MemberSpec(f"voter{number}") for number in range(30)]
    async with world.run_bot(edit_interval=3600) as bot:
        announcement = await world.announce_owl(bot)
        await world.fake.wait_until(lambda: "Probing" not in card_lead(announcement), timeout=30, what="guesses")
        edits_before = announcement.edit_count
        [select_id] = [cid for cid in announcement.custom_ids() if cid.startswith("scout:vote:")]

        clicks = [
            await world.fake.send_interaction(
                world.fake.build_component(
                    announcement.id, select_id, member=voter, values=["openai" if n % 3 else "google"]
                )
            )
            for n, voter in enumerate(voters)
        ]
        answers = await asyncio.gather(*(world.answer(click) for click in clicks))

        assert all("Vote recorded" in text for text, _, _ in answers)
        tally = await bot.store.votes.tally(world.guild.id, OWL["id"])
        assert [(item.vendor, item.votes) for item in tally.by_vendor] == [("openai", 20), ("google", 10)]
        assert await bot.store.members.counts(world.guild.id) == {"votes": 30, "notes": 0, "reveals": 0}
        assert (
            announcement.edit_count == edits_before
        )  # the edit waits for the interval instead of following each click
        row = await bot.store.outbox.for_model(world.guild.id, OWL["id"])
        assert row.revision > row.posted_revision

    assert world.fake.token not in caplog.text and API_KEY not in caplog.text
