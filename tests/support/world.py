"""The world of the end-to-end, fault and abuse suites: the real `ScoutBot` against FakeDiscord and FakeGateway,
with a real SQLite file.

`open_world` (the `world` fixture) starts both fakes with two guilds (each with an announcement channel, a member
and an admin) and a catalogue of two ordinary models, optionally with a `FakeDiscord` subclass that has more
faults; `world.run_bot()` starts a bot on the same database each time it is entered, so a test can stop one bot
and start another, as a restart would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.client import ScoutBot
from bot.gateway import GatewayClient
from bot.jobs.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store
from bot.testing.discord import (
    DEFAULT_EVERYONE_PERMISSIONS,
    ChannelArg,
    ChannelSpec,
    FakeDiscord,
    GuildSpec,
    MemberSpec,
    Permission,
    StoredMessage,
    connected_client,
)
from bot.testing.gateway_server import FakeGateway, ScriptedModel, constant_reply
from tests.support.bot_process import bot_environment

T = TypeVar("T")

API_KEY = "sk-or-test-e2e-secret"
SCOUT_SUBCOMMANDS = [
    "alerts",
    "export",
    "forget-me",
    "forget-member",
    "help",
    "leaderboard",
    "model",
    "note",
    "probe",
    "recent",
    "reveal",
    "setup",
    "status",
    "vote",
    "votes",
]
"""Every `/scout` subcommand, sorted: as the bot registers them and as Discord receives them."""
ORDINARY_MODELS = [
    {
        "id": "openai/gpt-4o",
        "name": "OpenAI: GPT-4o",
        "created": 1715558400,
        "context_length": 128000,
        "description": "GPT-4o is OpenAI's flagship model.",
        "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"], "tokenizer": "GPT"},
    },
    {
        "id": "anthropic/claude-sonnet-4",
        "name": "Anthropic: Claude Sonnet 4",
        "created": 1747958400,
        "context_length": 200000,
        "description": "Claude Sonnet 4 by Anthropic.",
        "pricing": {"prompt": "0.000003", "completion": "0.000015"},
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"], "tokenizer": "Claude"},
    },
]
OWL = {
    "id": "openrouter/owl-alpha",
    "name": "Owl Alpha",
    "created": 1780790400,
    "context_length": 1048576,
    "description": "This is a cloaked model provided to the community to gather feedback. Note: all prompts and "
    "completions for this model are logged by the provider and may be used to improve the model.",
    "pricing": {"prompt": "0", "completion": "0"},
    "architecture": {"input_modalities": ["text"], "output_modalities": ["text"], "tokenizer": "Other"},
}
OWL_SAYS = "I am a large language model trained by OpenAI. I'm happy to help with that."


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0, what: str = "condition") -> T:
    """Wait until the async `check` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def footer(message: StoredMessage) -> str:
    return ((message.embeds or [{}])[0].get("footer") or {}).get("text", "")


def card_lead(message: StoredMessage) -> str:
    """What a card says first (the description): the answer, "no guess yet", or the revealed truth."""
    return ((message.embeds or [{}])[0].get("description")) or ""


def fields(message: StoredMessage) -> dict[str, str]:
    return {field["name"]: field["value"] for field in (message.embeds or [{}])[0].get("fields", [])}


def announcements_in(fake: FakeDiscord, channel_id: int) -> list[StoredMessage]:
    return [m for m in fake.channel_messages(channel_id) if "· announcement #" in footer(m)]


