"""`/scout export`: this server's vote log as a file, streamed from the store and fitted to the upload limit.

Who may export what follows Red-DiscordBot's scopes: the guild's log is the admins' (Manage Server); a member
may always take out their own data, and nobody else's.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands

from bot.export import ExportError, check_format, export_basename, export_to_directory, parse_since
from cogs import _safety as safety
from cogs._lookups import known_model_id, model_autocomplete
from cogs._safety import CommandRefused
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


def _is_admin(interaction: discord.Interaction[ScoutBot]) -> bool:
    """The same rule as every admin command (Manage Server or Administrator), asked instead of enforced."""
    try:
        safety.require_manage_guild(interaction)
    except app_commands.MissingPermissions:
        return False
    return True


@app_commands.describe(
    model="Only this model (type to search)",
    format="csv (default) or jsonl",
    since="Only rows from this ISO date or time on, e.g. 2026-06-01",
    excel="CSV for Excel on Windows (byte order mark, CRLF lines)",
)
@app_commands.autocomplete(model=model_autocomplete)
async def export_command(
    interaction: discord.Interaction[ScoutBot],
    model: app_commands.Range[str, 1, 200] | None = None,
    format: Literal["csv", "jsonl"] = "csv",
    since: app_commands.Range[str, 1, 40] | None = None,
    excel: bool = False,
) -> None:
    """Admins (Manage Server) get the server's whole log; anyone else gets only their own votes and notes."""
    await safety.acknowledge(interaction)
    store = interaction.client.store
    guild_id = interaction.guild_id
    assert guild_id is not None
    model_id = await known_model_id(interaction, model) if model else None
    try:
        since_stamp = parse_since(since) if since else None
        check_format(format, excel=excel)
    except ExportError as error:
        raise CommandRefused(f"{error}.") from None
    member_id = None if _is_admin(interaction) else interaction.user.id
    limit = interaction.guild.filesize_limit if interaction.guild else DEFAULT_UPLOAD_LIMIT
    name = export_basename(guild_id, model_id, format, member_id=member_id)
    with tempfile.TemporaryDirectory(prefix="scout-export-") as directory:
        rows = store.members.export_rows(guild_id, model_id=model_id, since=since_stamp, member_id=member_id)
        try:
            async with contextlib.aclosing(rows):
                result = await export_to_directory(rows, format, Path(directory), name, size_limit=limit, excel=excel)
        except ExportError as error:
            raise CommandRefused(f"The export failed: {error}.") from None
        whose = "Vote log of this server" if member_id is None else "Your votes and notes in this server"
        for number, path in enumerate(result.paths):
            text = f"{whose}: {result.summary()}" if number == 0 else None
            await safety.respond(interaction, text, file=discord.File(path, filename=path.name))


class Export(ScoutCog):
    """Registers `/scout export`."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(
                name="export",
                description="Download votes and notes: the server's (Manage Server) or your own",
                callback=export_command,
            ),
        )


async def setup(bot: ScoutBot) -> None:
    """The extension's entry point for `load_extension`."""
    await bot.add_cog(Export(bot))
