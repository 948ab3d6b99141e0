"""The gateway client against the fake gateway over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import traceback
from typing import get_args

import aiohttp
import pytest

from bot.gateway import ChatCompletion, ErrorKind, GatewayClient, GatewayError
from bot.settings import load_settings
from bot.testing.gateway_server import (
    MIB,
    SNAPSHOT_2025_12_18,
    SNAPSHOT_2026_06_07,
    FakeGateway,
    Fault,
    ScriptedModel,
    constant_reply,
    toy_bpe,
    whitespace_words,
)
from tests.support.shared_data import snapshot_or_skip

API_KEY = "sk-or-v1-LEAKCANARY0123456789abcdef"
FAST = {
    "timeout_s": 2.0,
    "max_attempts": 3,
    "chat_max_attempts": 2,
    "backoff_base_s": 0.01,
    "backoff_cap_s": 0.02,
    "retry_after_cap_s": 1.0,
}
SYNTHETIC_CATALOGUE = {
    "data": [
        {"id": "acme/alpha", "name": "Acme: Alpha", "pricing": {"prompt": "0", "completion": "0"}},
        {"id": "openrouter/owl-alpha", "name": "Owl Alpha", "context_length": 1048576, "new_field": [1, 2]},
    ]
}
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Who made you? Answer in one line."},
]


@pytest.fixture
async def gw():
    async with FakeGateway() as gateway:
        yield gateway


def client_for(gateway: FakeGateway, **overrides: object) -> GatewayClient:
    return GatewayClient(gateway.base_url, API_KEY, **{**FAST, **overrides})


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


async def expect_error(call) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await call
    return caught.value


# --- catalogue -----------------------------------------------------------------------------------


@pytest.mark.parametrize("snapshot", [SNAPSHOT_2025_12_18, SNAPSHOT_2026_06_07])
async def test_fetch_models_returns_real_snapshot_entries_untouched(gw, snapshot):
    payload = snapshot_or_skip(snapshot)
    gw.set_catalogue(payload)
    async with client_for(gw) as client:
        entries = await client.fetch_models()
    assert list(entries) == payload["data"]
    assert len(entries) > 300


async def test_fetch_models_keeps_unknown_fields_and_sends_identifying_headers(gw):
    gw.set_catalogue(SYNTHETIC_CATALOGUE)
    async with client_for(gw) as client:
        entries = await client.fetch_models()
    assert list(entries) == SYNTHETIC_CATALOGUE["data"]
    (request,) = gw.requests_to("models")
    assert request.method == "GET"
    assert request.path == "/api/v1/models"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["X-Title"] == "Model Scout"
    assert "HTTP-Referer" not in request.headers


async def test_no_authorization_header_without_a_key(gw):
    async with GatewayClient(gw.base_url, **FAST) as client:
        await client.fetch_models()
    assert "Authorization" not in gw.requests[0].headers


async def test_a_client_from_the_settings_uses_their_url_and_key_and_keeps_the_key_out_of_sight(gw):
    settings = load_settings(_env_file=None, openrouter_base_url=gw.base_url, openrouter_api_key=API_KEY)
    async with GatewayClient.from_settings(settings) as client:
        await client.fetch_models()
        assert client.base_url == gw.base_url and API_KEY not in repr(client)
    async with GatewayClient.from_settings(load_settings(_env_file=None, openrouter_base_url=gw.base_url)) as keyless:
        await keyless.fetch_models()
    assert [request.headers.get("Authorization") for request in gw.requests] == [f"Bearer {API_KEY}", None]


async def test_wrongly_typed_entries_come_back_raw_and_non_objects_are_dropped(gw, caplog):
    odd_entry = {"id": 42, "pricing": "free", "architecture": None}
    gw.set_catalogue([odd_entry, "junk", 7, None, ["x"], {"id": "acme/ok"}])
    async with client_for(gw) as client:
        with caplog.at_level(logging.WARNING, logger="bot.gateway"):
            entries = await client.fetch_models()
    assert list(entries) == [odd_entry, {"id": "acme/ok"}]
    assert "dropped 4 non-object item(s) at index 1, 2, 3, 4" in caplog.text


@pytest.mark.parametrize(
    ("serve", "expected_detail"),
    [
        (lambda gw: gw.inject("models", Fault.bad_shape()), "'data' as str"),
        (lambda gw: gw.set_catalogue({"models": []}), "an object with keys [models]"),
        (lambda gw: gw.set_catalogue({"data": {"id": "x"}}), "'data' as an object"),
    ],
)
async def test_catalogue_without_a_data_list_is_a_bad_response(gw, serve, expected_detail):
    serve(gw)
    async with client_for(gw) as client:
        error = await expect_error(client.fetch_models())
    assert error.kind == "bad_response"
    assert expected_detail in str(error)
    assert len(gw.requests) == 1


# --- retries -------------------------------------------------------------------------------------


async def test_server_error_then_success_is_retried(gw):
    gw.set_catalogue(SYNTHETIC_CATALOGUE)
    gw.inject("models", Fault.http(500), Fault.http(502))
    async with client_for(gw) as client:
        entries = await client.fetch_models()
    assert list(entries) == SYNTHETIC_CATALOGUE["data"]
    assert len(gw.requests_to("models")) == 3


async def test_persistent_server_error_gives_up_after_max_attempts(gw):
    gw.set_fault("models", Fault.http(503))
    async with client_for(gw, max_attempts=4) as client:
        error = await expect_error(client.fetch_models())
    assert (error.kind, error.status, error.attempts) == ("server_error", 503, 4)
    assert str(error) == f"GET {gw.base_url}/models failed: HTTP 503 (Injected HTTP 503) after 4 attempts"
    assert len(gw.requests) == 4


async def test_connection_reset_is_retried(gw):
    gw.inject("models", Fault.reset())
    async with client_for(gw) as client:
        assert list(await client.fetch_models()) == []
    assert len(gw.requests) == 2


async def test_rate_limit_waits_at_least_retry_after(gw):
    gw.inject("models", Fault.rate_limited(retry_after=0.2))
    async with client_for(gw, backoff_cap_s=0.0) as client:
        await client.fetch_models()
    first, second = gw.requests
    assert second.time - first.time >= 0.19


async def test_retry_after_over_the_cap_gives_up_at_once_with_the_wait(gw):
    gw.set_fault("models", Fault.rate_limited(retry_after=30))
    async with client_for(gw, retry_after_cap_s=1.0) as client:
        error = await expect_error(client.fetch_models())
    assert (error.kind, error.status, error.retry_after, error.attempts) == ("rate_limited", 429, 30.0, 1)
    assert "over the 1s cap" in str(error)
    assert len(gw.requests) == 1


async def test_retry_after_as_http_date_is_understood(gw):
    gw.set_fault("models", Fault.rate_limited(retry_after="Fri, 01 Jan 2100 00:00:00 GMT"))
    async with client_for(gw) as client:
        error = await expect_error(client.fetch_models())
    assert error.kind == "rate_limited"
    assert error.retry_after is not None and error.retry_after > 365 * 24 * 3600
    assert len(gw.requests) == 1


async def test_rate_limit_without_retry_after_backs_off_then_reports(gw):
    gw.set_fault("models", Fault.rate_limited())
    async with client_for(gw) as client:
        error = await expect_error(client.fetch_models())
    assert (error.kind, error.retry_after, error.attempts) == ("rate_limited", None, 3)


async def test_hang_times_out_after_every_attempt(gw):
    gw.set_fault("models", Fault.hang(seconds=30))
    async with client_for(gw, timeout_s=0.2, max_attempts=2) as client:
        error = await expect_error(client.fetch_models())
    assert (error.kind, error.status, error.attempts) == ("timeout", None, 2)
    assert "within 0.2s" in str(error)
    assert len(gw.requests) == 2


async def test_payment_required_is_not_retried(gw):
    gw.set_fault("models", Fault.payment_required())
    async with client_for(gw) as client:
        error = await expect_error(client.fetch_models())
    assert (error.kind, error.status, error.attempts) == ("payment_required", 402, 1)
    assert len(gw.requests) == 1


async def test_connection_refused_is_a_network_error_naming_the_url():
    url = closed_port_url()
    async with GatewayClient(url, API_KEY, **FAST) as client:
        error = await expect_error(client.fetch_models())
    assert (error.kind, error.attempts, error.url) == ("network", 3, f"{url}/models")
    assert str(error).startswith(f"GET {url}/models failed: network error")


# --- bodies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.truncated_json(), Fault.garbage()], ids=["truncated", "garbage"])
async def test_unparseable_body_is_a_bad_response_without_retry(gw, fault):
    gw.set_catalogue(SYNTHETIC_CATALOGUE)
    gw.inject("models", fault)
    async with client_for(gw) as client:
        error = await expect_error(client.fetch_models())
    assert error.kind == "bad_response"
    assert "not valid JSON" in str(error)
    assert len(gw.requests) == 1


async def test_streamed_oversized_body_is_cut_off_without_being_read_whole():
    size = 64 * MIB
    async with FakeGateway() as gateway:
        gateway.inject("models", Fault.oversized(size))
        async with client_for(gateway, max_body_bytes=1 * MIB) as client:
            error = await expect_error(client.fetch_models())
    assert (error.kind, error.attempts) == ("too_large", 1)
    (sent,) = gateway.oversized_bytes_sent
    assert sent < size // 2


async def test_declared_oversized_body_is_refused(gw):
    gw.set_catalogue([{"id": f"acme/model-{i}", "description": "x" * 1000} for i in range(2000)])
    async with client_for(gw, max_body_bytes=1 * MIB) as client:
        error = await expect_error(client.fetch_models())
    assert error.kind == "too_large"


# --- chat ----------------------------------------------------------------------------------------


async def test_chat_returns_content_usage_and_served_model(gw):
    model = ScriptedModel(
        "acme/alpha",
        respond=constant_reply("I am Alpha, built by Acme."),
        tokenizer=toy_bpe,
        served_as="acme/alpha-0617",
    )
    gw.add_model(model)
    async with client_for(gw) as client:
        completion = await client.chat("acme/alpha", MESSAGES, max_tokens=64, temperature=0.3, extra={"seed": 7})
    assert isinstance(completion, ChatCompletion)
    assert completion.model == "acme/alpha"
    assert completion.served_model == "acme/alpha-0617"
    assert completion.content == "I am Alpha, built by Acme."
    assert completion.reasoning is None
    assert completion.finish_reason == "stop"
    expected_prompt = sum(toy_bpe(m["content"]) + model.per_message_overhead for m in MESSAGES)
    assert completion.prompt_tokens == expected_prompt
    assert completion.completion_tokens == toy_bpe("I am Alpha, built by Acme.")
    assert completion.latency_s > 0
    assert completion.attempts == 1
    assert completion.raw["choices"][0]["message"]["content"] == completion.content
    (request,) = gw.requests_to("chat", model="acme/alpha")
    assert request.json == {
        "model": "acme/alpha",
        "messages": MESSAGES,
        "max_tokens": 64,
        "temperature": 0.3,
        "seed": 7,
    }
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_chat_reasoning_only_reply_has_empty_content(gw):
    gw.add_model(ScriptedModel("acme/thinker", respond=constant_reply("Let me think."), reasoning_only=True))
    async with client_for(gw) as client:
        completion = await client.chat("acme/thinker", MESSAGES, max_tokens=64)
    assert (completion.content, completion.reasoning) == ("", "Let me think.")
    assert completion.completion_tokens == 3


async def test_chat_empty_reply(gw):
    gw.add_model(ScriptedModel("acme/mute", respond=constant_reply("unused"), empty=True))
    async with client_for(gw) as client:
        completion = await client.chat("acme/mute", MESSAGES, max_tokens=64)
    assert (completion.content, completion.completion_tokens, completion.finish_reason) == ("", 0, "stop")


async def test_chat_max_tokens_truncates_with_finish_reason_length(gw):
    reply = "one two three four five six seven eight nine ten"
    gw.add_model(ScriptedModel("acme/chatty", respond=constant_reply(reply), tokenizer=whitespace_words))
    async with client_for(gw) as client:
        completion = await client.chat("acme/chatty", MESSAGES, max_tokens=4)
    assert completion.finish_reason == "length"
    assert completion.content.split() == ["one", "two", "three", "four"]
    assert completion.completion_tokens == 4


async def test_chat_attempts_are_configurable_per_client_and_per_call(gw):
    gw.add_model(ScriptedModel("acme/alpha", respond=constant_reply("hi")))
    gw.set_fault("chat", Fault.http(503), model="acme/alpha")
    async with client_for(gw, max_attempts=5, chat_max_attempts=2) as client:
        default_error = await expect_error(client.chat("acme/alpha", MESSAGES, max_tokens=8))
        single_error = await expect_error(client.chat("acme/alpha", MESSAGES, max_tokens=8, max_attempts=1))
    assert (default_error.attempts, single_error.attempts) == (2, 1)
    assert len(gw.requests_to("chat", model="acme/alpha")) == 3


async def test_chat_unknown_model_is_a_client_error_with_the_gateway_message(gw):
    async with client_for(gw) as client:
        error = await expect_error(client.chat("nobody/nothing", MESSAGES, max_tokens=8))
    assert (error.kind, error.status, error.attempts) == ("client_error", 404, 1)
    assert "nobody/nothing is not a valid model ID" in str(error)


async def test_chat_error_inside_a_200_body_is_reported_by_its_code(gw):
    gw.add_model(ScriptedModel("acme/alpha", respond=constant_reply("hi")))
    gw.inject("chat", Fault.error_in_body(502, "Provider returned error"))
    async with client_for(gw) as client:
        error = await expect_error(client.chat("acme/alpha", MESSAGES, max_tokens=8))
    assert (error.kind, error.status) == ("server_error", 502)
    assert "Provider returned error" in str(error)


async def test_chat_without_choices_is_a_bad_response(gw):
    gw.add_model(ScriptedModel("acme/alpha", respond=constant_reply("hi")))
    gw.inject("chat", Fault.bad_shape())
    async with client_for(gw) as client:
        error = await expect_error(client.chat("acme/alpha", MESSAGES, max_tokens=8))
    assert error.kind == "bad_response"
    assert "'choices'" in str(error)


async def test_chat_extra_may_not_replace_core_fields(gw):
    async with client_for(gw) as client:
        with pytest.raises(ValueError, match="model"):
            await client.chat("acme/alpha", MESSAGES, max_tokens=8, extra={"model": "other/model"})
    assert gw.requests == []


# --- construction and secrets ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://example.com/api/v1", "openrouter.ai/api/v1", "http:///nohost"])
def test_base_url_must_be_http_with_a_host(url):
    with pytest.raises(ValueError, match="http"):
        GatewayClient(url)


async def test_a_borrowed_session_is_left_open(gw):
    async with aiohttp.ClientSession() as session:
        async with GatewayClient(gw.base_url, session=session, **FAST) as client:
            await client.fetch_models()
        assert not session.closed


async def test_api_key_never_appears_in_logs_errors_or_repr(gw, caplog):
    gw.add_model(ScriptedModel("acme/alpha", respond=constant_reply("hi")))
    gw.set_catalogue(SYNTHETIC_CATALOGUE)
    scenarios = [
        ("models", Fault.http(500, message=f"upstream rejected Bearer {API_KEY}")),
        ("models", Fault.hang(seconds=30)),
        ("models", Fault.rate_limited(retry_after=60)),
        ("models", Fault.payment_required()),
        ("models", Fault.http(401, message=f"Invalid key {API_KEY}")),
        ("models", Fault.garbage()),
        ("models", Fault.oversized(4 * MIB)),
        ("chat", Fault.error_in_body(400, f"bad key {API_KEY}")),
    ]
    errors: list[GatewayError] = []
    caplog.set_level(logging.DEBUG)
    async with client_for(gw, timeout_s=0.2, max_attempts=2, max_body_bytes=1 * MIB) as client:
        for route, fault in scenarios:
            gw.clear_faults()
            gw.set_fault(route, fault)
            if route == "models":
                call = client.fetch_models()
            else:
                call = client.chat("acme/alpha", MESSAGES, max_tokens=8)
            errors.append(await expect_error(call))
        client_repr = repr(client)
    async with GatewayClient(closed_port_url(), API_KEY, **FAST) as offline:
        errors.append(await expect_error(offline.fetch_models()))
        client_repr += repr(offline)

    assert {error.kind for error in errors} == set(get_args(ErrorKind))
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    texts = [caplog.text, client_repr, *(record.getMessage() for record in caplog.records)]
    for error in errors:
        trace = "".join(traceback.format_exception(error))
        texts += [str(error), repr(error), trace, json.dumps(vars(error))]
    leaks = [text for text in texts if API_KEY in text]
    assert leaks == []
    assert sum("***" in str(error) for error in errors) == 3
