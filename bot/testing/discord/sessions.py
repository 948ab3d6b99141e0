"""Gateway sessions and connections: a session's sequence numbers and recent events outlive a websocket,
so that a client can RESUME on a new one."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from typing import Any

from aiohttp import web


class _Connection:
    """One websocket; sends are serialised so sequence numbers reach the client in order."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None = None) -> None:
        self.ws = ws
        self.transport = transport
        self.lock = asyncio.Lock()
        self.session: _Session | None = None

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def send(self, frame: dict[str, Any] | str) -> bool:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        async with self.lock:
            if self.ws.closed:
                return False
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
            return True

    async def close(self, code: int, reason: str) -> None:
        await self.ws.close(code=code, message=reason.encode())


class _Session:
    """A gateway session: its sequence numbers and recent events outlive a connection, for RESUME."""

    BACKLOG = 1000

    def __init__(self, intents: int, shard: tuple[int, int]) -> None:
        self.id = secrets.token_hex(16)
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.backlog: deque[tuple[int, str]] = deque(maxlen=self.BACKLOG)
        self.connection: _Connection | None = None
        self.lock = asyncio.Lock()

    @property
    def live(self) -> bool:
        return self.connection is not None and self.connection.open

    def covers(self, guild_id: int | None) -> bool:
        shard_id, shard_count = self.shard
        return guild_id is None or (guild_id >> 22) % shard_count == shard_id

    async def dispatch(self, event: str, data: Any) -> None:
        async with self.lock:
            self.seq += 1
            frame = json.dumps({"op": 0, "t": event, "s": self.seq, "d": data})
            self.backlog.append((self.seq, frame))
            if self.connection is not None and not await self.connection.send(frame):
                self.connection = None

    async def attach(self, connection: _Connection, after_seq: int) -> None:
        """Take over a new connection and replay what the client missed (RESUME)."""
        async with self.lock:
            self.connection = connection
            connection.session = self
            for seq, frame in self.backlog:
                if seq > after_seq:
                    await connection.send(frame)
