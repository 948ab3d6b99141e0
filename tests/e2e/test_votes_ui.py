"""Fair votes on the card: hidden until the reveal (members see how many voted, not for whom), locked at the
reveal with the truth and who called it, refused with a reason on a model that is not anonymous, and an
optional confidence stated with the vote."""

from __future__ import annotations

from bot.testing.discord import ChannelArg, MemberSpec, StoredMessage
from tests.support.world import ORDINARY_MODELS, OWL, World, card_lead, eventually, fields

MISTRAL = {
    "id": "mistralai/mistral-9",
    "name": "Mistral: Mistral 9",
    "created": 1780790400,
    "context_length": 131072,
    "description": "Mistral 9 is Mistral AI's newest flagship model.",
    "pricing": {"prompt": "0.000002", "completion": "0.000006"},
    "architecture": {"input_modalities": ["text"], "output_modalities": ["text"], "tokenizer": "Mistral"},
}


def _component(message: StoredMessage, kind: str) -> str:
    [custom_id] = [cid for cid in message.custom_ids() if cid.startswith(f"scout:{kind}:")]
    return custom_id


async def test_votes_stay_hidden_until_the_reveal_then_lock_and_show_who_called_it(world: World):
    bob = MemberSpec("bob")
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        for member, vendor in ((world.member, "zhipu"), (bob, "openai")):
            click = world.fake.build_component(card.id, _component(card, "vote"), member=member, values=[vendor])
            assert (await world.answer(await world.fake.send_interaction(click)))[0].startswith("Vote recorded")
        await world.fake.wait_until(lambda: fields(card)["Votes here"].startswith("2 votes so far"), what="the tally")
        assert "Zhipu" not in fields(card)["Votes here"] and "OpenAI" not in fields(card)["Votes here"]

        for answer in (
            await world.answer(await world.command(bot, "scout votes", model=OWL["id"])),
            await world.answer(
                await world.fake.send_interaction(
                    world.fake.build_component(card.id, _component(card, "votes"), member=bob)
                )
            ),
        ):
            description = answer[1][0]["description"]
            assert description.startswith("2 votes so far") and "Zhipu" not in description

        stale_click = world.fake.build_component(card.id, _component(card, "vote"), member=bob, values=["zhipu"])
        await world.answer(
            await world.command(
                bot, "scout reveal", world.admin, model=OWL["id"], vendor="zhipu", true_model="z-ai/glm-5"
            )
        )
        await world.fake.wait_until(lambda: card.embeds[0]["title"] == "Revealed: Owl Alpha", what="the reveal")
        assert card_lead(card).splitlines()[1] == "Called by alice (1 of 2 votes here)."
        assert "**Zhipu (GLM)**: 1 (50%)" in fields(card)["Votes here"]
        assert not [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]  # the select is gone

        late, _, message = await world.answer(await world.fake.send_interaction(stale_click))
        assert message.ephemeral and late == (
            "I can't take that vote: openrouter/owl-alpha has been revealed in this server, so voting on it is closed."
        )
        late, _, _ = await world.answer(await world.command(bot, "scout vote", model=OWL["id"], vendor="openai"))
        assert "voting on it is closed" in late
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], bob.id)).vendor == "openai"


async def test_a_vote_on_a_model_that_is_not_anonymous_is_refused_and_its_card_has_no_vote(world: World):
    async with world.run_bot() as bot:
        await world.answer(
            await world.command(bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), all_models=True)
        )
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        world.gateway.set_catalogue([*ORDINARY_MODELS, MISTRAL])
        await bot.pipeline.poll_once()
        mistral = await world.fake.wait_for_message(
            world.channel.id, lambda m: (m.embeds or [{}])[0].get("title") == "New model: Mistral: Mistral 9"
        )
        assert card_lead(mistral) == "Listed by **Mistral AI** under its own name."
        assert not [cid for cid in mistral.custom_ids() if cid.startswith("scout:vote:")]
        assert "Votes here" not in fields(mistral) and "anonymous" not in str(mistral.embeds)

        text, _, message = await world.answer(
            await world.command(bot, "scout vote", model="mistralai/mistral-9", vendor="mistral")
        )
        assert message.ephemeral and text == (
            "I can't take that vote: mistralai/mistral-9 is not an anonymous model, so there is no maker to guess."
        )
        assert await bot.store.members.counts(world.guild.id) == {"votes": 0, "notes": 0, "reveals": 0}


async def test_a_member_may_say_how_sure_they_are_with_the_vote(world: World):
    async with world.run_bot() as bot:
        card = await world.announce_owl(bot)
        click = world.fake.build_component(card.id, _component(card, "vote"), member=world.member, values=["zhipu"])
        text, _, answer = await world.answer(await world.fake.send_interaction(click))
        assert text == "Vote recorded: you think `openrouter/owl-alpha` is by **Zhipu (GLM)**."
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)).confidence is None

        sure = world.fake.build_component(answer.id, _component(answer, "sure"), member=world.member, values=["70"])
        text, _, _ = await world.answer(await world.fake.send_interaction(sure))
        assert text == "Vote recorded: you think `openrouter/owl-alpha` is by **Zhipu (GLM)**, 70% sure."
        vote = await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id)
        assert (vote.vendor, vote.confidence) == ("zhipu", 0.7)

        text, _, _ = await world.answer(
            await world.command(bot, "scout vote", world.admin, model=OWL["id"], vendor="openai", confidence=90)
        )
        assert text.endswith("is by **OpenAI**, 90% sure.")
        assert (await bot.store.votes.current(world.guild.id, OWL["id"], world.admin.id)).confidence == 0.9


async def test_a_freely_typed_vendor_keeps_its_name_on_the_answer_and_the_card(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        announcement_id = _component(card, "vote").rsplit(":", 1)[1]
        opened = world.fake.build_component(
            card.id, _component(card, "vote"), member=world.member, values=["__other__"]
        )
        assert (await world.fake.wait_for_interaction_response(await world.fake.send_interaction(opened))).type == 9
        typed = world.fake.build_modal_submit(
            f"scout:other:{announcement_id}", {"vendor": "Totally Unknown Lab"}, member=world.member
        )
        text, _, _ = await world.answer(await world.fake.send_interaction(typed))
        assert text == "Vote recorded: you think `openrouter/owl-alpha` is by **Totally Unknown Lab**."

        await world.answer(await world.command(bot, "scout reveal", world.admin, model=OWL["id"], vendor="zhipu"))
        await world.fake.wait_until(lambda: card.embeds[0]["title"] == "Revealed: Owl Alpha", what="the reveal")
        assert fields(card)["Votes here"].startswith("**Totally Unknown Lab**: 1 (100%)")
        assert card_lead(card).splitlines()[1] == "Nobody here called it (1 vote)."
