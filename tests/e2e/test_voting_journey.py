"""Voting and the reveal with no dead ends, on the real client: a vote menu wherever a model is shown, votes by
name or the start of it on models open for votes only, "How sure are you?" after every way of voting, reveal
buttons under a removal reply, a reveal that refuses what cannot be revealed and marks a correction as such,
and a server's own voting deadline."""

from __future__ import annotations

from typing import Any

from bot.testing.discord import ChannelArg, StoredMessage
from tests.support.world import ORDINARY_MODELS, OWL, World, card_lead, fields, footer

SUCCESSOR = {**ORDINARY_MODELS[0], "id": "z-ai/glm-5", "name": "Z.AI: GLM 5"}


def component(message: StoredMessage, prefix: str) -> str:
    [custom_id] = [cid for cid in message.custom_ids() if cid.startswith(prefix)]
    return custom_id


def options(message: StoredMessage, custom_id: str) -> list[dict[str, Any]]:
    found = message.find_component(custom_id)
    assert found is not None
    return found["options"]


async def click(world: World, message: StoredMessage, custom_id: str, **kwargs: Any) -> tuple[str, Any]:
    member = kwargs.pop("member", world.member)
    built = world.fake.build_component(message.id, custom_id, member=member, **kwargs)
    text, _, answer = await world.answer(await world.fake.send_interaction(built))
    return text, answer


async def owl_removed_with_a_successor(world: World, bot: Any) -> StoredMessage:
    world.gateway.set_catalogue([*ORDINARY_MODELS, SUCCESSOR])
    await bot.pipeline.poll_once()
    await bot.pipeline.poll_once()  # a removal is confirmed by the second poll without the model
    return await world.fake.wait_for_message(world.channel.id, lambda m: "· removal #" in footer(m), timeout=10)


async def test_scout_model_and_scout_recent_answers_carry_a_vote_that_asks_how_sure_you_are(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        _, _, shown = await world.answer(await world.command(bot, "scout model", model="owl"))
        assert not shown.ephemeral
        vote = component(shown, "scout:vote:m")
        text, answer = await click(world, shown, vote, values=["zhipu"])
        assert text.startswith("Vote recorded") and answer.ephemeral
        sure = component(answer, "scout:sure:m")
        text, _ = await click(world, answer, sure, values=["80"])
        assert "80% sure" in text
        stored = await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)
        assert stored is not None and stored.vendor == "zhipu" and stored.confidence == 0.8
        await world.fake.wait_until(lambda: fields(card)["Votes here"].startswith("1 vote so far"), what="the tally")

        _, _, recent = await world.answer(await world.command(bot, "scout recent"))
        picker = component(recent, "scout:pick-model")
        assert [option["description"] for option in options(recent, picker)] == [OWL["id"]]
        [value] = [option["value"] for option in options(recent, picker)]
        text, menu = await click(world, recent, picker, values=[value])
        assert text == "Who made **Owl Alpha**? Pick a vendor." and menu.ephemeral
        text, _ = await click(world, menu, component(menu, "scout:vote:m"), values=["openai"])
        assert text.startswith("Vote changed") and "(was Zhipu (GLM))" in text


async def test_scout_vote_offers_only_open_models_finds_one_by_its_start_and_asks_how_sure(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)

        async def offered() -> list[str]:
            typing = world.fake.build_autocomplete(
                "scout vote",
                focused="model",
                value="",
                guild_id=world.guild.id,
                channel_id=world.channel.id,
                member=world.member,
            )
            answer = await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing))
            return [choice["value"] for choice in answer.choices]

        assert await offered() == [OWL["id"]]  # no ordinary model: nothing to guess there

        text, _, answer = await world.answer(await world.command(bot, "scout vote", model="owl", vendor="GLM"))
        assert text.startswith("Vote recorded: you think `openrouter/owl-alpha` is by **Zhipu (GLM)**")
        assert component(answer, "scout:sure:")  # the same "How sure are you?" as the card's menu

        announcement_id = footer(card).rsplit("#", 1)[1]
        opened = await world.fake.send_interaction(
            world.fake.build_component(
                card.id, f"scout:vote:{announcement_id}", member=world.member, values=["__other__"]
            )
        )
        assert (await world.fake.wait_for_interaction_response(opened)).type == 9
        submitted = world.fake.build_modal_submit(
            f"scout:other:{announcement_id}", {"vendor": "Totally Unknown Lab"}, member=world.member
        )
        text, _, answer = await world.answer(await world.fake.send_interaction(submitted))
        assert "Totally Unknown Lab" in text
        text, _ = await click(world, answer, component(answer, "scout:sure:"), values=["60"])
        assert "60% sure" in text

        await world.answer(await world.command(bot, "scout reveal", world.admin, model=OWL["id"], vendor="zhipu"))
        assert await offered() == []  # revealed here: nothing left to vote on


