"""Looking at models: `/scout recent`, `/scout model` and `/scout probe` (Manage Server, once per 10 minutes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs import _safety as safety
from cogs._actions import guild_card
from cogs._card import load_card, no_guess_reason, supported_ranking
from cogs._lookups import known_model_id, model_autocomplete
from cogs._render import card_embed, guessed_vendor_name, not_sure_text, recent_line
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

RECENT_SHOWN = 10
PROBE_COOLDOWN_SECONDS = 600.0


async def recent_command(interaction: discord.Interaction[ScoutBot]) -> None:
    """Public, so a channel can see the latest stealth models and where each stands."""
    await safety.acknowledge(interaction, ephemeral=False)
    store = interaction.client.store
    assert interaction.guild_id is not None
    models = (await store.catalogue.models(stealth_only=True))[:RECENT_SHOWN]
    embed = discord.Embed(title="Recent stealth models", colour=discord.Colour.dark_gold())
    if not models:
        embed.description = "No stealth model seen yet."
    for model in models:
        card = await load_card(store, interaction.guild_id, model.id)
        assert card is not None
        embed.add_field(name=safety.plain(model.name, safety.FIELD_NAME_LIMIT), value=recent_line(card), inline=False)
    await safety.respond(interaction, embed=embed, ephemeral=False)


@app_commands.describe(model="The model (type to search, or type its name)")
@app_commands.autocomplete(model=model_autocomplete)
async def model_command(interaction: discord.Interaction[ScoutBot], model: app_commands.Range[str, 1, 200]) -> None:
    """The same card as an announcement, but never titled "New": a lookup says nothing about when it was listed."""
    await safety.acknowledge(interaction, ephemeral=False)
    card = await guild_card(interaction, await known_model_id(interaction, model))
    await safety.respond(interaction, embed=card_embed(card, announced=False), ephemeral=False)


def _probe_cooldown_key(interaction: discord.Interaction[ScoutBot]) -> int | None:
    """Probes cost money: the cooldown is per server, whoever asks."""
    return interaction.guild_id


def _may_manage_guild(interaction: discord.Interaction[ScoutBot]) -> bool:
    """Checked before the cooldown, so a member without the permission never uses up the server's probe."""
    safety.require_manage_guild(interaction)
    return True


@app_commands.describe(model="The model to probe again (type to search, or type its name)")
@app_commands.autocomplete(model=model_autocomplete)
@app_commands.checks.cooldown(1, PROBE_COOLDOWN_SECONDS, key=_probe_cooldown_key)
@app_commands.check(_may_manage_guild)
async def probe_command(interaction: discord.Interaction[ScoutBot], model: app_commands.Range[str, 1, 200]) -> None:
    """Probes cost money, so only admins may ask, once per server per cooldown."""
    await safety.acknowledge(interaction)
    bot = interaction.client
    model_id = await known_model_id(interaction, model)
    await bot.pipeline.reprobe(model_id)
    guess = await bot.store.guesses.latest(model_id)
    ranking = supported_ranking(guess)
    if guess is not None and guess.not_sure is not None:
        result = f"not sure: {not_sure_text(guess)}"
    elif ranking:
        vendor, probability = ranking[0]
        result = f"best guess **{safety.escape(guessed_vendor_name(vendor))}** ({probability:.0%})"
    else:
        result = safety.plain(no_guess_reason(guess) if guess else "no vendor stood out", 300)
    await safety.respond(interaction, f"Probed {safety.code(model_id)} again: {result}. Its announcements are updated.")


class Scouting(ScoutCog):
    """Registers the model commands."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(
                name="recent", description="The latest stealth models and the bot's guesses", callback=recent_command
            ),
            app_commands.Command(name="model", description="Everything known about one model", callback=model_command),
            app_commands.Command(
                name="probe", description="Probe a model again (Manage Server)", callback=probe_command
            ),
        )


async def setup(bot: ScoutBot) -> None:
    """The entry point `load_extension` looks for."""
    await bot.add_cog(Scouting(bot))
