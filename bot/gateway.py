"""The OpenRouter HTTP client: the catalogue, chat completions, retries and limits.

Everything that crosses the network to the gateway goes through `GatewayClient`, so the rest of the
core sees either parsed JSON or one `GatewayError` whose `kind` says what to do next (retry later,
stop probing, report). The API key lives only in the Authorization header of outgoing requests: it
is kept in a wrapper whose repr is masked and scrubbed from any text a server or library hands back.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from yarl import URL

from bot.settings import Settings
from bot.untrusted_json import (
    JsonItems,
    UntrustedJsonError,
    clean,
    clean_text,
    decode_list_field,
    describe_shape,
    loads,
)

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "network",
    "timeout",
    "rate_limited",
    "payment_required",
    "server_error",
    "client_error",
    "bad_response",
    "too_large",
]

APP_TITLE = "Model Scout"
USER_AGENT = "ModelScout/0.1"

MIB = 1024 * 1024
# The real catalogue is about 0.5 MB; 32 MiB leaves room to grow while refusing a runaway body.
DEFAULT_CATALOGUE_MAX_BYTES = 32 * MIB
# A chat reply bounded by max_tokens is a few hundred KB at most.
DEFAULT_CHAT_MAX_BYTES = 4 * MIB
# Error bodies are only read for their one-line message.
ERROR_BODY_MAX_BYTES = 64 * 1024
READ_CHUNK_BYTES = 64 * 1024
MAX_DETAIL_CHARS = 200
# A reflected key is recognised by any run of this many of its characters, in any letter case, so an echo
# that is lower-cased, upper-cased, cut short or glued to other text is scrubbed too.
SECRET_WINDOW_CHARS = 16
SCRUB_SLICE_CHARS = 1024 * 1024
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "._~+/=-")
_TOKEN_RUN = re.compile(r"[A-Za-z0-9._~+/=-]+")

# Kinds worth another attempt: the same request may well succeed a moment later.
RETRYABLE_KINDS: frozenset[str] = frozenset({"network", "timeout", "rate_limited", "server_error"})


class GatewayError(Exception):
    """One failed gateway request, after any retries.

    `kind` tells the caller what happened without parsing text; `retry_after` (seconds) is set when
    the server asked us to wait, so a scheduler can come back later instead of hammering it.
    `str()` is one short line naming the method, the URL (never a secret) and the problem.
    """

    def __init__(
        self,
        kind: ErrorKind,
        *,
        method: str,
        url: str,
        detail: str,
        status: int | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.kind: ErrorKind = kind
        self.method = method
        self.url = url
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.attempts = attempts
        suffix = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{method} {url} failed: {detail}{suffix}")


@dataclass(frozen=True)
class ChatCompletion:
    """A parsed chat completion.

    `model` is what we asked for, `served_model` what the gateway says answered (they can differ:
    routers and aliases). `latency_s` covers the successful attempt only, from sending the request
    to having the whole body, so retries do not distort timing signals; `attempts` counts them.
    `cost_usd` is what the gateway says the request cost (OpenRouter's `usage.cost`, in credits, which are
    US dollars), or None when it did not say.
    """

    model: str
    content: str
    reasoning: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float
    served_model: str | None
    attempts: int
    cost_usd: float | None
    raw: dict[str, Any] = field(repr=False)


class _Secret:
    """Holds the API key so that no repr, log or traceback of an object graph can show it."""

    __slots__ = ("_value", "_width", "_windows")

    def __init__(self, value: str) -> None:
        self._value = value
        folded = value.lower()
        self._width = min(SECRET_WINDOW_CHARS, len(folded))
        self._windows = frozenset(folded[start : start + self._width] for start in range(len(folded) - self._width + 1))

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        """Replace every run of key-like characters holding part of the key, whatever its letter case."""
        if not self._appears_in(text):
            return text
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lower-cased: match run by run
            return _TOKEN_RUN.sub(self._scrub_run, text)
        cut = sorted({_run_around(text, found) for window in self._windows for found in _find_all(lowered, window)})
        pieces, done = [], 0
        for start, end in cut:
            if start >= done:
                pieces += [text[done:start], "***"]
                done = end
        return "".join([*pieces, text[done:]])

    def _appears_in(self, text: str) -> bool:
        """Whether any part of the key is in `text`, looked for a slice at a time: a 32 MB body is not copied whole."""
        step = SCRUB_SLICE_CHARS
        for start in range(0, len(text), step):
            piece = text[start : start + step + self._width].lower()
            if any(window in piece for window in self._windows):
                return True
        return False

    def _scrub_run(self, match: re.Match[str]) -> str:
        run = match.group().lower()
        hits = (run[start : start + self._width] in self._windows for start in range(len(run) - self._width + 1))
        return "***" if any(hits) else match.group()

    def __repr__(self) -> str:
        return "<secret>"


def _find_all(text: str, part: str) -> list[int]:
    found, start = [], text.find(part)
    while start >= 0:
        found.append(start)
        start = text.find(part, start + 1)
    return found


def _run_around(text: str, position: int) -> tuple[int, int]:
    """The run of key-like characters around `position`: the whole token an echo of the key sits in."""
    start = end = position
    while start > 0 and text[start - 1] in _TOKEN_CHARS:
        start -= 1
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    return start, end


class _AttemptFailed(Exception):
    """One attempt failed; the retry loop decides whether it becomes a `GatewayError`."""

    def __init__(
        self, kind: ErrorKind, detail: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.kind: ErrorKind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class _JsonReply:
    payload: Any
    latency_s: float
    attempts: int


class GatewayClient:
    """Async client for an OpenRouter-compatible gateway (`base_url` ends in `/api/v1`).

    Use as `async with GatewayClient(url, key) as gateway:`, or call `close()`. A session passed in
    is borrowed, never closed; otherwise the client opens its own on first use.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 30.0,
        max_attempts: int = 4,
        chat_max_attempts: int = 2,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        retry_after_cap_s: float = 120.0,
        max_body_bytes: int = DEFAULT_CATALOGUE_MAX_BYTES,
        chat_max_body_bytes: int = DEFAULT_CHAT_MAX_BYTES,
        app_title: str = APP_TITLE,
        app_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        url = URL(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"gateway base URL must be http(s)://host/...: got scheme {url.scheme!r}")
        for name, value in (
            ("timeout_s", timeout_s),
            ("max_body_bytes", max_body_bytes),
            ("chat_max_body_bytes", chat_max_body_bytes),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        for name, count in (("max_attempts", max_attempts), ("chat_max_attempts", chat_max_attempts)):
            if count < 1:
                raise ValueError(f"{name} must be at least 1, got {count}")
        if backoff_base_s < 0 or backoff_cap_s < 0 or retry_after_cap_s < 0:
            raise ValueError("backoff and retry-after limits must not be negative")

        self._base_url = str(url)
        self._public_base_url = str(url.with_user(None).with_query(None).with_fragment(None))
        self._api_key = _Secret(api_key) if api_key else None
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._chat_max_attempts = chat_max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._retry_after_cap_s = retry_after_cap_s
        self._max_body_bytes = max_body_bytes
        self._chat_max_body_bytes = chat_max_body_bytes
        self._app_title = app_title
        self._app_url = app_url
        self._session = session
        self._owns_session = session is None

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayClient:
        """The client the settings describe, for the bot, the CLI and the benchmarks alike: their base URL, and
        their API key, taken out of its `SecretStr` only here, to go into the request header."""
        key = settings.openrouter_api_key
        return cls(settings.openrouter_base_url, key.get_secret_value() if key is not None else None)

    @property
    def base_url(self) -> str:
        """The gateway's base URL without any credentials: safe to store, log and show."""
        return self._public_base_url

    def __repr__(self) -> str:
        key_state = "set" if self._api_key else "unset"
        return f"GatewayClient(base_url={self._public_base_url!r}, api_key={key_state})"

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it; safe to call twice."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_models(self) -> JsonItems:
        """Return the catalogue's raw entries, each decoded when read; per-entry validation belongs to `bot.catalogue`.

        Only the envelope is checked here (an object with a `data` list of valid JSON). Items that are not
        objects cannot be entries at all, so they are dropped with a warning rather than failing
        the whole catalogue.
        """
        response = await self._request(
            "GET",
            "/models",
            max_attempts=self._max_attempts,
            timeout_s=self._timeout_s,
            max_body_bytes=self._max_body_bytes,
            decode=self._decode_catalogue,
        )
        entries, dropped = response.payload
        if dropped:
            log.warning(
                "catalogue: dropped %d non-object item(s) at index %s",
                len(dropped),
                ", ".join(map(str, dropped[:10])) + (" ..." if len(dropped) > 10 else ""),
            )
        return entries

    async def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        timeout_s: float | None = None,
        max_attempts: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ChatCompletion:
        """Send one non-streaming chat completion.

        `max_attempts` overrides the client's `chat_max_attempts` for callers on a request budget.
        `extra` adds request fields (e.g. `reasoning`, `seed`); it may not replace the core ones.
        """
        body: dict[str, Any] = dict(extra or {})
        clashes = sorted({"model", "messages", "max_tokens", "temperature"} & body.keys())
        if clashes:
            raise ValueError(f"extra may not set {', '.join(clashes)}; pass them as arguments")
        body.update(model=model, messages=messages, max_tokens=max_tokens, temperature=temperature)
        path = "/chat/completions"
        response = await self._request(
            "POST",
            path,
            json_body=body,
            max_attempts=max_attempts if max_attempts is not None else self._chat_max_attempts,
            timeout_s=timeout_s if timeout_s is not None else self._timeout_s,
            max_body_bytes=self._chat_max_body_bytes,
        )
        try:
            return _parse_completion(model, response)
        except _AttemptFailed as failure:
            raise GatewayError(
                failure.kind,
                method="POST",
                url=self._public_url(path),
                detail=self._scrub(failure.detail),
                status=failure.status,
                attempts=response.attempts,
            ) from None

    def _decode_catalogue(self, body: bytearray) -> tuple[JsonItems, list[int]]:
        """The `data` objects, and where the non-objects were; one undecodable entry costs only itself.

        A key the server reflected is scrubbed from the text first, and from each entry spelt in escapes.
        """
        scrub = self._api_key.scrub if self._api_key is not None else None
        return decode_list_field(self._scrub(body.decode("utf-8")), "data", scrub).objects()

    def _decode_reply(self, body: bytearray) -> Any:
        """A reply made storable (see `bot.untrusted_json.clean`), with any reflected key scrubbed."""
        payload, problems = clean(loads(body), self._scrub)
        if problems:
            log.warning("reply cleaned: %s", "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
        return payload

    def _public_url(self, path: str) -> str:
        return self._public_base_url + path

    def _headers(self) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Title": self._app_title,
        }
        if self._app_url:
            headers["HTTP-Referer"] = self._app_url
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.reveal()}"
        return headers

    def _scrub(self, text: str) -> str:
        return self._api_key.scrub(text) if self._api_key is not None else text

    async def _request(
        self,
        method: str,
        path: str,
        *,
        max_attempts: int,
        timeout_s: float,
        max_body_bytes: int,
        json_body: dict[str, Any] | None = None,
        decode: Callable[[bytearray], Any] | None = None,
    ) -> _JsonReply:
        """Run one logical request with retries; return the parsed JSON or raise `GatewayError`."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        public_url = self._public_url(path)
        attempt = 0
        while True:
            attempt += 1
            log.debug("%s %s (attempt %d/%d)", method, public_url, attempt, max_attempts)
            started = time.monotonic()
            try:
                payload = await self._attempt(
                    method, path, json_body, timeout_s, max_body_bytes, decode or self._decode_reply
                )
            except _AttemptFailed as failure:
                delay = self._retry_delay(failure, attempt, max_attempts)
                if delay is None:
                    raise GatewayError(
                        failure.kind,
                        method=method,
                        url=public_url,
                        detail=self._scrub(failure.detail),
                        status=failure.status,
                        retry_after=failure.retry_after,
                        attempts=attempt,
                    ) from None
                log.warning(
                    "%s %s: %s; retrying in %.2fs (attempt %d/%d)",
                    method,
                    public_url,
                    self._scrub(failure.detail),
                    delay,
                    attempt,
                    max_attempts,
                )
                await asyncio.sleep(delay)
                continue
            return _JsonReply(payload=payload, latency_s=time.monotonic() - started, attempts=attempt)

    def _retry_delay(self, failure: _AttemptFailed, attempt: int, max_attempts: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now.

        A server's Retry-After wins over our backoff; one longer than the cap ends the request at
        once, keeping `retry_after` on the error so the caller can reschedule rather than block.
        """
        if failure.kind not in RETRYABLE_KINDS or attempt >= max_attempts:
            return None
        if failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= self._retry_after_cap_s else None
        ceiling = min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(0.0, ceiling)

    async def _attempt(
        self,
        method: str,
        path: str,
        json_body: dict[str, Any] | None,
        timeout_s: float,
        max_body_bytes: int,
        decode: Callable[[bytearray], Any],
    ) -> Any:
        """One HTTP exchange: status classification, capped body read, JSON decode (in a thread: it can be large)."""
        session = self._session_or_open()
        try:
            async with asyncio.timeout(timeout_s):
                async with session.request(
                    method, self._base_url + path, json=json_body, headers=self._headers()
                ) as response:
                    if response.status >= 300:
                        body = await _read_capped(response, ERROR_BODY_MAX_BYTES)
                        raise self._status_failure(response, body)
                    body = await _read_capped(response, max_body_bytes)
                    if body is None:
                        raise _AttemptFailed("too_large", f"response body over the {max_body_bytes} byte cap")
                    content_type = response.content_type
        except TimeoutError:
            raise _AttemptFailed("timeout", f"no complete response within {timeout_s:g}s") from None
        except aiohttp.ClientError as error:
            detail = self._scrub(str(error)) or type(error).__name__
            raise _AttemptFailed("network", f"network error: {_one_line(detail)}") from None
        log.debug("%s %s -> %d bytes", method, self._public_url(path), len(body))
        try:
            return await asyncio.to_thread(decode, body)
        except UntrustedJsonError as error:
            raise _AttemptFailed("bad_response", str(error)) from None
        except ValueError:
            raise _AttemptFailed(
                "bad_response", f"response is not valid JSON ({content_type}, {len(body)} bytes)"
            ) from None

    def _status_failure(self, response: aiohttp.ClientResponse, body: bytearray | None) -> _AttemptFailed:
        status = response.status
        kind = _kind_for_status(status)
        message = _error_message(body)
        detail = f"HTTP {status}" + (f" ({self._scrub(message)})" if message else "")
        retry_after = _parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None and retry_after > self._retry_after_cap_s:
            detail += f", asked to wait {retry_after:g}s (over the {self._retry_after_cap_s:g}s cap)"
        return _AttemptFailed(kind, detail, status=status, retry_after=retry_after)

    def _session_or_open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytearray | None:
    """Read the body while counting; None (and the connection dropped) once it passes `limit`.

    Checking while streaming, not after, keeps a runaway or hostile body out of memory; growing one buffer
    rather than joining chunks at the end keeps a large body in memory once, not twice.
    """
    declared = response.content_length
    if declared is not None and declared > limit:
        response.close()
        return None
    body = bytearray()
    async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
        if len(body) + len(chunk) > limit:
            response.close()
            return None
        body += chunk
    return body


