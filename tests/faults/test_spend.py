"""The operator's money: a per-run ceiling estimated from the listing's prices (per-request prices included),
a weekly spend limit counted from the cost the gateway reports, `/scout probe` kept to anonymous models with one
cooldown for every server that survives a restart, and a warning when a reply reports more than was asked."""

from __future__ import annotations

import logging

import pytest

from bot.testing.gateway_server import ScriptedModel, constant_reply
from tests.support.world import ORDINARY_MODELS, OWL, OWL_SAYS, World, announcements_in, card_lead, eventually, footer

CLOAKED = OWL["description"]


def _stealth(name: str, pricing: dict[str, str]) -> dict:
    return {**OWL, "id": f"openrouter/{name}-alpha", "name": f"{name.title()} Alpha", "pricing": pricing}


def _serve(world: World, listing: dict, **prices: float) -> None:
    world.gateway.add_model(ScriptedModel(listing["id"], respond=constant_reply(OWL_SAYS), **prices))


def _status_fields(answer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}


async def _listed(world: World, bot, *models: dict) -> None:  # type: ignore[no-untyped-def]
    world.gateway.set_catalogue([*ORDINARY_MODELS, *models])
    await bot.pipeline.poll_once()
    await bot.pipeline.wait_idle()


async def test_a_stealth_listing_at_5_dollars_a_request_is_not_probed_and_its_card_says_why(world: World):
    pricey = _stealth("pricey", {"prompt": "0", "completion": "0.002", "request": "5"})
    _serve(world, pricey, completion_price=0.002, request_price=5.0)
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await _listed(world, bot, pricey)
        card = await world.fake.wait_for_message(world.channel.id, lambda m: "· announcement #" in footer(m))
        await world.fake.wait_until(lambda: "Probing…" not in card_lead(card), what="the card saying why")
        assert world.gateway.requests_to("chat", model=pricey["id"]) == []
        lead = card_lead(card).replace("\\", "")
        assert "PROBE_MAX_USD_PER_RUN" in lead and "$" in lead, lead
        spend = _status_fields(await world.answer(await world.command(bot, "scout status", world.admin)))["Spend"]
        assert spend.startswith("$0.00 in the last 7 days of $5.00"), spend


async def test_probe_refuses_a_model_that_is_not_anonymous(world: World):
    async with world.run_bot(calibration_request_budget=0) as bot:  # no calibration: every request is the probe's
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        text, _, _ = await world.answer(await world.command(bot, "scout probe", world.admin, model="openai/gpt-4o"))
        assert "anonymous" in text and "PROBE_COMMAND_ANY_MODEL" in text, text
        assert world.gateway.requests_to("chat") == []


async def test_the_probe_cooldown_is_shared_by_every_server_and_survives_a_restart(world: World):
    world.add_owl()
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await bot.pipeline.wait_idle()
        text, _, _ = await world.answer(await world.command(bot, "scout probe", world.admin, model=OWL["id"]))
        assert text.startswith("Probed"), text
        other = await world.command(bot, "scout probe", world.other_admin, guild=world.other_guild, model=OWL["id"])
        assert "try again in" in (await world.answer(other))[0]
    asked = len(world.gateway.requests_to("chat", model=OWL["id"]))
    async with world.run_bot() as bot:
        await bot.pipeline.wait_idle()
        asked = len(world.gateway.requests_to("chat", model=OWL["id"]))
        other = await world.command(bot, "scout probe", world.other_admin, guild=world.other_guild, model=OWL["id"])
        assert "try again in" in (await world.answer(other))[0]
        assert len(world.gateway.requests_to("chat", model=OWL["id"])) == asked


async def test_a_probe_of_a_dear_model_is_trimmed_to_the_run_ceiling(world: World):
    opulent = {**ORDINARY_MODELS[0], "id": "acme/opulent", "name": "Acme: Opulent"}
    opulent["pricing"] = {"prompt": "0.00015", "completion": "0.0006"}  # $150 and $600 per million tokens
    world.gateway.set_catalogue([*ORDINARY_MODELS, opulent])
    _serve(world, opulent, prompt_price=0.00015, completion_price=0.0006)
    async with world.run_bot(probe_command_any_model=True) as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        text, _, _ = await world.answer(await world.command(bot, "scout probe", world.admin, model=opulent["id"]))
        sent = len(world.gateway.requests_to("chat", model=opulent["id"]))
        assert 0 < sent < 11 and "trimmed" in text, (sent, text)
        assert 0 < await bot.store.spend.last_week() <= 0.5


async def test_the_weekly_limit_counts_reported_cost_stops_paid_runs_and_free_ones_still_run(world: World):
    per_request = {"prompt": "0", "completion": "0", "request": "0.004"}
    first, second = _stealth("ibis", per_request), _stealth("kite", per_request)
    for listing in (first, second):
        _serve(world, listing, request_price=0.004)
    world.add_owl()
    limited = {"spend_limit_usd_per_week": 0.06, "calibration_request_budget": 0}  # every dollar is a probe's
    async with world.run_bot(**limited) as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await _listed(world, bot, first)
        await _listed(world, bot, first, second, OWL)
        assert world.gateway.requests_to("chat", model=second["id"]) == []
        assert world.gateway.requests_to("chat", model=OWL["id"]), "a free stealth model always runs"
        spent = await bot.store.spend.last_week()
        assert spent == pytest.approx(0.004 * len(world.gateway.requests_to("chat", model=first["id"])))
        assert (await bot.store.guesses.latest(second["id"])).reason.find("SPEND_LIMIT_USD_PER_WEEK") >= 0
        spend = _status_fields(await world.answer(await world.command(bot, "scout status", world.admin)))["Spend"]
        assert spend.startswith(f"${spent:.2f} in the last 7 days of $0.06"), spend
    async with world.run_bot(**limited) as bot:  # the week's spend is kept across a restart
        await bot.pipeline.poll_once()
        await bot.pipeline.wait_idle()
        assert await bot.store.spend.last_week() == pytest.approx(spent)
        assert world.gateway.requests_to("chat", model=second["id"]) == []


async def test_a_reply_reporting_more_tokens_than_asked_is_a_warning(world: World, caplog):
    caplog.set_level(logging.WARNING)
    world.gateway.set_catalogue([*ORDINARY_MODELS, OWL])
    world.gateway.add_model(
        ScriptedModel(OWL["id"], respond=constant_reply(OWL_SAYS), reported_completion_tokens=250_000)
    )
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await bot.pipeline.wait_idle()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "250000" in r.getMessage()]
    assert warned and "max_tokens" in warned[0], [r.getMessage() for r in caplog.records][-10:]
    assert not announcements_in(world.fake, world.other_channel.id)
