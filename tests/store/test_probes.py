"""Probe runs and what still needs probing, in a real SQLite file."""

from __future__ import annotations

import sqlite3

from bot.probes.response import ProbeResponse
from bot.store import Store
from bot.store.references import Reference, ReferenceAnswer
from tests.support.store import list_owl


def response(probe_id: str, ok: bool = True, **fields) -> ProbeResponse:
    return ProbeResponse(probe_id, "style", ok, {"messages": [{"role": "user", "content": probe_id}]}, **fields)


async def test_each_response_updates_its_run_in_the_same_write(store: Store):
    run_id = await store.probes.start_run("acme/a", "v1", "stealth")
    answered = response(
        "p1",
        content="hi",
        prompt_tokens=10,
        completion_tokens=3,
        attempts=2,
        earlier_failures=("rate_limited: HTTP 429",),
        raw={"id": "gen-1"},
    )
    await store.probes.record_response(run_id, answered)
    await store.probes.record_response(run_id, response("p2", ok=False, error_kind="timeout", error="no reply"))
    run = await store.probes.run(run_id)
    assert run is not None and run.state == "running"
    assert (run.requests, run.failures, run.prompt_tokens, run.completion_tokens) == (3, 1, 10, 3)
    first, second = await store.probes.responses(run_id)
    assert first == answered
    assert (second.ok, second.error_kind, second.error) == (False, "timeout", "no reply")
    await store.probes.finish_run(run_id)
    assert (await store.probes.run(run_id)).state == "finished"


async def test_a_crash_leaves_runs_running_until_the_next_start_abandons_them(database_target):
    async with await Store.open(database_target) as store:
        run_id = await store.probes.start_run("acme/a", "v1", "stealth")
        await store.probes.record_response(run_id, response("p1", content="kept"))
    async with await Store.open(database_target) as store:
        stale = await store.probes.abandon_running()
        assert [run.id for run in stale] == [run_id]
        assert (await store.probes.run(run_id)).state == "abandoned"
        assert await store.probes.abandon_running() == []
        reusable = await store.probes.reusable_answers("acme/a", "v1")
        assert reusable is not None and reusable[0] == run_id and [r.content for r in reusable[1]] == ["kept"]
        assert await store.probes.reusable_answers("acme/a", "v2") is None


async def test_only_the_latest_run_of_a_model_is_reusable(store: Store):
    old = await store.probes.start_run("acme/a", "v1", "stealth")
    await store.probes.record_response(old, response("p1", content="old"))
    await store.probes.record_response(old, response("p2", ok=False, error_kind="empty"))
    await store.probes.abandon_running()
    assert [r.probe_id for r in (await store.probes.reusable_answers("acme/a", "v1"))[1]] == [
        "p1"
    ]  # failures are not reused
    newer = await store.probes.start_run("acme/a", "v1", "manual")
    await store.probes.finish_run(newer)
    assert await store.probes.reusable_answers("acme/a", "v1") is None


async def test_carried_answers_cost_the_new_run_nothing(store: Store):
    run_id = await store.probes.start_run("acme/a", "v1", "stealth")
    await store.probes.record_response(
        run_id, response("p1", content="x", prompt_tokens=9, carried_from_run=4, attempts=0)
    )
    run = await store.probes.run(run_id)
    assert (run.requests, run.prompt_tokens) == (0, 0)
    assert (await store.probes.responses(run_id))[0].carried_from_run == 4


async def test_due_for_probing_is_every_listed_stealth_model_without_a_successful_run(store: Store, catalogue_june):
    from bot.catalogue.entry import load_catalogue_file
    from bot.jobs.polling import record_catalogue

    await record_catalogue(store, load_catalogue_file(str(catalogue_june)), "june")
    stealth = [m.id for m in await store.catalogue.models(stealth_only=True, include_removed=False)]
    assert stealth and await store.probe_attempts.due("v1", max_attempts=3) == stealth
    model = stealth[0]
    run = await store.probes.start_run(model, "v1", "stealth")

    failed = await store.probe_attempts.record(model, "v1", run_id=run, succeeded=False, reason="500", retry_in=3600)
    assert failed.attempts == 1 and failed.succeeded_run_id is None and failed.next_attempt_at
    assert model not in await store.probe_attempts.due("v1", max_attempts=3)  # backing off

    await store.probe_attempts.record(model, "v1", run_id=run, succeeded=False, reason="500", retry_in=0)
    assert model in await store.probe_attempts.due("v1", max_attempts=3)  # due again
    assert model not in await store.probe_attempts.due("v1", max_attempts=2)  # limit reached
    assert model in await store.probe_attempts.due("v2", max_attempts=2)  # a new suite starts afresh

    done = await store.probe_attempts.record(model, "v1", run_id=run, succeeded=True, reason=None, retry_in=0)
    assert (done.attempts, done.succeeded_run_id, done.next_attempt_at) == (3, run, None)
    again = await store.probe_attempts.record(model, "v1", run_id=run, succeeded=False, reason="429", retry_in=0)
    assert again.succeeded_run_id == run  # a later failed manual run does not undo the success
    assert model not in await store.probe_attempts.due("v1", max_attempts=10)


