"""Every message the bot sends goes through here, so it is safe by construction.

Model names, descriptions, notes and member names come from strangers. This module:
- strips control and invisible characters (zero-width spaces, bidi overrides) from untrusted text,
- escapes markdown, masked links, headings, quotes and mention syntax so text shows as typed,
- cuts every piece to Discord's limits (content 2,000; embed title 256, description 4,096, field
  name 256, field value 1,024, footer 2,048, 25 fields, 6,000 in total; select option 100;
  custom_id 100),
- sends everything with `AllowedMentions.none()`, so "@everyone" in a note pings no one even if
  escaping were ever bypassed; the one exception is a guild's opted-in role on a new stealth model
  (`ping_role`), allowed for that role alone,
- answers interactions the same way whether or not they were already acknowledged, and turns
  failures into one clear sentence.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

import discord
from discord import app_commands

from bot.store.database import DatabaseGone, StorageFull

log = logging.getLogger(__name__)

SAFE_MENTIONS = discord.AllowedMentions.none()

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
EMBED_FIELDS_LIMIT = 25
OPTION_LIMIT = 100
CUSTOM_ID_LIMIT = 100
CHOICE_NAME_LIMIT = 100
ELLIPSIS = "…"

_KEEP = {"\n", "\t"}
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_MARKDOWN = re.compile(r"([\\*_~|`\[\]<])")
_LINE_START = re.compile(r"^([ \t]*)([#>\-+]|\d+\.)", re.MULTILINE)
_MASS_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n{3,}")


class CommandRefused(app_commands.AppCommandError):
    """A command refused for a reason the member can act on; its message is answered as is."""


def clean(text: object) -> str:
    """Untrusted text without control or invisible characters (newlines and tabs kept, long blank runs folded)."""
    cleaned = "".join(
        char for char in str(text) if char in _KEEP or unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )
    return _BLANK_LINES.sub("\n\n", cleaned)


def escape(text: object) -> str:
    """Untrusted text that renders literally: no markdown, no masked links, no headings, no mentions."""
    escaped = _MARKDOWN.sub(r"\\\1", clean(text))
    escaped = _LINE_START.sub(r"\1\\\2", escaped)
    return _MASS_MENTION.sub("@\u200b\\1", escaped)


def cut(text: str, limit: int) -> str:
    """`text` no longer than `limit`, ending in an ellipsis when shortened (never in a dangling escape)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(ELLIPSIS), 0)]
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:
        head = head[:-1]
    return head + ELLIPSIS


def plain(text: object, limit: int) -> str:
    """Escape and cut in one go: the usual treatment of a stranger's text inside a message."""
    return cut(escape(text), limit)


def code(text: object, limit: int = 200) -> str:
    """Untrusted text as inline code (backticks removed so it cannot break out of the span; no mass mention)."""
    inner = cut(_MASS_MENTION.sub("@\u200b\\1", clean(text).replace("`", "'").replace("\n", " ")), max(limit - 2, 1))
    return f"`{inner}`"


def label(text: object, limit: int = OPTION_LIMIT) -> str:
    """Text for places that show no markdown (select options, choices, modal titles): cleaned and cut."""
    return cut(clean(text).replace("\n", " ").strip(), limit) or "?"


def custom_id(value: str) -> str:
    """Refuse a component id Discord would reject, at build time rather than at send time."""
    if not value or len(value) > CUSTOM_ID_LIMIT:
        raise ValueError(f"custom_id must be 1..{CUSTOM_ID_LIMIT} characters, got {len(value)}")
    return value


