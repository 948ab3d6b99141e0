"""A fake Discord — REST API and gateway websocket in one aiohttp app on 127.0.0.1 — for end-to-end tests.

The real discord.py client runs against it unchanged, pointed here by `bot.discord_endpoints.point_discord_at`
(`connected_client` does that, logs in, waits for on_ready and closes cleanly). The fake keeps what
a test needs to assert on — every message with its edit history and uploaded bytes, every interaction
callback with the moment it arrived, every command sync — and behaves like Discord where bots usually go
wrong: JSON bodies with `Content-Type: application/json` exactly, Discord-shaped errors (429 with `Via` and
`retry_after`, 403 50013, 404 10003, 400 50035 with the offending field), permission checks on the bot's
posts, size limits, "already acknowledged", follow-ups before an ack, and privileged-intent refusals. A
test can also add the bot to a guild while it runs (`join_guild`, with the guild's system channel) and see
the threads the bot opens on its messages (`StoredMessage.thread_id`).

Usage sketch::

    guild = GuildSpec(channels=[ChannelSpec("scout")], members=[MemberSpec("alice")])
    async with FakeDiscord(guilds=[guild]) as fake, connected_client(bot, fake):
        payload = fake.build_command("scout latest", guild_id=guild.id,
                                     channel_id=guild.channels[0].id, member=guild.members[0])
        interaction_id = await fake.send_interaction(payload)
        callback = await fake.wait_for_interaction_response(interaction_id)

Import the public names from here (`bot.testing.discord`); the modules split the fake by job.
"""

from bot.testing.discord.payloads import json_response
from bot.testing.discord.records import (
    CommandSync,
    Fault,
    InteractionCallback,
    InteractionRecord,
    RecordedRequest,
    StoredAttachment,
    StoredMessage,
)
from bot.testing.discord.server import FakeDiscord, connected_client
from bot.testing.discord.specs import (
    ALL_PERMISSIONS,
    API_PREFIX,
    COMPONENTS_V2_FLAG,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DISCORD_EPOCH_MS,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    PRIVILEGED_INTENTS,
    CallbackType,
    ChannelArg,
    ChannelSpec,
    ChannelType,
    ErrorCode,
    GuildSpec,
    Intent,
    InteractionType,
    MemberSpec,
    OptionValue,
    OverwriteSpec,
    Permission,
    RoleArg,
    RoleSpec,
    UserArg,
    new_snowflake,
    snowflake_on_shard,
)
from bot.testing.discord.validation import DiscordError

__all__ = [
    "ALL_PERMISSIONS",
    "API_PREFIX",
    "COMPONENTS_V2_FLAG",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DISCORD_EPOCH_MS",
    "EPHEMERAL_FLAG",
    "LOADING_FLAG",
    "PRIVILEGED_INTENTS",
    "CallbackType",
    "ChannelArg",
    "ChannelSpec",
    "ChannelType",
    "CommandSync",
    "DiscordError",
    "ErrorCode",
    "FakeDiscord",
    "Fault",
    "GuildSpec",
    "Intent",
    "InteractionCallback",
    "InteractionRecord",
    "InteractionType",
    "MemberSpec",
    "OptionValue",
    "OverwriteSpec",
    "Permission",
    "RecordedRequest",
    "RoleArg",
    "RoleSpec",
    "StoredAttachment",
    "StoredMessage",
    "UserArg",
    "connected_client",
    "json_response",
    "new_snowflake",
    "snowflake_on_shard",
]
