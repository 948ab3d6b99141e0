"""The card through a stealth model's life, on the real client: probing, the guess leading, removal; a
lookup that is not an announcement; and a guess state without evidence, which names no vendor."""

from __future__ import annotations

from datetime import datetime

from bot.attribution.findings import Finding
from bot.attribution.guess import Guess, RankedVendor
from bot.probes.suite import SUITE_VERSION
from bot.testing.gateway_server import Fault
from bot.testing.scripted_labs import install_labs
from tests.support.world import ORDINARY_MODELS, OWL, World, card_lead


async def test_a_card_leads_with_probing_then_the_guess_then_says_when_the_model_left(world: World):
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        assert card.embeds[0]["title"] == "New stealth model: Owl Alpha"
        assert "Probing" in str((card.history or [{"embeds": card.embeds}])[0]["embeds"])
        # this world's reference models are not served: calibration probes none, so the pipeline names nobody
        await world.fake.wait_until(lambda: card_lead(card).startswith("**No guess yet:** no references yet"))
        await bot.pipeline.wait_idle()
        ranking = (RankedVendor("openai", "OpenAI", 0.7), RankedVendor("google", "Google", 0.2))
        says = Finding("identity", "openai", "support", "says OpenAI made it")
        await bot.store.guesses.save(Guess(OWL["id"], ranking, 0.7, ("identity: ...",), findings=(says,)))
        await world.fake.wait_until(lambda: card_lead(card).startswith("Most likely **OpenAI**"), what="the guess")
        lines = card_lead(card).splitlines()
        assert lines[0] == "Most likely **OpenAI** (70%): says OpenAI made it."
        assert lines[1].startswith("1. **OpenAI**") and lines[2].startswith("2. **Google**") and len(lines) == 4
        assert lines[3].startswith(f"`{OWL['id']}` · listed <t:{OWL['created']}:R>")

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
        assert embeds[0]["description"].splitlines()[0] == "Listed by **OpenAI** under its own name."
        assert not embeds[0].get("fields") and len(embeds) == 1  # nothing to vote on, no evidence to show

        _, embeds, _ = await world.answer(await world.command(bot, "scout model", model=OWL["id"]))
        assert embeds[0]["title"] == "Stealth model: Owl Alpha"
        assert embeds[1]["title"] == "Evidence: Owl Alpha"  # the full detail, under the card


async def test_a_guess_without_evidence_says_why_and_the_menu_offers_no_bot_guess(world: World):
    world.gateway.set_fault("chat", Fault.http(502), model=OWL["id"])  # every probe of the stealth model fails
    async with world.run_bot(edit_interval=0.05) as bot:
        card = await world.announce_owl(bot)
        await world.fake.wait_until(
            lambda: card_lead(card).startswith("**No guess yet:** probes failed"), timeout=30, what="the new state"
        )
        lead = card_lead(card).splitlines()
        assert "Probing" in str(card.history[0]["embeds"]) and "no guess yet" not in lead[0].lower().split("**")[-1]
        attempts = await bot.store.probe_attempts.get(OWL["id"], SUITE_VERSION)
        assert attempts is not None and attempts.next_attempt_at is not None
        next_try = int(datetime.fromisoformat(attempts.next_attempt_at).timestamp())
        assert lead[1] == f"Next try <t:{next_try}:R>; an admin can retry now with `/scout probe`."
        assert "%" not in card_lead(card) and "OpenAI" not in card_lead(card)
        [select] = [c for c in card.custom_ids() if c.startswith("scout:vote:")]
        options = card.find_component(select)["options"]
        assert len(options) == 25 and not any("guess" in (option.get("description") or "") for option in options)


async def test_the_evidence_button_shows_everything_behind_the_card_to_the_member_alone(world: World):
    install_labs(world.gateway)  # the scripted labs' models are the references the bot calibrates itself with
    async with world.run_bot(edit_interval=0.05) as bot:
        await world.set_up_channel(bot)
        await bot.pipeline.poll_once()
        card = await world.fake.wait_for_message(world.channel.id, lambda m: "Owl Alpha" in str(m.embeds), timeout=10)
        await world.fake.wait_until(
            lambda: card_lead(card).startswith("Most likely **"), timeout=60, what="the guess after calibration"
        )
        [evidence_id] = [c for c in card.custom_ids() if c.startswith("scout:evidence:")]
        click = world.fake.build_component(card.id, evidence_id, member=world.member)
        _, embeds, message = await world.answer(await world.fake.send_interaction(click))
        assert message.ephemeral and embeds[0]["title"] == "Evidence: Owl Alpha"
        names = [field["name"] for field in embeds[0]["fields"]]
        assert names[0].startswith("What points to ") and "Nearest reference models" in names
        assert any(name.startswith("Every signal") for name in names) and names[-1] == "Listing"
        assert len(card_lead(card).splitlines()) + 4 <= 10  # the card itself stays short
