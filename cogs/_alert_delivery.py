"""Posting the alerts outbox: one grouped message per guild, poll and kind, exactly once.

The announcer hands each guild's pending alerts to that guild's delivery worker, after its cards. Like
announcements, a row is marked `posting` before the HTTP call and carries a footer marker ("Model Scout ·
alert #<id>"); a row found in `posting` (the bot died around the call) is first looked for in the channel's
recent messages, and the post carries a nonce derived from the row so Discord drops a repeat.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.alerts import alert_text
from bot.store.alerts import Alert
from cogs import _safety as safety

if TYPE_CHECKING:
    from bot.client import ScoutBot

log = logging.getLogger(__name__)

ALERT_COLOUR = discord.Colour.teal()
HISTORY_SCAN_LIMIT = 100


def alert_footer(alert_id: int) -> str:
    return f"Model Scout · alert #{alert_id}"


def alert_embed(alert: Alert) -> discord.Embed:
    """The message for one alert row: a title with the count, one escaped line per model."""
    title, lines = alert_text(alert.kind, alert.lines)
    embed = discord.Embed(
        title=safety.plain(title, safety.TITLE_LIMIT),
        colour=ALERT_COLOUR,
        description="\n".join(f"• {safety.plain(line, 300)}" for line in lines),
    )
    embed.set_footer(text=alert_footer(alert.id))
    return safety.finish_embed(embed)


class AlertUndeliverable(Exception):
    """The alert cannot reach its guild until the settings change (not in the guild, channel gone)."""


async def _channel(bot: ScoutBot, alert: Alert) -> discord.TextChannel:
    guild = bot.get_guild(alert.guild_id)
    if guild is None:
        raise AlertUndeliverable("the bot is not in this server any more")
    channel = guild.get_channel(alert.channel_id) or await bot.fetch_channel(alert.channel_id)
    if not isinstance(channel, discord.TextChannel) or channel.guild.id != guild.id:
        raise AlertUndeliverable("the announcement channel is not a text channel of this server; run /scout setup")
    return channel


async def _already_posted(bot: ScoutBot, channel: discord.TextChannel, alert: Alert) -> discord.Message | None:
    footer = alert_footer(alert.id)
    async for message in channel.history(limit=HISTORY_SCAN_LIMIT):
        if bot.user is not None and message.author.id == bot.user.id:
            if any(embed.footer and embed.footer.text == footer for embed in message.embeds):
                return message
    return None


async def _post(bot: ScoutBot, alert: Alert) -> None:
    channel = await _channel(bot, alert)
    await bot.store.alerts.mark_posting(alert.id)
    if alert.state == "posting":
        found = await _already_posted(bot, channel, alert)
        if found is not None:
            await bot.store.alerts.mark_posted(alert.id, found.id)
            return
    message = await channel.send(**safety.message_kwargs(embed=alert_embed(alert), nonce=f"scout-l{alert.id}"))
    await bot.store.alerts.mark_posted(alert.id, message.id)
    log.info("alert #%d (%s, %d models) posted in guild %d", alert.id, alert.kind, len(alert.lines), alert.guild_id)


async def deliver_alert(bot: ScoutBot, alert: Alert) -> str | None:
    """Post one alert. None when done with it (posted, or failed until the settings change); otherwise why it must
    be tried again later (Discord 5xx or 429, a network error, a permission missing for now)."""
    try:
        await _post(bot, alert)
        return None
    except (AlertUndeliverable, discord.NotFound) as error:
        reason = str(error) if isinstance(error, AlertUndeliverable) else f"Discord refused the alert ({error.status})"
        log.warning("guild %d: alert #%d failed: %s", alert.guild_id, alert.id, reason)
        await bot.store.alerts.mark_failed(alert.id, reason)
        await bot.store.guilds.record_error(alert.guild_id, reason)
        return None
    except discord.Forbidden:
        reason = f"missing permission to post alerts in channel {alert.channel_id}; retrying until it is granted"
        await bot.store.guilds.record_error(alert.guild_id, reason)
    except discord.HTTPException as error:
        if error.status < 500 and error.status != 429:
            await bot.store.alerts.mark_failed(alert.id, f"Discord refused the alert ({error.status})")
            return None
        reason = f"Discord answered {error.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        reason = f"network error: {type(error).__name__}"
    await bot.store.alerts.record_error(alert.id, reason)
    return reason
