"""An outage while the bot calibrates itself (every request refused for credit or for the key, a storm of 5xx,
or one lab's models answering 403) must not disable guesses for good: failed targets are tried again with backoff,
and once the gateway answers, calibration finishes and waiting guesses are made."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.probes.suite import SUITE_VERSION
from bot.testing.gateway_server import FakeGateway, Fault
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ID, install_labs
from tests.support.world import World, eventually


def _everything(fault: Fault) -> Callable[[FakeGateway], None]:
    return lambda gateway: gateway.set_fault("chat", fault)


def _one_lab(gateway: FakeGateway) -> None:
    for model_id, vendor, _ in KNOWN_MODELS:
        if vendor == "anthropic":
            gateway.set_fault(
                "chat", Fault.http(403, message="This model is not available in your region"), model=model_id
            )


def _recover(gateway: FakeGateway) -> None:
    gateway.clear_faults()


OUTAGES = {
    "402 for every request": _everything(Fault.payment_required()),
    "401 for every request": _everything(Fault.http(401)),
    "a 5xx storm": _everything(Fault.http(503)),
    "one lab's 403": _one_lab,
}


@pytest.mark.parametrize("outage", list(OUTAGES), ids=list(OUTAGES))
async def test_calibration_resumes_after_an_outage_and_guesses_follow(world: World, outage: str):
    install_labs(world.gateway)
    OUTAGES[outage](world.gateway)
    async with world.run_bot(probe_retry_base_seconds=1, probe_retry_max_attempts=2) as bot:

        async def round_over() -> bool:  # every planned target has had its first try: failed, or put off for the key
            targets = await bot.store.calibration.targets(SUITE_VERSION)
            tried = [t.state != "pending" or getattr(t, "next_attempt_at", None) is not None for t in targets]
            return len(targets) == len(KNOWN_MODELS) and all(tried) and not bot.pipeline.probing

        await eventually(round_over, timeout=30, what="the first calibration round")
        progress = await bot.store.calibration.progress(SUITE_VERSION)
        assert progress.done < progress.planned, progress

        _recover(world.gateway)

        async def calibrated() -> bool:
            await bot.pipeline.poll_once()
            done = await bot.store.calibration.progress(SUITE_VERSION)
            guess = await bot.store.guesses.latest(STEALTH_ID)
            return done.done == done.planned and guess is not None and guess.status == "ranked"

        await eventually(calibrated, timeout=60, what="calibration finished and the stealth model guessed")
    references = {vendor for _, vendor, _ in KNOWN_MODELS}
    assert {status.vendor for status in (await _vendors(world))} == references


async def _vendors(world: World):  # type: ignore[no-untyped-def]
    from bot.jobs.self_calibration import reference_status
    from bot.store import Store

    async with await Store.open(world.database) as store:
        return (await reference_status(store)).vendors
