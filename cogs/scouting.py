"""Looking at models: `/scout recent`, `/scout model` and `/scout probe` (Manage Server, once per 10 minutes).

`/scout model` shows the card with everything behind it and, while voting is open here, the vote menu;
`/scout recent` lists the latest stealth models with a picker to vote on any of them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs import _safety as safety
from cogs._actions import guild_card
from cogs._card import load_card, no_guess_reason, supported_ranking
from cogs._components import model_view, recent_view
from cogs._lookups import known_model_id, model_autocomplete
from cogs._render import card_embed, evidence_embed, guessed_vendor_name, recent_line, relative_time
from cogs._safety import CommandRefused
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
    votable = []
    for model in models:
        card = await load_card(store, interaction.guild_id, model.id)
        assert card is not None
        embed.add_field(name=safety.plain(model.name, safety.FIELD_NAME_LIMIT), value=recent_line(card), inline=False)
        if card.voting_open:
            votable.append((model.id, model.name))
    view = recent_view(votable)
    await safety.respond(interaction, embed=embed, ephemeral=False, view=view)


@app_commands.describe(model="The model (type to search, or type its name)")
@app_commands.autocomplete(model=model_autocomplete)
async def model_command(interaction: discord.Interaction[ScoutBot], model: app_commands.Range[str, 1, 200]) -> None:
    """The same card as an announcement with everything behind it (the Evidence embed), but never titled "New": a
    lookup says nothing about when it was listed."""
    await safety.acknowledge(interaction, ephemeral=False)
    card = await guild_card(interaction, await known_model_id(interaction, model))
    embeds = [card_embed(card, announced=False)]
    if card.model.stealth:
        embeds.append(evidence_embed(card))
    view = model_view(card)
    await safety.respond(interaction, embeds=embeds, ephemeral=False, view=view)


class ProbeCooldown:
    """Probes cost money: once per server per cooldown, whoever asks. Only a probe that starts uses it up, so an
    admin who mistyped the model can try again at once; a refusal says when the next probe may start."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._started: dict[int, float] = {}

    def next_allowed(self, guild_id: int, now: float) -> float | None:
        """When this server may probe again, or None if it may now."""
        started = self._started.get(guild_id)
        return None if started is None or now >= started + self.seconds else started + self.seconds

    def start(self, guild_id: int, now: float) -> None:
        """A probe starts: the cooldown runs from now."""
        self._started[guild_id] = now

    def cancel(self, guild_id: int) -> None:
        """The probe did not start after all (the model was not found): it costs nothing."""
        self._started.pop(guild_id, None)


PROBE_COOLDOWN = ProbeCooldown(PROBE_COOLDOWN_SECONDS)


@app_commands.describe(model="The model to probe again (type to search, or type its name)")
@app_commands.autocomplete(model=model_autocomplete)
async def probe_command(interaction: discord.Interaction[ScoutBot], model: app_commands.Range[str, 1, 200]) -> None:
    """Probes cost money, so only admins may ask, once per server per cooldown. The permission and the cooldown
    are checked before anything else and answered at once; the probe itself is then waited for."""
    safety.require_manage_guild(interaction)
    guild_id = interaction.guild_id
    assert guild_id is not None
    now = time.time()
    allowed_at = PROBE_COOLDOWN.next_allowed(guild_id, now)
    if allowed_at is not None:
        raise CommandRefused(
            f"A probe was started here less than {PROBE_COOLDOWN.seconds / 60:.0f} minutes ago; "
            f"the next may start {relative_time(allowed_at)}."
        )
    PROBE_COOLDOWN.start(guild_id, now)
    await safety.acknowledge(interaction)
    bot = interaction.client
    try:
        model_id = await known_model_id(interaction, model)
    except CommandRefused:
        PROBE_COOLDOWN.cancel(guild_id)
        raise
    await bot.pipeline.reprobe(model_id)
    guess = await bot.store.guesses.latest(model_id)
    ranking = supported_ranking(guess)
    if ranking:
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
