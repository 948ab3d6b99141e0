"""The pipeline: a poll returns at once, probes run in the background, guesses reach the outbox."""

from __future__ import annotations

import asyncio

import pytest

from bot.attribution.guess import Guess
from bot.gateway import GatewayClient
from bot.jobs.pipeline import CycleReport, Pipeline
from bot.jobs.polling import record_catalogue
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.rate_limit import RateLimiter
from bot.jobs.references import calibrate
from bot.probes.response import ProbeResponse
from bot.probes.suite import SUITE_VERSION
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.testing.gateway_server import FakeGateway, Fault
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ID, catalogue
from tests.support.store import probe_runs

GUILD, CHANNEL = 1001, 2002


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings(
        database_path=tmp_path / "scout.db",
        probe_timeout_seconds=5.0,
        probe_requests_per_minute=1000,
        probe_concurrency=12,
    )


async def with_references(store: Store, gw: FakeGateway, client: GatewayClient, settings: Settings) -> None:
    """Known models recorded and calibrated; the next poll of the fake lists the stealth model as new."""
    known = [entry for entry in catalogue() if entry["id"] != STEALTH_ID]
    await record_catalogue(store, known, "before the launch")
    await calibrate(
        store,
        lambda: ProbeRunner.from_settings(store, client, settings, RateLimiter(1000, 12)),
        [model_id for model_id, _, _ in KNOWN_MODELS],
    )
    await store.guilds.configure(GUILD, CHANNEL, all_models=False)


async def run_cycle(store: Store, client: GatewayClient, settings: Settings) -> tuple[CycleReport, dict[str, Guess]]:
    """One poll that waits for its probes, then the latest guess of each model it probed or resumed."""
    pipeline = Pipeline(store, client, settings)
    try:
        report = await pipeline.poll_once()
        await pipeline.wait_idle()
    finally:
        await pipeline.close()
    guesses = {}
    for model_id in dict.fromkeys(report.resumed + report.probing):
        guess = await store.guesses.latest(model_id)
        if guess is not None:
            guesses[model_id] = guess
    return report, guesses


async def test_a_poll_returns_before_probing_ends_and_the_guess_then_edits_the_announcement(
    store, gw, client, settings
):
    await with_references(store, gw, client, settings)
    gw.set_fault("chat", Fault.hang(0.5), model=STEALTH_ID)  # answers, slowly
    pipeline = Pipeline(store, client, settings)
    try:
        report = await pipeline.poll_once()
        assert report.ok and report.probing == (STEALTH_ID,) and pipeline.probing == (STEALTH_ID,)
        assert [(e.kind, e.model_id) for e in report.events] == [("new", STEALTH_ID)]
        announcement = await store.outbox.for_model(GUILD, STEALTH_ID)
        assert announcement is not None and announcement.revision == 1  # announceable before any guess
        assert await store.guesses.latest(STEALTH_ID) is None

        await pipeline.wait_idle()
        guess = await store.guesses.latest(STEALTH_ID)
        assert guess is not None and guess.top_vendor == "zhipu" and guess.run_id is not None
        assert (await store.outbox.for_model(GUILD, STEALTH_ID)).revision == 2
        assert pipeline.probing == ()
    finally:
        await pipeline.close()


async def test_a_failed_poll_is_reported_not_raised(store, gw, client, settings):
    gw.go_down()
    pipeline = Pipeline(store, client, settings)
    try:
        report = await pipeline.poll_once()
    finally:
        await pipeline.close()
    assert not report.ok and "503" in report.error and report.events == () and report.probing == ()


async def test_start_resumes_unattributed_stealth_models_reusing_interrupted_answers(store, gw, client, settings):
    await record_catalogue(store, catalogue(), "crashed poll")
    crashed = await store.probes.start_run(STEALTH_ID, SUITE_VERSION, "stealth")
    await store.probes.record_response(
        crashed,
        ProbeResponse(
            "identity", "identity", True, {}, content="I'm ChatGPT, a model created by OpenAI.", prompt_tokens=30
        ),
    )
    pipeline = Pipeline(store, client, settings)
    try:
        assert await pipeline.start() == (STEALTH_ID,)
        assert await pipeline.start() == ()  # once per pipeline
        await pipeline.wait_idle()
    finally:
        await pipeline.close()
    assert (await store.probes.run(crashed)).state == "abandoned"
    latest_id, latest_state = (await probe_runs(store, STEALTH_ID))[0]
    assert latest_id != crashed and latest_state == "finished"
    responses = {r.probe_id: r for r in await store.probes.responses(latest_id)}
    assert responses["identity"].carried_from_run == crashed
    assert all(request.json["messages"][0]["content"] != "identity" for request in gw.requests_to("chat"))
    assert len(gw.requests_to("chat", model=STEALTH_ID)) == len(responses) - 1
    assert await store.guesses.latest(STEALTH_ID) is not None


