"""The Discord bot: a `commands.Bot` that is handed the store, discovers its cogs and runs the watcher.

`run_bot` is what `scout run` and `python -m bot` call. The store is opened outside the bot and handed
in (the CLI and the tests share the same API). `setup_hook` creates the `/scout` command group that
every cog adds its sub-commands to, loads every extension found in `cogs/`, syncs the command tree
only when it changed since the last sync, and starts the watcher loop. The announcer loop, which
reads the outbox and talks to Discord, lives in the announcements cog: the core never renders
messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import pkgutil
import signal
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_endpoints import point_discord_at
from bot.errors import CommandError
from bot.gateway import GatewayClient
from bot.jobs.pipeline import Pipeline
from bot.jobs.watcher import POLLER_LEASE, Watcher, one_line
from bot.settings import Settings
from bot.store import Store
from bot.store.database import Shards

log = logging.getLogger(__name__)

EXTENSIONS_PACKAGE = "cogs"
SYNC_STATE_KEY = "command_tree_hash"


def discover_extensions(package: str = EXTENSIONS_PACKAGE) -> Iterator[str]:
    """Every module of `package` that defines `setup`; private modules (leading `_`) are helpers, not extensions."""
    root = importlib.import_module(package)
    for info in sorted(pkgutil.walk_packages(root.__path__, prefix=f"{package}."), key=lambda info: info.name):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        if callable(getattr(module, "setup", None)):
            yield info.name


class ScoutBot(commands.AutoShardedBot):
    """Model Scout on Discord. Needs only the non-privileged `guilds` intent: everything else arrives as interactions.

    Auto-sharded, because Discord refuses a single connection for a bot in more than 2,500 guilds: the shard
    count is Discord's recommendation unless SHARD_COUNT sets it. With SHARD_IDS, this process runs only those
    shards, and other processes on the same PostgreSQL database run the rest.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        pipeline: Pipeline,
        *,
        extensions_package: str = EXTENSIONS_PACKAGE,
        announce_edit_interval: float = 5.0,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        # A text-only bot: discord.py's start-up warnings that voice libraries are missing are noise here.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        options.setdefault("shard_count", settings.shard_count)
        if settings.shards is not None:
            options.setdefault("shard_ids", settings.shards)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.settings = settings
        self.store = store
        self.pipeline = pipeline
        self.extensions_package = extensions_package
        self.held_shards = (
            Shards(settings.shard_count, tuple(settings.shards)) if settings.shards and settings.shard_count else None
        )
        """The shards this process runs (SHARD_IDS), or None when it runs them all: it delivers only their cards."""
        self.announce_edit_interval = announce_edit_interval
        self.scout_group = app_commands.Group(
            name="scout",
            description="Spot anonymous AI models and guess who made them",
            guild_only=True,
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        )
        self.watcher = Watcher(
            pipeline,
            settings.poll_interval_seconds,
            store.db.lease(POLLER_LEASE),
            before_first_poll=self._before_first_poll,
        )

    async def setup_hook(self) -> None:
        """Load the cogs and sync before the watcher starts, so the first announcement has its commands."""
        self.tree.add_command(self.scout_group)
        for name in discover_extensions(self.extensions_package):
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        await self.sync_commands_if_changed()
        self.watcher.start()

    async def close(self) -> None:
        """Stop the watcher before Discord closes, then the pipeline: probes cut short resume at the next start."""
        await self.watcher.stop()
        await super().close()
        await self.pipeline.close()

    def add_scout_commands(self, *scout_commands: app_commands.Command[Any, ..., Any]) -> None:
        """Extensions add their sub-commands to the one `/scout` group; a name used twice is an error."""
        for command in scout_commands:
            self.scout_group.add_command(command)

    def remove_scout_commands(self, *scout_commands: app_commands.Command[Any, ..., Any]) -> None:
        """An unloaded extension takes its sub-commands with it, so reloading it does not collide."""
        for command in scout_commands:
            self.scout_group.remove_command(command.name)

    # --- command sync -------------------------------------------------------------------------

    def _sync_scope(self) -> discord.Object | None:
        return discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None

    def command_tree_hash(self) -> str:
        """A digest of the commands as Discord would receive them, to sync only when they change."""
        scope = self._sync_scope()
        payload = sorted(
            (command.to_dict(self.tree) for command in self.tree.get_commands(guild=scope)), key=lambda c: c["name"]
        )
        text = json.dumps(
            {"application": self.application_id, "scope": scope and scope.id, "commands": payload}, sort_keys=True
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    async def sync_commands_if_changed(self) -> bool:
        """Sync to DEV_GUILD_ID when set, else globally, only if the tree differs from the last sync; True if synced."""
        scope = self._sync_scope()
        if scope is not None:
            self.tree.copy_global_to(guild=scope)
        key = f"{SYNC_STATE_KEY}:{scope.id if scope else 'global'}"
        digest = self.command_tree_hash()
        if await self.store.state.get(key) == digest:
            log.info("application commands unchanged since the last sync; not syncing")
            return False
        try:
            synced = await self.tree.sync(guild=scope)
        except discord.HTTPException as error:
            log.error("could not sync application commands (%s); will try again on the next start", error.status)
            return False
        await self.store.state.set(key, digest)
        log.info("synced %d application commands %s", len(synced), f"to guild {scope.id}" if scope else "globally")
        return True

    # --- guilds -------------------------------------------------------------------------------

    async def adopt_default_channel(self, guild: discord.abc.Snowflake) -> bool:
        """Give a guild without settings the deployment's ANNOUNCE_CHANNEL_ID, if that channel is in the guild."""
        channel_id = self.settings.announce_channel_id
        found = self.get_guild(guild.id)
        if channel_id is None or found is None or found.get_channel(channel_id) is None:
            return False
        adopted = await self.store.guilds.ensure_default(guild.id, channel_id)
        if adopted:
            log.info("guild %s adopted the default announcement channel %s", guild.id, channel_id)
            await self.announce_active_stealth_models(guild.id, channel_id)
        return adopted

    async def announce_active_stealth_models(self, guild_id: int, channel_id: int) -> None:
        """A guild that starts listening mid-launch still hears of the stealth models listed right now."""
        for model in await self.store.catalogue.models(stealth_only=True, include_removed=False):
            await self.store.outbox.intend(guild_id, model.id, channel_id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A new guild hears announcements at once when the deployment has a default channel in it."""
        await self.adopt_default_channel(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """A guild that joined while the bot was down gets the default channel too."""
        await self.adopt_default_channel(guild)

    async def _before_first_poll(self) -> None:
        """Wait for Discord, so guilds that adopt the default channel are known before the first poll's intents."""
        await self.wait_until_ready()
        for guild in self.guilds:
            await self.adopt_default_channel(guild)


async def run_bot(settings: Settings) -> None:
    """Open the store and the gateway, then run the bot until it is stopped."""
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    point_discord_at(settings.discord_api_base, settings.discord_gateway_url)
    async with await Store.from_settings(settings) as store:
        gateway = GatewayClient.from_settings(settings)
        pipeline = Pipeline(store, gateway, settings)
        bot = ScoutBot(settings, store, pipeline)
        # A service manager stops the bot with SIGTERM: close it properly (pipeline, sessions, store).
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: asyncio.create_task(bot.close()))
        try:
            async with bot:
                await bot.start(token)
        except discord.LoginFailure:
            raise CommandError(
                "Discord refused the token: check DISCORD_TOKEN (the bot token from the Developer Portal)"
            ) from None
        except (aiohttp.ClientError, OSError) as error:
            address = settings.discord_api_base or "https://discord.com/api"
            raise CommandError(f"cannot reach Discord at {address}: {one_line(error)}") from None
        finally:
            await gateway.close()
