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
import sys
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_endpoints import point_discord_at
from bot.errors import CommandError
from bot.gateway import GatewayClient
from bot.jobs.background import BackgroundLoop
from bot.jobs.pipeline import Pipeline
from bot.jobs.retention import RETENTION_CHECK_SECONDS, purge_departed_guilds
from bot.jobs.watcher import POLLER_LEASE, Watcher, one_line
from bot.settings import Settings
from bot.store import Store, StoreError
from bot.store.database import Shards

log = logging.getLogger(__name__)

EXTENSIONS_PACKAGE = "cogs"
SHUTDOWN_GRACE_SECONDS = 7.0
DATABASE_WATCH_SECONDS = 2.0
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
        self._retention = BackgroundLoop(
            "scout-guild-retention",
            self.purge_departed_guilds,
            on_failure=_retention_failed,
            prepare=self._note_guilds_left_while_offline,
        )

    async def setup_hook(self) -> None:
        """Load the cogs and sync before the watcher starts, so the first announcement has its commands."""
        self.tree.add_command(self.scout_group)
        for name in discover_extensions(self.extensions_package):
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        await self.sync_commands_if_changed()
        self.watcher.start()
        self._retention.start()

    async def close(self) -> None:
        """Stop the watcher and the pipeline first (probes cut short resume at the next start), then Discord: the
        bot's own work is stopped even when Discord takes too long to close."""
        await self.watcher.stop()
        await self._retention.stop()
        await self.pipeline.close()
        await super().close()

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """An event handler that failed in the store (a full disk, a database file gone) is one line meant for
        people; anything else is a bug, logged with its traceback as discord.py does."""
        error = sys.exc_info()[1]
        if isinstance(error, StoreError):
            log.error("%s failed: %s", event_method, error)
            return
        await super().on_error(event_method, *args, **kwargs)

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
        """A new guild hears announcements at once when the deployment has a default channel in it; a guild that
        comes back within the retention period finds its data where it left it."""
        await self.store.guilds.record_return(guild.id)
        await self.adopt_default_channel(guild)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """A guild that joined while the bot was down gets the default channel too."""
        await self.store.guilds.record_return(guild.id)
        await self.adopt_default_channel(guild)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a guild: its members' data is purged after GUILD_DATA_RETENTION_DAYS (at once with 0)."""
        await self.store.guilds.record_departure(guild.id)
        log.info(
            "removed from guild %d: its data is purged in %g days", guild.id, self.settings.guild_data_retention_days
        )
        await self.purge_departed_guilds()

    async def purge_departed_guilds(self) -> float:
        """Purge the guilds whose retention has run out; returns when to look again."""
        await purge_departed_guilds(self.store, self.settings.guild_data_retention_days)
        return RETENTION_CHECK_SECONDS

    async def _note_guilds_left_while_offline(self) -> None:
        """Guilds the store holds data of that the bot is no longer in removed it while it was offline (only the
        guilds of this process's shards: another process runs the others)."""
        await self.wait_until_ready()
        present = {guild.id for guild in self.guilds}
        for guild_id in await self.store.guilds.with_data() - present:
            if self.held_shards is None or (guild_id >> 22) % self.held_shards.count in self.held_shards.ids:
                await self.store.guilds.record_departure(guild_id)

    async def _before_first_poll(self) -> None:
        """Wait for Discord, so guilds that adopt the default channel are known before the first poll's intents."""
        await self.wait_until_ready()
        for guild in self.guilds:
            await self.adopt_default_channel(guild)


def _retention_failed(error: Exception) -> float:
    log.warning("purging the data of departed guilds failed: %s", one_line(error))
    return RETENTION_CHECK_SECONDS


async def run_bot(settings: Settings) -> None:
    """Open the store and the gateway, then run the bot until it is stopped: by SIGTERM (within
    SHUTDOWN_GRACE_SECONDS whatever Discord does), or by its database file going away (a `CommandError`, so the
    process exits non-zero and its supervisor starts it again on the file now at that path)."""
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    point_discord_at(settings.discord_api_base, settings.discord_gateway_url)
    async with await Store.from_settings(settings) as store:
        gateway = GatewayClient.from_settings(settings)
        pipeline = Pipeline(store, gateway, settings)
        bot = ScoutBot(settings, store, pipeline)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)  # a service manager stops the bot with SIGTERM
        try:
            async with bot:
                gone = await _serve(bot, token, store, stop)
        except discord.LoginFailure:
            raise CommandError(
                "Discord refused the token: check DISCORD_TOKEN (the bot token from the Developer Portal)"
            ) from None
        except (aiohttp.ClientError, OSError) as error:
            address = settings.discord_api_base or "https://discord.com/api"
            raise CommandError(f"cannot reach Discord at {address}: {one_line(error)}") from None
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            await gateway.close()
    if gone is not None:
        raise CommandError(f"{gone}: the bot stopped writing and exits, for its supervisor to start it again")


async def _serve(bot: ScoutBot, token: str, store: Store, stop: asyncio.Event) -> str | None:
    """Run the bot until it ends by itself, `stop` is set, or the database file is deleted or replaced (then say so
    loudly and stop); returns why the database went, if it did."""
    running = asyncio.create_task(bot.start(token), name="scout-discord")
    stopping = asyncio.create_task(stop.wait(), name="scout-sigterm")
    watching = asyncio.create_task(_database_gone(store), name="scout-database-watch")
    try:
        await asyncio.wait({running, stopping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stopping, watching):
            task.cancel()
        await asyncio.gather(stopping, watching, return_exceptions=True)
    if running.done():
        running.result()
        return None
    gone = watching.result() if watching.done() and not watching.cancelled() else None
    if gone is not None:
        log.critical("%s: stopping now, so nothing more is written to it; restart the bot", gone)
    await _stop_within(bot, running, SHUTDOWN_GRACE_SECONDS)
    return gone


async def _database_gone(store: Store) -> str:
    """Why the database file went (deleted, replaced), once it does; checked every DATABASE_WATCH_SECONDS."""
    while (reason := store.db.missing()) is None:
        await asyncio.sleep(DATABASE_WATCH_SECONDS)
    return reason


async def _stop_within(bot: ScoutBot, running: asyncio.Task[None], grace: float) -> None:
    """Close the bot, but give up waiting after `grace` seconds: discord.py retries an unreachable gateway forever
    and waits for a dead network's answer to its close frame, and a supervisor kills what outstays its stop."""
    closing = asyncio.create_task(bot.close(), name="scout-close")
    try:
        await asyncio.wait_for(asyncio.shield(closing), grace)
    except TimeoutError:
        log.warning("closing the Discord connection took over %.0fs; stopping without it", grace)
    running.cancel()
    closing.cancel()
    await asyncio.gather(running, closing, return_exceptions=True)
