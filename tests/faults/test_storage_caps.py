"""What one reply or one corpus line can cost (issue 11, point 7).

Before: a 3.9 MB chat answer grew the database by 89 MB in one probe run (the answer and its raw JSON, for
every probe), and a 300 MB single-line corpus or a gzip bomb took 1.2-1.6 GB of memory and stored 300 MB.
Now each stored answer holds at most `MAX_STORED_ANSWER_CHARS` and says how much was cut, a raw reply over
`MAX_STORED_RAW_CHARS` keeps only its id, model and usage, a corpus line is never held longer than
`MAX_LINE_CHARS`, and a corpus that decompresses past `MAX_DECOMPRESSED_BYTES` is refused with nothing saved.
"""

from __future__ import annotations

import gzip
import json
import logging
import tracemalloc
from pathlib import Path

import pytest

from bot.attribution import corpus as corpus_module
from bot.attribution.corpus import MAX_LINE_CHARS, CorpusError, load_corpus
from bot.gateway import GatewayClient
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.rate_limit import RateLimiter
from bot.jobs.references import import_corpus
from bot.probes.response import MAX_STORED_ANSWER_CHARS
from bot.store import Store
from bot.testing.gateway_server import FakeGateway, Fault, ScriptedModel, constant_reply
from tests.support.bot_process import bot_environment, run_scout

MODEL = "acme/verbose"
ANSWER_BYTES = 3_900_000
DEBUG_STRINGS = 'debug": [' + ", ".join(['"' + "y" * 30 + '"'] * 100_000) + "]"


def _database_bytes(database: Path) -> int:
    return sum(path.stat().st_size for path in database.parent.iterdir() if path.name.startswith(database.name))


def _huge_answer(gateway: FakeGateway) -> None:
    gateway.add_model(ScriptedModel(MODEL, respond=constant_reply("x" * ANSWER_BYTES)))


def _huge_reasoning(gateway: FakeGateway) -> None:
    gateway.add_model(ScriptedModel(MODEL, respond=constant_reply("r" * ANSWER_BYTES), reasoning_only=True))


def _huge_raw_reply(gateway: FakeGateway) -> None:
    gateway.add_model(ScriptedModel(MODEL, respond=constant_reply("unused")))
    body = (
        '{"id": "gen-1", "model": "m", "choices": [{"message": {"role": "assistant", "content": "I am a model."}}], '
        '"usage": {"prompt_tokens": 9, "completion_tokens": 4}, "' + DEBUG_STRINGS + "}"
    )
    gateway.set_fault("chat", Fault.raw_body(body.encode()), model=MODEL)


@pytest.mark.parametrize(
    "serve", [_huge_answer, _huge_reasoning, _huge_raw_reply], ids=["3.9 MB answer", "3.9 MB reasoning", "3 MB raw"]
)
async def test_a_huge_reply_stores_a_bounded_marked_answer(tmp_path: Path, serve, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="bot.store.probes")
    database = tmp_path / "scout.db"
    async with (
        await Store.open(database) as store,
        FakeGateway() as gateway,
        GatewayClient(gateway.base_url, timeout_s=10) as client,
    ):
        serve(gateway)
        runner = ProbeRunner(
            store, client, RateLimiter(6000, 16), max_requests=12, max_completion_tokens=2000, timeout_s=10
        )
        before = _database_bytes(database)
        report = await runner.run(MODEL, purpose="manual")
        stored = await store.probes.responses(report.run_id)
    grown = _database_bytes(database) - before
    assert grown < 2_000_000, f"one probe run grew the database by {grown:,} bytes"
    assert len(stored) == len(runner.plan.probes)
    for response in stored:
        for text in (response.content, response.reasoning):
            assert text is None or len(text) <= MAX_STORED_ANSWER_CHARS
        assert len(json.dumps(response.raw)) < 70_000
    if serve is _huge_raw_reply:
        assert all("cut" in (response.raw or {}) and response.raw["usage"]["prompt_tokens"] == 9 for response in stored)
    else:
        cut = [r for r in stored if "[cut by Model Scout: " in ((r.content or "") + (r.reasoning or ""))]
        assert len(cut) == len(stored)
        assert any("cut" in record.getMessage() for record in caplog.records)


def _line(prompt_id: str, response: str) -> str:
    return json.dumps({"model": "m1", "vendor": "V", "prompt_id": prompt_id, "prompt": "?", "response": response})


def test_a_line_longer_than_the_limit_is_skipped_without_being_held(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "one-huge-line.jsonl"
    huge = _line("p2", "z" * (20 * MAX_LINE_CHARS))
    path.write_text("\n".join([_line("p1", "fine"), huge, _line("p3", "also fine")]) + "\n", encoding="utf-8")
    del huge
    tracemalloc.start()
    try:
        with caplog.at_level(logging.INFO, logger="bot.attribution.corpus"):
            corpus = load_corpus(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert set(corpus.models["m1"].answers) == {"p1", "p3"}
    assert corpus.stats.lines_skipped == 1
    assert any("line 2 skipped" in message and "character limit" in message for message in caplog.messages)
    assert peak < 6 * MAX_LINE_CHARS, f"{peak:,} bytes at peak for a {path.stat().st_size:,}-byte file"


@pytest.mark.parametrize("newlines", [False, True], ids=["one endless line", "endless short lines"])
async def test_a_gzip_bomb_is_refused_and_nothing_is_stored(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, newlines: bool
):
    monkeypatch.setattr(corpus_module, "MAX_DECOMPRESSED_BYTES", 4 * 1024 * 1024)
    path = tmp_path / "bomb.jsonl.gz"
    filler = (_line("p", "ok") + "\n").encode() if newlines else b"0"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(40):
            handle.write(filler * (1024 * 1024 // len(filler)))
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(CorpusError, match="more than 4 MiB"):
        await import_corpus(store, path)
    assert await store.references.counts() == {}


async def test_scout_references_import_says_what_it_cut(tmp_path: Path):
    path = tmp_path / "long-answers.jsonl"
    path.write_text(
        "\n".join([_line("p1", "w " * MAX_STORED_ANSWER_CHARS), _line("p2", "short")]) + "\n", encoding="utf-8"
    )
    database = tmp_path / "db" / "scout.db"
    environment = bot_environment(discord_token="unused", database_path=database)
    run = await run_scout("references", "import", str(path), environment=environment, workdir=tmp_path / "cwd")
    assert run.returncode == 0, run.stderr
    assert "cut 1 over-long answer(s) or prompt(s)" in run.stderr
    async with await Store.open(database) as store:
        [reference] = await store.references.load("corpus")
    assert reference.answers["p1"].content.endswith("more characters not stored]")
    assert len(reference.answers["p1"].content) <= MAX_STORED_ANSWER_CHARS
    assert reference.answers["p2"].content == "short"