@dataclass
class World:
    fake: FakeDiscord
    gateway: FakeGateway
    database: Path | str
    """A SQLite file, or a postgresql:// URL (`on_database` moves the world to another database)."""
    guild: GuildSpec
    channel: ChannelSpec
    member: MemberSpec
    admin: MemberSpec
    other_guild: GuildSpec
    other_channel: ChannelSpec
    other_admin: MemberSpec

    def _setting_values(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """This world's bot settings, in-process or as a child's environment alike, with `overrides` on top."""
        values: dict[str, Any] = {
            "discord_token": self.fake.token,
            "openrouter_api_key": API_KEY,
            "openrouter_base_url": self.gateway.base_url,
            **(
                {"database_url": self.database}
                if isinstance(self.database, str)
                else {"database_path": self.database, "database_url": None}
            ),
            "poll_interval_seconds": 3600,
            "log_level": "DEBUG",
            "probe_requests_per_minute": 6000,
            "probe_timeout_seconds": 10,
        }
        values.update(overrides)
        return values

    def settings(self, **overrides: Any) -> Settings:
        return Settings(_env_file=None, **self._setting_values(overrides))

    def process_environment(self, **overrides: Any) -> dict[str, str]:
        """The environment of a `python -m bot` child process that reaches this world's fakes."""
        return bot_environment(
            discord_api_base=self.fake.api_base,
            discord_gateway_url=self.fake.gateway_url,
            **self._setting_values(overrides),
        )

    @contextlib.asynccontextmanager
    async def run_bot(self, *, edit_interval: float = 0.3, **overrides: Any) -> AsyncIterator[ScoutBot]:
        """A bot on this world's database. The watcher's first poll runs at start; with the default hour-long
        interval, tests drive later polls themselves with `bot.pipeline.poll_once()`."""
        settings = self.settings(**overrides)
        store = await Store.from_settings(settings)
        gateway = GatewayClient(self.gateway.base_url, API_KEY, backoff_base_s=0.01, backoff_cap_s=0.05)
        try:
            bot = ScoutBot(
                settings,
                store,
                Pipeline(store, gateway, settings),
                guild_ready_timeout=0.05,
                announce_edit_interval=edit_interval,
            )
            async with connected_client(bot, self.fake):
                yield bot
        finally:
            await gateway.close()
            await store.close()

    def add_owl(self, *, latency_s: float = 0.0) -> None:
        """The stealth model appears in the catalogue and answers probes like an OpenAI model."""
        self.gateway.set_catalogue([*ORDINARY_MODELS, OWL])
        self.gateway.add_model(ScriptedModel(OWL["id"], respond=constant_reply(OWL_SAYS), latency_s=latency_s))

    async def owl_appears(self, bot: ScoutBot) -> None:
        """After the bot's baseline poll, the stealth model is listed and the next poll records it."""
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        self.add_owl()
        await bot.pipeline.poll_once()

    async def announce_owl(self, bot: ScoutBot) -> StoredMessage:
        """The stealth model appears in the main guild with its channel set up; returns the announcement."""
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await self.set_up_channel(bot)
        await self.owl_appears(bot)
        return await self.fake.wait_for_message(
            self.channel.id, lambda m: m in announcements_in(self.fake, self.channel.id), timeout=10
        )

    async def command(
        self,
        bot: ScoutBot,
        path: str,
        member: MemberSpec | None = None,
        *,
        guild: GuildSpec | None = None,
        in_channel: ChannelSpec | None = None,
        **options: Any,
    ) -> int:
        """Send a slash command from `member` (default: the plain member) in `guild` (default: the main one)."""
        guild = guild or self.guild
        channel = in_channel or (self.channel if guild is self.guild else self.other_channel)
        payload = self.fake.build_command(
            path, guild_id=guild.id, channel_id=channel.id, member=member or self.member, options=options
        )
        return await self.fake.send_interaction(payload)

    async def answer(self, interaction_id: int, timeout: float = 10.0) -> tuple[str, list[dict[str, Any]], Any]:
        """The text, embeds and record of an interaction's final answer (its follow-up if it was deferred)."""
        callback = await self.fake.wait_for_interaction_response(interaction_id, timeout=timeout)
        if callback.deferred:
            message = (await self.fake.wait_for_followups(interaction_id, timeout=timeout))[-1]
            return message.content, message.embeds, message
        return callback.content or "", callback.embeds, callback

    async def set_up_channel(self, bot: ScoutBot, *, other_guild: bool = False) -> str:
        if other_guild:
            interaction = await self.command(
                bot, "scout setup", self.other_admin, guild=self.other_guild, channel=ChannelArg(self.other_channel.id)
            )
        else:
            interaction = await self.command(bot, "scout setup", self.admin, channel=ChannelArg(self.channel.id))
        text, _, _ = await self.answer(interaction)
        assert "will go to" in text
        return text


ADMIN_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | Permission.MANAGE_GUILD


def make_guild(name: str, member_name: str) -> tuple[GuildSpec, ChannelSpec, MemberSpec, MemberSpec]:
    channel = ChannelSpec("model-scout")
    member = MemberSpec(member_name)
    admin = MemberSpec(f"{member_name}-admin", permissions=int(ADMIN_PERMISSIONS))
    return (
        GuildSpec(name=name, channels=[channel, ChannelSpec("general")], members=[admin, member]),
        channel,
        member,
        admin,
    )


@contextlib.asynccontextmanager
async def open_world(tmp_path: Path, discord_class: type[FakeDiscord] = FakeDiscord) -> AsyncIterator[World]:
    """Main Guild (alice, alice-admin) and Other Guild (mallory, mallory-admin), the fakes, two ordinary models."""
    guild, channel, member, admin = make_guild("Main Guild", "alice")
    other_guild, other_channel, _, other_admin = make_guild("Other Guild", "mallory")
    async with FakeGateway(api_key=API_KEY) as gateway, discord_class(guilds=[guild, other_guild]) as fake:
        gateway.set_catalogue(ORDINARY_MODELS)
        yield World(
            fake, gateway, tmp_path / "scout.db", guild, channel, member, admin, other_guild, other_channel, other_admin
        )
