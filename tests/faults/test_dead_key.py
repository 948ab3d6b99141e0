"""A revoked key (401) or an account out of credit (402): the bot stops at the first refusal instead of sending
a run's 11 requests, says so once at WARNING and in `/scout status`, gives up on no model meanwhile, and resumes by
itself when the key works again."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.probes.suite import SUITE_VERSION
from bot.testing.gateway_server import Fault
from tests.support.world import OWL, World, card_lead, eventually


def _status_fields(answer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}


def _key_warnings(caplog) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "API key" in r.getMessage()]


@pytest.mark.parametrize("status", [401, 402])
async def test_a_refused_key_stops_at_once_is_told_and_resumes_by_itself(world: World, caplog, status: int):
    caplog.set_level(logging.INFO)
    world.gateway.set_fault("chat", Fault.http(status, message="No credits left" if status == 402 else "Bad key"))
    async with world.run_bot(probe_retry_base_seconds=1, probe_retry_max_attempts=2) as bot:
        card = await world.announce_owl(bot)
        await bot.pipeline.wait_idle()
        await asyncio.sleep(0.3)  # calibration, started by the first poll, meets the same refusal
        assert len(world.gateway.requests_to("chat")) == 1, "one refused request is enough to know"
        assert len(_key_warnings(caplog)) == 1, _key_warnings(caplog)

        key = _status_fields(await world.answer(await world.command(bot, "scout status", world.admin)))[
            "OpenRouter key"
        ]
        assert f"refused the API key (HTTP {status}" in key and "paused" in key, key
        await world.fake.wait_until(lambda: "API key" in card_lead(card), what="the card saying what stopped it")

        for _ in range(3):  # polls while the key is refused send nothing until the next check falls due
            await bot.pipeline.poll_once()
        assert len(world.gateway.requests_to("chat")) == 1
        for _ in range(3):  # checks fall due one after another; each costs one request and no model is given up
            await asyncio.sleep(2.5)
            await bot.pipeline.poll_once()
            await bot.pipeline.wait_idle()
        checks = len(world.gateway.requests_to("chat"))
        assert 2 <= checks <= 4, checks
        attempts = await bot.store.probe_attempts.get(OWL["id"], SUITE_VERSION)
        assert attempts is None or attempts.attempts == 0
        assert len(_key_warnings(caplog)) == 1, "said once, not at every check"

        world.gateway.set_fault("chat", None)  # credit added, or the key replaced

        async def resumed() -> bool:
            await bot.pipeline.poll_once()
            await bot.pipeline.wait_idle()
            return "API key" not in card_lead(card) and "Probing…" not in card_lead(card)

        await eventually(resumed, timeout=20, what="probing resumed by itself")
        key = _status_fields(await world.answer(await world.command(bot, "scout status", world.admin)))[
            "OpenRouter key"
        ]
        assert "works" in key, key
    assert any("works again" in line for line in _key_warnings(caplog))
