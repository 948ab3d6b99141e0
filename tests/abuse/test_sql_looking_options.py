"""Slash options that look like SQL are data: stored as typed (or refused as unknown), never run, never
widening a search. Text a spreadsheet would run as a formula is defused in the CSV export."""

from __future__ import annotations

import csv
import io
import json

from bot.testing.discord import MemberSpec
from tests.support.bot_process import read_rows
from tests.support.world import ORDINARY_MODELS, OWL, World

DROP_VOTES = "'; DROP TABLE votes; --"
DELETE_REVEALS = "x'); DELETE FROM reveals; --"
FORMULA = '=HYPERLINK("https://evil.example","click")'
TABLES = {"votes", "vote_history", "notes", "reveals", "announcements", "models", "guild_settings"}


async def test_sql_looking_options_are_stored_verbatim_and_harmless(world: World):
    bobby = MemberSpec("bobby", nick="Robert'); DROP TABLE votes;--")
    async with world.run_bot() as bot:
        await world.owl_appears(bot)

        for member, text in [(world.member, DROP_VOTES), (bobby, FORMULA)]:
            assert (await world.answer(await world.command(bot, "scout note", member, model=OWL["id"], text=text)))[
                0
            ].startswith("Note saved")
        assert (
            "Vote recorded"
            in (await world.answer(await world.command(bot, "scout vote", bobby, model=OWL["id"], vendor=DROP_VOTES)))[
                0
            ]
        )
        assert (
            "Vote recorded"
            in (await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai")))[0]
        )
        revealed, _, _ = await world.answer(
            await world.command(
                bot, "scout reveal", world.admin, model=OWL["id"], vendor="openai", true_model=DELETE_REVEALS
            )
        )
        assert revealed.startswith("Revealed:")

        for path, options in [
            ("scout export", {"since": "2026-01-01' OR '1'='1"}),
            ("scout export", {"model": "' OR 1=1 --"}),
            ("scout votes", {"model": f"{OWL['id']}' --"}),
        ]:
            text, _, answer = await world.answer(await world.command(bot, path, **options))
            assert answer.ephemeral and text.endswith(".") and "\n" not in text, (path, text)

        for typed in ["%", "_", "' OR '1'='1", "%' --"]:  # LIKE wildcards and quotes match only themselves
            typing = world.fake.build_autocomplete(
                "scout vote",
                focused="model",
                value=typed,
                guild_id=world.guild.id,
                channel_id=world.channel.id,
                member=world.member,
            )
            assert (
                await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing))
            ).choices == [], typed

        assert [note.text for note in await bot.store.notes.newest(world.guild.id, OWL["id"])] == [FORMULA, DROP_VOTES]
        assert (await bot.store.reveals.reveal_for(world.guild.id, OWL["id"])).true_model == DELETE_REVEALS
        bobby_vote = await bot.store.votes.current(world.guild.id, OWL["id"], bobby.id)
        assert bobby_vote.member_name == bobby.nick and "drop" in bobby_vote.vendor and ";" not in bobby_vote.vendor

        _, embeds, _ = await world.answer(await world.command(bot, "scout leaderboard"))
        assert "Robert'); DROP TABLE votes;--" in embeds[0]["description"]

        text, _, message = await world.answer(await world.command(bot, "scout export", world.admin))
        exported = list(csv.DictReader(io.StringIO(message.attachments[0].text)))
        assert {row["note"] for row in exported if row["kind"] == "note"} == {DROP_VOTES, "'" + FORMULA}
        text, _, message = await world.answer(await world.command(bot, "scout export", world.admin, format="jsonl"))
        notes = [
            json.loads(line)["note"] for line in message.attachments[0].text.splitlines() if '"kind":"note"' in line
        ]
        assert sorted(notes) == sorted([DROP_VOTES, FORMULA])  # JSON is data, not a spreadsheet: kept as typed

    tables = {row["name"] for row in read_rows(world.database, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= tables
    assert read_rows(world.database, "SELECT COUNT(*) AS n FROM votes")[0]["n"] == 2
    assert read_rows(world.database, "SELECT COUNT(*) AS n FROM reveals")[0]["n"] == 1
    assert read_rows(world.database, "SELECT COUNT(*) AS n FROM models")[0]["n"] == len(ORDINARY_MODELS) + 1
