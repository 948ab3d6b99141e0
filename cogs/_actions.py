"""What members do from a card's components and from slash commands alike: vote and write notes.

Every caller has acknowledged the interaction before it gets here, so a busy database never costs
Discord's 3-second window. A vote or a note is never lost to a busy database: while another process
holds the write lock the store retries the write (`until_stored`) until it lands; after a short wait the
member is told it is queued, and told again when it lands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.store.busy import FULL, until_stored
from bot.store.outbox import Announcement
from bot.store.votes import CastResult, VotingClosed
from cogs import _safety as safety
from cogs._card import Card, load_card
from cogs._render import announcement_footer
from cogs._safety import CommandRefused

if TYPE_CHECKING:
    from bot.client import ScoutBot

log = logging.getLogger(__name__)

QUEUED_NOTICE_SECONDS = 2.0
UNKNOWN_CARD = "This announcement is no longer known to me."
OUT_OF_DATE_CARD = "This card is out of date: use the newest card of this model, or `/scout vote`."
QUEUED_TEXT = "The database is busy right now: your {what} is queued and I will confirm here when it is stored."
DISK_FULL_TEXT = (
    "The bot's disk is full, so I cannot store your {what} yet: it is kept, and stored as soon as there is room "
    "again. I will confirm here."
)


def member_name(interaction: discord.Interaction[ScoutBot]) -> str:
    return safety.label(interaction.user.display_name, 100)


async def store_and_tell(
    interaction: discord.Interaction[ScoutBot],
    work: Callable[[], Awaitable[str]],
    what: str,
    view: discord.ui.View | None = None,
) -> None:
    """Do a member's lookups and write, and answer with the outcome. While the write waits, say why: at once for a
    full disk, after a short wait for a busy database (a read waits too while SQLite sits out another process's
    lock, so the lookups count)."""
    notices: list[asyncio.Task[None]] = []

    def waiting(reason: str) -> None:
        if reason == FULL:
            notices.append(asyncio.ensure_future(_notice(interaction, DISK_FULL_TEXT.format(what=what), what)))

    landing = asyncio.ensure_future(until_stored(work, what, waiting=waiting))
    try:
        text = await asyncio.wait_for(asyncio.shield(landing), QUEUED_NOTICE_SECONDS)
    except TimeoutError:
        if not notices:
            await _notice(interaction, QUEUED_TEXT.format(what=what), what)
        text = await landing
    finally:
        await asyncio.gather(*notices)
    extra: dict[str, Any] = {"view": view} if view else {}
    await safety.respond(interaction, text, **extra)


async def _notice(interaction: discord.Interaction[ScoutBot], text: str, what: str) -> None:
    """Tell the member why their write waits; a courtesy, so a failure to say it never stops the write."""
    try:
        await interaction.edit_original_response(content=text)
    except discord.HTTPException as error:
        log.warning("could not tell a member their %s is waiting: %s", what, error.status)


async def announcement_for(
    interaction: discord.Interaction[ScoutBot], announcement_id: int, card_message_id: int | None
) -> Announcement:
    """The announcement behind a component used on the card message `card_message_id`, refusing ids that belong to
    another guild, and a card the row does not own (one posted before a restore, or replaced since): the id in a
    custom id alone must never decide which model a member votes on.

    A card clicked in the instant between Discord storing it and the bot recording its id is the row's own when it
    is the bot's message with the row's footer, as the announcer itself adopts such a message after a crash."""
    announcement = await interaction.client.store.outbox.get(announcement_id)
    if announcement is None or announcement.guild_id != interaction.guild_id:
        raise CommandRefused(UNKNOWN_CARD)
    in_flight = (
        announcement.state == "posting" and announcement.message_id is None and _is_card(interaction, announcement)
    )
    if card_message_id is None or (announcement.message_id != card_message_id and not in_flight):
        raise CommandRefused(OUT_OF_DATE_CARD)
    return announcement


def _is_card(interaction: discord.Interaction[ScoutBot], announcement: Announcement) -> bool:
    """Whether the interaction's message is the bot's card of `announcement`, known by its footer."""
    message, me = interaction.message, interaction.client.user
    if message is None or me is None or message.author.id != me.id:
        return False
    footer = announcement_footer(announcement.id)
    return any(embed.footer and embed.footer.text == footer for embed in message.embeds)


async def guild_card(interaction: discord.Interaction[ScoutBot], model_id: str) -> Card:
    assert interaction.guild_id is not None
    card = await load_card(interaction.client.store, interaction.guild_id, model_id)
    if card is None:
        raise CommandRefused("I don't know that model; pick one from the suggestions.")
    return card


def _vote_text(model_id: str, result: CastResult) -> str:
    vendor = safety.escape(result.vote.shown_vendor)
    confidence = result.vote.confidence
    sure = f", {confidence:.0%} sure" if confidence is not None else ""
    if result.previous and result.changed:
        was = safety.escape(result.previous.shown_vendor)
        return f"Vote changed: you now think {safety.code(model_id)} is by **{vendor}**{sure} (was {was})."
    return f"Vote recorded: you think {safety.code(model_id)} is by **{vendor}**{sure}."


async def record_vote(
    interaction: discord.Interaction[ScoutBot], model_id: str, vendor_label: str, confidence: float | None = None
) -> str:
    """Record the member's vote (refused with the store's reason when voting is closed) and ask for the card to
    be re-drawn; returns what to tell the member."""
    if not vendor_label.strip():
        raise CommandRefused("Tell me which vendor you think made it.")
    store = interaction.client.store
    guild_id = interaction.guild_id
    assert guild_id is not None
    try:
        result = await store.votes.cast(
            guild_id, model_id, interaction.user.id, member_name(interaction), vendor_label, confidence=confidence
        )
    except VotingClosed as closed:
        raise CommandRefused(f"I can't take that vote: {closed}.") from None
    return _vote_text(model_id, result)


async def record_note(interaction: discord.Interaction[ScoutBot], model_id: str, text: str) -> str:
    """Save the member's note on the model in this guild; returns what to tell the member."""
    guild_id = interaction.guild_id
    assert guild_id is not None
    try:
        await interaction.client.store.notes.add(
            guild_id, model_id, interaction.user.id, member_name(interaction), text
        )
    except ValueError as error:
        raise CommandRefused(f"I can't save that note: {error}.") from None
    return f"Note saved on {safety.code(model_id)}."
