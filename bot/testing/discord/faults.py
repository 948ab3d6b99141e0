"""Fault injection: canned failures for matching REST requests, and Discord-side events a bot must survive
(a channel deleted under it, an interaction token that expired)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.testing.discord.messages import MessageStore
from bot.testing.discord.payloads import json_response
from bot.testing.discord.records import Fault
from bot.testing.discord.specs import Intent


class FaultInjection(MessageStore):
    """What a test calls to make the fake fail; the REST middleware asks `_injected_fault` first."""

    def inject_fault(
        self,
        pattern: str,
        status: int,
        body: Mapping[str, Any] | None = None,
        *,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer the next `times` requests matching `pattern` (e.g. `"POST /channels/*/messages"`)
        with `status` and `body`; `times=None` means until `clear_faults()`."""
        reply = dict(body or {"message": f"{status}: injected", "code": 0})
        fault = Fault(pattern, status, reply, dict(headers or {}), times)
        self.faults.append(fault)
        return fault

    def rate_limit(self, pattern: str, *, times: int | None = 1, retry_after: float = 0.05) -> Fault:
        """429 like Discord's per-route limit (`global` false); discord.py sleeps `retry_after` and retries."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }
        return self.inject_fault(pattern, 429, body, times=times, headers=headers)

    def server_error(self, pattern: str, *, status: int = 500, times: int | None = 1) -> Fault:
        """5xx. discord.py's REST client retries 500/502/504 after 1 s, 3 s, ... (slow in tests) and raises
        DiscordServerError on 503 at once; its webhook/interaction client retries every 5xx."""
        return self.inject_fault(pattern, status, {"message": f"{status}: Server Error", "code": 0}, times=times)

    def forbid(self, pattern: str, *, times: int | None = 1) -> Fault:
        """403 Missing Permissions (50013)."""
        return self.inject_fault(pattern, 403, {"message": "Missing Permissions", "code": 50013}, times=times)

    def unknown_channel(self, pattern: str, *, times: int | None = 1) -> Fault:
        """404 Unknown Channel (10003)."""
        return self.inject_fault(pattern, 404, {"message": "Unknown Channel", "code": 10003}, times=times)

    def clear_faults(self) -> None:
        self.faults.clear()

    async def delete_channel(self, channel_id: int) -> None:
        """Delete a channel as a guild admin would: CHANNEL_DELETE on the gateway, 10003 afterwards."""
        guild, channel = self._guild_channel(channel_id)
        guild.spec.channels.remove(channel)
        self._deleted_channels.add(channel_id)
        await self._dispatch_guild_event(guild.id, "CHANNEL_DELETE", guild.channel_payload(channel), Intent.GUILDS)
        self._notify()

    def go_silent(self) -> None:
        """Discord unreachable the way a dead network is, not the way a closed port is (which refuses at once):
        nothing is answered any more. REST requests and new gateway connections hang, and open gateway connections
        stop being read, so not even a close frame gets its reply."""
        self._answering.clear()
        for connection in self._connections:
            if isinstance(connection.transport, asyncio.ReadTransport):
                connection.transport.pause_reading()

    def refuse_gateway(self, refused: bool = True) -> None:
        """Discord's gateway down while its REST API answers: every websocket upgrade gets a 503."""
        self.gateway_refused = refused

    async def _until_answering(self) -> None:
        await self._answering.wait()

    async def delete_message(self, message_id: int) -> None:
        """A moderator deletes a message: gone from the channel (10008 Unknown Message afterwards), MESSAGE_DELETE
        sent to sessions with the GUILD_MESSAGES intent."""
        message = self.message(message_id)
        message.deleted = True
        event = {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)}
        if message.guild_id is not None:
            await self._dispatch_guild_event(message.guild_id, "MESSAGE_DELETE", event, Intent.GUILD_MESSAGES)
        self._notify()

    def _injected_fault(self, method: str, path: str) -> web.Response | None:
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        if fault is None:
            return None
        fault.hits += 1
        if fault.remaining is not None:
            fault.remaining -= 1
        return json_response(fault.body, status=fault.status, headers=fault.headers)
