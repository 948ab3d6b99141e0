"""The gateway websocket: hello, identify (intents, shards), ready, guild create, heartbeat, resume,
member chunks, presence, and the server-side reconnects and drops a test can cause."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import WSMsgType, web

from bot.testing.discord.guild import _Guild
from bot.testing.discord.rest import RestApi
from bot.testing.discord.sessions import _Connection, _Session
from bot.testing.discord.specs import PRIVILEGED_INTENTS, GuildSpec, Intent

_log = logging.getLogger(__name__)


class GatewayServer(RestApi):
    """The websocket side of the fake; a non-websocket request to `/` falls through to the REST 404."""

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every connection; discord.py reconnects and RESUMEs."""
        for connection in list(self._connections):
            await connection.send({"op": 7, "d": None, "s": None, "t": None})

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway websocket from the server side with `code`."""
        for connection in list(self._connections):
            await connection.close(code, "dropped by the fake")

    async def join_guild(self, spec: GuildSpec) -> None:
        """The bot is added to a guild while connected: GUILD_CREATE without `unavailable`, as Discord sends for a
        join (discord.py then calls on_guild_join, where a guild that comes back online gets on_guild_available)."""
        guild = _Guild(spec, self.bot_user)
        self.guilds[guild.id] = guild
        for session in list(self._sessions.values()):
            if session.live and session.intents & Intent.GUILDS and session.covers(guild.id):
                event = {k: v for k, v in guild.create_event(session.intents).items() if k != "unavailable"}
                await session.dispatch("GUILD_CREATE", event)
        self._notify()

    async def remove_from_guild(self, guild_id: int) -> None:
        """The bot is kicked, or the guild deleted: GUILD_DELETE without `unavailable` (discord.py then calls
        on_guild_remove), and the guild's REST routes answer 404 from now on."""
        self.guilds.pop(guild_id)
        for session in list(self._sessions.values()):
            if session.live and session.intents & Intent.GUILDS and session.covers(guild_id):
                await session.dispatch("GUILD_DELETE", {"id": str(guild_id)})
        self._notify()

    # -- the websocket -----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        if not ws.can_prepare(request).ok:
            return await self._unknown_route(request)
        await self._until_answering()
        if self.gateway_refused:
            return web.Response(status=503, text="gateway unavailable (fake)")
        await ws.prepare(request)
        connection = _Connection(ws, request.transport)
        self._connections.add(connection)
        try:
            if request.query.get("encoding", "json") != "json":
                await connection.close(4002, "Decode error: only encoding=json is supported")
                return ws
            if request.query.get("v", "10") != "10":
                await connection.close(4012, "Invalid API version")
                return ws
            hello = {"heartbeat_interval": int(self.heartbeat_interval * 1000)}
            await connection.send({"op": 10, "d": hello, "s": None, "t": None})
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    await connection.close(4002, "Decode error")
                    break
                await self._on_gateway_frame(connection, message.data)
                if ws.closed:
                    break
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            _log.exception("fake Discord gateway failed")
            await connection.close(4000, "Unknown error (fake)")
        finally:
            self._connections.discard(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            self._notify()
        return ws

    async def _on_gateway_frame(self, connection: _Connection, text: str) -> None:
        try:
            frame = json.loads(text)
            op, data = frame["op"], frame.get("d")
        except (ValueError, KeyError, TypeError):
            await connection.close(4002, "Decode error")
            return
        if op == 1:
            await connection.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(connection, data or {})
        elif op == 6:
            await self._resume(connection, data or {})
        elif connection.session is None:
            await connection.close(4003, "Not authenticated")
        elif op == 3:
            self.presence = data
        elif op == 8:
            await self._send_member_chunk(connection.session, data or {})
        elif op != 4:
            await connection.close(4001, "Unknown opcode")
        self._notify()

    async def _identify(self, connection: _Connection, data: Mapping[str, Any]) -> None:
        if connection.session is not None:
            await connection.close(4005, "Already authenticated")
            return
        if data.get("token") != self.token:
            await connection.close(4004, "Authentication failed")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await connection.close(4013, "Invalid intent(s)")
            return
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents:
            await connection.close(4014, "Disallowed intent(s)")
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        session = _Session(intents, (int(shard_id), int(shard_count)))
        self._sessions[session.id] = session
        self.identify_count += 1
        await session.attach(connection, after_seq=0)
        guilds = [g for g in self.guilds.values() if session.covers(g.id)]
        await session.dispatch("READY", self._ready_payload(session, guilds))
        if intents & Intent.GUILDS:
            for guild in guilds:
                await session.dispatch("GUILD_CREATE", guild.create_event(intents))

    def _ready_payload(self, session: _Session, guilds: Sequence[_Guild]) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": True},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }

    async def _resume(self, connection: _Connection, data: Mapping[str, Any]) -> None:
        if data.get("token") != self.token:
            await connection.close(4004, "Authentication failed")
            return
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            await connection.send({"op": 9, "d": False, "s": None, "t": None})
            return
        previous = session.connection
        if previous is not None and previous is not connection and previous.open:
            await previous.close(4000, "Session resumed elsewhere")
        await session.attach(connection, after_seq=int(data.get("seq") or 0))
        await session.dispatch("RESUMED", {"_trace": ["fake-discord"]})
        self.resume_count += 1

    async def _send_member_chunk(self, session: _Session, data: Mapping[str, Any]) -> None:
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        query = str(data.get("query") or "").lower()
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [
            m for m in guild.members.values() if (not wanted or m.id in wanted) and m.name.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        chunk = {
            "guild_id": str(guild.id),
            "members": [guild.member_payload(m) for m in (members[:limit] if limit else members)],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted - set(guild.members)],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
