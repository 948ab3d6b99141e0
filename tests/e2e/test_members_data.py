"""Members' data through the real client: forget-me with its confirmation, an admin forgetting a member who left,
who may export what, and the leaderboard that ranks the bot with the members (and its seasons)."""

from __future__ import annotations

import csv
import io
import re

from bot.attribution.guess import Guess, RankedVendor
from bot.client import ScoutBot
from bot.testing.discord import MemberSpec, StoredMessage
from cogs.members import CANCEL_ID, CONFIRM_ID
from tests.support.world import OWL, World, eventually, fields

BOB_NOTE = "bob thinks it writes like GPT"


async def _owl_voted_on_and_revealed(
    world: World, bot: ScoutBot, bob: MemberSpec, *, bot_calls: str | None = None
) -> StoredMessage:
    """Owl is announced; alice votes right, bob votes wrong and writes a note, the admin reveals OpenAI.

    The world has no references, so the pipeline names nobody; `bot_calls` stands in for a ranked guess
    the bot would have made with references.
    """
    card = await world.announce_owl(bot)
    await bot.pipeline.wait_idle()
    if bot_calls is not None:
        ranking = (RankedVendor(bot_calls, bot_calls, 0.7), RankedVendor("google", "Google", 0.2))
        await bot.store.guesses.save(Guess(model_id=OWL["id"], ranking=ranking, confidence=0.7, evidence=()))
    await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))
    await world.answer(await world.command(bot, "scout vote", bob, model=OWL["id"], vendor="google"))
    await world.answer(await world.command(bot, "scout note", bob, model=OWL["id"], text=BOB_NOTE))
    await world.answer(await world.command(bot, "scout reveal", world.admin, model=OWL["id"], vendor="openai"))
    return card


async def _leaderboard(world: World, bot: ScoutBot, **options: str) -> list[str]:
    _, embeds, _ = await world.answer(await world.command(bot, "scout leaderboard", **options))
    return embeds[0]["description"].splitlines()


async def _export(world: World, bot: ScoutBot, member: MemberSpec) -> tuple[str, list[dict[str, str]]]:
    text, _, message = await world.answer(await world.command(bot, "scout export", member))
    return text, list(csv.DictReader(io.StringIO(message.attachments[0].text)))


async def _forget_member(world: World, who: MemberSpec, member_option: str) -> int:
    """`/scout forget-member member:…` (its option is named like `World.command`'s own `member` argument)."""
    payload = world.fake.build_command(
        "scout forget-member",
        guild_id=world.guild.id,
        channel_id=world.channel.id,
        member=who,
        options={"member": member_option},
    )
    return await world.fake.send_interaction(payload)


async def _question(world: World, interaction: int) -> StoredMessage:
    """The command's ephemeral question (its deferred original response), after checking it offers both buttons."""
    callback = await world.fake.wait_for_interaction_response(interaction)
    question = callback.message
    assert callback.ephemeral and question is not None
    await world.fake.wait_until(lambda: bool(question.components), what="the question's buttons")
    assert question.custom_ids() == [CONFIRM_ID, CANCEL_ID]
    return question


async def _press(world: World, question: StoredMessage, button: str, member: MemberSpec) -> str:
    await world.fake.send_interaction(world.fake.build_component(question.id, button, member=member))
    await world.fake.wait_until(lambda: not question.components, what="the question to lose its buttons")
    return question.content


async def test_forget_me_asks_first_and_then_leaves_no_trace_in_export_or_leaderboard(world: World):
    bob = MemberSpec("bob")
    async with world.run_bot() as bot:
        card = await _owl_voted_on_and_revealed(world, bot, bob)
        assert any("bob: 0/1 right" in line for line in await _leaderboard(world, bot))
        await world.fake.wait_until(
            lambda: "Google" in fields(card).get("Votes here", ""), what="bob's vote on the card"
        )

        question = await _question(world, await world.command(bot, "scout forget-me", bob))
        assert "deletes every vote and note you made in this server" in question.content
        assert await _press(world, question, CANCEL_ID, bob) == "Nothing was deleted."
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], bob.id)) is not None

        question = await _question(world, await world.command(bot, "scout forget-me", bob))
        done = await _press(world, question, CONFIRM_ID, bob)
        assert done.startswith("Deleted 1 vote and 1 note of yours in this server")

        text, records = await _export(world, bot, world.admin)
        assert records and {r["member_id"] for r in records} == {str(world.member.id)}
        assert BOB_NOTE not in text + str(records)
        board = await _leaderboard(world, bot)
        assert not any("bob" in line for line in board) and any("alice: 1/1 right" in line for line in board)
        _, bobs_own = await _export(world, bot, bob)
        assert bobs_own == []
        await world.fake.wait_until(
            lambda: "Google" not in fields(card).get("Votes here", "google"), what="the card re-drawn without bob"
        )


