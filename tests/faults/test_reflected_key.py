"""A gateway that reflects the API key back (issue 11, point 8).

The fake gateway echoes the key in the shapes a careless or hostile server would: lower-cased, upper-cased,
cut short, glued to other text, JSON-escaped, inside a 200 answer, an error reply or a catalogue listing.
`scout probe` and `scout scan` run as real processes against it; neither their output nor any byte of the
SQLite files may hold 16 consecutive characters of the key, in any letter case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store import Store
from bot.testing.gateway_server import FakeGateway, Fault, ScriptedModel, constant_reply
from tests.support.bot_process import bot_environment, run_scout
from tests.support.world import ORDINARY_MODELS

API_KEY = "sk-or-v1-Reflected-KEY-7c41d09e2b5a"
WINDOW = 16
MODEL = "acme/echo"
ECHO_LISTING = {"id": MODEL, "name": "Acme: Echo", "pricing": {"prompt": "0", "completion": "0"}}

TEXT_SHAPES = {
    "exact": API_KEY,
    "lower-cased": API_KEY.lower(),
    "upper-cased": API_KEY.upper(),
    "case swapped": API_KEY.swapcase(),
    "cut short": API_KEY[:20],
    "glued into a URL": f"https://gateway.example/debug?auth=Bearer{API_KEY.lower()}&x=1",
}


def assert_key_absent(where: str, data: str | bytes) -> None:
    lowered = (data.encode("utf-8", "replace") if isinstance(data, str) else data).lower()
    for start in range(len(API_KEY) - WINDOW + 1):
        assert API_KEY[start : start + WINDOW].lower().encode() not in lowered, f"part of the key appears in {where}"


def assert_database_clean(database: Path) -> None:
    files = [path for path in database.parent.iterdir() if path.name.startswith(database.name)]
    assert files
    for path in files:
        assert_key_absent(path.name, path.read_bytes())


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


def _answer_all_shapes(gateway: FakeGateway) -> None:
    said = " / ".join(f"{name}: {shape}" for name, shape in TEXT_SHAPES.items())
    gateway.add_model(ScriptedModel(MODEL, respond=constant_reply(f"I am a model. I saw {said}.")))


def _answer_json_escaped(gateway: FakeGateway) -> None:
    gateway.add_model(ScriptedModel(MODEL, respond=constant_reply("unused")))
    content = f'"Your key is {_escaped(API_KEY)} and {_escaped(API_KEY.upper())}"'
    body = (
        '{"id": "gen-1", "model": "' + _escaped(API_KEY.lower()) + '", "choices": [{"finish_reason": "stop", '
        '"message": {"role": "assistant", "content": ' + content + ', "reasoning": "' + _escaped(API_KEY) + '"}}], '
        '"usage": {"prompt_tokens": 9, "completion_tokens": 4}, "debug": {"' + _escaped(API_KEY) + '": 1}}'
    )
    gateway.set_fault("chat", Fault.raw_body(body.encode()), model=MODEL)


def _refuse_quoting_the_key(gateway: FakeGateway) -> None:
    gateway.add_model(ScriptedModel(MODEL, respond=constant_reply("unused")))
    gateway.inject(
        "chat",
        *[Fault.http(401, message=f"key {API_KEY.lower()} is not valid") for _ in range(6)],
        *[Fault.http(500, message=f"upstream said AUTHORIZATION: BEARER {API_KEY.upper()}") for _ in range(20)],
        model=MODEL,
    )


def _scout_environment(gateway: FakeGateway, database: Path) -> dict[str, str]:
    """`scout` on `database` with the real key against `gateway`, logging everything a leak could hide in."""
    return bot_environment(
        discord_token="unused-token",
        openrouter_api_key=API_KEY,
        openrouter_base_url=gateway.base_url,
        database_path=database,
        log_level="DEBUG",
    )


@pytest.mark.parametrize(
    "reflect",
    [_answer_all_shapes, _answer_json_escaped, _refuse_quoting_the_key],
    ids=["answers in six shapes", "JSON-escaped answer", "error replies"],
)
async def test_scout_probe_never_prints_or_stores_a_reflected_key(
    tmp_path: Path, reflect: Callable[[FakeGateway], None]
):
    database = tmp_path / "db" / "scout.db"
    async with FakeGateway(api_key=API_KEY) as gateway:
        gateway.set_catalogue([ECHO_LISTING])  # a listed model: its prices bound what the probe may cost
        reflect(gateway)
        environment = _scout_environment(gateway, database)
        run = await run_scout("probe", MODEL, "--json", environment=environment, workdir=tmp_path / "cwd")
        assert gateway.requests_to("chat", model=MODEL)
    assert_key_absent("scout probe's output", run.stdout + run.stderr)
    assert_database_clean(database)


async def test_scout_scan_never_stores_a_key_reflected_in_the_catalogue(tmp_path: Path):
    database = tmp_path / "db" / "scout.db"
    listing = {
        "id": "acme/reflector",
        "name": f"Reflector {API_KEY.lower()}",
        "description": f"Built for {API_KEY.upper()} and {API_KEY[:20]}",
        "pricing": {"prompt": "0.000001", "completion": "0.000001"},
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
    }
    escaped = (
        '{"id": "acme/escaped", "name": "Escaped", "description": "key ' + _escaped(API_KEY.lower()) + '", '
        '"pricing": {"' + _escaped(API_KEY) + '": "0.1"}}'
    )
    entries = ", ".join([*(json.dumps(entry) for entry in [*ORDINARY_MODELS, listing]), escaped])
    async with FakeGateway(api_key=API_KEY) as gateway:
        gateway.set_catalogue_body(('{"data": [' + entries + "]}").encode())
        environment = _scout_environment(gateway, database)
        run = await run_scout("scan", "--json", environment=environment, workdir=tmp_path / "cwd")
    assert run.returncode == 0, run.stderr
    async with await Store.open(database) as store:
        reflector = await store.catalogue.model("acme/reflector")
        escaped_listing = await store.catalogue.model("acme/escaped")
    assert reflector is not None and reflector.name == "Reflector ***"
    assert escaped_listing is not None and escaped_listing.raw["description"] == "key ***"
    assert_key_absent("scout scan's output", run.stdout + run.stderr)
    assert_database_clean(database)