async def test_calibration_plan_progress_and_references_by_vendor(store: Store):
    assert (await store.calibration.progress("v1")).planned == 0
    assert await store.calibration.plan("v1", [("openai/gpt-5", "openai"), ("z-ai/glm-4.6", "zhipu")]) == 2
    assert await store.calibration.plan("v1", [("openai/gpt-5", "openai")]) == 0  # planned once
    await store.calibration.finish("openai/gpt-5", "v1", ok=True, requests=11, detail="")
    progress = await store.calibration.progress("v1")
    assert (progress.finished, progress.planned, progress.done, progress.requests) == (1, 2, 1, 11)
    assert not progress.complete
    assert [(t.model_id, t.state) for t in await store.calibration.targets("v1")] == [
        ("openai/gpt-5", "done"),
        ("z-ai/glm-4.6", "pending"),
    ]

    await store.references.save(
        [
            Reference("openai/gpt-5", "openai", "probe", "v1", {"p": ReferenceAnswer("hi")}),
            Reference("openai/gpt-4o", "openai", "probe", "v1", {"p": ReferenceAnswer("hi")}),
            Reference("z-ai/glm-4.6", "zhipu", "probe", "v0", {"p": ReferenceAnswer("hi")}),
        ]
    )
    by_vendor = await store.references.by_vendor("v1")
    assert [(v.vendor, v.count) for v in by_vendor] == [("openai", 2)] and by_vendor[0].newest_at


async def test_upgrading_counts_models_attributed_before_as_probed_unless_every_probe_failed(tmp_path):
    from importlib import resources

    path = tmp_path / "old.db"
    schema = resources.files("bot.store").joinpath("migrations/V1__initial.sqlite.sql").read_text(encoding="utf-8")
    with sqlite3.connect(path) as old:
        old.executescript(schema + "PRAGMA user_version = 1;")
        for run_id, model, ok in ((1, "openrouter/good", 1), (2, "openrouter/failed", 0)):
            old.execute(
                "INSERT INTO probe_runs (id, model_id, suite_version, purpose, state, started_at, failures) "
                "VALUES (?, ?, 'v1', 'stealth', 'finished', 't', ?)",
                (run_id, model, 1 - ok),
            )
            old.execute(
                "INSERT INTO probe_responses (run_id, probe_id, kind, request_json, ok, at) "
                "VALUES (?, 'p', 'style', '{}', ?, 't')",
                (run_id, ok),
            )
            old.execute(
                "INSERT INTO guesses (model_id, run_id, created_at, confidence, ranking_json, evidence_json) "
                "VALUES (?, ?, '2026-01-01T00:00:00.000Z', 0.08, '[]', '[]')",
                (model, run_id),
            )
    async with await Store.open(path) as store:
        good = await store.probe_attempts.get("openrouter/good", "v1")
        assert good is not None and good.succeeded_run_id == 1
        assert await store.probe_attempts.get("openrouter/failed", "v1") is None  # probed again after the upgrade
        assert (await store.guesses.latest("openrouter/good")).status == "ranked"


async def test_a_postponed_run_counts_nothing_and_an_outage_counts_apart(store):
    from bot.probes.suite import SUITE_VERSION

    model = await list_owl(store)
    await store.probe_attempts.postpone(model, SUITE_VERSION, retry_in=3600, reason="the key is refused")
    postponed = await store.probe_attempts.get(model, SUITE_VERSION)
    assert (postponed.attempts, postponed.outages, postponed.last_reason) == (0, 0, "the key is refused")
    assert await store.probe_attempts.due(SUITE_VERSION, 6) == []  # due again only when the refusal says

    run = await store.probes.start_run(model, SUITE_VERSION, "stealth")
    await store.probe_attempts.record(
        model, SUITE_VERSION, run_id=run, succeeded=False, reason="5xx", retry_in=0, outage=True
    )
    await store.probe_attempts.record(model, SUITE_VERSION, run_id=run, succeeded=False, reason="404", retry_in=0)
    counted = await store.probe_attempts.get(model, SUITE_VERSION)
    assert (counted.attempts, counted.outages) == (1, 1)
    assert await store.probe_attempts.due(SUITE_VERSION, 2) == [model]
    assert await store.probe_attempts.due(SUITE_VERSION, 1) == []

    await store.probes.abandon_run(run)
    assert (await store.probes.run(run)).state == "abandoned"
