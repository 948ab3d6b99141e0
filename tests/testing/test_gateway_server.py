"""The fake gateway itself, driven with a bare aiohttp session so its behaviour is checked
independently of the client under test."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp
import pytest

from bot.testing.gateway_server import (
    TOKENIZER_RULES,
    FakeGateway,
    Fault,
    ScriptedModel,
    chars_per_3_punct,
    chars_per_4,
    constant_reply,
    toy_bpe,
    whitespace_words,
)

# Strings where real tokenizer families disagree; every rule must land on its own count.
CRAFTED = {
    "digit run": "12345678901234567890",
    "cjk": "今天天气很好我们去公园散步吧",
    "emoji": "😀😃😄😁😆",
    "code": "def fooBar(x): return x**2 + 1",
    "repeated punctuation": "!!!!!!!!!!!!!!!!",
    "mixed punctuation": "?!?!... ---- ====",
    "camel case": "parseHTTPResponseCode(statusCode=404)",
    "indented code": "    if x:\n        return [1, 2, 3]\n",
}


@pytest.fixture
async def gw():
    async with FakeGateway() as gateway:
        yield gateway


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def chat(http: aiohttp.ClientSession, gw: FakeGateway, model: str, **body: object) -> tuple[int, dict]:
    payload = {"model": model, "messages": [{"role": "user", "content": "hello there"}], **body}
    async with http.post(f"{gw.base_url}/chat/completions", json=payload) as response:
        return response.status, await response.json()


async def fetch_ids(http: aiohttp.ClientSession, gw: FakeGateway) -> list[str]:
    async with http.get(f"{gw.base_url}/models") as response:
        return [entry["id"] for entry in (await response.json())["data"]]


# --- tokenizer rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", CRAFTED.values(), ids=CRAFTED.keys())
def test_tokenizer_rules_all_disagree_on_unusual_text(text):
    counts = {name: rule(text) for name, rule in TOKENIZER_RULES.items()}
    assert len(set(counts.values())) == len(counts), counts


def test_tokenizer_rules_count_known_cases():
    assert whitespace_words("fooBar(x): return") == 2
    assert chars_per_4("abcdefghi") == 3
    assert chars_per_3_punct("abcd!!") == 4
    assert toy_bpe("fooBar 12 你好 😀 !!!!!!!!!") == 2 + 2 + 2 + 4 + 2


@pytest.mark.parametrize("rule", TOKENIZER_RULES.values(), ids=TOKENIZER_RULES.keys())
def test_tokenizer_rules_are_zero_on_empty_and_grow_with_text(rule):
    assert rule("") == 0
    assert 0 < rule("Hello world") < rule("Hello world, hello again world")


# --- catalogue -----------------------------------------------------------------------------------


async def test_replay_serves_catalogues_in_order_then_stays_on_the_last(gw, http):
    gw.replay([[{"id": "a/1"}], {"data": [{"id": "a/1"}, {"id": "b/2"}]}, [{"id": "c/3"}]])
    seen = [await fetch_ids(http, gw) for _ in range(5)]
    assert seen == [["a/1"], ["a/1", "b/2"], ["c/3"], ["c/3"], ["c/3"]]


async def test_a_faulted_request_does_not_advance_the_replay(gw, http):
    gw.replay([[{"id": "a/1"}], [{"id": "b/2"}]])
    gw.inject("models", Fault.http(500))
    async with http.get(f"{gw.base_url}/models") as response:
        assert response.status == 500
    assert await fetch_ids(http, gw) == ["a/1"]


async def test_go_down_fails_every_route_until_it_comes_back(gw, http):
    gw.add_model(ScriptedModel("acme/a", respond=constant_reply("ok")))
    gw.go_down()
    async with http.get(f"{gw.base_url}/models") as response:
        assert response.status == 503
    assert (await chat(http, gw, "acme/a"))[0] == 503
    gw.come_back()
    assert await fetch_ids(http, gw) == []
    assert (await chat(http, gw, "acme/a"))[0] == 200


async def test_queued_faults_are_consumed_and_model_faults_stay_with_their_model(gw, http):
    for model_id in ("acme/a", "acme/b"):
        gw.add_model(ScriptedModel(model_id, respond=constant_reply("ok")))
    gw.inject("chat", Fault.http(502), Fault.payment_required(), model="acme/a")
    gw.set_fault("chat", Fault.rate_limited(retry_after=5), model="acme/b")
    statuses_a = [(await chat(http, gw, "acme/a"))[0] for _ in range(3)]
    statuses_b = [(await chat(http, gw, "acme/b"))[0] for _ in range(2)]
    assert statuses_a == [502, 402, 200]
    assert statuses_b == [429, 429]
    gw.set_fault("chat", None, model="acme/b")
    assert (await chat(http, gw, "acme/b"))[0] == 200


async def test_rate_limit_fault_sends_retry_after(gw, http):
    gw.inject("models", Fault.rate_limited(retry_after=0.5))
    async with http.get(f"{gw.base_url}/models") as response:
        assert (response.status, response.headers["Retry-After"]) == (429, "0.5")
        assert (await response.json())["error"]["code"] == 429


# --- chat ----------------------------------------------------------------------------------------


async def test_usage_follows_the_model_tokenizer_and_template_overhead(gw, http):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Count 12345 今天"}]
    model = ScriptedModel("acme/a", respond=constant_reply("Sure: 12345!"), tokenizer=toy_bpe, per_message_overhead=3)
    gw.add_model(model)
    status, body = await chat(http, gw, "acme/a", messages=messages, max_tokens=100)
    assert status == 200
    assert body["usage"]["prompt_tokens"] == toy_bpe("Be brief.") + toy_bpe("Count 12345 今天") + 2 * 3
    assert body["usage"]["completion_tokens"] == toy_bpe("Sure: 12345!")
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Sure: 12345!",
        "refusal": None,
        "reasoning": None,
    }


@pytest.mark.parametrize("rule", [whitespace_words, chars_per_4, chars_per_3_punct, toy_bpe])
async def test_max_tokens_truncates_the_reply_to_the_longest_prefix_that_fits(gw, http, rule):
    reply = "Model Scout watches 12345 catalogues, every day!!! 今天 😀"
    gw.add_model(ScriptedModel("acme/a", respond=constant_reply(reply), tokenizer=rule))
    status, body = await chat(http, gw, "acme/a", max_tokens=3)
    text = body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] == "length"
    assert reply.startswith(text) and len(text) < len(reply)
    assert rule(text) <= 3 < rule(reply[: len(text) + 1])
    assert body["usage"]["completion_tokens"] == rule(text)


async def test_unknown_model_gets_an_openrouter_style_404(gw, http):
    status, body = await chat(http, gw, "nobody/nothing")
    assert status == 404
    assert body == {"error": {"code": 404, "message": "nobody/nothing is not a valid model ID"}}


async def test_api_key_is_enforced_when_configured(http):
    async with FakeGateway(api_key="sk-good") as gateway:
        async with http.get(f"{gateway.base_url}/models") as response:
            assert response.status == 401
        headers = {"Authorization": "Bearer sk-good"}
        async with http.get(f"{gateway.base_url}/models", headers=headers) as response:
            assert response.status == 200


async def test_model_latency_lets_concurrent_requests_overlap(gw, http):
    gw.add_model(ScriptedModel("acme/slow", respond=constant_reply("ok"), latency_s=0.2))
    results = await asyncio.gather(*(chat(http, gw, "acme/slow") for _ in range(3)))
    assert [status for status, _ in results] == [200, 200, 200]
    assert gw.peak_chat_concurrency == 3


# --- recording -----------------------------------------------------------------------------------


async def test_every_request_is_recorded_with_headers_body_and_model(gw, http):
    for model_id in ("acme/a", "acme/b"):
        gw.add_model(ScriptedModel(model_id, respond=constant_reply("ok")))
    await fetch_ids(http, gw)
    for model_id in ("acme/a", "acme/b", "acme/a"):
        await chat(http, gw, model_id, max_tokens=5)
    async with http.get(f"{gw.base_url}/elsewhere", headers={"X-Title": "probe"}) as response:
        assert response.status == 404

    assert [(r.method, r.path, r.route) for r in gw.requests] == [
        ("GET", "/api/v1/models", "models"),
        *[("POST", "/api/v1/chat/completions", "chat")] * 3,
        ("GET", "/api/v1/elsewhere", None),
    ]
    assert len(gw.requests_to("chat", model="acme/a")) == 2
    assert len(gw.requests_to("chat", model="acme/b")) == 1
    assert gw.requests_to("chat")[0].json["max_tokens"] == 5
    assert gw.requests[-1].headers["x-title"] == "probe"
    assert all(earlier.time <= later.time for earlier, later in itertools.pairwise(gw.requests))
