"""One poisoned listing, reply or corpus line never stops the rest (issue 11, point 1).

Every field is untrusted: numbers SQLite cannot hold (2^63 and up, 1e300, 1e400 read as infinity, a
5,000-digit literal), NaN and infinities, lone surrogates UTF-8 cannot encode, wrong types anywhere, and
nesting deep enough to exhaust Python's recursion limit. Each kind is served over real HTTP by the fake
gateway, next to a stealth model, and recorded in a real SQLite file: the poisoned entry is skipped (or its
bad field dropped) with a one-line reason, the stealth model is stored, and the poll row is finished.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.attribution.corpus import load_corpus
from bot.gateway import GatewayClient
from bot.jobs.polling import poll_gateway
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.rate_limit import RateLimiter
from bot.store import Store
from bot.testing.gateway_server import FakeGateway, Fault, ScriptedModel, constant_reply
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 2_000 + "1" + "}" * 2_000
FORTY_LEVELS = "[" * 40 + "]" * 40

# (entry as raw JSON text, "skipped" or "stored") — stored means the bad field was dropped or repaired.
POISONS = {
    "created 1e300": ('{"id": "poison/huge-float", "created": 1e300}', "stored"),
    "created 2^63": ('{"id": "poison/int64", "created": 9223372036854775808}', "stored"),
    "context 1e400 (infinity)": ('{"id": "poison/infinite", "context_length": 1e400}', "stored"),
    "created NaN": ('{"id": "poison/nan", "created": NaN}', "stored"),
    "context -Infinity": ('{"id": "poison/minus-infinity", "context_length": -Infinity}', "stored"),
    "5,000-digit created": ('{"id": "poison/digits", "created": ' + "9" * 5_000 + "}", "stored"),
    "negative context": ('{"id": "poison/negative", "context_length": -5}', "stored"),
    "lone surrogate in the id": ('{"id": "poison/\\udfff"}', "skipped"),
    "wrong types": ('{"id": "poison/types", "created": "yesterday", "architecture": "text"}', "skipped"),
    "100,000 levels deep": ('{"id": "poison/deep", "extra": ' + DEEP + "}", "skipped"),
    "2,000 objects deep in a field": ('{"id": "poison/deep-field", "pricing": ' + DEEP_OBJECT + "}", "skipped"),
    "a bare list, deep": (DEEP, "skipped"),
    "lone surrogate in the name": ('{"id": "poison/surrogate-name", "name": "Evil \\ud800 name"}', "stored"),
    "lone surrogate in a key": ('{"id": "poison/surrogate-key", "pricing": {"\\udc00": "0.1"}}', "stored"),
    "2^70 deep in raw": ('{"id": "poison/raw-int", "top_provider": {"max_tokens": 1180591620717411303424}}', "stored"),
    "NaN deep in raw": ('{"id": "poison/raw-nan", "top_provider": {"score": NaN, "ok": [Infinity, 1]}}', "stored"),
    "40 levels deep in raw": ('{"id": "poison/forty", "extra": ' + FORTY_LEVELS + "}", "stored"),
}


def catalogue_text(*poisons: str) -> bytes:
    """A catalogue with the ordinary models, the poisoned entries and the stealth model listed after them."""
    fine = [json.dumps(entry) for entry in ORDINARY_MODELS]
    return ('{"data": [' + ", ".join([*fine, *poisons, json.dumps(OWL)]) + "]}").encode()


@pytest.mark.parametrize("kind", POISONS)
async def test_a_poisoned_entry_costs_only_itself(store: Store, kind: str, caplog: pytest.LogCaptureFixture):
    text, fate = POISONS[kind]
    caplog.set_level(logging.WARNING)
    async with FakeGateway() as gateway, GatewayClient(gateway.base_url) as client:
        gateway.set_catalogue_body(catalogue_text(text))
        result = await poll_gateway(store, client)

    [poll] = await store.catalogue.last_polls()
    assert poll.ok and poll.finished_at is not None and poll.error is None
    assert [(event.kind, event.model_id) for event in result.events] == [("new", OWL["id"])]
    owl = await store.catalogue.model(OWL["id"])
    assert owl is not None and owl.stealth
    stored = {model.id for model in await store.catalogue.models()}
    poisoned = stored - {OWL["id"], *(entry["id"] for entry in ORDINARY_MODELS)}
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    if fate == "skipped":
        assert not poisoned and poll.skipped + len(warnings) >= 1
    else:
        [model_id] = poisoned
        assert (await store.catalogue.model(model_id)) is not None
        assert any(model_id in line and "repaired" in line for line in warnings)
    assert warnings and all("\n" not in line and len(line) < 600 for line in warnings)


async def test_every_poison_at_once_still_announces_the_stealth_model(world: World):
    async with world.run_bot() as bot:
        await world.set_up_channel(bot)
        world.add_owl()
        world.gateway.set_catalogue_body(catalogue_text(*(text for text, _ in POISONS.values())))
        report = await bot.pipeline.poll_once()
        assert report.ok, report.error
        await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id), timeout=10
        )
        kept = {model.id for model in await bot.store.catalogue.models()}
    assert OWL["id"] in kept
    assert {"poison/surrogate-name", "poison/surrogate-key", "poison/raw-int", "poison/raw-nan"} <= kept
    [announcement] = announcements_in(world.fake, world.channel.id)
    assert "Owl Alpha" in json.dumps(announcement.embeds)


# --- chat completions --------------------------------------------------------------------------------

HUGE = 2**64


def _reply(usage: str = '{"prompt_tokens": 12, "completion_tokens": 3}', content: str = '"I am a model."') -> bytes:
    return (
        '{"id": "gen-1", "model": "m", "choices": [{"finish_reason": "stop", "message": {"role": "assistant", '
        f'"content": {content}}}}}], "usage": {usage}}}'
    ).encode()


CHAT_POISONS = {
    "usage 2^64 (a real tokenizer)": (None, lambda text: HUGE),
    "usage 1e400": (Fault.raw_body(_reply('{"prompt_tokens": 1e400, "completion_tokens": 2}')), None),
    "usage NaN": (Fault.raw_body(_reply('{"prompt_tokens": NaN, "completion_tokens": -Infinity}')), None),
    "usage with 5,000 digits": (Fault.raw_body(_reply('{"prompt_tokens": ' + "7" * 5_000 + "}")), None),
    "lone surrogate in the answer": (Fault.raw_body(_reply(content='"I am \\ud800 GPT"')), None),
    "a reply 100,000 levels deep": (Fault.raw_body(_reply(usage=DEEP)), None),
    "usage of the wrong type": (Fault.raw_body(_reply('["twelve"]')), None),
}


@pytest.mark.parametrize("kind", CHAT_POISONS)
async def test_a_poisoned_completion_never_aborts_a_probe_run(store: Store, kind: str):
    fault, tokenizer = CHAT_POISONS[kind]
    model_id = "poison/chat"
    async with FakeGateway() as gateway, GatewayClient(gateway.base_url, timeout_s=5) as client:
        scripted = ScriptedModel(model_id, respond=constant_reply("I am a model."))
        if tokenizer is not None:
            scripted = ScriptedModel(model_id, respond=constant_reply("I am a model."), tokenizer=tokenizer)
        gateway.add_model(scripted)
        if fault is not None:
            gateway.set_fault("chat", fault, model=model_id)
        runner = ProbeRunner(
            store, client, RateLimiter(6000, 16), max_requests=12, max_completion_tokens=2000, timeout_s=5
        )
        report = await runner.run(model_id, purpose="manual")

    run = await store.probes.run(report.run_id)
    assert run is not None and run.state == "finished"
    stored = await store.probes.responses(report.run_id)
    assert len(stored) == len(runner.plan.probes)
    assert all(r.prompt_tokens is None or r.prompt_tokens < 2**63 for r in stored)
    assert all("\ud800" not in (r.content or "") for r in stored)


# --- corpora ----------------------------------------------------------------------------------------

CORPUS_POISONS = [
    '{"model": "m1", "vendor": "V", "prompt_id": "p2", "prompt": "?", "response": "x", "n": ' + "9" * 5_000 + "}",
    '{"model": "m1", "vendor": "V", "prompt_id": "p3", "prompt": "?", "response": "x", "n": NaN, "f": 1e400}',
    '{"model": "m1", "vendor": "V", "prompt_id": "p4", "prompt": "?", "response": "I am \\ud800 GPT"}',
    '{"model": "m1", "vendor": "V", "prompt_id": "p5", "prompt": "?", "response": "x", "deep": ' + DEEP + "}",
    DEEP,
]


def test_poisoned_corpus_lines_cost_only_themselves(tmp_path: Path):
    good = json.dumps({"model": "m1", "vendor": "V", "prompt_id": "p1", "prompt": "?", "response": "fine"})
    path = tmp_path / "poisoned.jsonl"
    path.write_text("\n".join([good, *CORPUS_POISONS, good.replace("p1", "p6")]) + "\n", encoding="utf-8")
    corpus = load_corpus(path)
    answers = corpus.models["m1"].answers
    assert set(answers) == {"p1", "p2", "p3", "p4", "p6"}
    assert answers["p4"] == "I am \ufffd GPT"
    assert corpus.stats.lines_read == 7 and corpus.stats.lines_skipped == 2
