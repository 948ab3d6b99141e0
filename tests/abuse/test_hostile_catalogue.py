"""Catalogue entries written by an attacker: mentions, markdown, control characters and 100 KB of text in the
name, id or description. Each acceptable entry is still announced, within Discord's limits (the fake refuses
anything longer with 400), pinging no one; an id too long to be an id is skipped and logged, the rest goes on."""

from __future__ import annotations

import logging

from bot.catalogue.entry import MAX_ID_LENGTH
from bot.testing.discord import ChannelArg
from tests.support.sent_messages import assert_nothing_smuggled, assert_pings_no_one
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, eventually, footer

HUNDRED_KB = 100 * 1024
NASTY = (
    "@everyone @here <@{member}> <@&{guild}> [click me](https://evil.example) **bold** __u__ ||spoiler|| `x` "
    "\x00\x07\x1b[31m\u202e\u200b"
)


def hostile_entries(world: World) -> list[dict]:
    nasty = NASTY.format(member=world.member.id, guild=world.guild.id)
    base = {
        "created": 1780790400,
        "context_length": 8192,
        "pricing": {"prompt": "0.000001", "completion": "0.000002"},
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
    }
    return [
        {
            **base,
            "id": "evil/name-and-description",
            "name": nasty + "N" * HUNDRED_KB,
            "description": (nasty + "\n# heading\n> quote\n- item\n") * (HUNDRED_KB // 100),
        },
        {
            **base,
            "id": ("evil/@everyone<@&" + str(world.guild.id) + ">**[x](https://evil.example)**||`~").ljust(
                MAX_ID_LENGTH, "_"
            ),
            "name": "Id with markdown",
            "description": "An id that is all syntax.",
        },
        {
            **base,
            "id": "evil/controls\x00\x07\u202e\u200b",
            "name": "\x1b[2J\x1b[H" * 50,
            "description": "\x00" * HUNDRED_KB,
        },
        {**base, "id": "evil/" + "i" * HUNDRED_KB, "name": "An id of 100 KB", "description": "skipped, not announced"},
        {
            **base,
            "id": "openrouter/hush-alpha",
            "name": nasty,
            "pricing": {"prompt": "0", "completion": "0"},
            "description": "This is a cloaked model provided to the community to gather feedback. " + nasty * 1000,
        },
    ]


async def test_hostile_catalogue_entries_are_announced_within_limits_and_ping_no_one(world: World, caplog):
    caplog.set_level(logging.WARNING, logger="bot.catalogue.entry")
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        setup = await world.command(
            bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), all_models=True
        )
        assert "every new model" in (await world.answer(setup))[0]
        world.add_owl()
        await bot.pipeline.poll_once()
        owl = await world.fake.wait_for_message(world.channel.id, lambda m: OWL["id"] in str(m.embeds))

        world.gateway.set_catalogue([*ORDINARY_MODELS, *hostile_entries(world)])  # Owl Alpha leaves as they arrive
        report = await bot.pipeline.poll_once()
        assert report.ok
        assert (await bot.pipeline.poll_once()).ok  # a removal is confirmed by the second poll without the model
        new = sorted(event.model_id for event in report.events if event.kind == "new")
        assert len(new) == 4 and not any(len(model_id) > MAX_ID_LENGTH for model_id in new)
        assert any("id is empty, too long or contains spaces" in record.getMessage() for record in caplog.records)

        await world.fake.wait_until(
            lambda: len(announcements_in(world.fake, world.channel.id)) == 1 + len(new),
            what="an announcement of every accepted entry",
            timeout=15,
        )
        reply = await world.fake.wait_for_message(world.channel.id, lambda m: "· removal #" in footer(m))
        assert int(reply.message_reference["message_id"]) == owl.id

        for command, options in [("scout recent", {}), ("scout model", {"model": "evil/name-and-description"})]:
            text, embeds, _ = await world.answer(await world.command(bot, command, **options))
            assert embeds, command
        typing = world.fake.build_autocomplete(
            "scout vote",
            focused="model",
            value="evil",
            guild_id=world.guild.id,
            channel_id=world.channel.id,
            member=world.member,
        )
        choices = (await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing))).choices
        assert choices and all(len(choice["name"]) <= 100 and len(choice["value"]) <= 100 for choice in choices)

        async def settled() -> bool:
            return (
                not await bot.store.outbox.pending()
                and (await bot.store.outbox.counts(world.guild.id)).get("failed", 0) == 0
            )

        await bot.pipeline.wait_idle()
        await eventually(settled, what="every announcement posted and edited without a refusal")
    assert not [r for r in world.fake.requests if r.status == 400], "Discord refused a message as too long or malformed"
    assert_pings_no_one(world.fake)
    assert_nothing_smuggled(world.fake)