async def test_reprobe_joins_a_probe_already_running(store, gw, client, settings):
    await record_catalogue(store, [e for e in catalogue() if e["id"] != STEALTH_ID], "before")
    gw.set_fault("chat", Fault.hang(0.3), model=STEALTH_ID)
    pipeline = Pipeline(store, client, settings)
    try:
        await pipeline.poll_once()
        outcome = await pipeline.reprobe(STEALTH_ID)
        assert outcome.report.model_id == STEALTH_ID and outcome.guess.id is not None
        assert len(await probe_runs(store, STEALTH_ID)) == 1
        again = await pipeline.reprobe(STEALTH_ID)  # nothing running now: a fresh manual run
        assert again.report.run_id != outcome.report.run_id and again.report.purpose == "manual"
    finally:
        await pipeline.close()


async def test_close_cancels_probes_and_the_next_start_picks_them_up(store, gw, client, settings):
    await record_catalogue(store, [e for e in catalogue() if e["id"] != STEALTH_ID], "before")
    gw.set_fault("chat", Fault.hang(30), model=STEALTH_ID)
    pipeline = Pipeline(store, client, settings)
    await pipeline.poll_once()
    while not gw.requests_to("chat", model=STEALTH_ID):  # the probes are under way
        await asyncio.sleep(0.01)
    await pipeline.close()
    assert pipeline.probing == ()
    [(run_id, state)] = await probe_runs(store, STEALTH_ID)
    assert state == "running" and await store.guesses.latest(STEALTH_ID) is None

    gw.clear_faults()
    report, guesses = await run_cycle(store, client, settings)
    assert report.ok and report.resumed == (STEALTH_ID,) and report.probing == ()
    assert set(guesses) == {STEALTH_ID}
    assert (await store.probes.run(run_id)).state == "abandoned"


async def test_a_cycle_waited_out_gives_the_guesses_of_its_poll(store, gw, client, settings):
    await with_references(store, gw, client, settings)
    report, guesses = await run_cycle(store, client, settings)
    assert report.probing == (STEALTH_ID,)
    guess = guesses[STEALTH_ID]
    assert guess.top_vendor == "zhipu"
    assert any(line.startswith("tokenizer:") for line in guess.evidence)


async def test_all_probes_failing_gives_no_ranking_and_is_retried_until_it_succeeds(store, gw, client, tmp_path):
    retrying = load_settings(
        database_path=tmp_path / "scout.db",
        probe_timeout_seconds=5.0,
        probe_requests_per_minute=1000,
        probe_retry_base_seconds=1,
    )
    await with_references(store, gw, client, retrying)
    for status in (500, 404, 429):  # gateway error, model not found, rate limited: no ranking, retried alike
        gw.set_fault("chat", Fault.http(status), model=STEALTH_ID)
        await run_cycle(store, client, retrying)
        guess = await store.guesses.latest(STEALTH_ID)
        assert guess.ranking == () and guess.top_vendor is None and guess.status in {"probes_failed", "not_found"}
        assert guess.reason.startswith("no guess")
        assert (await store.outbox.for_model(GUILD, STEALTH_ID)).revision > 1  # the card says so
        tried = await store.probe_attempts.get(STEALTH_ID, SUITE_VERSION)
        await asyncio.sleep(1.1 * 2 ** (tried.attempts + tried.outages - 1))
    attempts = await store.probe_attempts.get(STEALTH_ID, SUITE_VERSION)
    assert (attempts.attempts, attempts.outages) == (1, 2) and attempts.succeeded_run_id is None  # only 404 counts

    gw.clear_faults()
    await run_cycle(store, client, retrying)  # a restart: the due retry is found in the store
    guess = await store.guesses.latest(STEALTH_ID)
    assert guess.status == "ranked" and guess.top_vendor == "zhipu"
    assert (await store.probe_attempts.get(STEALTH_ID, SUITE_VERSION)).succeeded_run_id == guess.run_id


@pytest.fixture
def limited(tmp_path) -> Settings:
    """One retry at most, a second after the first run: a test sees the limit without waiting."""
    return load_settings(
        database_path=tmp_path / "scout.db",
        probe_timeout_seconds=5.0,
        probe_requests_per_minute=1000,
        probe_retry_base_seconds=1,
        probe_retry_max_attempts=1,
    )


