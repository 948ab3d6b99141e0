"""The `/scout` commands on the real client: permissions, scoring, notes, modals, autocomplete, guild scoping."""

from __future__ import annotations

import csv
import io

from bot.probes.suite import SUITE_VERSION
from bot.store.references import Reference, ReferenceAnswer
from bot.testing.discord import ChannelArg
from tests.support.store import probe_runs
from tests.support.world import OWL, World, footer


async def _with_owl_listed(world: World, bot) -> None:  # type: ignore[no-untyped-def]
    await world.owl_appears(bot)


async def test_members_without_manage_server_are_refused_admin_commands(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        attempts = [
            ("scout setup", {"channel": ChannelArg(world.channel.id)}),
            ("scout reveal", {"model": OWL["id"], "vendor": "openai"}),
            ("scout probe", {"model": OWL["id"]}),
        ]
        for path, options in attempts:
            interaction = await world.command(bot, path, world.member, **options)
            callback = await world.fake.wait_for_interaction_response(interaction)
            assert callback.ephemeral and callback.content == "You need the Manage Server permission to do that.", path

        assert await bot.store.guilds.get(world.guild.id) is None
        assert await bot.store.reveals.reveal_for(world.guild.id, OWL["id"]) is None


async def test_reveal_scores_votes_closes_voting_and_feeds_the_leaderboard(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        text, _, _ = await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="GPT"))
        assert "OpenAI" in text
        await world.answer(await world.command(bot, "scout vote", world.admin, model=OWL["id"], vendor="claude"))

        text, _, _ = await world.answer(
            await world.command(
                bot, "scout reveal", world.admin, model=OWL["id"], vendor="openai", true_model="openai/gpt-5.1"
            )
        )
        assert "was made by **OpenAI** (`openai/gpt-5.1`)" in text and "1 of 2 votes here were right" in text

        late = await world.command(bot, "scout vote", model=OWL["id"], vendor="google")
        text, _, _ = await world.answer(late)
        assert (await world.fake.wait_for_interaction_response(late)).ephemeral and "closed" in text
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)).vendor == "openai"

        _, embeds, _ = await world.answer(await world.command(bot, "scout leaderboard"))
        members = [
            line.split(". ", 1)[1]
            for line in embeds[0]["description"].splitlines()
            if line[:1].isdigit() and "(the bot)" not in line
        ]
        assert members == ["alice: 1/1 right (100%)", "alice-admin: 0/1 right (0%)"]
        assert "Brier" in embeds[0]["footer"]["text"]


async def test_a_note_with_mentions_and_links_pings_no_one_and_shows_escaped(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        hostile = f"@everyone <@{world.admin.id}> [free](https://evil.example) **GLM** \u200bfor sure"
        text, _, _ = await world.answer(await world.command(bot, "scout note", model=OWL["id"], text=hostile))
        assert text.startswith("Note saved")

        votes = await world.command(bot, "scout votes", model=OWL["id"])
        _, embeds, message = await world.answer(votes)
        shown = embeds[0]["fields"][0]["value"]
        assert message.ephemeral and message.allowed_mentions == {"parse": []}
        assert (
            "@\u200beveryone" in shown
            and f"\\<@{world.admin.id}>" in shown
            and "\\[free\\]" in shown
            and "\\*\\*GLM" in shown
        )
        assert not message.mention_everyone


async def test_other_and_note_buttons_open_modals_whose_answers_are_stored(world: World):
    async with world.run_bot() as bot:
        announcement = await world.announce_owl(bot)
        announcement_id = footer(announcement).rsplit("#", 1)[1]

        opened = await world.fake.send_interaction(
            world.fake.build_component(
                announcement.id, f"scout:vote:{announcement_id}", member=world.member, values=["__other__"]
            )
        )
        assert (await world.fake.wait_for_interaction_response(opened)).type == 9
        submitted = await world.fake.send_interaction(
            world.fake.build_modal_submit(
                f"scout:other:{announcement_id}", {"vendor": "Zhipu/GLM"}, member=world.member
            )
        )
        text, _, _ = await world.answer(submitted)
        assert "Zhipu (GLM)" in text
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)).vendor == "zhipu"

        opened = await world.fake.send_interaction(
            world.fake.build_component(announcement.id, f"scout:note:{announcement_id}", member=world.member)
        )
        assert (await world.fake.wait_for_interaction_response(opened)).type == 9
        submitted = await world.fake.send_interaction(
            world.fake.build_modal_submit(
                f"scout:note-modal:{announcement_id}", {"note": "Refuses like GLM-4.6 does"}, member=world.member
            )
        )
        assert (await world.answer(submitted))[0].startswith("Note saved")
        assert [note.text for note in await bot.store.notes.newest(world.guild.id, OWL["id"])] == [
            "Refuses like GLM-4.6 does"
        ]


