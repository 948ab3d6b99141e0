"""Looking at models: `/scout recent`, `/scout model` and `/scout probe` (Manage Server, with a cooldown)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.catalogue.vendors import display_name
from cogs import _safety as safety
from cogs._safety import CommandRefused
from cogs._scout_cog import ScoutCog
from cogs.announcements import latest_guess, model_embed
from cogs.voting import known_model_id, model_autocomplete

if TYPE_CHECKING:
    from bot.client import ScoutBot

RECENT_SHOWN = 10
PROBE_COOLDOWN_SECONDS = 600.0


def _bot(interaction: discord.Interaction) -> ScoutBot:
    return interaction.client  # type: ignore[return-value]


async def recent_command(interaction: discord.Interaction) -> None:
    store = _bot(interaction).store
    models = (await store.catalogue.models(stealth_only=True))[:RECENT_SHOWN]
    embed = discord.Embed(title="Recent stealth models", colour=discord.Colour.dark_gold())
    if not models:
        embed.description = "No stealth model seen yet."
    for model in models:
        guess = await latest_guess(store, model.id)
        best = (
            f"best guess **{safety.escape(display_name(guess.ranking[0][0]))}** ({guess.ranking[0][1]:.0%})"
            if guess and guess.ranking
            else "no guess yet"
        )
        state = f"removed {model.removed_at[:10]}" if model.removed_at else "listed"
        embed.add_field(
            name=safety.plain(model.name, safety.FIELD_NAME_LIMIT),
            value=f"{safety.code(model.id)} · first seen {model.first_seen[:10]} · {state} · {best}",
            inline=False,
        )
    await safety.respond(interaction, embed=embed, ephemeral=False)


@app_commands.describe(model="The model (type to search)")
@app_commands.autocomplete(model=model_autocomplete)
async def model_command(interaction: discord.Interaction, model: app_commands.Range[str, 1, 200]) -> None:
    bot = _bot(interaction)
    model_id = await known_model_id(interaction, model)
    assert interaction.guild_id is not None
    record = await bot.store.catalogue.model(model_id)
    assert record is not None
    reveal = await bot.store.votes.reveal_for(interaction.guild_id, model_id)
    embed = model_embed(
        record,
        guess=await latest_guess(bot.store, model_id),
        tally=await bot.store.votes.tally(interaction.guild_id, model_id),
        reveal=reveal,
    )
    await safety.respond(interaction, embed=embed, ephemeral=False)


@app_commands.describe(model="The model to probe again (type to search)")
@app_commands.autocomplete(model=model_autocomplete)
async def probe_command(interaction: discord.Interaction, model: app_commands.Range[str, 1, 200]) -> None:
    safety.require_manage_guild(interaction)
    bot = _bot(interaction)
    assert interaction.guild_id is not None
    model_id = await known_model_id(interaction, model)
    cog = bot.get_cog(Scouting.__cog_name__)
    assert isinstance(cog, Scouting)
    cog.start_probe_cooldown(interaction.guild_id)
    await safety.acknowledge(interaction)
    await bot.pipeline.reprobe(model_id)
    guess = await latest_guess(bot.store, model_id)
    if guess is None or not guess.ranking:
        result = safety.plain(guess.reason if guess and guess.reason else "no vendor stood out", 300)
    else:
        vendor, probability = guess.ranking[0]
        result = f"best guess **{safety.escape(display_name(vendor))}** ({probability:.0%})"
    await safety.respond(interaction, f"Probed {safety.code(model_id)} again: {result}. Its announcements are updated.")


class Scouting(ScoutCog):
    """Registers the model commands; keeps the per-server cooldown of `/scout probe`."""

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
        self._last_probe: dict[int, float] = {}

    def start_probe_cooldown(self, guild_id: int) -> None:
        """Refuse a second re-probe from the same server within the cooldown; probes cost money."""
        wait = self._last_probe.get(guild_id, -PROBE_COOLDOWN_SECONDS) + PROBE_COOLDOWN_SECONDS - time.monotonic()
        if wait > 0:
            raise CommandRefused(f"A probe was started here recently; try again in {max(wait / 60, 1):.0f} minutes.")
        self._last_probe[guild_id] = time.monotonic()


async def setup(bot: ScoutBot) -> None:
    await bot.add_cog(Scouting(bot))
