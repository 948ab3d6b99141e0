"""The card through a stealth model's life, on the real client: probing, the guess leading, removal; a
lookup that is not an announcement; and a guess state without evidence, which names no vendor."""

from __future__ import annotations

from bot.attribution.guess import Guess, RankedVendor
from bot.testing.gateway_server import Fault
from tests.support.world import ORDINARY_MODELS, OWL, World, card_lead, fields


async def test_a_card_leads_with_probing_then_the_guess_then_says_when_the_model_left(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        assert card.embeds[0]["title"] == "New stealth model: Owl Alpha"
        assert "Probing" in str((card.history or [{"embeds": card.embeds}])[0]["embeds"])
        # this world has no references: the pipeline names nobody, and the card says why
        await world.fake.wait_until(lambda: card_lead(card).startswith("**No guess yet:** no references yet"))
        await bot.pipeline.wait_idle()
        ranking = (RankedVendor("openai", "OpenAI", 0.7), RankedVendor("google", "Google", 0.2))
        await bot.store.guesses.save(Guess(OWL["id"], ranking, 0.7, ("says it was trained by OpenAI",)))
        await world.fake.wait_until(lambda: card_lead(card).startswith("Most likely **OpenAI**"), what="the guess")
        lines = card_lead(card).splitlines()
        assert lines[0] == "Most likely **OpenAI** (70%) — says it was trained by OpenAI"
        assert lines[1].startswith("1. **OpenAI**") and len(lines) == 3
        assert fields(card)["Listing"].startswith(f"`{OWL['id']}` · listed <t:{OWL['created']}:R>")

        world.gateway.set_catalogue(ORDINARY_MODELS)
        for _ in range(3):  # removal may need confirming over more than one poll
            await bot.pipeline.poll_once()
            if (await bot.store.catalogue.model(OWL["id"])).removed_at:
                break
        await world.fake.wait_until(lambda: "No longer listed since <t:" in card_lead(card), what="the removal")
        assert card.embeds[0]["title"] == "Stealth model: Owl Alpha"  # no longer "New"


async def test_looking_up_an_old_model_does_not_call_it_new(world: World):
    async with world.run_bot() as bot:
        await world.owl_appears(bot)
        _, embeds, message = await world.answer(await world.command(bot, "scout model", model="openai/gpt-4o"))
        assert embeds[0]["title"] == "Model: OpenAI: GPT-4o" and not message.ephemeral
        assert embeds[0]["description"] == "Listed by **OpenAI** under its own name."
        assert [field["name"] for field in embeds[0]["fields"]] == ["Listing"]

        _, embeds, _ = await world.answer(await world.command(bot, "scout model", model=OWL["id"]))
        assert embeds[0]["title"] == "Stealth model: Owl Alpha"


async def test_a_guess_without_evidence_says_why_and_the_menu_offers_no_bot_guess(world: World):
    world.gateway.set_fault("chat", Fault.http(502), model=OWL["id"])  # every probe of the stealth model fails
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        await world.fake.wait_until(
            lambda: card_lead(card).startswith("**No guess yet:** probes failed"), timeout=30, what="the new state"
        )
        lead = card_lead(card).splitlines()
        assert "Probing" in str(card.history[0]["embeds"]) and "no guess yet" not in lead[0].lower().split("**")[-1]
        assert lead[1] == "It is probed again automatically; an admin can retry now with `/scout probe`."
        assert "%" not in card_lead(card) and "OpenAI" not in card_lead(card)
        [select] = [c for c in card.custom_ids() if c.startswith("scout:vote:")]
        options = card.find_component(select)["options"]
        assert len(options) == 25 and not any("guess" in (option.get("description") or "") for option in options)