async def test_autocomplete_offers_models_and_vendors(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        typing_model = world.fake.build_autocomplete(
            "scout vote",
            focused="model",
            value="owl",
            guild_id=world.guild.id,
            channel_id=world.channel.id,
            member=world.member,
        )
        choices = (
            await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing_model))
        ).choices
        assert [choice["value"] for choice in choices] == [OWL["id"]]

        typing_vendor = world.fake.build_autocomplete(
            "scout vote",
            focused="vendor",
            value="zhi",
            guild_id=world.guild.id,
            channel_id=world.channel.id,
            member=world.member,
            options={"model": OWL["id"]},
        )
        choices = (
            await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing_vendor))
        ).choices
        assert choices[0] == {"name": "Zhipu (GLM)", "value": "zhipu"}


async def test_unknown_models_and_bad_options_are_one_sentence_errors(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        for path, options in [
            ("scout vote", {"model": "x'; DROP TABLE votes; --", "vendor": "openai"}),
            ("scout model", {"model": "nope/nothing"}),
            ("scout export", {"since": "last tuesday"}),
        ]:
            text, _, message = await world.answer(await world.command(bot, path, **options))
            assert message.ephemeral and text.endswith(".") and "\n" not in text, path
        assert await bot.store.members.counts(world.guild.id) == {"votes": 0, "notes": 0, "reveals": 0}


async def test_a_guild_never_sees_another_guilds_votes_notes_or_export(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))
        await world.answer(await world.command(bot, "scout note", model=OWL["id"], text="secret of the main guild"))

        _, embeds, _ = await world.answer(
            await world.command(bot, "scout votes", world.other_admin, guild=world.other_guild, model=OWL["id"])
        )
        assert embeds[0]["description"] == "No votes yet." and "secret" not in str(embeds)

        text, _, message = await world.answer(
            await world.command(bot, "scout export", world.other_admin, guild=world.other_guild)
        )
        records = list(csv.DictReader(io.StringIO(message.attachments[0].text)))
        assert records == [] and "0 rows" in text


async def test_status_reports_polls_settings_and_counts(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        await world.set_up_channel(bot)
        _, embeds, message = await world.answer(await world.command(bot, "scout status"))
        shown = {field["name"]: field["value"] for field in embeds[0]["fields"]}

        assert message.ephemeral
        assert ", ok." in shown["Catalogue"]
        assert shown["Models"] == "3 known, 1 stealth, 0 removed"
        assert f"<#{world.channel.id}>" in shown["This server"] and "Missing" not in shown["This server"]
        assert "\nVotes hidden until the reveal." in shown["This server"]
        assert shown["Who the bot can name"].endswith("no references yet: no lab can be named")
        assert world.fake.token not in str(embeds)

        answers = {"identity": ReferenceAnswer("I am GLM.", 12)}
        await bot.store.references.save([Reference("z-ai/glm-4.6", "zhipu", "probe", SUITE_VERSION, answers)])
        _, embeds, _ = await world.answer(await world.command(bot, "scout status"))
        shown = {field["name"]: field["value"] for field in embeds[0]["fields"]}
        assert "Zhipu (GLM): 1 reference, newest 0 days old" in shown["Who the bot can name"]


async def test_an_admin_can_reprobe_once_per_cooldown(world: World):
    async with world.run_bot() as bot:
        await _with_owl_listed(world, bot)
        await bot.pipeline.wait_idle()
        runs_before = len(await probe_runs(bot.store, OWL["id"]))

        text, _, _ = await world.answer(
            await world.command(bot, "scout probe", world.admin, model=OWL["id"]), timeout=30
        )
        # no references in this world: the bot says so instead of naming the lab the model claims
        assert text.startswith("Probed `openrouter/owl-alpha` again: no references yet — ") and "OpenAI" not in text
        assert len(await probe_runs(bot.store, OWL["id"])) == runs_before + 1

        text, _, message = await world.answer(await world.command(bot, "scout probe", world.admin, model=OWL["id"]))
        assert message.ephemeral and "try again in" in text
