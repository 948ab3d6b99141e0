"""What a test configures — guilds, channels, roles, members, option values — and the Discord constants,
enums and snowflakes they are built from (values from the Discord API documentation)."""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

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
    CREATE_PUBLIC_THREADS = 1 << 35
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
    | Permission.CREATE_PUBLIC_THREADS
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
    PUBLIC_THREAD = 11
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
    THREAD_ALREADY_CREATED = 160004
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


def snowflake_on_shard(shard: int, shard_count: int) -> int:
    """A new guild id that Discord puts on `shard` of `shard_count` ((id >> 22) % count), for sharded tests."""
    while True:
        snowflake = new_snowflake()
        if (snowflake >> 22) % shard_count == shard:
            return snowflake
        time.sleep(0.001)


def _now() -> datetime:
    return datetime.now(UTC)


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
    `bot_permissions` goes to the bot's managed role. `owner_id` defaults to the first member.
    `system_channel_id` is where Discord posts join messages (and where a bot may say hello)."""

    name: str = "Scout Test Guild"
    id: int = field(default_factory=new_snowflake)
    channels: list[ChannelSpec] = field(default_factory=lambda: [ChannelSpec("general")])
    roles: list[RoleSpec] = field(default_factory=list)
    members: list[MemberSpec] = field(default_factory=list)
    owner_id: int | None = None
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS
    bot_permissions: int = DEFAULT_BOT_PERMISSIONS
    system_channel_id: int | None = None


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
