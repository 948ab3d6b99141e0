"""The bot calibrates itself from the first poll: what it picks, within which budget, and what guesses say meanwhile."""

from __future__ import annotations

import asyncio

import pytest

from bot.catalogue.entry import load_catalogue_file, parse_entry
from bot.catalogue.vendors import vendor_for_model_id
from bot.jobs.pipeline import Pipeline
from bot.jobs.polling import record_catalogue
from bot.jobs.references import calibration_plan
from bot.jobs.self_calibration import calibration_round_cost, plan_self_calibration, reference_status
from bot.probes.cost import ListingPrices, plan_cost
from bot.probes.suite import SUITE_VERSION, plan_probes
from bot.settings import Settings, load_settings
from bot.testing.gateway_server import Fault
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ID, catalogue, catalogue_entry


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings(
        database_path=tmp_path / "scout.db",
        openrouter_api_key="sk-test",
        probe_timeout_seconds=5.0,
        probe_requests_per_minute=1000,
        calibration_models_per_vendor=2,
    )


async def test_a_fresh_store_with_a_key_calibrates_itself_and_guesses_wait_for_it(store, gw, client, settings):
    pipeline = Pipeline(store, client, settings)
    calibration = None
    try:
        await pipeline.poll_once()
        await pipeline.wait_idle()
        first = await store.guesses.latest(STEALTH_ID)
        assert first.ranking == () and first.top_vendor is None and first.status == "no_references"
        planned = len(KNOWN_MODELS)
        assert first.reason == f"no references yet — guesses start when calibration finishes (0/{planned})"
        assert gw.requests_to("chat", model=STEALTH_ID)  # the stealth model was probed all the same

        calibration = asyncio.create_task(pipeline.calibrate_forever())
        for _ in range(400):
            guess = await store.guesses.latest(STEALTH_ID)
            if guess.status == "ranked":
                break
            await asyncio.sleep(0.05)
        assert guess.status == "ranked" and guess.top_vendor == "zhipu"  # made from the stored run, once ready
    finally:
        if calibration is not None:
            calibration.cancel()
            await asyncio.gather(calibration, return_exceptions=True)
        await pipeline.close()
    status = await reference_status(store)
    assert (status.calibration.finished, status.calibration.planned) == (planned, planned)
    assert {v.vendor: v.references for v in status.vendors} == {"zhipu": 2, "openai": 2, "anthropic": 2, "alibaba": 2}
    per_run = len(plan_probes(settings.probe_max_requests, settings.probe_max_tokens).probes)
    assert status.describe().startswith(
        f"calibration {planned}/{planned}: {planned} done, {planned * per_run} requests"
    )
    assert "Zhipu (GLM): 2 references, newest 0 days old" in status.describe()


async def test_without_a_key_nothing_is_planned_and_no_vendor_is_named(store, gw, client, tmp_path):
    keyless = load_settings(database_path=tmp_path / "scout.db", probe_requests_per_minute=1000)
    pipeline = Pipeline(store, client, keyless)
    try:
        await pipeline.poll_once()
        await pipeline.wait_idle()
    finally:
        await pipeline.close()
    guess = await store.guesses.latest(STEALTH_ID)
    assert guess.ranking == () and guess.reason.endswith("(not started)")
    assert (await store.calibration.progress(SUITE_VERSION)).planned == 0
    assert (await reference_status(store)).describe().splitlines() == [
        "calibration not started",
        "no references yet: no lab can be named",
    ]


async def test_references_are_chat_models_every_labs_flagship_first_cheapest_first_within_a_round(
    store, catalogue_june
):
    await record_catalogue(store, load_catalogue_file(str(catalogue_june)), "june")
    records = await store.catalogue.models()
    plan = calibration_plan(records, 5, plan_probes(20, 6000))
    chosen = [item.model_id for item in plan]
    assert not [m for m in chosen if any(word in m for word in ("guard", "image", "audio", "embed"))]
    vendors = [vendor_for_model_id(model_id).key for model_id in chosen]
    first_round = len(set(vendors))
    assert len(set(vendors[:first_round])) == first_round  # every lab's flagship before any lab's second line
    assert [item.cost for item in plan[:first_round]] == sorted(item.cost for item in plan[:first_round])


