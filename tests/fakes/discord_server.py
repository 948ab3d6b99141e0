"""A fake Discord — REST API and gateway websocket in one aiohttp app on 127.0.0.1 — for end-to-end tests.

The real discord.py client runs against it unchanged, pointed here by `bot.discord_endpoints.point_discord_at`
(`connected_client` below does that, logs in, waits for on_ready and closes cleanly). The fake keeps what
a test needs to assert on — every message with its edit history and uploaded bytes, every interaction
callback with the moment it arrived, every command sync — and behaves like Discord where bots usually go
wrong: JSON bodies with `Content-Type: application/json` exactly, Discord-shaped errors (429 with `Via` and
`retry_after`, 403 50013, 404 10003, 400 50035 with the offending field), permission checks on the bot's
posts, size limits, "already acknowledged", follow-ups before an ack, and privileged-intent refusals.

Usage sketch::

    guild = GuildSpec(channels=[ChannelSpec("scout")], members=[MemberSpec("alice")])
    async with FakeDiscord(guilds=[guild]) as fake, connected_client(bot, fake):
        payload = fake.build_command("scout latest", guild_id=guild.id,
                                     channel_id=guild.channels[0].id, member=guild.members[0])
        interaction_id = await fake.send_interaction(payload)
        callback = await fake.wait_for_interaction_response(interaction_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import hashlib
import json
import logging
import mimetypes
import re
import secrets
import threading
import time
import traceback
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any, Literal, TypeVar

import discord
import discord.gateway
import discord.http
from aiohttp import WSMsgType, web

from bot.discord_endpoints import point_discord_at

_log = logging.getLogger(__name__)
_RECORD = web.RequestKey("record", "RecordedRequest")

T = TypeVar("T")

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000

# --------------------------------------------------------------------------------------------------
# Discord constants the fake needs (values from the Discord API documentation).
# --------------------------------------------------------------------------------------------------


class Permission(enum.IntFlag):
    """The permission bits the fake checks or that tests commonly grant."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 53) - 1
DEFAULT_EVERYONE_PERMISSIONS = int(
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.SEND_MESSAGES_IN_THREADS
)


class Intent(enum.IntFlag):
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    MESSAGE_CONTENT = 1 << 15


PRIVILEGED_INTENTS = int(Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT)