async def test_the_removal_reply_offers_admins_a_reveal_button_per_candidate(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        reply = await owl_removed_with_a_successor(world, bot)
        button = component(reply, "scout:reveal-as:")
        assert reply.find_component(button)["label"] == "Reveal as z-ai/glm-5"

        text, answer = await click(world, reply, button)
        assert answer.ephemeral and text == "You need the Manage Server permission to do that."
        assert await bot.store.reveals.reveal_for(world.guild.id, OWL["id"]) is None

        text, answer = await click(world, reply, button, member=world.admin)
        assert not answer.ephemeral
        assert text.startswith("Revealed: `openrouter/owl-alpha` was made by **Zhipu (GLM)** (`z-ai/glm-5`).")
        await world.fake.wait_until(lambda: card.embeds[0]["title"] == "Revealed: Owl Alpha", what="the reveal")


async def test_a_reveal_refuses_a_model_with_its_makers_name_warns_of_an_unknown_model_and_marks_a_correction(
    world: World,
):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        text, _, answer = await world.answer(
            await world.command(bot, "scout reveal", world.admin, model="openai/gpt-4o", vendor="openai")
        )
        assert answer.ephemeral and text.endswith("is listed under its maker's name, so there is nothing to reveal.")

        text, _, answer = await world.answer(
            await world.command(
                bot, "scout reveal", world.admin, model=OWL["id"], vendor="OpenAI", true_model="openai/gtp-5"
            )
        )
        assert text.startswith("Revealed: `openrouter/owl-alpha` was made by **OpenAI** (`openai/gtp-5`).")
        assert text.endswith("Note: `openai/gtp-5` is not in the catalogue I know; check its spelling.")

        text, _, _ = await world.answer(
            await world.command(bot, "scout reveal", world.admin, model=OWL["id"], vendor="zhipu")
        )
        assert text.startswith(
            "Corrected: `openrouter/owl-alpha` was made by **Zhipu (GLM)**, "
            "not OpenAI (openai/gtp-5) as first revealed."
        )
        await world.fake.wait_until(lambda: "Corrected <t:" in card_lead(card), what="the corrected card")
        assert card_lead(card).splitlines()[1].endswith("first revealed as OpenAI (openai/gtp-5).")
        assert card.embeds[0]["title"] == "Revealed: Owl Alpha"


async def test_a_server_may_close_voting_when_the_model_leaves_the_catalogue(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        text, _, _ = await world.answer(
            await world.command(
                bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), close_voting="removal"
            )
        )
        assert "voting closes when a model leaves the catalogue" in text
        card = await world.announce_owl(bot)
        text, _, _ = await world.answer(await world.command(bot, "scout vote", model="owl", vendor="zhipu"))
        assert text.startswith("Vote recorded")

        await owl_removed_with_a_successor(world, bot)
        await world.fake.wait_until(lambda: "Voting closed <t:" in fields(card)["Votes here"], what="the closed vote")
        assert not [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
        text, _, answer = await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))
        assert answer.ephemeral and text.startswith("I can't take that vote: voting on openrouter/owl-alpha closed at ")

        text, _, answer = await world.answer(
            await world.command(
                bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), close_voting="days"
            )
        )
        assert answer.ephemeral and text == "Say after how many days voting closes, with `voting_days`."
