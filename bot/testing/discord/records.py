"""What the fake records for tests to read: messages with their edit history and uploads, interactions
and the callbacks that answered them, REST requests, command syncs and injected faults with their hits."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from bot.testing.discord.payloads import _opt_int
from bot.testing.discord.specs import _MESSAGE_TYPE_DEFAULT, EPHEMERAL_FLAG, CallbackType, _now
from bot.testing.discord.validation import _walk_components


@dataclass
class StoredAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str
    description: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass
class StoredMessage:
    """A message as the fake holds it. `history` keeps each earlier version, oldest first."""

    id: int
    channel_id: int
    guild_id: int | None
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    flags: int = 0
    type: int = _MESSAGE_TYPE_DEFAULT
    tts: bool = False
    nonce: str | int | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    mentioned_user_ids: list[int] = field(default_factory=list)
    mentioned_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    created_at: datetime = field(default_factory=_now)
    edited_at: datetime | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    thread_id: int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def author_id(self) -> int:
        return int(self.author["id"])

    @property
    def edit_count(self) -> int:
        return len(self.history)

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        """The component with `custom_id`, looked for at any depth (rows, sections, containers)."""
        return next((c for c in _walk_components(self.components) if c.get("custom_id") == custom_id), None)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in _walk_components(self.components) if "custom_id" in c]

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "attachments": [a.filename for a in self.attachments],
            "flags": self.flags,
            "edited_at": self.edited_at,
        }


@dataclass
class InteractionCallback:
    """The bot's answer to an interaction: `POST /interactions/{id}/{token}/callback`.

    `latency` is seconds from the fake sending INTERACTION_CREATE to this callback arriving.
    `message` is the message it created or updated (live: later edits show), if any."""

    type: int
    data: dict[str, Any]
    files: list[StoredAttachment]
    received_at: float
    latency: float
    message: StoredMessage | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL_FLAG)

    @property
    def deferred(self) -> bool:
        return self.type in (CallbackType.DEFERRED_CHANNEL_MESSAGE, CallbackType.DEFERRED_UPDATE_MESSAGE)

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.data.get("components") or []

    @property
    def attachments(self) -> list[StoredAttachment]:
        return self.message.attachments if self.message is not None else self.files

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return self.data.get("choices") or []


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    dispatched_at: float
    callback: InteractionCallback | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)

    @property
    def guild_id(self) -> int | None:
        return _opt_int(self.payload.get("guild_id"))

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def member(self) -> dict[str, Any] | None:
        return self.payload.get("member")


@dataclass
class RecordedRequest:
    """One REST request; `path` is relative to the API base, e.g. `/channels/1/messages`."""

    method: str
    path: str
    query: dict[str, str]
    route: str | None
    at: float
    status: int = 0
    body: Any = None
    file_names: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.route is not None


@dataclass
class CommandSync:
    """One bulk overwrite of application commands; `guild_id` None means global."""

    guild_id: int | None
    commands: list[dict[str, Any]]
    at: float


@dataclass
class Fault:
    """An injected failure for requests whose `"METHOD /path"` matches `pattern` (fnmatch, `*` spans `/`)."""

    pattern: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int | None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.remaining is None or self.remaining > 0) and fnmatchcase(f"{method} {path}", self.pattern)
