"""Guesses in a real SQLite file: appended, the latest shown, the earlier kept."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from bot.attribution.findings import Finding
from bot.attribution.guess import NOT_SURE_BETWEEN, Guess, NearestModel, NotSure, RankedVendor
from bot.store import Store
from bot.store.database import utc_now


async def test_guesses_keep_history_and_their_status(store: Store):
    ranking = (
        RankedVendor("zhipu", "Zhipu (GLM)", 0.8, (NearestModel("z-ai/glm-4.6", 0.9),)),
        RankedVendor("openai", "OpenAI", 0.2),
    )
    first = await store.guesses.save(Guess("openrouter/owl-alpha", ranking, 0.8, ("tokenizer: 10/10",), run_id=None))
    said = (Finding("identity", "openai", "support", "says OpenAI made it"),)
    second = await store.guesses.save(Guess("openrouter/owl-alpha", ranking[::-1], 0.6, (), findings=said))
    assert first.id and second.id and second.id > first.id and first.created_at
    latest = await store.guesses.latest("openrouter/owl-alpha")
    assert latest == second and latest.top_vendor == "openai" and latest.status == "ranked" and latest.reason is None
    assert latest.findings == said and (await store.guesses.latest("openrouter/owl-alpha")).findings == said
    kept = await store.db.fetchall(
        "SELECT confidence, ranking_json FROM guesses WHERE model_id = ? ORDER BY id", ("openrouter/owl-alpha",)
    )
    assert [confidence for confidence, _ in kept] == [0.8, 0.6]  # the earlier guess stays as history
    assert tuple(RankedVendor.from_json(item) for item in json.loads(kept[0][1])) == ranking
    assert await store.guesses.latest("nobody/none") is None

    failed = Guess("openrouter/owl-alpha", (), 0.0, (), status="probes_failed", reason="no guess yet: probes failed")
    await store.guesses.save(failed)
    stored = await store.guesses.latest("openrouter/owl-alpha")
    assert (stored.status, stored.reason, stored.ranking) == ("probes_failed", "no guess yet: probes failed", ())


async def test_a_guess_that_is_not_sure_keeps_its_candidates_and_names_no_vendor(store: Store):
    ranking = (RankedVendor("openai", "OpenAI", 0.45), RankedVendor("anthropic", "Anthropic", 0.35))
    not_sure = NotSure(NOT_SURE_BETWEEN, ("openai", "anthropic"), "OpenAI or Anthropic, not sure which", 0.71)
    await store.guesses.save(Guess("openrouter/owl-alpha", ranking, 0.45, (), not_sure=not_sure))
    stored = await store.guesses.latest("openrouter/owl-alpha")
    assert stored is not None and stored.not_sure == not_sure and stored.top_vendor is None
    row = await store.db.fetchone("SELECT top_vendor FROM guesses WHERE model_id = ?", ("openrouter/owl-alpha",))
    assert row is not None and row["top_vendor"] is None  # the bot made no call to be scored on


async def test_guesses_made_since_a_moment_are_the_latest_of_listed_models_made_from_a_run(
    store: Store, models_to_vote_on: None
):
    before = Guess("openrouter/owl-alpha", (RankedVendor("openai", "OpenAI", 0.9),), 0.9, ())
    owl_run = await store.probes.start_run("openrouter/owl-alpha", "v1", "stealth")
    await store.guesses.save(replace(before, run_id=owl_run))
    await asyncio.sleep(0.002)  # times are kept to the millisecond
    moment = utc_now()
    await asyncio.sleep(0.002)
    pony_run = await store.probes.start_run("openrouter/pony-alpha", "v1", "stealth")
    pony = await store.guesses.save(replace(before, model_id="openrouter/pony-alpha", run_id=pony_run))
    await store.guesses.save(replace(before, model_id="openrouter/hunter-alpha"))  # no run to attribute again
    assert [guess.id for guess in await store.guesses.made_since(moment)] == [pony.id]
    again = await store.guesses.save(replace(before, run_id=owl_run))
    assert [guess.id for guess in await store.guesses.made_since(moment)] == [pony.id, again.id]
