"""The truth and who saw it coming: `/scout reveal` (Manage Server) and `/scout leaderboard`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.catalogue.vendors import display_name
from cogs import _safety as safety
from cogs._lookups import known_model_id, model_autocomplete, vendor_autocomplete
from cogs._safety import CommandRefused
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

LEADERBOARD_SHOWN = 10


def _bot(interaction: discord.Interaction) -> ScoutBot:
    return interaction.client  # type: ignore[return-value]


@app_commands.describe(model="The anonymous model", vendor="Who really made it", true_model="Its real name, if known")
@app_commands.autocomplete(model=model_autocomplete, vendor=vendor_autocomplete, true_model=model_autocomplete)
async def reveal_command(
    interaction: discord.Interaction,
    model: app_commands.Range[str, 1, 200],
    vendor: app_commands.Range[str, 1, 100],
    true_model: app_commands.Range[str, 1, 200] | None = None,
) -> None:
    safety.require_manage_guild(interaction)
    bot = _bot(interaction)
    assert interaction.guild_id is not None
    model_id = await known_model_id(interaction, model)
    if not vendor.strip():
        raise CommandRefused("Tell me which vendor made it.")
    await safety.acknowledge(interaction, ephemeral=False)
    score = await bot.store.votes.reveal(interaction.guild_id, model_id, vendor, true_model, interaction.user.id)
    await bot.store.outbox.bump_revision(model_id, interaction.guild_id)
    total = score.right + score.wrong
    truth = f"**{safety.escape(display_name(score.reveal.vendor))}**"
    if score.reveal.true_model:
        truth += f" ({safety.code(score.reveal.true_model)})"
    await safety.respond(
        interaction,
        f"Revealed: {safety.code(model_id)} was made by {truth}. {score.right} of {total} vote{'s' if total != 1 else ''} here were right.",
        ephemeral=False,
    )


async def leaderboard_command(interaction: discord.Interaction) -> None:
    store = _bot(interaction).store
    assert interaction.guild_id is not None
    members = await store.votes.leaderboard(interaction.guild_id, limit=LEADERBOARD_SHOWN)
    mine = await store.votes.bot_score(interaction.guild_id)
    embed = discord.Embed(title="Who spotted the stealth models", colour=discord.Colour.gold())
    if members:
        embed.description = "\n".join(
            f"{rank}. {safety.plain(member.member_name, 100)}: {member.right}/{member.total} right ({member.accuracy:.0%})"
            for rank, member in enumerate(members, start=1)
        )
    else:
        embed.description = "No revealed model has votes yet."
    if mine.total:
        bot_line = f"{mine.right}/{mine.total} right ({mine.accuracy:.0%})"
    else:
        bot_line = "no guess on a revealed model yet"
    if mine.missing:
        bot_line += f"; {mine.missing} revealed model{'s' if mine.missing != 1 else ''} without a guess"
    embed.add_field(name="The bot's own guesses", value=bot_line, inline=False)
    await safety.respond(interaction, embed=embed, ephemeral=False)


class Scores(ScoutCog):
    """Registers `/scout reveal` and `/scout leaderboard`."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(
                name="reveal", description="Record who really made a model (Manage Server)", callback=reveal_command
            ),
            app_commands.Command(
                name="leaderboard",
                description="Members' accuracy on revealed models, and the bot's",
                callback=leaderboard_command,
            ),
        )


async def setup(bot: ScoutBot) -> None:
    await bot.add_cog(Scores(bot))
