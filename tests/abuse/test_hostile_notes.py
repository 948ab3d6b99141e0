"""Notes and free-text votes from strangers: mentions, links, markdown, invisible characters, 5,000 characters.

Whatever is stored, whatever is shown back (the Votes button, `/scout votes`, the public reveal), nobody
is pinged and no invisible character gets through; an over-long note is refused in one sentence.
"""

from __future__ import annotations

from bot.store.notes import MAX_NOTE_LENGTH
from bot.testing.discord import StoredMessage
from tests.support.sent_messages import assert_nothing_smuggled, assert_pings_no_one
from tests.support.world import OWL, World, footer


def hostile_text(world: World) -> str:
    return (
        f"@everyone @here <@{world.admin.id}> <@!{world.admin.id}> <@&{world.guild.id}> "
        "[free nitro](https://evil.example) "
        "**GLM** for sure\u200b\u200d\u2060\u202e\x00\x1b[31m ||spoiler|| `code`\n# heading\n> quote"
    )


async def _announced(world: World, bot) -> tuple[StoredMessage, str]:  # type: ignore[no-untyped-def]
    message = await world.announce_owl(bot)
    return message, footer(message).rsplit("#", 1)[1]


async def _submit_modal(
    world: World, message: StoredMessage, button: str, modal: str, values: dict[str, str], member
) -> int:  # type: ignore[no-untyped-def]
    opened = await world.fake.send_interaction(
        world.fake.build_component(
            message.id,
            button,
            member=member,
            values=["__other__"] if button.startswith("scout:vote:") else None,
        )
    )
    assert (await world.fake.wait_for_interaction_response(opened)).type == 9
    return await world.fake.send_interaction(world.fake.build_modal_submit(modal, values, member=member))


async def test_hostile_notes_and_vendor_names_ping_no_one_wherever_they_are_shown(world: World):
    hostile = hostile_text(world)
    async with world.run_bot() as bot:
        message, announcement_id = await _announced(world, bot)
        noted = await _submit_modal(
            world,
            message,
            f"scout:note:{announcement_id}",
            f"scout:note-modal:{announcement_id}",
            {"note": hostile},
            world.member,
        )
        assert (await world.answer(noted))[0].startswith("Note saved")
        voted = await _submit_modal(
            world,
            message,
            f"scout:vote:{announcement_id}",
            f"scout:other:{announcement_id}",
            {"vendor": hostile[:100]},
            world.admin,
        )
        assert (await world.answer(voted))[0].startswith("Vote recorded")
        assert (await world.answer(await world.command(bot, "scout note", model=OWL["id"], text=hostile)))[
            0
        ].startswith("Note saved")

        tally = await world.fake.send_interaction(
            world.fake.build_component(message.id, f"scout:votes:{announcement_id}", member=world.member)
        )
        _, embeds, _ = await world.answer(tally)
        assert len(embeds[0]["fields"]) == 2 and "\\[free nitro\\]" in embeds[0]["fields"][0]["value"]
        await world.answer(await world.command(bot, "scout votes", model=OWL["id"]))
        revealed, _, _ = await world.answer(
            await world.command(
                bot, "scout reveal", world.admin, model=OWL["id"], vendor=hostile[:100], true_model=hostile[:200]
            )
        )
        assert revealed.startswith("Revealed:")
        await world.fake.wait_until(
            lambda: "Revealed" in str(message.embeds), what="the announcement showing the reveal"
        )

        notes = await bot.store.notes.newest(world.guild.id, OWL["id"])
        assert [note.text for note in notes] == [hostile.strip()] * 2  # kept as typed; only what is shown is defused
    assert_pings_no_one(world.fake)
    assert_nothing_smuggled(world.fake)


async def test_a_5000_character_note_is_refused_in_one_sentence_by_command_and_by_modal(world: World):
    async with world.run_bot() as bot:
        message, announcement_id = await _announced(world, bot)
        long_note = "Sounds like GLM. " * 300
        assert len(long_note) > 5000

        by_command = await world.answer(  # a client that skips Discord's max_length check
            await world.command(bot, "scout note", model=OWL["id"], text=long_note)
        )
        opened = await world.fake.send_interaction(
            world.fake.build_component(message.id, f"scout:note:{announcement_id}", member=world.member)
        )
        await world.fake.wait_for_interaction_response(opened)
        submission = world.fake.build_modal_submit(
            f"scout:note-modal:{announcement_id}", {"note": "short"}, member=world.member
        )
        submission["data"]["components"][0]["components"][0]["value"] = long_note  # past the modal's max_length
        by_modal = await world.answer(await world.fake.send_interaction(submission))

        for text, _, answer in (by_command, by_modal):
            assert answer.ephemeral and f"at most {MAX_NOTE_LENGTH} characters" in text
            assert text.count(".") == 1 and "\n" not in text
        assert await bot.store.notes.newest(world.guild.id, OWL["id"]) == []

        longest = "*" * MAX_NOTE_LENGTH  # accepted, and shown within Discord's 1,024-character field once escaped
        assert (await world.answer(await world.command(bot, "scout note", model=OWL["id"], text=longest)))[
            0
        ].startswith("Note saved")
        _, embeds, _ = await world.answer(await world.command(bot, "scout votes", model=OWL["id"]))
        assert embeds[0]["fields"][0]["value"].endswith("…") and len(embeds[0]["fields"][0]["value"]) <= 1024


async def test_a_note_of_only_invisible_characters_is_refused_as_empty(world: World):
    async with world.run_bot() as bot:
        await _announced(world, bot)
        text, _, answer = await world.answer(
            await world.command(bot, "scout note", model=OWL["id"], text="\u200b\u200d\u2060\ufeff")
        )
        assert await bot.store.notes.newest(world.guild.id, OWL["id"]) == []
        assert answer.ephemeral and "empty" in text