class InteractionType(enum.IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CallbackType(enum.IntEnum):
    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class ChannelType(enum.IntEnum):
    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    ANNOUNCEMENT = 5
    FORUM = 15


class ErrorCode(enum.IntEnum):
    """JSON error codes of Discord's API that the fake answers with."""

    UNKNOWN_APPLICATION = 10002
    UNKNOWN_CHANNEL = 10003
    UNKNOWN_GUILD = 10004
    UNKNOWN_MEMBER = 10007
    UNKNOWN_MESSAGE = 10008
    UNKNOWN_USER = 10013
    UNKNOWN_WEBHOOK = 10015
    UNKNOWN_INTERACTION = 10062
    ALREADY_ACKNOWLEDGED = 40060
    MISSING_ACCESS = 50001
    CANNOT_EDIT_OTHERS_MESSAGE = 50005
    EMPTY_MESSAGE = 50006
    NON_TEXT_CHANNEL = 50008
    MISSING_PERMISSIONS = 50013
    INVALID_FORM_BODY = 50035
    INVALID_JSON = 50109


EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7
COMPONENTS_V2_FLAG = 1 << 15
_SENDABLE_MESSAGE_FLAGS = (1 << 2) | (1 << 12) | COMPONENTS_V2_FLAG  # suppress embeds/notifications, v2
_TEXT_CHANNEL_TYPES = {ChannelType.TEXT, ChannelType.VOICE, ChannelType.ANNOUNCEMENT}
_SELECT_TYPES = {3, 5, 6, 7, 8}
_INPUT_TYPES = {3, 4, 5, 6, 7, 8}
_MESSAGE_TYPE_DEFAULT = 0
_MESSAGE_TYPE_REPLY = 19
_MESSAGE_TYPE_CHAT_INPUT = 20


# --------------------------------------------------------------------------------------------------
# Snowflakes and time.
# --------------------------------------------------------------------------------------------------

_snowflake_lock = threading.Lock()
_snowflake_state = {"ms": 0, "increment": 0}


def new_snowflake() -> int:
    """A unique, realistic 64-bit id whose timestamp is now, so `discord.utils.snowflake_time` works."""
    with _snowflake_lock:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if ms <= _snowflake_state["ms"]:
            ms = _snowflake_state["ms"]
            _snowflake_state["increment"] += 1
            if _snowflake_state["increment"] >= 4096:
                ms += 1
                _snowflake_state["increment"] = 0
        else:
            _snowflake_state["increment"] = 0
        _snowflake_state["ms"] = ms
        return (ms << 22) | (1 << 17) | _snowflake_state["increment"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


# --------------------------------------------------------------------------------------------------
# What a test configures: guilds with channels, roles and members.
# --------------------------------------------------------------------------------------------------


@dataclass
class OverwriteSpec:
    """A channel permission overwrite for a role (the guild id means @everyone) or a member."""

    id: int
    type: Literal["role", "member"] = "role"
    allow: int = 0
    deny: int = 0


@dataclass
class ChannelSpec:
    name: str
    id: int = field(default_factory=new_snowflake)
    type: int = ChannelType.TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: list[OverwriteSpec] = field(default_factory=list)


@dataclass
class RoleSpec:
    name: str
    id: int = field(default_factory=new_snowflake)
    permissions: int = 0
    position: int = 1
    managed: bool = False


@dataclass
class MemberSpec:
    """A guild member. `permissions`, when given, is granted through a role of their own, so the
    member's `guild_permissions` in discord.py and the interaction's `permissions` agree."""

    name: str
    id: int = field(default_factory=new_snowflake)
    permissions: int | None = None
    roles: tuple[int, ...] = ()
    nick: str | None = None
    bot: bool = False


@dataclass
class GuildSpec:
    """A guild the bot is in. `everyone_permissions` is the @everyone role (id = guild id);
    `bot_permissions` goes to the bot's managed role. `owner_id` defaults to the first member."""

    name: str = "Scout Test Guild"
    id: int = field(default_factory=new_snowflake)
    channels: list[ChannelSpec] = field(default_factory=lambda: [ChannelSpec("general")])
    roles: list[RoleSpec] = field(default_factory=list)
    members: list[MemberSpec] = field(default_factory=list)
    owner_id: int | None = None
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS
    bot_permissions: int = DEFAULT_BOT_PERMISSIONS


@dataclass(frozen=True)
class ChannelArg:
    """A slash-command option value that is a channel (option type 7); the fake fills `resolved`."""

    id: int


@dataclass(frozen=True)
class UserArg:
    """A slash-command option value that is a user/member (option type 6)."""

    id: int


@dataclass(frozen=True)
class RoleArg:
    """A slash-command option value that is a role (option type 8)."""

    id: int


OptionValue = str | int | float | bool | ChannelArg | UserArg | RoleArg


# --------------------------------------------------------------------------------------------------
# What the fake records for tests to read.
# --------------------------------------------------------------------------------------------------


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
    expired: bool = False

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


# --------------------------------------------------------------------------------------------------
# Responses.
# --------------------------------------------------------------------------------------------------


def json_response(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON reply whose Content-Type is exactly `application/json`.

    aiohttp's own `json_response` appends `; charset=utf-8`, and discord.py only parses bodies whose
    content type equals `application/json`, treating anything else as text."""
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(body=json.dumps(body).encode("utf-8"), status=status, headers=all_headers)


class DiscordError(Exception):
    """An error reply in Discord's shape: `{"message": ..., "code": ...[, "errors": ...]}`."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = _error_tree(self.errors)
        return json_response(body, status=self.status)


def _error_tree(errors: Mapping[str, str]) -> dict[str, Any]:
    """`{"embeds.0.title": "..."}` -> Discord's nested `{"embeds": {"0": {"title": {"_errors": [...]}}}}`."""
    tree: dict[str, Any] = {}
    for dotted, message in errors.items():
        node = tree
        for part in dotted.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
    return tree


def _unknown(code: ErrorCode, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def _missing_permissions() -> DiscordError:
    return DiscordError(403, ErrorCode.MISSING_PERMISSIONS, "Missing Permissions")


# --------------------------------------------------------------------------------------------------
# Payload validation: the limits Discord enforces, so a bot that exceeds them fails here too.
# --------------------------------------------------------------------------------------------------

_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


def _walk_components(components: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from _walk_components([component["accessory"]])


def _check_length(errors: dict[str, str], path: str, value: Any, limit: int, *, required: bool = False) -> int:
    text = "" if value is None else str(value)
    if required and not text:
        errors[path] = "This field is required"
    elif len(text) > limit:
        errors[path] = f"Must be {limit} or fewer in length."
    return len(text)


def _embed_errors(embeds: Sequence[dict[str, Any]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(embeds) > 10:
        errors["embeds"] = "Must be 10 or fewer in length."
    total = 0
    for index, embed in enumerate(embeds):
        where = f"embeds.{index}"
        total += _check_length(errors, f"{where}.title", embed.get("title"), 256)
        total += _check_length(errors, f"{where}.description", embed.get("description"), 4096)
        total += _check_length(errors, f"{where}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
        total += _check_length(errors, f"{where}.author.name", (embed.get("author") or {}).get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors[f"{where}.fields"] = "Must be 25 or fewer in length."
        for number, embed_field in enumerate(fields):
            total += _check_length(errors, f"{where}.fields.{number}.name", embed_field.get("name"), 256, required=True)
            value = embed_field.get("value")
            total += _check_length(errors, f"{where}.fields.{number}.value", value, 1024, required=True)
    if total > 6000:
        errors["embeds"] = "Embed size exceeds maximum size of 6000"
    return errors


def _component_errors(components: Sequence[dict[str, Any]], *, v2: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not v2:
        if len(components) > 5:
            errors["components"] = "Must be 5 or fewer in length."
        for row_index, row in enumerate(components):
            children = row.get("components") or []
            if row.get("type") != 1:
                errors[f"components.{row_index}.type"] = "Top-level components must be action rows"
            elif not 1 <= len(children) <= 5:
                errors[f"components.{row_index}.components"] = "Must be between 1 and 5 in length."
            elif any(child.get("type") in _SELECT_TYPES for child in children) and len(children) > 1:
                errors[f"components.{row_index}.components"] = "A select menu must be alone in its row"
    seen: set[str] = set()
    for index, component in enumerate(_walk_components(components)):
        where = f"components.{index}"
        custom_id = component.get("custom_id")
        if custom_id is not None:
            _check_length(errors, f"{where}.custom_id", custom_id, 100, required=True)
            if custom_id in seen:
                errors[f"{where}.custom_id"] = "Component custom id cannot be duplicated"
            seen.add(custom_id)
        if component.get("type") == 2:
            _check_length(errors, f"{where}.label", component.get("label"), 80)
        if component.get("type") == 3:
            options = component.get("options") or []
            if not 1 <= len(options) <= 25:
                errors[f"{where}.options"] = "Must be between 1 and 25 in length."
            for number, option in enumerate(options):
                _check_length(errors, f"{where}.options.{number}.label", option.get("label"), 100, required=True)
                _check_length(errors, f"{where}.options.{number}.value", option.get("value"), 100, required=True)
                _check_length(errors, f"{where}.options.{number}.description", option.get("description"), 100)
        if component.get("type") in _SELECT_TYPES:
            _check_length(errors, f"{where}.placeholder", component.get("placeholder"), 150)
    return errors


def _message_errors(payload: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors["content"] = "Must be a string."
    else:
        _check_length(errors, "content", content, 2000)
    errors.update(_embed_errors(payload.get("embeds") or []))
    v2 = bool(int(payload.get("flags") or 0) & COMPONENTS_V2_FLAG)
    errors.update(_component_errors(payload.get("components") or [], v2=v2))
    return errors


def _modal_errors(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    _check_length(errors, "data.title", data.get("title"), 45, required=True)
    _check_length(errors, "data.custom_id", data.get("custom_id"), 100, required=True)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors["data.components"] = "Must be between 1 and 5 in length."
    for index, component in enumerate(_walk_components(components)):
        if component.get("type") == 4:
            _check_length(errors, f"data.components.{index}.value", component.get("value"), 4000)
        if component.get("type") in (1, 18) and component.get("label") is not None:
            _check_length(errors, f"data.components.{index}.label", component.get("label"), 45)
    return errors


def _choice_errors(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    choices = data.get("choices") or []
    if len(choices) > 25:
        errors["data.choices"] = "Must be 25 or fewer in length."
    for index, choice in enumerate(choices):
        _check_length(errors, f"data.choices.{index}.name", choice.get("name"), 100, required=True)
    return errors


def _option_errors(options: Sequence[dict[str, Any]], where: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(options) > 25:
        errors[where] = "Must be 25 or fewer in length."
    for index, option in enumerate(options):
        name = str(option.get("name", ""))
        if not _COMMAND_NAME.match(name) or name != name.lower():
            errors[f"{where}.{index}.name"] = "Command name is invalid"
        _check_length(errors, f"{where}.{index}.description", option.get("description"), 100, required=True)
        if len(option.get("choices") or []) > 25:
            errors[f"{where}.{index}.choices"] = "Must be 25 or fewer in length."
        errors.update(_option_errors(option.get("options") or [], f"{where}.{index}.options"))
    return errors


def _command_errors(commands: Any) -> dict[str, str]:
    if not isinstance(commands, list):
        return {"_root": "Must be an array of application commands."}
    errors: dict[str, str] = {}
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        kind = int(command.get("type", 1))
        name = str(command.get("name", ""))
        if kind == 1:
            if not _COMMAND_NAME.match(name) or name != name.lower():
                errors[f"{index}.name"] = "Command name is invalid"
            _check_length(errors, f"{index}.description", command.get("description"), 100, required=True)
        else:
            _check_length(errors, f"{index}.name", name, 32, required=True)
        if (name, kind) in seen:
            errors[f"{index}.name"] = "Application command names must be unique"
        seen.add((name, kind))
        errors.update(_option_errors(command.get("options") or [], f"{index}.options"))
    if sum(1 for c in commands if int(c.get("type", 1)) == 1) > 100:
        errors["_root"] = "Must be 100 or fewer chat input commands."
    return errors


def _raise_form_errors(errors: dict[str, str]) -> None:
    if errors:
        raise DiscordError(400, ErrorCode.INVALID_FORM_BODY, "Invalid Form Body", errors)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


# --------------------------------------------------------------------------------------------------
# Guild state: the configured specs plus the bot's own member and role, and permission arithmetic.
# --------------------------------------------------------------------------------------------------


class _Guild:
    """One guild as the fake holds it: a private copy of the spec plus the bot's member and managed role."""

    def __init__(self, spec: GuildSpec, bot_user: dict[str, Any]) -> None:
        self.spec = copy.deepcopy(spec)
        self.id = spec.id
        self.joined_at = _now()
        self.owner_id = spec.owner_id or (spec.members[0].id if spec.members else new_snowflake())
        self.bot_user = bot_user
        self.bot_role = RoleSpec(bot_user["username"], permissions=spec.bot_permissions, managed=True)
        self.personal_roles: dict[int, RoleSpec] = {}
        self.members: dict[int, MemberSpec] = {}
        self.bot_member = MemberSpec(bot_user["username"], id=int(bot_user["id"]), bot=True, roles=(self.bot_role.id,))
        self.add_member(self.bot_member)
        for member in self.spec.members:
            self.add_member(member)

    def add_member(self, member: MemberSpec) -> None:
        if member.permissions is not None and member.id not in self.personal_roles:
            self.personal_roles[member.id] = RoleSpec(f"{member.name} permissions", permissions=member.permissions)
        self.members[member.id] = member

    @property
    def channels(self) -> list[ChannelSpec]:
        return self.spec.channels

    def channel(self, channel_id: int) -> ChannelSpec | None:
        return next((c for c in self.spec.channels if c.id == channel_id), None)

    def roles(self) -> list[RoleSpec]:
        everyone = RoleSpec("@everyone", id=self.id, permissions=self.spec.everyone_permissions, position=0)
        return [everyone, *self.spec.roles, self.bot_role, *self.personal_roles.values()]

    def role(self, role_id: int) -> RoleSpec | None:
        return next((r for r in self.roles() if r.id == role_id), None)

    def member_role_ids(self, member: MemberSpec) -> list[int]:
        personal = self.personal_roles.get(member.id)
        return [*member.roles, *([personal.id] if personal else [])]

    def base_permissions(self, member: MemberSpec) -> int:
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        value = self.spec.everyone_permissions
        for role_id in self.member_role_ids(member):
            role = self.role(role_id)
            value |= role.permissions if role else 0
        return ALL_PERMISSIONS if value & Permission.ADMINISTRATOR else value

    def permissions_in(self, channel: ChannelSpec, member: MemberSpec) -> int:
        """Discord's algorithm: base, then @everyone, role and member overwrites; no view means nothing."""
        value = self.base_permissions(member)
        if value == ALL_PERMISSIONS:
            return value
        overwrites = {(o.type, o.id): o for o in channel.overwrites}
        everyone = overwrites.get(("role", self.id))
        if everyone:
            value = (value & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in self.member_role_ids(member):
            overwrite = overwrites.get(("role", role_id))
            if overwrite:
                allow, deny = allow | overwrite.allow, deny | overwrite.deny
        value = (value & ~deny) | allow
        own = overwrites.get(("member", member.id))
        if own:
            value = (value & ~own.deny) | own.allow
        return value if value & Permission.VIEW_CHANNEL else 0

    def channel_payload(self, channel: ChannelSpec) -> dict[str, Any]:
        return {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": str(self.id),
            "name": channel.name,
            "position": channel.position,
            "parent_id": _opt_str(channel.parent_id),
            "topic": channel.topic,
            "nsfw": channel.nsfw,
            "rate_limit_per_user": 0,
            "flags": 0,
            "last_message_id": None,
            "permission_overwrites": [
                {"id": str(o.id), "type": 0 if o.type == "role" else 1, "allow": str(o.allow), "deny": str(o.deny)}
                for o in channel.overwrites
            ],
        }

    def role_payload(self, role: RoleSpec) -> dict[str, Any]:
        return {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": role.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": role.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            **({"tags": {"bot_id": self.bot_user["id"]}} if role is self.bot_role else {}),
        }

    def member_payload(self, member: MemberSpec, *, with_user: bool = True) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.member_role_ids(member)],
            "joined_at": _iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = _user_payload(member)
        return payload

    def payload(self) -> dict[str, Any]:
        """The guild object of `GET /guilds/{id}` (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.spec.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [self.role_payload(r) for r in self.roles()],
            "max_members": 500000,
            "max_presences": None,
        }

    def create_event(self, intents: int) -> dict[str, Any]:
        """The GUILD_CREATE payload. Without GUILD_MEMBERS only the bot's own member is sent, like Discord."""
        members = list(self.members.values()) if intents & Intent.GUILD_MEMBERS else [self.bot_member]
        return {
            **self.payload(),
            "unavailable": False,
            "joined_at": _iso(self.joined_at),
            "large": False,
            "lazy": True,
            "member_count": len(self.members),
            "channels": [{k: v for k, v in self.channel_payload(c).items() if k != "guild_id"} for c in self.channels],
            "threads": [],
            "members": [self.member_payload(m) for m in members],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


def _user_payload(member: MemberSpec) -> dict[str, Any]:
    return {
        "id": str(member.id),
        "username": member.name,
        "discriminator": "0",
        "global_name": member.name,
        "avatar": None,
        "bot": member.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------------
# The gateway: sessions outlive connections so that a client can RESUME.
# --------------------------------------------------------------------------------------------------


class _Connection:
    """One websocket; sends are serialised so sequence numbers reach the client in order."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
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
        self.invalid = False

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


# --------------------------------------------------------------------------------------------------
# The fake itself.
# --------------------------------------------------------------------------------------------------


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, for the real discord.py client.

    Use as `async with FakeDiscord(guilds=[...]) as fake:`; then `fake.api_base`, `fake.gateway_url`
    and `fake.token` are what the client needs. Everything it records is plain attributes and methods
    documented below; everything a test drives is `build_*`, `send_interaction`, `wait_*` and `inject_fault`.
    """

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
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # -- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._api_middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
        if self.internal_errors and exc_info[0] is None:
            raise RuntimeError("the fake Discord failed internally:\n" + "\n".join(self.internal_errors))

    async def close(self) -> None:
        for connection in list(self._connections):
            await connection.close(1001, "fake Discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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

    async def wait_until(self, predicate: Callable[[], T], *, timeout: float = 5.0, what: str = "condition") -> T:
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

    async def wait_for_interaction_response(self, interaction_id: int, *, timeout: float = 5.0) -> InteractionCallback:
        record = self.interaction(interaction_id)
        return await self.wait_until(lambda: record.callback, timeout=timeout, what=f"callback for {interaction_id}")

    async def wait_for_followups(
        self, interaction_id: int, count: int = 1, *, timeout: float = 5.0
    ) -> list[StoredMessage]:
        await self.wait_until(
            lambda: len(self.interaction(interaction_id).followup_ids) >= count,
            timeout=timeout,
            what=f"{count} follow-up(s) to {interaction_id}",
        )
        return self.followups(interaction_id)

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

    async def wait_for_connection(self, *, timeout: float = 5.0) -> None:
        await self.wait_until(lambda: self.connected, timeout=timeout, what="identified gateway session")

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- fault injection ---------------------------------------------------------------------------

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

    def expire_interaction(self, interaction_id: int) -> None:
        """Make the interaction's token unknown (10062), as Discord does after the 3 s / 15 min windows."""
        self.interaction(interaction_id).expired = True

    # -- gateway control ---------------------------------------------------------------------------

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every connection; discord.py reconnects and RESUMEs."""
        for connection in list(self._connections):
            await connection.send({"op": 7, "d": None, "s": None, "t": None})

    async def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway websocket from the server side with `code`."""
        for connection in list(self._connections):
            await connection.close(code, "dropped by the fake")

    def invalidate_sessions(self) -> None:
        """Make every session unresumable: the next RESUME gets op 9 (discord.py then waits 5 s and identifies)."""
        for session in self._sessions.values():
            session.invalid = True

    # -- interactions: builders and dispatch -------------------------------------------------------

    async def send_interaction(self, payload: dict[str, Any]) -> int:
        """Dispatch INTERACTION_CREATE to the connected bot; return the interaction id."""
        sessions = [s for s in self._sessions.values() if s.live and s.covers(_opt_int(payload.get("guild_id")))]
        if not sessions:
            raise RuntimeError("no bot is connected to the fake gateway")
        if int(payload["id"]) in self.interactions:
            raise ValueError(f"interaction {payload['id']} was already sent; build a new one")
        record = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            type=int(payload["type"]),
            payload=payload,
            dispatched_at=time.perf_counter(),
        )
        self.interactions[record.id] = record
        for session in sessions:
            await session.dispatch("INTERACTION_CREATE", payload)
        return record.id

    def build_command(
        self,
        command: str,
        *,
        guild_id: int,
        channel_id: int,
        member: MemberSpec,
        options: Mapping[str, OptionValue] | None = None,
    ) -> dict[str, Any]:
        """A slash command interaction; `command` is the path as typed, e.g. `"scout latest"`.

        If the command was synced, option types come from its definition and unknown or missing
        required options raise ValueError; otherwise they are inferred from the Python values."""
        return self._command_interaction(
            InteractionType.APPLICATION_COMMAND, command, guild_id, channel_id, member, options or {}, focused=None
        )

    def build_autocomplete(
        self,
        command: str,
        *,
        focused: str,
        value: str,
        guild_id: int,
        channel_id: int,
        member: MemberSpec,
        options: Mapping[str, OptionValue] | None = None,
    ) -> dict[str, Any]:
        """An autocomplete interaction: the user is typing `value` into option `focused`."""
        return self._command_interaction(
            InteractionType.AUTOCOMPLETE, command, guild_id, channel_id, member, {**(options or {}), focused: value},
            focused=focused,
        )

    def build_component(
        self,
        message_id: int,
        custom_id: str,
        *,
        member: MemberSpec,
        values: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """A click on a button, or a choice in a select (`values`), of a message the bot sent."""
        message = self.message(message_id)
        component = message.find_component(custom_id)
        if component is None:
            raise ValueError(f"message {message_id} has no component {custom_id!r}; it has {message.custom_ids()}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a member cannot use it")
        kind = int(component["type"])
        if kind in _SELECT_TYPES:
            self._check_select_values(component, values)
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is not a select; it takes no values")
        if message.guild_id is None:
            raise ValueError("the fake only builds guild interactions")
        payload = self._base_interaction(
            InteractionType.MESSAGE_COMPONENT, message.guild_id, message.channel_id, member
        )
        payload["message"] = self._message_payload(message)
        payload["data"] = {"custom_id": custom_id, "component_type": kind}
        if values is not None:
            payload["data"]["values"] = list(values)
        return payload

    def build_modal_submit(
        self, custom_id: str, values: Mapping[str, str | Sequence[str]], *, member: MemberSpec | None = None
    ) -> dict[str, Any]:
        """Submit the modal with `custom_id` that the bot opened most recently (callback type 9).

        `values` maps each input's custom_id to its text (or a list of values for a select). The
        submission mirrors the modal's layout (action rows or labels); missing required inputs,
        unknown inputs and over-length text raise ValueError."""
        opener = next((r for r in reversed(self.interactions.values()) if _opened_modal(r) == custom_id), None)
        if opener is None:
            raise ValueError(f"the bot has not opened a modal {custom_id!r}")
        modal = opener.callback.data  # type: ignore[union-attr]
        walked = _walk_components(modal.get("components") or [])
        inputs = {c["custom_id"]: c for c in walked if c.get("type") in _INPUT_TYPES}
        unknown = set(values) - set(inputs)
        if unknown:
            raise ValueError(f"modal {custom_id!r} has no inputs {sorted(unknown)}; it has {sorted(inputs)}")
        for input_id, spec in inputs.items():
            text = values.get(input_id)
            if spec.get("type") == 4:
                if spec.get("required", True) and not text:
                    raise ValueError(f"input {input_id!r} is required")
                low, high = spec.get("min_length", 0), spec.get("max_length", 4000)
                if text and not low <= len(text) <= high:
                    raise ValueError(f"input {input_id!r} must be {low}-{high} characters")
        submitted = [self._submitted_component(c, values) for c in modal.get("components") or []]
        guild_id = opener.guild_id
        if guild_id is None:
            raise ValueError("the fake only builds guild interactions")
        who = member or self.guilds[guild_id].members[int(opener.member["user"]["id"])]  # type: ignore[index]
        payload = self._base_interaction(InteractionType.MODAL_SUBMIT, guild_id, opener.channel_id, who)
        payload["data"] = {"custom_id": custom_id, "components": [c for c in submitted if c is not None]}
        if "message" in opener.payload:
            payload["message"] = self._message_payload(self.message(int(opener.payload["message"]["id"])))
        return payload

    @staticmethod
    def _submitted_component(
        component: dict[str, Any], values: Mapping[str, str | Sequence[str]]
    ) -> dict[str, Any] | None:
        def answer(item: dict[str, Any]) -> dict[str, Any]:
            value = values.get(item["custom_id"])
            if item.get("type") == 4:
                return {"type": 4, "id": item.get("id", 0), "custom_id": item["custom_id"], "value": value or ""}
            chosen = [value] if isinstance(value, str) else list(value or [])
            return {"type": item["type"], "id": item.get("id", 0), "custom_id": item["custom_id"], "values": chosen}

        if component.get("type") == 1:
            return {"type": 1, "components": [answer(c) for c in component.get("components") or [] if "custom_id" in c]}
        if component.get("type") == 18 and "custom_id" in (component.get("component") or {}):
            return {"type": 18, "id": component.get("id", 0), "component": answer(component["component"])}
        return None

    @staticmethod
    def _check_select_values(component: dict[str, Any], values: Sequence[str] | None) -> None:
        custom_id = component.get("custom_id")
        if values is None:
            raise ValueError(f"select {custom_id!r} needs values")
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}-{high} values, got {len(values)}")
        if component.get("type") == 3:
            offered = {o["value"] for o in component.get("options") or []}
            if not set(values) <= offered:
                raise ValueError(f"select {custom_id!r} offers {sorted(offered)}, not {sorted(set(values) - offered)}")

    def _base_interaction(
        self, kind: InteractionType, guild_id: int, channel_id: int, member: MemberSpec
    ) -> dict[str, Any]:
        guild = self._guild(guild_id)
        channel = guild.channel(channel_id)
        if channel is None:
            raise ValueError(f"guild {guild_id} has no channel {channel_id}")
        guild.add_member(member)
        member_payload = guild.member_payload(member)
        member_payload["permissions"] = str(guild.permissions_in(channel, member))
        return {
            "id": str(new_snowflake()),
            "application_id": str(self.application_id),
            "type": int(kind),
            "token": secrets.token_urlsafe(48),
            "version": 1,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": guild.channel_payload(channel),
            "member": member_payload,
            "app_permissions": str(guild.permissions_in(channel, guild.bot_member)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _command_interaction(
        self,
        kind: InteractionType,
        command: str,
        guild_id: int,
        channel_id: int,
        member: MemberSpec,
        options: Mapping[str, OptionValue],
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        path = command.split()
        if not 1 <= len(path) <= 3:
            raise ValueError(f"command path {command!r} must be 'name [group] [subcommand]'")
        payload = self._base_interaction(kind, guild_id, channel_id, member)
        registered, scope = self._registered_command(guild_id, path[0])
        declared = self._declared_options(registered, path[1:]) if registered else None
        guild = self._guild(guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        leaf = [
            self._option(guild, channel_id, member, name, value, declared, resolved, focused=name == focused)
            for name, value in options.items()
        ]
        if declared is not None:
            missing = [o["name"] for o in declared if o.get("required") and o["name"] not in options]
            if missing and kind == InteractionType.APPLICATION_COMMAND:
                raise ValueError(f"/{command} requires options {missing}")
        nested: list[dict[str, Any]] = leaf
        for depth, name in reversed(list(enumerate(path[1:], start=1))):
            nested = [{"type": 1 if depth == len(path) - 1 else 2, "name": name, "options": nested}]
        data: dict[str, Any] = {
            "id": str(registered["id"]) if registered else str(new_snowflake()),
            "name": path[0],
            "type": 1,
            "options": nested,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        payload["data"] = data
        return payload

    def _registered_command(self, guild_id: int, name: str) -> tuple[dict[str, Any] | None, int | None]:
        for scope in (guild_id, None):
            commands = self._commands.get(scope, [])
            found = next((c for c in commands if c["name"] == name and c.get("type", 1) == 1), None)
            if found:
                return found, scope
        return None, None

    @staticmethod
    def _declared_options(command: dict[str, Any], subpath: Sequence[str]) -> list[dict[str, Any]]:
        options = command.get("options") or []
        for name in subpath:
            group = next((o for o in options if o["name"] == name and o["type"] in (1, 2)), None)
            if group is None:
                raise ValueError(f"/{command['name']} has no subcommand {name!r}")
            options = group.get("options") or []
        if any(o["type"] in (1, 2) for o in options):
            raise ValueError(f"/{command['name']} {' '.join(subpath)} needs a subcommand")
        return options

    def _option(
        self,
        guild: _Guild,
        channel_id: int,
        member: MemberSpec,
        name: str,
        value: OptionValue,
        declared: list[dict[str, Any]] | None,
        resolved: dict[str, dict[str, Any]],
        *,
        focused: bool,
    ) -> dict[str, Any]:
        kind = _infer_option_type(value)
        if declared is not None:
            spec = next((o for o in declared if o["name"] == name), None)
            if spec is None:
                raise ValueError(f"the command has no option {name!r}; it has {[o['name'] for o in declared]}")
            kind = int(spec["type"])
        option: dict[str, Any] = {"type": kind, "name": name}
        if focused:
            option.update(value=str(value), focused=True)
            return option
        if isinstance(value, ChannelArg):
            target = guild.channel(value.id)
            if target is None:
                raise ValueError(f"guild {guild.id} has no channel {value.id}")
            payload = guild.channel_payload(target)
            payload["permissions"] = str(guild.permissions_in(target, member))
            resolved.setdefault("channels", {})[str(value.id)] = payload
        elif isinstance(value, UserArg):
            target_member = guild.members.get(value.id)
            if target_member is None:
                raise ValueError(f"guild {guild.id} has no member {value.id}")
            resolved.setdefault("users", {})[str(value.id)] = _user_payload(target_member)
            member_payload = guild.member_payload(target_member, with_user=False)
            channel = guild.channel(channel_id)
            member_payload["permissions"] = str(guild.permissions_in(channel, target_member)) if channel else "0"
            resolved.setdefault("members", {})[str(value.id)] = member_payload
        elif isinstance(value, RoleArg):
            role = guild.role(value.id)
            if role is None:
                raise ValueError(f"guild {guild.id} has no role {value.id}")
            resolved.setdefault("roles", {})[str(value.id)] = guild.role_payload(role)
        option["value"] = _option_wire_value(kind, value)
        return option

    # -- user activity -----------------------------------------------------------------------------

    async def post_user_message(self, channel_id: int, member: MemberSpec, content: str) -> StoredMessage:
        """A member writes in a channel: stored, and MESSAGE_CREATE goes to the bot (content only with
        the MESSAGE_CONTENT intent or when the bot is mentioned, as on Discord)."""
        guild, channel = self._guild_channel(channel_id)
        guild.add_member(member)
        message = StoredMessage(
            id=new_snowflake(), channel_id=channel.id, guild_id=guild.id, author=_user_payload(member), content=content
        )
        self._mentions(message, guild)
        self.messages[message.id] = message
        await self._announce_message("MESSAGE_CREATE", message)
        self._notify()
        return message

    # -- routing -----------------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        """Ids must be digits (anything else falls through to the recorded 404), as snowflakes are."""
        webhook_message = r"/webhooks/{app_id:\d+}/{token}/messages/{message_id:(?:\d+|@original)}"
        api: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", r"/users/{user_id:\d+}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", r"/applications/{app_id:\d+}/commands", self._get_commands),
            ("PUT", r"/applications/{app_id:\d+}/commands", self._put_commands),
            ("GET", r"/applications/{app_id:\d+}/guilds/{guild_id:\d+}/commands", self._get_commands),
            ("PUT", r"/applications/{app_id:\d+}/guilds/{guild_id:\d+}/commands", self._put_commands),
            ("GET", r"/channels/{channel_id:\d+}", self._get_channel),
            ("POST", r"/channels/{channel_id:\d+}/typing", self._post_typing),
            ("GET", r"/channels/{channel_id:\d+}/messages", self._get_messages),
            ("POST", r"/channels/{channel_id:\d+}/messages", self._post_message),
            ("GET", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._get_message),
            ("PATCH", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._patch_message),
            ("DELETE", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._delete_message),
            ("GET", r"/guilds/{guild_id:\d+}", self._get_guild),
            ("GET", r"/guilds/{guild_id:\d+}/channels", self._get_guild_channels),
            ("GET", r"/guilds/{guild_id:\d+}/members/{user_id:\d+}", self._get_member),
            ("POST", r"/interactions/{interaction_id:\d+}/{token}/callback", self._post_callback),
            ("POST", r"/webhooks/{app_id:\d+}/{token}", self._post_followup),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._patch_webhook_message),
            ("DELETE", webhook_message, self._delete_webhook_message),
        ]
        for method, path, handler in api:
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_get(r"/attachments/{attachment_id:\d+}/{filename}", self._get_attachment)
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)

    @web.middleware
    async def _api_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else ""
        template = canonical[len(API_PREFIX) :] if canonical.startswith(API_PREFIX) else None
        record = RecordedRequest(request.method, path, dict(request.query), template, time.perf_counter())
        self.requests.append(record)
        request[_RECORD] = record
        try:
            response = self._injected_fault(request.method, path) or self._refuse_unauthorised(request, path)
            if response is None:
                response = await handler(request)
        except DiscordError as error:
            response = error.response()
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            _log.exception("fake Discord failed on %s %s", request.method, path)
            response = json_response({"message": "500: Internal Server Error (fake)", "code": 0}, status=500)
        record.status = response.status
        if response.status != 429:
            self._add_rate_limit_headers(response, request.method, template or path)
        self._notify()
        return response

    def _injected_fault(self, method: str, path: str) -> web.Response | None:
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        if fault is None:
            return None
        fault.hits += 1
        if fault.remaining is not None:
            fault.remaining -= 1
        return json_response(fault.body, status=fault.status, headers=fault.headers)

    def _refuse_unauthorised(self, request: web.Request, path: str) -> web.Response | None:
        if path.startswith(("/interactions/", "/webhooks/")) or path == "/gateway":
            return None
        if request.headers.get("Authorization") == f"Bot {self.token}":
            return None
        return json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    @staticmethod
    def _add_rate_limit_headers(response: web.StreamResponse, method: str, route: str) -> None:
        bucket = hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]
        response.headers.update(
            {
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                "X-RateLimit-Reset-After": "1.000",
            }
        )

    async def _unknown_route(self, request: web.Request) -> web.Response:
        if _RECORD not in request:  # outside the API prefix (a wrong API version, say): keep its full path
            query = dict(request.query)
            self.requests.append(RecordedRequest(request.method, request.path, query, None, time.perf_counter(), 404))
            self._notify()
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    # -- helpers for handlers ----------------------------------------------------------------------

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

    def _require_bot_permission(self, guild: _Guild, channel: ChannelSpec, needed: int) -> int:
        granted = guild.permissions_in(channel, guild.bot_member)
        if not granted & Permission.VIEW_CHANNEL:
            raise DiscordError(403, ErrorCode.MISSING_ACCESS, "Missing Access")
        if granted & needed != needed:
            raise _missing_permissions()
        return granted

    async def _read_payload(self, request: web.Request) -> tuple[Any, list[tuple[int, StoredAttachment]]]:
        """A JSON body, or multipart `payload_json` + `files[n]`; files come back with their index n."""
        files: list[tuple[int, StoredAttachment]] = []
        if request.content_type == "multipart/form-data":
            payload: Any = {}
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    payload = _parse_json(await part.read())
                elif part.filename is not None:
                    index = int(re.sub(r"\D", "", part.name or "") or len(files))
                    guessed = mimetypes.guess_type(part.filename)[0] or "application/octet-stream"
                    attachment = StoredAttachment(new_snowflake(), part.filename, bytes(await part.read()), guessed)
                    files.append((index, attachment))
        else:
            raw = await request.read()
            payload = _parse_json(raw) if raw else {}
        record = request[_RECORD]
        record.body = payload
        record.file_names = [a.filename for _, a in files]
        return payload, files

    async def _read_object(self, request: web.Request) -> tuple[dict[str, Any], list[tuple[int, StoredAttachment]]]:
        payload, files = await self._read_payload(request)
        if not isinstance(payload, dict):
            _raise_form_errors({"_root": "Must be a JSON object."})
        return payload, files

    @staticmethod
    def _attachments_for(
        payload: Mapping[str, Any], files: list[tuple[int, StoredAttachment]], existing: Sequence[StoredAttachment] = ()
    ) -> list[StoredAttachment]:
        """Kept attachments (listed by id) plus uploads, described by `attachments[]` entries with their index."""
        described = {str(a.get("id")): a for a in payload.get("attachments") or []}
        for index, attachment in files:
            meta = described.get(str(index), {})
            attachment.description = meta.get("description")
            attachment.filename = meta.get("filename") or attachment.filename
        uploads = [a for _, a in files]
        if "attachments" not in payload:
            return [*existing, *uploads]
        kept = [a for a in existing if str(a.id) in described]
        return [*kept, *uploads]

    def _mentions(self, message: StoredMessage, guild: _Guild | None) -> None:
        """Who the message actually pings, applying `allowed_mentions` the way Discord does."""
        allowed = message.allowed_mentions
        parse = set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
        allowed_users = {int(u) for u in (allowed or {}).get("users", [])}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles", [])}
        users = [int(u) for u in _USER_MENTION.findall(message.content)]
        message.mentioned_user_ids = list(dict.fromkeys(u for u in users if "users" in parse or u in allowed_users))
        roles = [int(r) for r in _ROLE_MENTION.findall(message.content)]
        message.mentioned_role_ids = list(dict.fromkeys(r for r in roles if "roles" in parse or r in allowed_roles))
        message.mention_everyone = bool(_EVERYONE_MENTION.search(message.content)) and "everyone" in parse
        reference = message.message_reference
        if reference and (allowed is None or allowed.get("replied_user")):
            replied = self.messages.get(int(reference["message_id"]))
            if replied is not None and replied.author_id not in message.mentioned_user_ids:
                message.mentioned_user_ids.append(replied.author_id)

    def _message_payload(self, message: StoredMessage, *, for_gateway: bool = False, depth: int = 0) -> dict[str, Any]:
        guild = self.guilds.get(message.guild_id) if message.guild_id else None
        mentions = []
        for user_id in message.mentioned_user_ids:
            member = guild.members.get(user_id) if guild else None
            if guild is not None and member is not None:
                mentions.append({**_user_payload(member), "member": guild.member_payload(member, with_user=False)})
        payload: dict[str, Any] = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": message.type,
            "content": message.content,
            "author": message.author,
            "timestamp": _iso(message.created_at),
            "edited_timestamp": _iso(message.edited_at),
            "tts": message.tts,
            "mention_everyone": message.mention_everyone,
            "mentions": mentions,
            "mention_roles": [str(r) for r in message.mentioned_role_ids],
            "attachments": [self._attachment_payload(a) for a in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": False,
            "flags": message.flags,
        }
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(self.application_id)
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
            referenced = self.messages.get(int(message.message_reference["message_id"]))
            shown = referenced is not None and not referenced.deleted and depth == 0
            payload["referenced_message"] = self._message_payload(referenced, depth=1) if shown else None
        if for_gateway and guild is not None and message.webhook_id is None:
            author = guild.members.get(message.author_id)
            if author is not None:
                payload["member"] = guild.member_payload(author, with_user=False)
        return payload

    def _attachment_payload(self, attachment: StoredAttachment) -> dict[str, Any]:
        url = f"{self.base_url}/attachments/{attachment.id}/{attachment.filename}"
        payload = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": len(attachment.data),
            "url": url,
            "proxy_url": url,
            "content_type": attachment.content_type,
        }
        if attachment.description:
            payload["description"] = attachment.description
        return payload

    async def _dispatch_guild_event(self, guild_id: int | None, event: str, data: Any, intent: int) -> None:
        for session in list(self._sessions.values()):
            if session.live and session.intents & intent and session.covers(guild_id):
                await session.dispatch(event, data)

    async def _announce_message(self, event: str, message: StoredMessage) -> None:
        """MESSAGE_CREATE/UPDATE to sessions with GUILD_MESSAGES; content stripped without MESSAGE_CONTENT."""
        if message.ephemeral:
            return
        payload = self._message_payload(message, for_gateway=True)
        bot_id = int(self.bot_user["id"])
        keeps_content = message.author_id == bot_id or bot_id in message.mentioned_user_ids
        for session in list(self._sessions.values()):
            if not (session.live and session.intents & Intent.GUILD_MESSAGES and session.covers(message.guild_id)):
                continue
            data = payload
            if not keeps_content and not session.intents & Intent.MESSAGE_CONTENT:
                data = {**payload, "content": "", "embeds": [], "attachments": [], "components": []}
            await session.dispatch(event, data)

    def _new_message(
        self,
        payload: Mapping[str, Any],
        attachments: list[StoredAttachment],
        *,
        channel_id: int,
        guild_id: int | None,
        flags_allowed: int,
    ) -> StoredMessage:
        message = StoredMessage(
            id=new_snowflake(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=self.bot_user,
            content=payload.get("content") or "",
            embeds=[{"type": "rich", **e} for e in payload.get("embeds") or []],
            components=list(payload.get("components") or []),
            attachments=attachments,
            allowed_mentions=payload.get("allowed_mentions"),
            flags=int(payload.get("flags") or 0) & flags_allowed,
            tts=bool(payload.get("tts", False)),
            nonce=payload.get("nonce"),
        )
        return message

    def _apply_edit(
        self, message: StoredMessage, payload: Mapping[str, Any], files: list[tuple[int, StoredAttachment]]
    ) -> None:
        message.history.append(message.snapshot())
        if "content" in payload:
            message.content = payload["content"] or ""
        if "embeds" in payload:
            message.embeds = [{"type": "rich", **e} for e in payload["embeds"] or []]
        if "components" in payload:
            message.components = list(payload["components"] or [])
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload["allowed_mentions"]
        if "flags" in payload and payload["flags"] is not None:
            fixed = message.flags & (EPHEMERAL_FLAG | COMPONENTS_V2_FLAG)
            message.flags = fixed | (int(payload["flags"]) & _SENDABLE_MESSAGE_FLAGS)
        if "attachments" in payload or files:
            message.attachments = self._attachments_for(payload, files, message.attachments)
        message.flags &= ~LOADING_FLAG
        message.edited_at = _now()

    # -- REST: users, application, gateway ---------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.bot_user, "verified": True, "mfa_enabled": True, "locale": "en-US", "email": None})

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        for guild in self.guilds.values():
            if user_id in guild.members:
                return json_response(_user_payload(guild.members[user_id]))
        raise _unknown(ErrorCode.UNKNOWN_USER, "User")

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": False,
                "bot_require_code_grant": False,
                "bot": self.bot_user,
                "owner": _user_payload(MemberSpec("fake-owner", id=self.application_id - 1)),
                "team": None,
                "verify_key": hashlib.sha256(str(self.application_id).encode()).hexdigest(),
                "flags": self.application_flags,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # -- REST: application commands ----------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != self.application_id:
            raise _unknown(ErrorCode.UNKNOWN_APPLICATION, "Application")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        return self._guild(int(guild_id)).id

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self._commands.get(self._command_scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        payload, _ = await self._read_payload(request)
        _raise_form_errors(_command_errors(payload))
        stored = []
        for command in payload:
            kind = int(command.get("type", 1))
            key = (scope, command["name"], kind)
            command_id = self._command_ids.setdefault(key, new_snowflake())
            stored.append(
                {
                    "default_member_permissions": None,
                    "contexts": None,
                    "integration_types": None,
                    "nsfw": False,
                    "options": [],
                    "description": "",
                    **command,
                    "type": kind,
                    "id": str(command_id),
                    "application_id": str(self.application_id),
                    "version": str(new_snowflake()),
                    **({"guild_id": str(scope)} if scope is not None else {}),
                }
            )
        self._commands[scope] = stored
        self.command_syncs.append(CommandSync(scope, copy.deepcopy(payload), time.perf_counter()))
        return json_response(stored)

    # -- REST: channels and messages ---------------------------------------------------------------

    async def _get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        return json_response(guild.channel_payload(channel))

    async def _post_typing(self, request: web.Request) -> web.Response:
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        self._require_bot_permission(guild, channel, Permission.SEND_MESSAGES)
        return web.Response(status=204)

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._guild_channel(channel_id)
        self._require_bot_permission(guild, channel, Permission.READ_MESSAGE_HISTORY)
        limit = min(100, max(1, int(request.query.get("limit", 50))))
        messages = self.channel_messages(channel_id)
        if "before" in request.query:
            messages = [m for m in messages if m.id < int(request.query["before"])]
        if "after" in request.query:
            messages = [m for m in messages if m.id > int(request.query["after"])][:limit]
        newest_first = list(reversed(messages))[:limit]
        return json_response([self._message_payload(m) for m in newest_first])

    async def _post_message(self, request: web.Request) -> web.Response:
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        if channel.type not in _TEXT_CHANNEL_TYPES:
            raise DiscordError(400, ErrorCode.NON_TEXT_CHANNEL, "Cannot send messages in a non-text channel")
        granted = self._require_bot_permission(guild, channel, Permission.SEND_MESSAGES)
        payload, files = await self._read_object(request)
        if files and not granted & Permission.ATTACH_FILES:
            raise _missing_permissions()
        _raise_form_errors(_message_errors(payload))
        if not any(payload.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll")) and not files:
            raise DiscordError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")
        repeat = self._enforced_nonce_repeat(payload, channel.id)
        if repeat is not None:
            return json_response(self._message_payload(repeat))
        reference = self._checked_reference(payload.get("message_reference"), channel.id, guild.id)
        message = self._new_message(
            payload,
            self._attachments_for(payload, files),
            channel_id=channel.id,
            guild_id=guild.id,
            flags_allowed=_SENDABLE_MESSAGE_FLAGS,
        )
        if not granted & Permission.EMBED_LINKS:
            message.embeds = []
        if reference is not None:
            message.message_reference = reference
            message.type = _MESSAGE_TYPE_REPLY
        self._mentions(message, guild)
        self.messages[message.id] = message
        await self._announce_message("MESSAGE_CREATE", message)
        return json_response(self._message_payload(message))

    def _enforced_nonce_repeat(self, payload: Mapping[str, Any], channel_id: int) -> StoredMessage | None:
        """Discord answers a repeated post with `enforce_nonce` with the message it already created."""
        nonce = payload.get("nonce")
        if nonce is None or not payload.get("enforce_nonce"):
            return None
        return next(
            (
                message for message in self.messages.values()
                if message.channel_id == channel_id and message.nonce == nonce and not message.deleted
                and int(message.author["id"]) == self.bot.id
            ),
            None,
        )

    def _checked_reference(
        self, reference: Mapping[str, Any] | None, channel_id: int, guild_id: int
    ) -> dict[str, Any] | None:
        if not reference:
            return None
        message_id = int(reference["message_id"])
        target = self.messages.get(message_id)
        if target is None or target.deleted or target.channel_id != int(reference.get("channel_id") or channel_id):
            if reference.get("fail_if_not_exists", True):
                raise DiscordError(
                    400, ErrorCode.INVALID_FORM_BODY, "Invalid Form Body",
                    {"message_reference": "Unknown message"},
                )
            return None
        return {
            "type": 0,
            "message_id": str(message_id),
            "channel_id": str(target.channel_id),
            "guild_id": str(guild_id),
        }

    async def _get_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._guild_channel(channel_id)
        self._require_bot_permission(guild, channel, Permission.READ_MESSAGE_HISTORY)
        message = self._channel_message(channel_id, int(request.match_info["message_id"]))
        return json_response(self._message_payload(message))

    async def _patch_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        message = self._channel_message(channel_id, int(request.match_info["message_id"]))
        payload, files = await self._read_object(request)
        if message.author_id != self.bot.id or message.webhook_id is not None:
            raise DiscordError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit another user's message")
        _raise_form_errors(_message_errors(payload))
        self._apply_edit(message, payload, files)
        await self._announce_message("MESSAGE_UPDATE", message)
        return json_response(self._message_payload(message))

    async def _delete_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._guild_channel(channel_id)
        message = self._channel_message(channel_id, int(request.match_info["message_id"]))
        if message.author_id != self.bot.id:
            self._require_bot_permission(guild, channel, Permission.MANAGE_MESSAGES)
        message.deleted = True
        event = {"id": str(message.id), "channel_id": str(channel_id), "guild_id": str(guild.id)}
        await self._dispatch_guild_event(guild.id, "MESSAGE_DELETE", event, Intent.GUILD_MESSAGES)
        return web.Response(status=204)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        attachment_id = int(request.match_info["attachment_id"])
        for message in self.messages.values():
            for attachment in message.attachments:
                if attachment.id == attachment_id:
                    return web.Response(body=attachment.data, headers={"Content-Type": attachment.content_type})
        return web.Response(status=404)

    # -- REST: guilds ------------------------------------------------------------------------------

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(int(request.match_info["guild_id"]))
        payload = guild.payload()
        if request.query.get("with_counts") in ("true", "1", "True"):
            payload.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(int(request.match_info["guild_id"]))
        return json_response([guild.channel_payload(c) for c in guild.channels])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(int(request.match_info["guild_id"]))
        member = guild.members.get(int(request.match_info["user_id"]))
        if member is None:
            raise _unknown(ErrorCode.UNKNOWN_MEMBER, "Member")
        return json_response(guild.member_payload(member))

    # -- REST: interaction callbacks and webhook follow-ups ----------------------------------------

    def _record_for_token(self, interaction_id: int, token: str) -> InteractionRecord:
        record = self.interactions.get(interaction_id)
        if record is None or record.token != token or record.expired:
            raise _unknown(ErrorCode.UNKNOWN_INTERACTION, "interaction")
        return record

    def _record_for_webhook(self, request: web.Request) -> InteractionRecord:
        token = request.match_info["token"]
        record = next((r for r in self.interactions.values() if r.token == token), None)
        if int(request.match_info["app_id"]) != self.application_id or record is None or record.expired:
            raise _unknown(ErrorCode.UNKNOWN_WEBHOOK, "Webhook")
        if record.callback is None:
            raise _unknown(ErrorCode.UNKNOWN_WEBHOOK, "Webhook")
        return record

    def _interaction_message(
        self, record: InteractionRecord, payload: Mapping[str, Any], attachments: list[StoredAttachment]
    ) -> StoredMessage:
        message = self._new_message(
            payload,
            attachments,
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            flags_allowed=_SENDABLE_MESSAGE_FLAGS | EPHEMERAL_FLAG,
        )
        message.webhook_id = self.application_id
        message.interaction_id = record.id
        message.type = _MESSAGE_TYPE_CHAT_INPUT if record.type == InteractionType.APPLICATION_COMMAND else 0
        user = (record.member or {}).get("user") or self.bot_user
        message.interaction_metadata = {
            "id": str(record.id),
            "type": record.type,
            "user": user,
            "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
        }
        guild = self.guilds.get(record.guild_id) if record.guild_id else None
        self._mentions(message, guild)
        self.messages[message.id] = message
        return message

    async def _post_callback(self, request: web.Request) -> web.Response:
        record = self._record_for_token(int(request.match_info["interaction_id"]), request.match_info["token"])
        received_at = time.perf_counter()
        if record.callback is not None:
            raise DiscordError(400, ErrorCode.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        payload, files = await self._read_object(request)
        kind = int(payload.get("type", 0))
        data = payload.get("data") or {}
        message = await self._apply_callback(record, kind, data, files)
        record.callback = InteractionCallback(
            type=kind,
            data=data,
            files=[a for _, a in files],
            received_at=received_at,
            latency=received_at - record.dispatched_at,
            message=message,
        )
        if "with_response" not in request.query or request.query["with_response"] in ("0", "false"):
            return web.Response(status=204)
        body: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_id": _opt_str(message.id if message else None),
                "response_message_loading": kind == CallbackType.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if message is not None:
            body["resource"] = {"type": kind, "message": self._message_payload(message)}
        return json_response(body)

    async def _apply_callback(
        self, record: InteractionRecord, kind: int, data: Mapping[str, Any], files: list[tuple[int, StoredAttachment]]
    ) -> StoredMessage | None:
        """Validate the callback for this interaction type and create or update the message it implies."""
        on_message = "message" in record.payload
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7} if on_message else {4, 5},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.PING: {1},
        }[InteractionType(record.type)]
        if kind not in allowed:
            _raise_form_errors({"type": f"Response type {kind} is invalid for interaction type {record.type}"})
        if kind == CallbackType.CHANNEL_MESSAGE:
            _raise_form_errors(_message_errors(data))
            if not any(data.get(k) for k in ("content", "embeds", "components", "poll")) and not files:
                raise DiscordError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")
            message = self._interaction_message(record, data, self._attachments_for(data, files))
            record.original_message_id = message.id
            await self._announce_message("MESSAGE_CREATE", message)
            return message
        if kind == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            message = self._interaction_message(record, {"flags": int(data.get("flags") or 0) & EPHEMERAL_FLAG}, [])
            message.flags |= LOADING_FLAG
            record.original_message_id = message.id
            await self._announce_message("MESSAGE_CREATE", message)
            return message
        if kind in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            message = self.message(int(record.payload["message"]["id"]))
            record.original_message_id = message.id
            if kind == CallbackType.UPDATE_MESSAGE:
                _raise_form_errors(_message_errors(data))
                self._apply_edit(message, data, files)
                await self._announce_message("MESSAGE_UPDATE", message)
            return message
        if kind == CallbackType.AUTOCOMPLETE_RESULT:
            _raise_form_errors(_choice_errors(data))
        if kind == CallbackType.MODAL:
            _raise_form_errors(_modal_errors(data))
        return None

    async def _post_followup(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        payload, files = await self._read_object(request)
        _raise_form_errors(_message_errors(payload))
        if not any(payload.get(k) for k in ("content", "embeds", "components", "poll")) and not files:
            raise DiscordError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")
        message = self._interaction_message(record, payload, self._attachments_for(payload, files))
        record.followup_ids.append(message.id)
        await self._announce_message("MESSAGE_CREATE", message)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self._message_payload(message))
        return web.Response(status=204)

    def _webhook_message(self, record: InteractionRecord, message_ref: str) -> StoredMessage:
        message_id = record.original_message_id if message_ref == "@original" else int(message_ref)
        ours = message_id is not None and message_id in (record.original_message_id, *record.followup_ids)
        message = self.messages.get(message_id) if ours and message_id is not None else None
        if message is None or message.deleted:
            raise _unknown(ErrorCode.UNKNOWN_MESSAGE, "Message")
        return message

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        return json_response(self._message_payload(self._webhook_message(record, request.match_info["message_id"])))

    async def _patch_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        payload, files = await self._read_object(request)
        _raise_form_errors(_message_errors(payload))
        self._apply_edit(message, payload, files)
        await self._announce_message("MESSAGE_UPDATE", message)
        return json_response(self._message_payload(message))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        message.deleted = True
        if not message.ephemeral and message.guild_id is not None:
            event = {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)}
            await self._dispatch_guild_event(message.guild_id, "MESSAGE_DELETE", event, Intent.GUILD_MESSAGES)
        return web.Response(status=204)

    # -- gateway -----------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        if not ws.can_prepare(request).ok:
            return await self._unknown_route(request)
        await ws.prepare(request)
        connection = _Connection(ws)
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
        if session is None or session.invalid:
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
            m for m in guild.members.values()
            if (not wanted or m.id in wanted) and m.name.lower().startswith(query)
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


def _opened_modal(record: InteractionRecord) -> str | None:
    """The custom_id of the modal the bot opened in answer to this interaction, if it did."""
    callback = record.callback
    return callback.data.get("custom_id") if callback and callback.type == CallbackType.MODAL else None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordError(400, ErrorCode.INVALID_JSON, "The request body contains invalid JSON.") from None


def _infer_option_type(value: OptionValue) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, ChannelArg):
        return 7
    if isinstance(value, UserArg):
        return 6
    if isinstance(value, RoleArg):
        return 8
    return 3


def _option_wire_value(kind: int, value: OptionValue) -> Any:
    """The option's value as Discord sends it, checked against the declared type."""
    if isinstance(value, (ChannelArg, UserArg, RoleArg)):
        if kind not in (6, 7, 8, 9):
            raise ValueError(f"a {type(value).__name__} cannot fill an option of type {kind}")
        return str(value.id)
    checks: dict[int, Callable[[Any], bool]] = {
        3: lambda v: isinstance(v, str),
        4: lambda v: isinstance(v, int) and not isinstance(v, bool),
        5: lambda v: isinstance(v, bool),
        10: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    }
    if kind not in checks or not checks[kind](value):
        raise ValueError(f"{value!r} cannot fill an option of type {kind}")
    return value


# --------------------------------------------------------------------------------------------------
# Running a real client against the fake.
# --------------------------------------------------------------------------------------------------

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def connected_client(
    client: ClientT, fake: FakeDiscord, *, token: str | None = None, ready_timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Point discord.py at `fake`, log `client` in, run its gateway loop and yield once on_ready fired;
    close it on exit (re-raising anything its gateway loop raised) and restore discord.py's addresses.

    Give the client a short `guild_ready_timeout` (e.g. 0.05): discord.py waits that long after the
    last GUILD_CREATE before on_ready. `token` overrides `fake.token`, to test a wrong one."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(fake.api_base, fake.gateway_url)
    try:
        try:
            await client.login(fake.token if token is None else token)
        except BaseException:
            await client.close()
            raise
        runner = asyncio.create_task(client.connect(reconnect=True), name="discord-client-gateway")
        ready = asyncio.create_task(client.wait_until_ready(), name="discord-client-ready")
        try:
            done, _ = await asyncio.wait({runner, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
            if ready not in done:
                ready.cancel()
                if runner in done:
                    runner.result()
                raise TimeoutError(f"the client was not ready within {ready_timeout}s")
            yield client
        finally:
            ready.cancel()
            await client.close()
            await runner
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
