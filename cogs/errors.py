"""Failed slash commands are answered ephemerally in one clear sentence; the details go to the log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _safety as safety

if TYPE_CHECKING:
    from bot.client import ScoutBot


class Errors(commands.Cog):
    """Installs the command tree's error handler while loaded."""

    def __init__(self, bot: ScoutBot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error

    async def cog_load(self) -> None:
        """One handler for every command's failure, so no command repeats its own error answer."""
        self.bot.tree.error(self.on_app_command_error)

    async def cog_unload(self) -> None:
        """Give the tree its previous handler back, so a reload does not stack handlers."""
        self.bot.tree.error(self._previous)

    async def on_app_command_error(
        self, interaction: discord.Interaction[ScoutBot], error: app_commands.AppCommandError
    ) -> None:
        """Answer in one sentence; details, never secrets, go to the log."""
        await safety.answer_error(interaction, error)


async def setup(bot: ScoutBot) -> None:
    """The entry point `load_extension` looks for."""
    await bot.add_cog(Errors(bot))
