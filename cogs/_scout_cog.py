"""The base of every cog whose slash commands live under the one `/scout` group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot.client import ScoutBot


class ScoutCog(commands.Cog):
    """Adds its sub-commands to `/scout` when loaded and takes them away when unloaded."""

    def __init__(self, bot: ScoutBot, *scout_commands: app_commands.Command[Any, ..., Any]) -> None:
        self.bot = bot
        self.scout_commands = list(scout_commands)

    async def cog_load(self) -> None:
        self.bot.add_scout_commands(*self.scout_commands)

    async def cog_unload(self) -> None:
        self.bot.remove_scout_commands(*self.scout_commands)
