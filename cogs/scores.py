"""The truth and who saw it coming: `/scout reveal` (Manage Server) and `/scout leaderboard`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.export import ExportError, parse_since
from bot.scoring import BOT_NAME, Scorecard
from cogs import _safety as safety
from cogs._lookups import known_model_id, model_autocomplete, vendor_autocomplete
from cogs._safety import CommandRefused
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

LEADERBOARD_SHOWN = 10
SCORING_NOTE = (
    "A call is a vote (or the bot's top guess) on a model revealed here. Brier score, for calls with a stated "
    "confidence: 0 is perfect, 0.25 is always saying 50%, lower is better."
)


@app_commands.describe(model="The anonymous model", vendor="Who really made it", true_model="Its real name, if known")
@app_commands.autocomplete(model=model_autocomplete, vendor=vendor_autocomplete, true_model=model_autocomplete)
async def reveal_command(
    interaction: discord.Interaction[ScoutBot],
    model: app_commands.Range[str, 1, 200],
    vendor: app_commands.Range[str, 1, 100],
    true_model: app_commands.Range[str, 1, 200] | None = None,
) -> None:
    """Records the truth, which locks the votes on the model and turns them into calls on the leaderboard."""
    safety.require_manage_guild(interaction)
    await safety.acknowledge(interaction, ephemeral=False)
    store = interaction.client.store
    assert interaction.guild_id is not None
    model_id = await known_model_id(interaction, model)
    if not vendor.strip():
        raise CommandRefused("Tell me which vendor made it.")
    score = await store.reveals.reveal(interaction.guild_id, model_id, vendor, true_model, interaction.user.id)
    total = score.right + score.wrong
    truth = f"**{safety.escape(score.reveal.vendor_name)}**"
    if score.reveal.true_model:
        truth += f" ({safety.code(score.reveal.true_model)})"
    await safety.respond(
        interaction,
        f"Revealed: {safety.code(model_id)} was made by {truth}. "
        f"{score.right} of {total} vote{'s' if total != 1 else ''} here were right.",
        ephemeral=False,
    )


def _scorecard_line(rank: int, card: Scorecard) -> str:
    who = f"🤖 {card.name} (the bot)" if card.is_bot else safety.plain(card.name, 100)
    line = f"{rank}. {who}: {card.correct}/{card.calls} right ({card.accuracy:.0%})"
    return line + (f" · Brier {card.brier:.2f}" if card.brier is not None else "")


def leaderboard_embed(cards: list[Scorecard], since: str | None) -> discord.Embed:
    """Members and the bot on one board, so "is the bot better than us?" is answered at a glance."""
    season = f" since {since[:10]}" if since else ""
    embed = discord.Embed(title=f"Who spotted the stealth models{season}", colour=discord.Colour.gold())
    ranked = [card for card in cards if card.calls]
    lines = [_scorecard_line(rank, card) for rank, card in enumerate(ranked, start=1)]
    shown = lines[:LEADERBOARD_SHOWN]
    bot_rank = next((rank for rank, card in enumerate(ranked, start=1) if card.is_bot), None)
    if bot_rank is not None and bot_rank > LEADERBOARD_SHOWN:
        shown += ["…", lines[bot_rank - 1]]
    embed.description = "\n".join(shown) if ranked else "No revealed model has votes yet."
    if ranked and bot_rank is None:
        embed.description += f"\n🤖 {BOT_NAME} has made no call on a model revealed here yet."
    embed.set_footer(text=SCORING_NOTE)
    return embed


@app_commands.describe(since="Only models revealed from this ISO date on (a season), e.g. 2026-06-01")
async def leaderboard_command(
    interaction: discord.Interaction[ScoutBot], since: app_commands.Range[str, 1, 40] | None = None
) -> None:
    """Ranks everyone by calls that turned out right, recomputed from the stored votes on every request."""
    assert interaction.guild_id is not None
    try:
        season = parse_since(since) if since else None
    except ExportError as error:
        raise CommandRefused(f"{error}.") from None
    await safety.acknowledge(interaction, ephemeral=False)
    cards = await interaction.client.store.reveals.scores(interaction.guild_id, since=season)
    await safety.respond(interaction, embed=leaderboard_embed(cards, season), ephemeral=False)


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
                description="Members and the bot ranked on revealed models (optionally since a date)",
                callback=leaderboard_command,
            ),
        )


async def setup(bot: ScoutBot) -> None:
    """The extension's entry point for `load_extension`."""
    await bot.add_cog(Scores(bot))
