"""One guild trying to reach another's data through what it can type or forge: component custom ids copied
from the other guild's announcement, model-scoped exports, and a reveal that must stay in its own guild."""

from __future__ import annotations

import csv
import io
import json

from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, footer

SECRET = "secret of the main guild"
UNKNOWN = "This announcement is no longer known to me."


async def _both_announced(world: World, bot):  # type: ignore[no-untyped-def]
    world.add_owl()
    await bot.pipeline.poll_once()
    main = await world.fake.wait_for_message(
        world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id)
    )
    other = await world.fake.wait_for_message(
        world.other_channel.id, lambda m: m in announcements_in(world.fake, world.other_channel.id)
    )
    return main, other


async def test_component_ids_copied_from_another_guilds_announcement_are_refused(world: World):
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await store.guilds.configure(world.other_guild.id, world.other_channel.id, all_models=False)
        await record_catalogue(store, ORDINARY_MODELS, "baseline")
    async with world.run_bot() as bot:
        main, other = await _both_announced(world, bot)
        main_id, other_id = footer(main).rsplit("#", 1)[1], footer(other).rsplit("#", 1)[1]
        assert main_id != other_id
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))
        await world.answer(await world.command(bot, "scout note", model=OWL["id"], text=SECRET))

        for kind, values in [("vote", ["anthropic"]), ("note", None), ("votes", None)]:
            # a forged interaction in the other guild: its own announcement carrying the main guild's custom ids
            payload = world.fake.build_component(
                other.id, f"scout:{kind}:{other_id}", member=world.other_admin, values=values
            )
            payload["data"]["custom_id"] = f"scout:{kind}:{main_id}"
            payload["message"] = json.loads(json.dumps(payload["message"]).replace(f':{other_id}"', f':{main_id}"'))
            clicked = await world.fake.send_interaction(payload)
            if kind == "note":  # the modal opens before any lookup (Discord's 3 s); its submission is refused
                assert (await world.fake.wait_for_interaction_response(clicked)).type == 9
                clicked = await world.fake.send_interaction(
                    world.fake.build_modal_submit(
                        f"scout:note-modal:{main_id}", {"note": "forged"}, member=world.other_admin
                    )
                )
            text, embeds, answer = await world.answer(clicked)
            assert answer.ephemeral and text == UNKNOWN and not embeds, kind

        assert await bot.store.members.counts(world.other_guild.id) == {"votes": 0, "notes": 0, "reveals": 0}
        assert [(i.vendor, i.votes) for i in (await bot.store.votes.tally(world.guild.id, OWL["id"])).by_vendor] == [
            ("openai", 1)
        ]

        text, _, message = await world.answer(
            await world.command(bot, "scout export", world.other_admin, guild=world.other_guild, model=OWL["id"])
        )
        assert (
            list(csv.DictReader(io.StringIO(message.attachments[0].text))) == []
            and SECRET not in message.attachments[0].text
        )
        _, embeds, _ = await world.answer(
            await world.command(bot, "scout model", world.other_admin, guild=world.other_guild, model=OWL["id"])
        )
        assert "No votes yet" in str(embeds) and "OpenAI" not in {
            f["name"]: f["value"] for f in embeds[0]["fields"]
        }.get("Votes here", "")


async def test_a_reveal_in_one_guild_neither_closes_nor_scores_voting_in_another(world: World):
    async with world.run_bot() as bot:
        await world.owl_appears(bot)
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))
        await world.answer(await world.command(bot, "scout reveal", world.admin, model=OWL["id"], vendor="openai"))

        text, _, _ = await world.answer(
            await world.command(
                bot, "scout vote", world.other_admin, guild=world.other_guild, model=OWL["id"], vendor="google"
            )
        )
        assert text.startswith("Vote recorded")
        _, embeds, _ = await world.answer(
            await world.command(bot, "scout leaderboard", world.other_admin, guild=world.other_guild)
        )
        assert embeds[0]["description"] == "No revealed model has votes yet." and "alice" not in str(embeds)
        assert await bot.store.reveals.reveal_for(world.other_guild.id, OWL["id"]) is None