async def test_an_unanswered_question_expires_and_deletes_nothing(world: World, monkeypatch):
    async with world.run_bot() as bot:
        # the bot runs the module that load_extension executed, not the one a test would import
        monkeypatch.setattr(bot.extensions["cogs.members"], "CONFIRM_SECONDS", 0.3)
        await world.owl_appears(bot)
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))

        question = await _question(world, await world.command(bot, "scout forget-me"))
        await world.fake.wait_until(lambda: not question.components, what="the buttons to go")
        assert question.content == "Nothing was deleted: the question expired."
        assert await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id) is not None


async def test_an_admin_forgets_a_member_who_left_found_by_name_and_a_member_cannot(world: World):
    async with world.run_bot() as bot:
        await world.owl_appears(bot)
        ghost_id = 123456789012345678  # voted, then left: no longer in the guild's member list
        await bot.store.votes.cast(world.guild.id, OWL["id"], ghost_id, "gone-but-not-forgotten", "xai")
        await bot.store.notes.add(world.guild.id, OWL["id"], ghost_id, "gone-but-not-forgotten", "bye")
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))

        typing = world.fake.build_autocomplete(
            "scout forget-member",
            focused="member",
            value="gone",
            guild_id=world.guild.id,
            channel_id=world.channel.id,
            member=world.admin,
        )
        choices = (await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing))).choices
        assert choices == [{"name": f"gone-but-not-forgotten ({ghost_id})", "value": str(ghost_id)}]
        typing = world.fake.build_autocomplete(
            "scout forget-member",
            focused="member",
            value="",
            guild_id=world.guild.id,
            channel_id=world.channel.id,
            member=world.member,
        )
        peeking = await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing))
        assert peeking.choices == []  # who has data here is for admins, who may use the command

        refused = await world.fake.wait_for_interaction_response(
            await _forget_member(world, world.member, str(ghost_id))
        )
        assert refused.ephemeral and refused.content == "You need the Manage Server permission to do that."
        wrong = await world.fake.wait_for_interaction_response(
            await _forget_member(world, world.admin, "gone-but-not-forgotten")
        )
        assert wrong.ephemeral and wrong.content.startswith("Pick the member from the suggestions")

        question = await _question(world, await _forget_member(world, world.admin, str(ghost_id)))
        assert "gone-but-not-forgotten" in question.content
        done = await _press(world, question, CONFIRM_ID, world.admin)
        assert done.startswith("Deleted 1 vote and 1 note of gone-but-not-forgotten's")
        assert await bot.store.members.with_data(world.guild.id) == [(world.member.id, "alice")]


async def test_admins_export_the_guild_and_a_member_only_their_own_data(world: World):
    bob = MemberSpec("bob")
    async with world.run_bot() as bot:
        await _owl_voted_on_and_revealed(world, bot, bob)

        text, everything = await _export(world, bot, world.admin)
        assert text.startswith("Vote log of this server")
        assert {r["member_id"] for r in everything} == {str(world.member.id), str(bob.id)}

        text, own = await _export(world, bot, bob)
        assert text.startswith("Your votes and notes in this server")
        assert [(r["member_name"], r["kind"]) for r in own] == [("bob", "vote"), ("bob", "note")]
        text, own = await _export(world, bot, world.member)
        assert [(r["member_name"], r["vendor"], r["correct"]) for r in own] == [("alice", "openai", "true")]


async def test_the_leaderboard_ranks_the_bot_among_the_members_and_counts_seasons(world: World):
    bob = MemberSpec("bob")
    async with world.run_bot() as bot:
        await _owl_voted_on_and_revealed(world, bot, bob, bot_calls="openai")
        guess = await eventually(lambda: bot.store.guesses.latest(OWL["id"]), what="the bot's guess")
        assert guess.top_vendor == "openai"

        board = await _leaderboard(world, bot)
        # the bot and alice both called OpenAI; the bot stated a probability, so its Brier score breaks the tie
        assert re.fullmatch(r"1\. 🤖 Model Scout \(the bot\): 1/1 right \(100%\) · Brier 0\.\d\d", board[0]), board
        assert board[1:] == ["2. alice: 1/1 right (100%)", "3. bob: 0/1 right (0%)"]

        assert await _leaderboard(world, bot, since="2999-01-01") == ["No revealed model has votes yet."]
        _, embeds, _ = await world.answer(await world.command(bot, "scout leaderboard", since="2020-01-01"))
        assert embeds[0]["title"] == "Who spotted the stealth models since 2020-01-01"
        assert len(embeds[0]["description"].splitlines()) == 3

        refused = await world.fake.wait_for_interaction_response(
            await world.command(bot, "scout leaderboard", since="last spring")
        )
        assert refused.ephemeral and "ISO-8601" in refused.content and "\n" not in refused.content