def _kind_for_status(status: int) -> ErrorKind:
    if status == 429:
        return "rate_limited"
    if status == 402:
        return "payment_required"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "bad_response"


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date; anything else is ignored."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_message(body: bytearray | None) -> str | None:
    """The `error.message` of an OpenRouter-style error body, on one short line."""
    if not body:
        return None
    try:
        payload = loads(body)
    except ValueError:
        return None
    return _payload_error_message(payload)


def _payload_error_message(payload: Any) -> str | None:
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return _one_line(message) if isinstance(message, str) and message.strip() else None


def _parse_completion(model: str, response: _JsonReply) -> ChatCompletion:
    payload = response.payload
    if not isinstance(payload, dict):
        raise _AttemptFailed("bad_response", f"expected a JSON object, got {describe_shape(payload)}")
    error = payload.get("error")
    if isinstance(error, dict) and "choices" not in payload:
        # OpenRouter may answer 200 with an error object when the upstream provider failed; it is
        # reported with the kind its code implies but not retried (the call already cost a request).
        code = _non_negative_int(error.get("code"))
        message = _payload_error_message(payload)
        raise _AttemptFailed(
            _kind_for_status(code) if code else "bad_response",
            f"gateway error {code}" + (f" ({message})" if message else ""),
            status=code,
        )
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _AttemptFailed("bad_response", f"expected a non-empty 'choices' list, got {describe_shape(choices)}")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise _AttemptFailed("bad_response", f"expected choices[0].message object, got {describe_shape(message)}")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise _AttemptFailed("bad_response", f"expected string content, got {describe_shape(content)}")
    reasoning = message.get("reasoning")
    raw_usage = payload.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    finish_reason = choice.get("finish_reason")
    served_model = payload.get("model")
    return ChatCompletion(
        model=model,
        content=content or "",
        reasoning=reasoning if isinstance(reasoning, str) else None,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        prompt_tokens=_non_negative_int(usage.get("prompt_tokens")),
        completion_tokens=_non_negative_int(usage.get("completion_tokens")),
        latency_s=response.latency_s,
        served_model=served_model if isinstance(served_model, str) else None,
        attempts=response.attempts,
        cost_usd=_non_negative_number(usage.get("cost")),
        raw=payload,
    )


def _non_negative_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _non_negative_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _one_line(text: str) -> str:
    flat = " ".join(clean_text(text).split())
    return flat if len(flat) <= MAX_DETAIL_CHARS else flat[: MAX_DETAIL_CHARS - 1] + "…"