async def test_the_request_budget_bounds_a_round(store, settings):
    await record_catalogue(store, catalogue(), "listed")
    tight = settings.model_copy(update={"calibration_request_budget": 25})
    assert await plan_self_calibration(store, tight, requests_per_model=12) == 2
    assert await plan_self_calibration(store, tight, requests_per_model=12) == 0  # the lab was planned this week


async def test_a_new_flagship_is_planned_at_most_weekly(store, settings):
    await record_catalogue(store, catalogue(), "listed")
    assert await plan_self_calibration(store, settings, requests_per_model=12) == len(KNOWN_MODELS)
    flagship = catalogue_entry("openai/gpt-6", "openai", 1_790_000_000)
    await record_catalogue(store, [*catalogue(), flagship], "a new flagship")
    assert await plan_self_calibration(store, settings, requests_per_model=12) == 0  # planned less than a week ago
    await store.db.execute("UPDATE calibration_targets SET planned_at = '2020-01-01T00:00:00.000Z'")
    assert await plan_self_calibration(store, settings, requests_per_model=12) == 1
    assert [t.model_id for t in await store.calibration.targets(SUITE_VERSION)][-1] == "openai/gpt-6"


async def test_the_calibration_rounds_cost_is_its_models_runs_at_their_prices_within_the_run_ceiling(store, settings):
    cheap = {**catalogue_entry("z-ai/glm-4.6", "zhipu", 1), "pricing": {"prompt": "0.000001", "completion": "0.000004"}}
    dear = {**catalogue_entry("openai/gpt-5", "openai", 2), "pricing": {"prompt": "0.00001", "completion": "0.0002"}}
    unpriced = {**catalogue_entry("qwen/qwen3-max", "alibaba", 3), "pricing": {}}
    await record_catalogue(store, [cheap, dear, unpriced], "fixture")
    await store.calibration.plan(SUITE_VERSION, [(m["id"], vendor_for_model_id(m["id"]).key) for m in (cheap, dear)])
    await store.calibration.plan(SUITE_VERSION, [(unpriced["id"], "alibaba")])

    cost = await calibration_round_cost(store, settings)

    plan = plan_probes(settings.probe_max_requests, settings.probe_max_tokens)
    cheap_run = plan_cost(plan, ListingPrices.of(parse_entry(cheap)))
    assert plan_cost(plan, ListingPrices.of(parse_entry(dear))) > settings.probe_max_usd_per_run  # so it is trimmed
    assert cost.models == 2  # a listing without a price is never probed
    assert cheap_run < cost.usd <= cheap_run + settings.probe_max_usd_per_run


async def test_a_guess_made_from_a_rounds_first_references_is_made_again_when_the_round_is_over(
    store, gw, client, settings
):
    """The stealth model's answers come in while half the references are still being probed: the card's guess is
    made from those, then again from every reference once the round is over, without asking the model again."""
    slow = [model_id for model_id, vendor, _ in KNOWN_MODELS if vendor in ("zhipu", "anthropic")]
    for model_id in slow:
        gw.set_fault("chat", Fault.hang(3.0), model=model_id)
    pipeline = Pipeline(store, client, settings)
    calibration = asyncio.create_task(pipeline.calibrate_forever())
    try:
        await record_catalogue(store, [entry for entry in catalogue() if entry["id"] != STEALTH_ID], "before")
        await pipeline.plan_calibration()
        for _ in range(200):  # until the quick labs' references are in; the slow ones take 3 s more
            if (await store.calibration.progress(SUITE_VERSION)).done == len(KNOWN_MODELS) - len(slow):
                break
            await asyncio.sleep(0.01)
        await pipeline.poll_once()
        await pipeline.wait_idle()
        early = await store.guesses.latest(STEALTH_ID)
        assert early.status == "ranked" and early.top_vendor != "zhipu"
        assert (await store.calibration.progress(SUITE_VERSION)).complete is False
        asked = len(gw.requests_to("chat", model=STEALTH_ID))
        for _ in range(200):
            again = await store.guesses.latest(STEALTH_ID)
            if again.id != early.id:
                break
            await asyncio.sleep(0.05)
    finally:
        calibration.cancel()
        await asyncio.gather(calibration, return_exceptions=True)
        await pipeline.close()
    assert (await store.calibration.progress(SUITE_VERSION)).complete
    assert again.id != early.id and again.run_id == early.run_id and again.top_vendor == "zhipu"
    assert len(gw.requests_to("chat", model=STEALTH_ID)) == asked