def finish_embed(embed: discord.Embed) -> discord.Embed:
    """Cut every part of an embed to Discord's limits, then trim the whole to 6,000 characters."""
    if embed.title:
        embed.title = cut(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = cut(embed.description, DESCRIPTION_LIMIT)
    if embed.author and embed.author.name:
        embed.set_author(
            name=cut(embed.author.name, AUTHOR_LIMIT), url=embed.author.url, icon_url=embed.author.icon_url
        )
    if embed.footer and embed.footer.text:
        embed.set_footer(text=cut(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    fields = embed.fields[:EMBED_FIELDS_LIMIT]
    embed.clear_fields()
    for field in fields:
        embed.add_field(
            name=cut(field.name or "\u200b", FIELD_NAME_LIMIT),
            value=cut(field.value or "\u200b", FIELD_VALUE_LIMIT),
            inline=bool(field.inline),
        )
    _trim_total(embed)
    return embed


def _trim_total(embed: discord.Embed) -> None:
    """Shorten the description first, then drop fields from the end, until the embed fits in 6,000."""
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess <= 0:
        return
    if embed.description:
        keep = max(len(embed.description) - excess, 0)
        embed.description = cut(embed.description, keep) if keep > len(ELLIPSIS) else None
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)


def content(text: str | None) -> str | None:
    return cut(text, CONTENT_LIMIT) if text else text


def role_mention_only(role_id: int) -> discord.AllowedMentions:
    """Mentions allowed for this one role and nothing else: no users, no @everyone/@here, no reply ping."""
    return discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False)


def message_kwargs(
    text: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    ping_role: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments for any send or edit: limits applied, mentions disabled except `ping_role`'s."""
    kwargs: dict[str, Any] = {"allowed_mentions": SAFE_MENTIONS, **extra}
    if text is not None:
        kwargs["content"] = content(text)
    if ping_role is not None:
        kwargs["allowed_mentions"] = role_mention_only(ping_role)
        kwargs["content"] = content(f"<@&{ping_role}> {kwargs.get('content') or ''}".strip())
    if embed is not None:
        kwargs["embed"] = finish_embed(embed)
    if embeds is not None:
        kwargs["embeds"] = [finish_embed(item) for item in embeds]
    return kwargs


async def respond(
    interaction: discord.Interaction, text: str | None = None, *, ephemeral: bool = True, **kwargs: Any
) -> None:
    """Answer an interaction safely, as the first response or as a follow-up once it was deferred."""
    safe = message_kwargs(text, **kwargs)
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=ephemeral, **safe)
    else:
        await interaction.response.send_message(ephemeral=ephemeral, **safe)


async def acknowledge(interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
    """Defer before any write: a busy database must not push the answer past Discord's 3-second window."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)


def require_manage_guild(interaction: discord.Interaction) -> None:
    """Checked inside the callback, not only by Discord: a stale client or a raw API call skips the UI's filter."""
    permissions = interaction.permissions
    if interaction.guild is None or not (permissions.manage_guild or permissions.administrator):
        raise app_commands.MissingPermissions(["manage_guild"])


def error_sentence(error: BaseException) -> str:
    """One sentence a member can read for any failure; details (and secrets) stay in the log."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, CommandRefused):
        return str(error)
    if isinstance(error, app_commands.MissingPermissions):
        return "You need the Manage Server permission to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.TransformerError):
        return "One of the options has a value I cannot use."
    if isinstance(error, discord.Forbidden):
        return "I lack a Discord permission for that; ask an admin to run /scout status."
    if isinstance(error, DatabaseGone):
        return "I could not store that: my database file went missing, so I am restarting. Try again in a minute."
    if isinstance(error, StorageFull):
        return "I could not store that: the bot's disk is full. Try again once an admin has freed some space."
    return "Something went wrong on my side; the error has been logged."


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong, ephemerally, without letting a second failure escape."""
    expected = isinstance(error, (CommandRefused, app_commands.CheckFailure, app_commands.TransformerError))
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(cause, (DatabaseGone, StorageFull)):
        log.warning("interaction not stored: %s", cause)
    elif not expected:
        log.error("interaction %s failed", interaction.data.get("name") if interaction.data else "?", exc_info=error)
    try:
        await respond(interaction, error_sentence(error), ephemeral=True)
    except discord.HTTPException as http_error:
        log.warning("could not report an error to the member: %s", http_error)
