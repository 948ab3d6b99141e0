"""Announcements: the announcer loop that drains the outbox and posts, edits and follows up cards.

The pipeline writes announcement intents into the store's outbox; this cog posts them, edits them
when their revision grows (guesses arrived, votes changed, a reveal), and replies with the reveal
candidates when a stealth model disappears.

Exactly one message per guild and model, across crashes: the row is marked `posting` before the HTTP
call and the message id is written right after it. Every announcement carries a marker in its footer
("Model Scout · announcement #<id>"), so a row found in `posting` at start-up (the bot died somewhere
around the call) is first looked for in the channel's recent history before anything is posted again.
Posts also carry a nonce derived from the row (`enforce_nonce`), so Discord itself drops a repeat sent
within minutes, such as discord.py re-sending a POST after a 5xx that Discord had in fact stored.

One guild's broken channel never holds up another's. Each pass hands every guild with due work to a
worker of its own (a few run at once): discord.py retries a 500/502/504 inside its HTTP client for about
25 s, and that wait now costs only the guild whose channel fails, and at most one attempt's timeout.
A deleted channel (404) fails that guild's rows until `/scout setup`; a missing permission (403), a
Discord 5xx or a network failure keeps the work pending, retried with a per-row backoff, and a failed
edit is never counted as shown. The guild's last error is shown in `/scout status` until a delivery
there succeeds. A card a moderator deleted is posted again once (REPOST_DELETED_CARDS), when the next
edit finds it gone.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord.ext import commands

from bot.jobs.background import BackgroundLoop
from bot.store import Store, StoreError
from bot.store.alerts import Alert
from bot.store.outbox import Announcement
from cogs import _safety as safety
from cogs._alert_delivery import deliver_alert
from cogs._card import load_card, removal_candidates
from cogs._components import announcement_view
from cogs._render import announcement_footer, card_embed, removal_embed, removal_footer

if TYPE_CHECKING:
    from bot.client import ScoutBot

log = logging.getLogger(__name__)

IDLE_WAKE_SECONDS = 30.0
MIN_WAKE_SECONDS = 0.05
RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0
RATE_LIMIT_HEADERS = ("Retry-After", "X-RateLimit-Reset-After")
HISTORY_SCAN_LIMIT = 100
PENDING_SCAN_LIMIT = 2000
PARALLEL_GUILDS = 8
ATTEMPT_TIMEOUT_SECONDS = 15.0
UNKNOWN_MESSAGE = 10008
NEEDED_PERMISSIONS = "View Channel, Send Messages, Embed Links, Read Message History"
THREAD_NAME_LIMIT = 100


@dataclass(frozen=True)
class RenderedAnnouncement:
    """A card ready to post or edit, with the outbox revision it shows (recorded once Discord has it)."""

    embed: discord.Embed
    view: discord.ui.View
    revision: int


async def render_announcement(store: Store, announcement: Announcement) -> RenderedAnnouncement | None:
    """The message for an outbox row as of now, or None when the model is unknown to the store."""
    card = await load_card(store, announcement.guild_id, announcement.model_id)
    if card is None:
        return None
    embed = card_embed(card, announced=True, footer=announcement_footer(announcement.id))
    return RenderedAnnouncement(embed, announcement_view(announcement.id, card), announcement.revision)


# --- the announcer -----------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """A guild's announcement cannot be delivered until its settings change (channel gone, not a text channel)."""


class RetryLater(Exception):
    """Nothing wrong with the row itself; try again after a backoff (guild briefly unavailable)."""


@dataclass
class _Retry:
    failures: int
    due: float
    channel_id: int


@dataclass
class _GuildWork:
    """What one guild's worker delivers in a pass: its due cards first, then its alerts."""

    announcements: list[Announcement] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def _pass_failed(error: Exception) -> float:
    if isinstance(error, StoreError):  # a full disk, a database file gone: one line says it all
        log.error("announcer pass failed: %s", error)
    else:
        log.error("announcer pass failed", exc_info=error)
    return RETRY_FIRST_SECONDS


def _card_key(announcement: Announcement) -> tuple[str, int]:
    return ("card", announcement.id)


def _alert_key(alert: Alert) -> tuple[str, int]:
    return ("alert", alert.id)


