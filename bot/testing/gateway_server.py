"""A fake OpenRouter gateway: a real aiohttp app on 127.0.0.1 with scripted models and faults.

    async with FakeGateway() as gw:
        gw.set_catalogue([{"id": "acme/a"}])
        gw.add_model(ScriptedModel("acme/a", respond=constant_reply("Hi."), tokenizer=toy_bpe))
        gw.inject("chat", Fault.http(503))          # the next chat request fails once
        client = GatewayClient(gw.base_url, "sk-test")

Tests talk to it over real HTTP so the client's retries, limits and parsing run for real. Faults
are queued (consumed one per request) or persistent (until cleared); "down" fails everything.
Every request is recorded so tests can count calls per model and check headers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

MIB = 1024 * 1024
API_PREFIX = "/api/v1"
SHARED_CATALOGUE_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "catalogue"
SNAPSHOT_2025_12_18 = "openrouter-models-2025-12-18.json"
SNAPSHOT_2026_06_07 = "openrouter-models-2026-06-07.json"

Route = Literal["models", "chat"]
FaultKind = Literal[
    "status", "error_in_body", "hang", "truncated_json", "garbage", "oversized", "bad_shape", "reset", "body"
]
TokenizerRule = Callable[[str], int]
Responder = Callable[[list[dict[str, Any]]], str]


# --- tokenizer rules ---------------------------------------------------------------------------
# Each rule stands in for a tokenizer family. They agree on plain English often enough to be
# confusable and disagree on digit runs, CJK, emoji, code and repeated punctuation, which is what
# the tokenizer signal probes for.


def whitespace_words(text: str) -> int:
    """One token per whitespace-separated word: blind to punctuation, digits and CJK runs."""
    return len(text.split())


def chars_per_4(text: str) -> int:
    """One token per four code points, spaces included: the classic rough estimate."""
    return math.ceil(len(text) / 4)


_WORD_OR_SYMBOL = re.compile(r"\w+|[^\w\s]")


def chars_per_3_punct(text: str) -> int:
    """Every punctuation mark or symbol (emoji included) is a token; word runs cost one per three."""
    return sum(
        math.ceil(len(piece) / 3) if piece[0].isalnum() or piece[0] == "_" else 1
        for piece in _WORD_OR_SYMBOL.findall(text)
    )


_TOY_BPE = re.compile(
    r"""
    (?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])   # one token per CJK/kana/hangul char
    |(?P<digit>\d)                                                    # digits split one by one
    |(?P<word>[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[^\W\d_]+)                 # CamelCase pieces
    |(?P<punct>(?P<mark>[!-/:-@\[-`{-~])(?P=mark)*)                   # a run of one ASCII mark
    |(?P<space>\s{2,}|\n)                                             # indentation and newlines
    |(?P<other>\S)                                                    # anything else: byte fallback
    """,
    re.VERBOSE,
)


def toy_bpe(text: str) -> int:
    """A BPE-like rule: CamelCase pieces of up to six letters, single digits, one token per CJK
    character, runs of one punctuation mark in eights, and UTF-8 byte fallback for emoji."""
    tokens = 0
    for match in _TOY_BPE.finditer(text):
        kind, piece = match.lastgroup, match.group()
        if kind == "word":
            tokens += math.ceil(len(piece) / 6)
        elif kind == "punct":
            tokens += math.ceil(len(piece) / 8)
        elif kind == "other":
            tokens += len(piece.encode("utf-8"))
        else:
            tokens += 1
    return tokens


TOKENIZER_RULES: dict[str, TokenizerRule] = {
    "whitespace_words": whitespace_words,
    "chars_per_4": chars_per_4,
    "chars_per_3_punct": chars_per_3_punct,
    "toy_bpe": toy_bpe,
}


def constant_reply(text: str) -> Responder:
    """A responder that always says `text`, whatever it is asked."""
    return lambda messages: text


# --- models and faults -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedUsage:
    """What a real gateway reported for one request (a corpus keeps it): prompt tokens and the provider."""

    prompt_tokens: int | None
    provider: str | None = None


@dataclass
class ScriptedModel:
    """A chat model the fake can serve.

    `respond` is its style (messages -> reply text). `tokenizer` counts tokens for `usage` and for
    honouring `max_tokens`; each message also costs `per_message_overhead` tokens, like a chat
    template. `recorded_usage`, when given, replays real gateway usage instead: the prompt count and
    provider recorded for those messages, and no prompt count at all where nothing was recorded.
    `served_as` is the `model` echoed in replies (defaults to `id`). `reasoning_only` puts the reply in
    `message.reasoning` and leaves `content` empty (a thinking model that ran out of budget); `empty`
    answers with nothing at all. `latency_s` is awaited, so calls overlap.
    """

    id: str
    respond: Responder
    tokenizer: TokenizerRule = whitespace_words
    per_message_overhead: int = 4
    latency_s: float = 0.0
    reasoning_only: bool = False
    empty: bool = False
    served_as: str | None = None
    recorded_usage: Callable[[list[dict[str, Any]]], RecordedUsage | None] | None = None
    prompt_price: float = 0.0
    completion_price: float = 0.0
    request_price: float = 0.0
    reported_completion_tokens: int | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """What the request costs at this model's prices, as the gateway reports it in `usage.cost`."""
        return self.request_price + prompt_tokens * self.prompt_price + completion_tokens * self.completion_price

    def prompt_tokens(self, messages: list[dict[str, Any]]) -> int:
        return sum(self.tokenizer(_message_text(message)) + self.per_message_overhead for message in messages)

    def truncate(self, text: str, max_tokens: int | None) -> tuple[str, bool]:
        """The longest prefix of `text` within `max_tokens` (by binary search on the count)."""
        if max_tokens is None or self.tokenizer(text) <= max_tokens:
            return text, False
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.tokenizer(text[:middle]) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        return text[:low], True


@dataclass(frozen=True)
class Fault:
    """One way for a request to go wrong; build it with the class methods."""

    kind: FaultKind
    status: int = 500
    message: str | None = None
    retry_after: str | None = None
    seconds: float = 30.0
    size_bytes: int = 64 * MIB
    body: bytes = b""

    @classmethod
    def http(cls, status: int, retry_after: float | str | None = None, message: str | None = None) -> Fault:
        """An OpenRouter-style JSON error with this status (and a Retry-After header if given)."""
        header = None if retry_after is None else str(retry_after)
        return cls("status", status=status, message=message, retry_after=header)

    @classmethod
    def error_in_body(cls, code: int = 502, message: str = "Upstream provider error") -> Fault:
        """HTTP 200 carrying `{"error": {...}}`, as OpenRouter does when the upstream provider fails."""
        return cls("error_in_body", status=code, message=message)

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = None) -> Fault:
        return cls.http(429, retry_after)

    @classmethod
    def payment_required(cls) -> Fault:
        return cls.http(402)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        """Wait `seconds` before answering normally; longer than the client's timeout is a hang."""
        return cls("hang", seconds=seconds)

    @classmethod
    def truncated_json(cls) -> Fault:
        """A complete HTTP 200 whose JSON body stops halfway."""
        return cls("truncated_json")

    @classmethod
    def garbage(cls) -> Fault:
        """A 200 whose body is an HTML error page, not JSON."""
        return cls("garbage")

    @classmethod
    def oversized(cls, size_bytes: int = 64 * MIB) -> Fault:
        """A chunked 200 streaming `size_bytes` of JSON-looking bytes, with no Content-Length."""
        return cls("oversized", size_bytes=size_bytes)

    @classmethod
    def bad_shape(cls) -> Fault:
        """Valid JSON in the wrong shape: `{"data": "oops"}` or `{"choices": "oops"}`."""
        return cls("bad_shape")

    @classmethod
    def raw_body(cls, body: bytes) -> Fault:
        """A 200 carrying exactly these bytes as JSON: for replies `json.dumps` cannot produce (NaN, deep nesting)."""
        return cls("body", body=body)

    @classmethod
    def reset(cls) -> Fault:
        """Drop the connection without answering."""
        return cls("reset")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it; `headers` look up case-insensitively, `time` is monotonic."""

    method: str
    path: str
    route: Route | None
    headers: Mapping[str, str]
    json: Any
    model: str | None
    time: float


# --- shared catalogue snapshots ----------------------------------------------------------------


def load_snapshot(name: str) -> dict[str, Any]:
    """A real catalogue response from the shared data beside the repo; FileNotFoundError if absent."""
    return json.loads((SHARED_CATALOGUE_DIR / name).read_text(encoding="utf-8"))


# --- the server --------------------------------------------------------------------------------


class FakeGateway:
    """The fake gateway; `async with FakeGateway() as gw:` starts it and exposes `gw.base_url`.

    Pass `api_key` to make it demand `Authorization: Bearer <api_key>` (401 otherwise).
    """

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.oversized_bytes_sent: list[int] = []
        self.peak_chat_concurrency = 0
        self._models: dict[str, ScriptedModel] = {}
        self._catalogue_bodies: list[bytes] = [b'{"data": []}']
        self._catalogue_served = 0
        self._queued: dict[tuple[Route, str | None], deque[Fault]] = {}
        self._persistent: dict[tuple[Route, str | None], Fault] = {}
        self._down: Fault | None = None
        self._chat_in_flight = 0
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._releases: dict[str | None, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeGateway:
        app = web.Application()
        app.router.add_get(f"{API_PREFIX}/models", self._handle_models)
        app.router.add_post(f"{API_PREFIX}/chat/completions", self._handle_chat)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # handler_cancellation stops a hanging or streaming handler as soon as the client leaves.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}{API_PREFIX}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # catalogue

    def set_catalogue(self, payload_or_entries: dict[str, Any] | list[Any]) -> None:
        """Serve this catalogue from now on: a full payload, or a list of entries to wrap in `data`."""
        self.replay([payload_or_entries])

    def replay(self, payloads: list[dict[str, Any] | list[Any]]) -> None:
        """Serve these catalogues one per successful /models request, then keep serving the last."""
        if not payloads:
            raise ValueError("replay needs at least one catalogue")
        self._catalogue_bodies = [
            json.dumps({"data": item} if isinstance(item, list) else item).encode() for item in payloads
        ]
        self._catalogue_served = 0

    def set_catalogue_body(self, body: bytes) -> None:
        """Serve exactly these bytes as the catalogue: for JSON `json.dumps` cannot write (NaN, 100,000 levels deep)."""
        self._catalogue_bodies = [body]
        self._catalogue_served = 0

    # models

    def add_model(self, model: ScriptedModel) -> None:
        self._models[model.id] = model

    # faults

    def inject(self, route: Route, *faults: Fault, model: str | None = None) -> None:
        """Queue faults for the next requests on `route` (for one chat `model` if given)."""
        self._queued.setdefault((route, model), deque()).extend(faults)

    def set_fault(self, route: Route, fault: Fault | None, *, model: str | None = None) -> None:
        """Fail every request on `route` (or one chat `model`) with `fault` until set to None."""
        if fault is None:
            self._persistent.pop((route, model), None)
        else:
            self._persistent[(route, model)] = fault

    def go_down(self, fault: Fault | None = None) -> None:
        """Fail every request on every route (HTTP 503 unless told otherwise) until `come_back()`."""
        self._down = fault or Fault.http(503)

    def come_back(self) -> None:
        self._down = None

    def release(self, model: str | None = None) -> None:
        """Stop `model`'s persistent faults and let its requests hanging now answer normally (all models' when
        `model` is None), as a slow upstream that recovers; a test can hold a step back and let it go at will."""
        for route, key in list(self._persistent):
            if model is None or key == model:
                del self._persistent[(route, key)]
        for key, event in list(self._releases.items()):
            if model is None or key == model:
                event.set()
                del self._releases[key]

    def clear_faults(self) -> None:
        self._queued.clear()
        self._persistent.clear()
        self._down = None

    # recorded requests

    def requests_to(self, route: Route, *, model: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route and (model is None or r.model == model)]

    # handlers

    async def _handle_models(self, request: web.Request) -> web.StreamResponse:
        await self._record(request, "models")
        if (failed := await self._apply_fault(request, "models", None)) is not None:
            return failed
        if (denied := self._deny_unauthorised(request)) is not None:
            return denied
        body = self._current_catalogue()
        self._catalogue_served += 1
        return web.Response(body=body, content_type="application/json")

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request, "chat")
        if (failed := await self._apply_fault(request, "chat", recorded.model)) is not None:
            return failed
        if (denied := self._deny_unauthorised(request)) is not None:
            return denied
        body = recorded.json
        if recorded.model is None or not isinstance(body.get("messages"), list):
            return _error_response(400, "Request body must be a JSON object with 'model' and 'messages'")
        model = self._models.get(recorded.model)
        if model is None:
            return _error_response(404, f"{recorded.model} is not a valid model ID")
        self._chat_in_flight += 1
        self.peak_chat_concurrency = max(self.peak_chat_concurrency, self._chat_in_flight)
        try:
            await asyncio.sleep(model.latency_s)
        finally:
            self._chat_in_flight -= 1
        max_tokens = body.get("max_tokens")
        max_tokens = max_tokens if isinstance(max_tokens, int) else None
        completion = self._completion(model, body["messages"], max_tokens)
        return web.json_response(completion)

    def _current_catalogue(self) -> bytes:
        return self._catalogue_bodies[min(self._catalogue_served, len(self._catalogue_bodies) - 1)]

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        await self._record(request, None)
        return _error_response(404, f"Not found: {request.method} {request.path}")

    def _completion(
        self, model: ScriptedModel, messages: list[dict[str, Any]], max_tokens: int | None
    ) -> dict[str, Any]:
        reply = "" if model.empty else model.respond(messages)
        text, truncated = model.truncate(reply, max_tokens)
        finish_reason = "length" if truncated else "stop"
        completion_tokens = model.tokenizer(text)
        if model.reported_completion_tokens is not None:
            completion_tokens = model.reported_completion_tokens
        prompt_tokens: int | None = model.prompt_tokens(messages)
        provider = "FakeProvider"
        if model.recorded_usage is not None:
            recorded = model.recorded_usage(messages)
            prompt_tokens = recorded.prompt_tokens if recorded else None
            provider = (recorded.provider if recorded else None) or provider
        usage: dict[str, Any] = {
            "completion_tokens": completion_tokens,
            "cost": model.cost(prompt_tokens or 0, completion_tokens),
        }
        if prompt_tokens is not None:
            usage.update(prompt_tokens=prompt_tokens, total_tokens=prompt_tokens + completion_tokens)
        return {
            "id": f"gen-{next(self._ids)}",
            "provider": provider,
            "model": model.served_as or model.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "choices": [
                {
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                    "native_finish_reason": finish_reason,
                    "message": {
                        "role": "assistant",
                        "content": "" if model.reasoning_only else text,
                        "refusal": None,
                        "reasoning": text if model.reasoning_only else None,
                    },
                }
            ],
            "usage": usage,
        }

    async def _record(self, request: web.Request, route: Route | None) -> RecordedRequest:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        model = body.get("model") if route == "chat" and isinstance(body, dict) else None
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            route=route,
            headers=request.headers.copy(),
            json=body,
            model=model if isinstance(model, str) else None,
            time=time.monotonic(),
        )
        self.requests.append(recorded)
        return recorded

    def _deny_unauthorised(self, request: web.Request) -> web.Response | None:
        if self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return _error_response(401, "No auth credentials found")

    def _next_fault(self, route: Route, model: str | None) -> Fault | None:
        """Down beats queued beats persistent; a model's own faults beat the route's."""
        if self._down is not None:
            return self._down
        keys = [(route, model), (route, None)] if model is not None else [(route, None)]
        for key in keys:
            queue = self._queued.get(key)
            if queue:
                return queue.popleft()
        for key in keys:
            if key in self._persistent:
                return self._persistent[key]
        return None

    async def _apply_fault(self, request: web.Request, route: Route, model: str | None) -> web.StreamResponse | None:
        """The failed response for this request, or None to answer normally (after any hang)."""
        fault = self._next_fault(route, model)
        if fault is None:
            return None
        if fault.kind == "hang":
            released = self._releases.setdefault(model, asyncio.Event())
            waits = [asyncio.ensure_future(self._closing.wait()), asyncio.ensure_future(released.wait())]
            try:
                await asyncio.wait(waits, timeout=fault.seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
            return None
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            return _error_response(fault.status, fault.message or f"Injected HTTP {fault.status}", headers)
        if fault.kind == "error_in_body":
            return web.json_response({"error": {"code": fault.status, "message": fault.message}})
        if fault.kind == "truncated_json":
            whole = self._current_catalogue() if route == "models" else _TRUNCATABLE_CHAT
            return web.Response(body=whole[: max(1, len(whole) // 2)], content_type="application/json")
        if fault.kind == "garbage":
            return web.Response(text=_GARBAGE_PAGE, content_type="text/html")
        if fault.kind == "bad_shape":
            wrong = {"data": "oops"} if route == "models" else {"id": "gen-0", "choices": "oops"}
            return web.json_response(wrong)
        if fault.kind == "body":
            return web.Response(body=fault.body, content_type="application/json")
        if fault.kind == "oversized":
            return await self._stream_oversized(request, fault.size_bytes)
        if request.transport is not None:
            request.transport.abort()
        return web.Response()

    async def _stream_oversized(self, request: web.Request, size_bytes: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b'{"id": "padding/model", "name": "Padding"}, ' * 1500
        sent = 0
        try:
            await response.write(b'{"data": [')
            while sent < size_bytes:
                piece = chunk[: size_bytes - sent]
                await response.write(piece)
                sent += len(piece)
            await response.write(b"{}]}")
            await response.write_eof()
        except ConnectionError:
            pass
        finally:
            self.oversized_bytes_sent.append(sent)
        return response


_GARBAGE_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"
_TRUNCATABLE_CHAT = json.dumps(
    {"id": "gen-0", "model": "x", "choices": [{"message": {"role": "assistant", "content": "Hello there"}}]}
).encode()


def _error_response(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": status, "message": message}}, status=status, headers=headers)


def _message_text(message: dict[str, Any]) -> str:
    """The text of a chat message: a string, or the `text` parts of a content list."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""
