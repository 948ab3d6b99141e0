"""A fresh install with an API key: the bot starts calibrating itself, and the first card says guesses wait for it.

This is the situation a new team is in during its first minutes: no reference has been probed yet,
so no card may name a vendor, not even the one the stealth model claims to be.
"""

from __future__ import annotations

from bot.probes.suite import SUITE_VERSION
from bot.testing.gateway_server import Fault
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, card_lead, eventually


async def test_the_first_card_of_a_fresh_install_says_calibration_is_under_way_and_names_nobody(world: World):
    for model in ORDINARY_MODELS:  # the reference models answer slowly: calibration is still under way
        world.gateway.set_fault("chat", Fault.hang(60), model=model["id"])
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        progress = await bot.store.calibration.progress(SUITE_VERSION)
        await world.set_up_channel(bot)
        world.add_owl()
        await bot.pipeline.poll_once()
        card = await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id), timeout=10
        )
        await world.fake.wait_until(
            lambda: "Probing" not in card_lead(card), timeout=30, what="the card edited after probing"
        )
        shown = card_lead(card)
        assert progress.planned >= 1  # the catalogue's labs were planned as references on the first poll
        waiting = f"no references yet — guesses start when calibration finishes (0/{len(ORDINARY_MODELS)})"
        assert shown.splitlines()[0] == f"**No guess yet:** {waiting}."
        assert "`scout calibrate`" in shown.splitlines()[1]  # what an admin can do
        assert "%" not in shown and "OpenAI" not in shown  # the model claims OpenAI; nobody is named
        guess = await bot.store.guesses.latest(OWL["id"])
        assert guess is not None and guess.ranking == () and guess.status == "no_references"
