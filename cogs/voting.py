"""Votes and notes by slash command (`/scout vote|note|votes`), and the card components registered at start-up.

Each command acknowledges Discord before it touches the database, so another process holding the
write lock never makes an interaction expire; the vote or note itself waits for the lock and lands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.store.notes import MAX_NOTE_LENGTH
from cogs import _safety as safety
from cogs._actions import record_note, record_vote, store_and_tell
from cogs._components import DYNAMIC_ITEMS, tally_embed
from cogs._lookups import known_model_id, model_autocomplete, vendor_autocomplete
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot


@app_commands.describe(
    model="The model (type to search, or type its name)",
    vendor="The vendor you think made it",
    confidence="How sure you are, in percent (optional; used for scoring)",
)
@app_commands.autocomplete(model=model_autocomplete, vendor=vendor_autocomplete)
async def vote_command(
    interaction: discord.Interaction[ScoutBot],
    model: app_commands.Range[str, 1, 200],
    vendor: app_commands.Range[str, 1, 100],
    confidence: app_commands.Range[int, 1, 100] | None = None,
) -> None:
    """Acknowledged first: the vote then waits for the database as long as it must, and the member is told."""
    await safety.acknowledge(interaction)

    async def vote() -> str:
        model_id = await known_model_id(interaction, model)
        return await record_vote(interaction, model_id, vendor, None if confidence is None else confidence / 100)

    await store_and_tell(interaction, vote, "vote")


@app_commands.describe(model="The model (type to search, or type its name)", text="Your note (up to 1,000 characters)")
@app_commands.autocomplete(model=model_autocomplete)
async def note_command(
    interaction: discord.Interaction[ScoutBot],
    model: app_commands.Range[str, 1, 200],
    text: app_commands.Range[str, 1, MAX_NOTE_LENGTH],
) -> None:
    """Acknowledged first, like a vote: a note is never lost to a busy database."""
    await safety.acknowledge(interaction)

    async def note() -> str:
        return await record_note(interaction, await known_model_id(interaction, model), text)

    await store_and_tell(interaction, note, "note")


@app_commands.describe(model="The model (type to search, or type its name)")
@app_commands.autocomplete(model=model_autocomplete)
async def votes_command(interaction: discord.Interaction[ScoutBot], model: app_commands.Range[str, 1, 200]) -> None:
    """Only this guild's votes (hidden until the reveal if the guild chose so) and notes; never another guild's."""
    await safety.acknowledge(interaction)
    model_id = await known_model_id(interaction, model)
    await safety.respond(interaction, embed=await tally_embed(interaction, model_id))


class Voting(ScoutCog):
    """Registers this concern's `/scout` sub-commands and the persistent components of announcements."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(name="vote", description="Vote for who you think made a model", callback=vote_command),
            app_commands.Command(
                name="note", description="Add a note about a model for this server", callback=note_command
            ),
            app_commands.Command(
                name="votes", description="This server's votes and notes on a model", callback=votes_command
            ),
        )

    async def cog_load(self) -> None:
        """Register the card components once, so buttons on week-old messages work after a restart."""
        await super().cog_load()
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        """Take the components away with the commands, so a reload does not register them twice."""
        await super().cog_unload()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)


async def setup(bot: ScoutBot) -> None:
    """The entry point `load_extension` looks for."""
    await bot.add_cog(Voting(bot))
