"""A fresh install with an API key: the bot calibrates itself, and the first card follows it live to the first guess.

This is the situation a new team is in during its first minutes: no reference has been probed yet, so no card
may name a vendor, not even the one the stealth model claims to be; the card says how far calibration got and
when a guess follows, is edited as it progresses (no faster than the edit rate), and asks no admin to do
anything, because nothing needs doing.
"""

from __future__ import annotations

from bot.probes.suite import SUITE_VERSION
from bot.testing.gateway_server import Fault
from bot.testing.scripted_labs import lab_model
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, card_lead, eventually

EDIT_INTERVAL = 0.3


async def test_the_first_card_of_a_fresh_install_follows_calibration_live_to_the_first_guess(world: World):
    quick, slow = (model["id"] for model in ORDINARY_MODELS)
    for model_id, vendor in ((quick, "openai"), (slow, "anthropic")):  # they answer only when the test lets them
        world.gateway.add_model(lab_model(model_id, vendor))
        world.gateway.set_fault("chat", Fault.hang(600), model=model_id)
    async with world.run_bot(edit_interval=EDIT_INTERVAL) as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        world.add_owl()
        await bot.pipeline.poll_once()
        card = await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id), timeout=10
        )
        await world.fake.wait_until(
            lambda: card_lead(card).startswith("**Calibrating:**"), timeout=30, what="the calibrating card"
        )
        first = card_lead(card).splitlines()
        assert first[0] == "**Calibrating:** probing 2 reference models; a guess follows once they are in."
        assert "admin" not in card_lead(card) and "scout calibrate" not in card_lead(card)
        assert "%" not in card_lead(card) and "OpenAI" not in card_lead(card)  # the model claims OpenAI; nobody named
        guess = await bot.store.guesses.latest(OWL["id"])
        assert guess is not None and guess.ranking == () and guess.status == "no_references"

        world.gateway.release(quick)
        await world.fake.wait_until(
            lambda: "1 of 2 reference models probed" in card_lead(card), timeout=30, what="the progress edit"
        )
        assert (
            card_lead(card).splitlines()[0].startswith("**Calibrating:** 1 of 2 reference models probed — a guess in ")
        )
        assert (await bot.store.calibration.progress(SUITE_VERSION)).finished == 1

        world.gateway.release(slow)
        await world.fake.wait_until(
            lambda: card_lead(card).startswith("Most likely **"), timeout=30, what="the first guess"
        )
        edits = [version["edited_at"] for version in card.history[1:] if version["edited_at"]]
        edits.append(card.edited_at)
        assert len(edits) >= 3  # calibrating, one of two, the guess
        gaps = [(later - earlier).total_seconds() for earlier, later in zip(edits, edits[1:], strict=False)]
        assert all(gap >= EDIT_INTERVAL * 0.9 for gap in gaps), gaps
