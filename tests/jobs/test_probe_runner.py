"""The probe runner against the fake gateway over real HTTP, with a real SQLite store."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot.gateway import GatewayClient
from bot.jobs.probe_runner import ProbeRunner, request_extra_for
from bot.jobs.rate_limit import RateLimiter
from bot.probes.response import ProbeResponse
from bot.probes.suite import PROBES_BY_ID, SUITE_VERSION, plan_probes
from bot.settings import load_settings
from bot.store import Store
from bot.testing.gateway_server import FakeGateway, Fault, ScriptedModel, constant_reply
from bot.testing.scripted_labs import lab_model

MODEL = "z-ai/glm-4.6"


@pytest.fixture
async def gw() -> AsyncIterator[FakeGateway]:
    async with FakeGateway() as gateway:
        yield gateway


def make_runner(store: Store, client: GatewayClient, *, max_requests: int = 12, timeout_s: float = 5.0) -> ProbeRunner:
    return ProbeRunner(
        store,
        client,
        RateLimiter(1000, 32),
        max_requests=max_requests,
        max_completion_tokens=4000,
        timeout_s=timeout_s,
        retry_delay_s=0.01,
    )


async def test_a_run_sends_the_plan_at_once_and_stores_every_response(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu", latency_s=0.5))
    runner = make_runner(store, client)
    report = await runner.run(MODEL, purpose="manual")

    planned = runner.plan.probes
    assert report.requests == len(planned) == len(gw.requests_to("chat", model=MODEL)) == 11
    assert gw.peak_chat_concurrency == len(planned)  # all in flight together, not one after another
    assert not report.failures
    sent = {request.json["messages"][0]["content"]: request.json for request in gw.requests_to("chat", model=MODEL)}
    for probe in planned:
        assert sent[probe.prompt]["max_tokens"] == probe.max_tokens and sent[probe.prompt]["temperature"] == 0

    run = await store.probes.run(report.run_id)
    assert run is not None and run.state == "finished" and run.suite_version == SUITE_VERSION
    assert (run.requests, run.failures) == (11, 0)
    stored = await store.probes.responses(report.run_id)
    assert [r.probe_id for r in stored] and {r.probe_id for r in stored} == {p.probe_id for p in planned}
    assert run.prompt_tokens == sum(r.prompt_tokens for r in stored) > 0
    assert all(r.raw and r.latency_s is not None and r.request["messages"] for r in stored)


async def test_texts_come_from_text_probes_and_token_counts_from_every_probe(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    report = await make_runner(store, client).run(MODEL, purpose="manual")
    assert set(report.token_counts) == {r.probe_id for r in report.responses}
    assert report.texts and all(PROBES_BY_ID[probe_id].kind != "tokenizer" for probe_id in report.texts)
    assert "Zhipu" in report.texts["identity"]


async def test_a_rate_limited_probe_waits_for_retry_after_and_succeeds(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    gw.inject("chat", Fault.rate_limited(retry_after=0.1), model=MODEL)
    report = await make_runner(store, client).run(MODEL, purpose="manual")
    assert not report.failures
    retried = [r for r in report.responses if r.attempts == 2]
    assert len(retried) == 1 and retried[0].earlier_failures[0].startswith("rate_limited")
    assert report.requests == len(gw.requests_to("chat", model=MODEL)) == 12
    stored = {r.probe_id: r for r in await store.probes.responses(report.run_id)}
    assert stored[retried[0].probe_id].attempts == 2 and stored[retried[0].probe_id].earlier_failures


async def test_failures_are_recorded_per_probe_with_their_kind(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    gw.inject("chat", Fault.payment_required(), Fault.payment_required(), Fault.http(400), model=MODEL)
    report = await make_runner(store, client).run(MODEL, purpose="manual")
    assert Counter(f.error_kind for f in report.failures) == {"payment_required": 2, "client_error": 1}
    assert report.requests == 11  # neither 402 nor 400 is worth a retry
    run = await store.probes.run(report.run_id)
    assert run is not None and run.failures == 3 and run.state == "finished"
    assert all(f.error and "HTTP 40" in f.error for f in report.failures)


async def test_a_model_that_always_fails_costs_no_more_than_the_budget(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    gw.set_fault("chat", Fault.http(503), model=MODEL)
    report = await make_runner(store, client).run(MODEL, purpose="manual")
    assert len(report.failures) == len(report.responses) == 11
    assert {f.error_kind for f in report.failures} == {"server_error"}
    assert report.requests == len(gw.requests_to("chat", model=MODEL)) == 12


@pytest.mark.parametrize("budget", [1, 3, 7, 12, 20])
async def test_retries_never_push_a_run_over_its_request_budget(store, gw, client, budget):
    gw.add_model(lab_model(MODEL, "zhipu"))
    gw.set_fault("chat", Fault.rate_limited(retry_after=0), model=MODEL)
    report = await make_runner(store, client, max_requests=budget).run(MODEL, purpose="manual")
    assert len(gw.requests_to("chat", model=MODEL)) == report.requests == budget
    assert all(f.error_kind == "rate_limited" for f in report.failures)


async def test_a_request_that_hangs_times_out_and_is_recorded(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    gw.set_fault("chat", Fault.hang(30), model=MODEL)
    report = await make_runner(store, client, max_requests=3, timeout_s=0.3).run(MODEL, purpose="manual")
    assert [f.error_kind for f in report.failures] == ["timeout"] * 3
    assert report.requests == 3


async def test_empty_and_reasoning_only_answers_fail_text_probes_but_keep_token_counts(store, gw, client):
    gw.add_model(ScriptedModel("acme/empty", constant_reply("x"), empty=True))
    gw.add_model(ScriptedModel("acme/thinker", constant_reply("Let me think about this."), reasoning_only=True))
    runner = make_runner(store, client)
    empty = await runner.run("acme/empty", purpose="manual")
    thinker = await runner.run("acme/thinker", purpose="manual")
    text_probes = {p.probe_id for p in runner.plan.probes if p.wants_text}
    assert {f.probe_id for f in empty.failures} == text_probes and {f.error_kind for f in empty.failures} == {"empty"}
    assert {f.error_kind for f in thinker.failures} == {"reasoning_only"}
    assert all(f.reasoning for f in thinker.failures)
    assert set(thinker.token_counts) == {p.probe_id for p in runner.plan.probes}
    assert not thinker.texts


async def test_answers_of_an_interrupted_run_are_reused_not_asked_again(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    runner = make_runner(store, client)
    crashed = await store.probes.start_run(MODEL, SUITE_VERSION, "stealth")
    done = runner.plan.probes[:4]
    for probe in done:
        await store.probes.record_response(
            crashed,
            ProbeResponse(
                probe.probe_id, probe.kind, True, {"messages": probe.messages()}, content="earlier", prompt_tokens=7
            ),
        )
    assert [run.id for run in await store.probes.abandon_running()] == [crashed]

    report = await runner.run(MODEL, purpose="stealth")
    asked = {request.json["messages"][0]["content"] for request in gw.requests_to("chat", model=MODEL)}
    assert asked == {probe.prompt for probe in runner.plan.probes[4:]}
    carried = [r for r in report.responses if r.carried_from_run == crashed]
    assert {r.probe_id for r in carried} == {p.probe_id for p in done} and all(r.content == "earlier" for r in carried)
    run = await store.probes.run(report.run_id)
    assert run is not None and run.requests == report.requests == len(asked)
    # Once a run finished, nothing is carried over again.
    again = await runner.run(MODEL, purpose="manual")
    assert not any(r.carried_from_run for r in again.responses)


async def test_request_extra_is_sent_with_every_probe(store, gw, client):
    gw.add_model(lab_model(MODEL, "zhipu"))
    extra = request_extra_for(("max_tokens", "reasoning"))
    assert extra == {"reasoning": {"effort": "low"}} and request_extra_for(("max_tokens",)) == {}
    await make_runner(store, client, max_requests=2).run(MODEL, purpose="manual", request_extra=extra)
    assert all(r.json["reasoning"] == {"effort": "low"} for r in gw.requests_to("chat", model=MODEL))


async def test_from_settings_plans_with_the_configured_budget(store, client):
    settings = load_settings(probe_max_requests=5, probe_max_tokens=900)
    assert ProbeRunner.from_settings(store, client, settings).plan == plan_probes(5, 900)
