"""What the fake holds — guilds, messages, interactions, requests, sessions — and how a test reads it
and waits on it; the parts below (`messages`, `rest`, `gateway`, ...) all work on this state."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import secrets
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from aiohttp import web

from bot.testing.discord.guild import _Guild
from bot.testing.discord.payloads import _user_payload
from bot.testing.discord.records import CommandSync, Fault, InteractionRecord, RecordedRequest, StoredMessage
from bot.testing.discord.sessions import _Connection, _Session
from bot.testing.discord.specs import API_PREFIX, ChannelSpec, ErrorCode, GuildSpec, MemberSpec, new_snowflake
from bot.testing.discord.validation import _unknown

T = TypeVar("T")


class FakeState:
    """The fake's state and the read/wait side of its API; see `FakeDiscord` for the whole."""

    def __init__(
        self,
        guilds: Sequence[GuildSpec] = (),
        *,
        token: str | None = None,
        bot_name: str = "Model Scout",
        bot_user_id: int | None = None,
        application_id: int | None = None,
        application_flags: int = (1 << 15) | (1 << 19) | (1 << 23),
        heartbeat_interval: float = 41.25,
        privileged_intents: bool = True,
    ) -> None:
        self.token = token or f"fake.{secrets.token_urlsafe(24)}"
        self.application_id = application_id or new_snowflake()
        self.bot = MemberSpec(bot_name, id=bot_user_id or new_snowflake(), bot=True)
        self.bot_user = _user_payload(self.bot)
        self.application_flags = application_flags
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        self.guilds: dict[int, _Guild] = {g.id: _Guild(g, self.bot_user) for g in guilds}

        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.command_syncs: list[CommandSync] = []
        self.faults: list[Fault] = []
        self.identify_count = 0
        self.resume_count = 0
        self.presence: dict[str, Any] | None = None
        self.internal_errors: list[str] = []

        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._deleted_channels: set[int] = set()
        self.gateway_refused = False
        self._answering = asyncio.Event()
        self._answering.set()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- addresses -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` should be."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """What `DiscordWebSocket.DEFAULT_GATEWAY` should be (also READY's `resume_gateway_url`)."""
        return f"ws://127.0.0.1:{self._port}"

    # -- reading what happened -------------------------------------------------------------------

    def channel_messages(
        self, channel_id: int, *, include_ephemeral: bool = False, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """A channel's messages, oldest first. Ephemeral interaction replies are not in the channel
        for other members, so they are left out unless asked for."""
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id
            and (include_ephemeral or not m.ephemeral)
            and (include_deleted or not m.deleted)
        ]

    def message(self, message_id: int) -> StoredMessage:
        try:
            return self.messages[message_id]
        except KeyError:
            raise KeyError(f"the fake has no message {message_id}") from None

    def interaction(self, interaction_id: int) -> InteractionRecord:
        try:
            return self.interactions[interaction_id]
        except KeyError:
            raise KeyError(f"no interaction {interaction_id} was sent") from None

    def original_response(self, interaction_id: int) -> StoredMessage | None:
        record = self.interaction(interaction_id)
        return None if record.original_message_id is None else self.messages[record.original_message_id]

    def followups(self, interaction_id: int) -> list[StoredMessage]:
        return [self.messages[i] for i in self.interaction(interaction_id).followup_ids]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The application commands currently registered, globally or for one guild."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    def sync_count(self, guild_id: int | None = None) -> int:
        """How many bulk overwrites (`tree.sync`) happened for that scope."""
        return sum(1 for s in self.command_syncs if s.guild_id == guild_id)

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        """Requests to routes the fake does not implement (answered 404), to see what a client asked for."""
        return [r for r in self.requests if not r.known]

    def requests_to(self, pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose `"METHOD /path"` matches the fnmatch `pattern`."""
        return [r for r in self.requests if fnmatchcase(f"{r.method} {r.path}", pattern)]

    @property
    def connected(self) -> bool:
        return any(s.live for s in self._sessions.values())

    # -- waiting -----------------------------------------------------------------------------------

    async def wait_until(
        self, predicate: Callable[[], T | None], *, timeout: float = 5.0, what: str = "condition"
    ) -> T:
        """Wait until `predicate()` is truthy (re-checked after every change the fake sees); return it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            changed = self._changed
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"fake Discord: no {what} within {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[StoredMessage], bool] = lambda message: True,
        *,
        timeout: float = 5.0,
        include_ephemeral: bool = False,
    ) -> StoredMessage:
        """The first message in the channel that satisfies `predicate`, waiting for it if needed."""

        def find() -> StoredMessage | None:
            messages = self.channel_messages(channel_id, include_ephemeral=include_ephemeral)
            return next((m for m in messages if predicate(m)), None)

        return await self.wait_until(find, timeout=timeout, what=f"matching message in channel {channel_id}")

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- lookups that answer Discord's 404s -------------------------------------------------------

    def _guild(self, guild_id: int) -> _Guild:
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise _unknown(ErrorCode.UNKNOWN_GUILD, "Guild")
        return guild

    def _guild_channel(self, channel_id: int) -> tuple[_Guild, ChannelSpec]:
        if channel_id not in self._deleted_channels:
            for guild in self.guilds.values():
                channel = guild.channel(channel_id)
                if channel is not None:
                    return guild, channel
        raise _unknown(ErrorCode.UNKNOWN_CHANNEL, "Channel")

    def _channel_message(self, channel_id: int, message_id: int) -> StoredMessage:
        self._guild_channel(channel_id)
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id or message.ephemeral:
            raise _unknown(ErrorCode.UNKNOWN_MESSAGE, "Message")
        return message
