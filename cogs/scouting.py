"""Looking at models: `/scout recent`, `/scout model` and `/scout probe`.

`/scout model` shows the card with everything behind it and, while voting is open here, the vote menu;
`/scout recent` lists the latest stealth models with a picker to vote on any of them.

`/scout probe` spends the operator's money: it needs Manage Server, probes only anonymous models unless the
operator allows any (PROBE_COMMAND_ANY_MODEL), and runs once per PROBE_COMMAND_COOLDOWN_SECONDS for the whole
deployment, every server together, kept in the store so a restart does not reset it. The run itself keeps to
the spend limits (`bot.jobs.spend`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.jobs.pipeline import ProbeRefused
from bot.jobs.spend import usd
from cogs import _safety as safety
from cogs._actions import guild_card
from cogs._card import load_card, no_guess_reason, supported_ranking
from cogs._components import model_view, recent_view
from cogs._lookups import known_model_id, model_autocomplete
from cogs._render import card_embed, evidence_embed, guessed_vendor_name, not_sure_text, recent_line, share_text
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

RECENT_SHOWN = 10
PROBE_COOLDOWN_STATE = "probe_command.last_started_at"


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


def _may_manage_guild(interaction: discord.Interaction[ScoutBot]) -> bool:
    """Checked before anything else, so a member without the permission never uses up the probe."""
    safety.require_manage_guild(interaction)
    return True


async def _require_anonymous(interaction: discord.Interaction[ScoutBot], model_id: str) -> None:
    """Only anonymous models are probed on request, unless the operator allows any: a named model's maker is known,
    and a Manage Server member must not be able to spend the key on the catalogue's dearest listing."""
    record = await interaction.client.store.catalogue.model(model_id)
    if interaction.client.settings.probe_command_any_model or (record is not None and record.stealth):
        return
    raise safety.CommandRefused(
        f"I only probe anonymous models on request; {safety.code(model_id)} is listed under its maker's name "
        "(the bot's operator can allow any model with PROBE_COMMAND_ANY_MODEL)."
    )


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _claim_probe_turn(interaction: discord.Interaction[ScoutBot]) -> None:
    """One on-demand run per cooldown for the whole deployment, whichever server asks; kept in the store, so a
    restart does not hand out a fresh turn."""
    store, cooldown = interaction.client.store, interaction.client.settings.probe_command_cooldown_seconds
    now = datetime.now(UTC)
    held = await store.state.claim_turn(PROBE_COOLDOWN_STATE, _stamp(now), _stamp(now - timedelta(seconds=cooldown)))
    if held is not None:
        since = (now - datetime.fromisoformat(held.replace("Z", "+00:00"))).total_seconds()
        raise safety.CommandRefused(
            f"Slow down: one probe per {cooldown:.0f} seconds for every server together; "
            f"try again in {max(1.0, cooldown - since):.0f} seconds."
        )


@app_commands.describe(model="The model to probe again (type to search, or type its name)")
@app_commands.autocomplete(model=model_autocomplete)
@app_commands.check(_may_manage_guild)
async def probe_command(interaction: discord.Interaction[ScoutBot], model: app_commands.Range[str, 1, 200]) -> None:
    """Probes cost money: only admins may ask, only for anonymous models, once per cooldown for every server."""
    await safety.acknowledge(interaction)
    bot = interaction.client
    model_id = await known_model_id(interaction, model)
    await _require_anonymous(interaction, model_id)
    await _claim_probe_turn(interaction)
    try:
        outcome = await bot.pipeline.reprobe(model_id)
    except ProbeRefused as refused:
        raise safety.CommandRefused(f"I did not probe {safety.code(model_id)}: {safety.plain(refused, 400)}.") from None
    guess = await bot.store.guesses.latest(model_id)
    ranking = supported_ranking(guess)
    if guess is not None and guess.not_sure is not None:
        result = f"not sure: {not_sure_text(guess)}"
    elif ranking:
        vendor, probability = ranking[0]
        result = f"best guess **{safety.escape(guessed_vendor_name(vendor))}** ({share_text(probability)})"
    else:
        result = safety.plain(no_guess_reason(guess) if guess else "no vendor stood out", 300)
    trimmed = ""
    if outcome.report.trimmed:
        limit = usd(bot.settings.probe_max_usd_per_run)
        trimmed = f" The run was trimmed to {len(outcome.report.planned)} probes to stay within {limit} a run."
    await safety.respond(
        interaction, f"Probed {safety.code(model_id)} again: {result}. Its announcements are updated.{trimmed}"
    )


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