async def test_retries_stop_at_the_limit_and_the_reason_says_so(store, gw, client, limited):
    await record_catalogue(store, catalogue(), "listed")
    gw.set_fault("chat", Fault.http(404), model=STEALTH_ID)  # the model's own failure, not the gateway's
    _, guesses = await run_cycle(store, client, limited)
    assert guesses[STEALTH_ID].reason.endswith("gave up after 1 runs")
    await asyncio.sleep(1.1)
    again, _ = await run_cycle(store, client, limited)
    assert again.probing == () and again.resumed == ()
    assert len(await probe_runs(store, STEALTH_ID)) == 1


async def test_runs_lost_to_an_outage_never_use_up_the_retries(store, gw, client, limited):
    await record_catalogue(store, catalogue(), "listed")
    gw.set_fault("chat", Fault.http(503), model=STEALTH_ID)
    for _ in range(3):
        _, guesses = await run_cycle(store, client, limited)
        assert "gave up" not in guesses[STEALTH_ID].reason
        tried = await store.probe_attempts.get(STEALTH_ID, SUITE_VERSION)
        await asyncio.sleep(1.1 * 2 ** (tried.outages - 1))
    assert len(await probe_runs(store, STEALTH_ID)) == 3
    assert (await store.probe_attempts.get(STEALTH_ID, SUITE_VERSION)).attempts == 0


async def test_without_references_the_guess_waits_and_is_made_when_they_arrive(store, gw, client, settings):
    await record_catalogue(store, [e for e in catalogue() if e["id"] != STEALTH_ID], "before")
    await store.calibration.plan(SUITE_VERSION, [(model_id, vendor) for model_id, vendor, _ in KNOWN_MODELS])
    _, guesses = await run_cycle(store, client, settings)
    waiting = guesses[STEALTH_ID]
    assert waiting.ranking == () and waiting.status == "no_references"
    assert waiting.reason == f"no references yet — guesses start when calibration finishes (0/{len(KNOWN_MODELS)})"
    requests = len(gw.requests_to("chat", model=STEALTH_ID))

    await with_references(store, gw, client, settings)
    await run_cycle(store, client, settings)
    guess = await store.guesses.latest(STEALTH_ID)
    assert guess.status == "ranked" and guess.top_vendor == "zhipu" and guess.run_id == waiting.run_id
    assert len(gw.requests_to("chat", model=STEALTH_ID)) == requests  # attributed from the stored answers


async def test_a_model_recorded_by_scout_scan_in_another_process_is_probed_by_the_bot(
    store, gw, client, settings, tmp_path
):
    from tests.support.scout_process import scout

    await with_references(store, gw, client, settings)
    pipeline = Pipeline(store, client, settings)
    try:
        assert await pipeline.start() == ()  # the bot is running and nothing needs probing yet
        code, out, err = await scout(tmp_path, "scan", "--json", OPENROUTER_BASE_URL=gw.base_url)
        assert code == 0, err
        assert STEALTH_ID in out  # the other process saw the new stealth model first

        report = await pipeline.poll_once()
        assert report.events == ()  # nothing new for the bot's own poll...
        assert report.probing == (STEALTH_ID,)  # ...but the store says it still needs probing
        await pipeline.wait_idle()
    finally:
        await pipeline.close()
    assert (await store.guesses.latest(STEALTH_ID)).top_vendor == "zhipu"


async def test_two_processes_probing_one_model_pay_for_one_run(postgres_url, gw, client, settings):
    """Two bot processes on one PostgreSQL database both asked to probe the same model (the poller on its own, an
    admin's /scout probe on another process): the second waits for the first and takes its guess."""
    first, second = await Store.open(postgres_url), await Store.open(postgres_url)
    pipelines = [Pipeline(first, client, settings), Pipeline(second, client, settings)]
    try:
        await with_references(first, gw, client, settings)
        await record_catalogue(first, catalogue(), "the stealth model is listed")
        gw.set_fault("chat", Fault.hang(0.5), model=STEALTH_ID)  # slow enough for the runs to overlap
        outcomes = await asyncio.gather(*(pipeline.reprobe(STEALTH_ID) for pipeline in pipelines))
        finished = await first.db.fetchall(
            "SELECT id FROM probe_runs WHERE model_id = ? AND state = 'finished'", (STEALTH_ID,)
        )
        assert len(finished) == 1
        assert outcomes[0].guess.id == outcomes[1].guess.id and outcomes[0].report.run_id == finished[0][0]
    finally:
        for pipeline in pipelines:
            await pipeline.close()
        await first.close()
        await second.close()