class Announcer(commands.Cog):
    """Drains the outbox: posts, edits (at most one edit per message per `announce_edit_interval`), replies."""

    def __init__(self, bot: ScoutBot) -> None:
        self.bot = bot
        self._loop = BackgroundLoop(
            "scout-announcer",
            self.drain,
            on_failure=_pass_failed,
            prepare=bot.wait_until_ready,
            pause=bot.store.outbox.wait_for_work,
        )
        self._last_edit: dict[int, float] = {}
        self._retries: dict[tuple[str, int], _Retry] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(PARALLEL_GUILDS)
        self.retry_first_seconds = RETRY_FIRST_SECONDS
        self.attempt_timeout_seconds = ATTEMPT_TIMEOUT_SECONDS

    async def cog_load(self) -> None:
        """Start draining the outbox; the loop waits for the bot to be ready before its first pass."""
        self._loop.start()

    async def cog_unload(self) -> None:
        """Stop the loop and the guild workers; a delivery under way is cancelled and its row stays pending."""
        await self._loop.stop()
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    @property
    def store(self) -> Store:
        """The bot's store: the outbox is the only place this cog learns what to post."""
        return self.bot.store

    async def drain(self) -> float:
        """One pass: hand each guild with due work to a worker of its own; returns how long to sleep.

        A guild whose worker is still busy is left to it; each worker wakes the loop when it ends, so what it
        left (an adopted post needs its edit, a post its removal reply) or what fell due meanwhile is seen at once.
        """
        now = time.monotonic()
        wake_in = IDLE_WAKE_SECONDS
        due: dict[int, _GuildWork] = {}
        for announcement in await self.store.outbox.pending(PENDING_SCAN_LIMIT, shards=self.bot.held_shards):
            if announcement.guild_id in self._workers:
                continue
            wait = self._wait_before(announcement, now)
            if wait > 0:
                wake_in = min(wake_in, wait)
                continue
            due.setdefault(announcement.guild_id, _GuildWork()).announcements.append(announcement)
        for alert in await self.store.alerts.pending(shards=self.bot.held_shards):
            retry = self._retries.get(_alert_key(alert))
            if alert.guild_id in self._workers:
                continue
            if retry is not None and retry.due > now:
                wake_in = min(wake_in, retry.due - now)
                continue
            due.setdefault(alert.guild_id, _GuildWork()).alerts.append(alert)
        for guild_id, work in due.items():
            worker = asyncio.create_task(self._work(work), name=f"scout-announcer guild {guild_id}")
            self._workers[guild_id] = worker
            worker.add_done_callback(functools.partial(self._worker_done, guild_id))
        return max(wake_in, MIN_WAKE_SECONDS)

    def _wait_before(self, announcement: Announcement, now: float) -> float:
        """Seconds before this row may be tried: its backoff, or the edit interval of its message; 0 when due.

        A backoff ends early when the row's error was cleared (`/scout setup` ran) or its channel changed."""
        retry = self._retries.get(_card_key(announcement))
        if retry is not None and (retry.channel_id != announcement.channel_id or announcement.last_error is None):
            self._retries.pop(_card_key(announcement), None)
        elif retry is not None and retry.due > now:
            return retry.due - now
        if announcement.needs_edit and not announcement.needs_removal_reply:
            return self._last_edit.get(announcement.id, -1e9) + self.bot.announce_edit_interval - now
        return 0.0

    async def _work(self, work: _GuildWork) -> None:
        async with self._slots:
            for announcement in work.announcements:
                await self._deliver(announcement)
            for alert in work.alerts:
                await self._deliver_alert(alert)

    def _worker_done(self, guild_id: int, worker: asyncio.Task[None]) -> None:
        self._workers.pop(guild_id, None)
        error = None if worker.cancelled() else worker.exception()
        if isinstance(error, StoreError):
            log.error("guild %d: delivery failed: %s", guild_id, error)
        elif error is not None:
            log.error("guild %d: delivery failed", guild_id, exc_info=error)
        self.store.db.outbox_changed.set()

    async def _deliver(self, announcement: Announcement) -> None:
        """One attempt at a row, bounded in time: a request discord.py keeps retrying is cut off and retried later."""
        try:
            async with asyncio.timeout(self.attempt_timeout_seconds):
                await self._attempt(announcement)
            self._retries.pop(_card_key(announcement), None)
            if announcement.last_error is not None:
                await self.store.guilds.record_error(announcement.guild_id, None)
        except DeliveryFailed as error:
            await self._fail(announcement, str(error))
        except discord.Forbidden:
            doing = "post" if announcement.needs_post else "edit the card"
            reason = (
                f"missing permission to {doing} in channel {announcement.channel_id} (needs {NEEDED_PERMISSIONS}); "
                "retrying until it is granted"
            )
            await self.store.guilds.record_error(announcement.guild_id, reason)
            await self._retry_later(announcement, reason)
        except discord.NotFound:
            await self._fail(
                announcement, f"announcement channel {announcement.channel_id} no longer exists; run /scout setup"
            )
        except discord.RateLimited as error:
            await self._retry_later(announcement, "Discord rate limit", wait=error.retry_after)
        except discord.HTTPException as error:
            if error.status == 429:
                await self._retry_later(announcement, "Discord answered 429", wait=_retry_after(error))
            elif error.status >= 500:
                await self._retry_later(announcement, f"Discord answered {error.status}")
            else:
                await self._fail(announcement, f"Discord refused the message ({error.status})")
        except RetryLater as error:
            await self._retry_later(announcement, str(error))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await self._retry_later(announcement, f"network error: {type(error).__name__}")

    async def _attempt(self, announcement: Announcement) -> None:
        channel = await self._channel(announcement)
        if announcement.needs_post:
            await self._post(channel, announcement)
        elif announcement.needs_edit and not await self._edit(channel, announcement):
            return
        if announcement.needs_removal_reply:
            await self._reply_removal(channel, announcement)

    async def _deliver_alert(self, alert: Alert) -> None:
        try:
            async with asyncio.timeout(self.attempt_timeout_seconds):
                again = await deliver_alert(self.bot, alert)
        except TimeoutError:
            again = "no answer from Discord in time"
        if again is None:
            self._retries.pop(_alert_key(alert), None)
        else:
            self._back_off(_alert_key(alert), alert.channel_id, None)

    async def _channel(self, announcement: Announcement) -> discord.TextChannel:
        guild = self.bot.get_guild(announcement.guild_id)
        if guild is None:
            raise DeliveryFailed("the bot is not in this server any more")
        if guild.unavailable:
            raise RetryLater("the server is temporarily unavailable")
        channel = guild.get_channel(announcement.channel_id) or await self.bot.fetch_channel(announcement.channel_id)
        if not isinstance(channel, discord.TextChannel) or channel.guild.id != guild.id:
            raise DeliveryFailed("the announcement channel is not a text channel of this server; run /scout setup")
        return channel

    async def _post(self, channel: discord.TextChannel, announcement: Announcement) -> None:
        resuming = announcement.state == "posting"
        await self.store.outbox.mark_posting(announcement.id)
        if resuming:
            found = await self._find_own_message(channel, announcement_footer(announcement.id))
            if found is not None:
                log.info("announcement #%d was already posted as message %d; adopting it", announcement.id, found.id)
                await self.store.outbox.mark_posted(announcement.id, found.id, 0)
                return
        rendered = await render_announcement(self.store, announcement)
        if rendered is None:
            raise DeliveryFailed(f"model {announcement.model_id} is unknown to the store")
        ping = await self.store.alerts.stealth_ping_role(announcement.guild_id, announcement.model_id)
        message = await channel.send(
            **safety.message_kwargs(embed=rendered.embed, view=rendered.view, nonce=announcement.nonce, ping_role=ping)
        )
        await self.store.outbox.mark_posted(announcement.id, message.id, rendered.revision)
        log.info("announced %s in guild %d (message %d)", announcement.model_id, announcement.guild_id, message.id)
        await self._open_thread(message, announcement)

    async def _open_thread(self, message: discord.Message, announcement: Announcement) -> None:
        """The guild's opt-in discussion thread on a new card; a thread that cannot be made costs only itself."""
        settings = await self.store.guilds.get(announcement.guild_id)
        if settings is None or not settings.threads:
            return
        try:
            await message.create_thread(name=safety.label(f"Who made {announcement.model_id}?", THREAD_NAME_LIMIT))
        except discord.HTTPException as error:
            log.warning(
                "guild %d: no discussion thread for %s (%s)", announcement.guild_id, announcement.model_id, error.status
            )

    async def _edit(self, channel: discord.TextChannel, announcement: Announcement) -> bool:
        """Edit the card to the row's revision; False when the card turned out to be deleted (handled here)."""
        assert announcement.message_id is not None
        rendered = await render_announcement(self.store, announcement)
        if rendered is None:
            raise DeliveryFailed(f"model {announcement.model_id} is unknown to the store")
        message = channel.get_partial_message(announcement.message_id)
        try:
            await message.edit(**safety.message_kwargs(embed=rendered.embed, view=rendered.view))
        except discord.NotFound as error:
            if error.code != UNKNOWN_MESSAGE:
                raise
            await self._card_deleted(announcement)
            return False
        self._last_edit[announcement.id] = time.monotonic()
        await self.store.outbox.mark_rendered(announcement.id, rendered.revision)
        return True

    async def _card_deleted(self, announcement: Announcement) -> None:
        reposted = await self.store.outbox.mark_deleted(announcement.id, repost=self.bot.settings.repost_deleted_cards)
        log.warning(
            "guild %d: the card of %s was deleted from the channel; %s",
            announcement.guild_id,
            announcement.model_id,
            "posting it again" if reposted else "not posting it again",
        )

    async def _reply_removal(self, channel: discord.TextChannel, announcement: Announcement) -> None:
        assert announcement.message_id is not None
        resuming = announcement.removal_state == "posting"
        await self.store.outbox.mark_removal_posting(announcement.id)
        if resuming:
            found = await self._find_own_message(channel, removal_footer(announcement.id))
            if found is not None:
                await self.store.outbox.mark_removal_posted(announcement.id, found.id)
                return
        reference = discord.MessageReference(
            message_id=announcement.message_id, channel_id=channel.id, fail_if_not_exists=False
        )
        model = await self.store.catalogue.model(announcement.model_id)
        embed = removal_embed(
            model.name if model else announcement.model_id,
            await removal_candidates(self.store, announcement.model_id),
            removal_footer(announcement.id),
        )
        message = await channel.send(
            **safety.message_kwargs(embed=embed, reference=reference, nonce=f"scout-r{announcement.id}")
        )
        await self.store.outbox.mark_removal_posted(announcement.id, message.id)

    async def _find_own_message(self, channel: discord.TextChannel, footer: str) -> discord.Message | None:
        """Our message carrying `footer`, among the channel's latest messages (a crash leaves it near the end)."""
        me = self.bot.user
        async for message in channel.history(limit=HISTORY_SCAN_LIMIT):
            if (
                me is not None
                and message.author.id == me.id
                and any(embed.footer and embed.footer.text == footer for embed in message.embeds)
            ):
                return message
        return None

    async def _fail(self, announcement: Announcement, reason: str) -> None:
        log.warning("guild %d: announcement of %s failed: %s", announcement.guild_id, announcement.model_id, reason)
        self._retries.pop(_card_key(announcement), None)
        await self.store.guilds.record_error(announcement.guild_id, reason)
        await self.store.outbox.mark_failed(announcement.id, reason)

    async def _retry_later(self, announcement: Announcement, reason: str, *, wait: float | None = None) -> None:
        """Keep the row pending, remember why (`/scout status`), and come back after a backoff."""
        delay = self._back_off(_card_key(announcement), announcement.channel_id, wait)
        log.warning(
            "guild %d: announcement of %s will be retried in %.0fs: %s",
            announcement.guild_id,
            announcement.model_id,
            delay,
            reason,
        )
        await self.store.outbox.record_error(announcement.id, reason)

    def _back_off(self, key: tuple[str, int], channel_id: int, wait: float | None) -> float:
        """Back off exponentially from failures; when Discord said how long to wait (`wait`), wait exactly that.

        A rate limit is not a failure of ours: growing a delay on top of Discord's `retry_after` would keep an
        announcement back long after the limit lifted.
        """
        retry = self._retries.get(key)
        failures = (retry.failures if retry else 0) + (wait is None)
        backoff = self.retry_first_seconds * 2 ** max(failures - 1, 0)
        delay = min(backoff if wait is None else wait, RETRY_MAX_SECONDS)
        self._retries[key] = _Retry(failures, time.monotonic() + delay, channel_id)
        return delay


def _retry_after(error: discord.HTTPException) -> float:
    """Seconds Discord asked us to wait after a 429 discord.py gave up on: the longest its headers name."""
    waits = []
    for header in RATE_LIMIT_HEADERS:
        try:
            waits.append(float(error.response.headers.get(header, "")))
        except (AttributeError, ValueError):
            continue
    finite = [wait for wait in waits if 0 <= wait < float("inf")]
    return max(finite, default=RETRY_FIRST_SECONDS)


async def setup(bot: ScoutBot) -> None:
    """The entry point `load_extension` looks for."""
    await bot.add_cog(Announcer(bot))
