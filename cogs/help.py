"""`/scout help`, and a short welcome when the bot joins a server: what each command does and who may use it.

The list is read from the `/scout` group itself, so a command added by any extension appears without
being written down twice; a command whose description ends in "(Manage Server)" is for admins, the
convention every admin-only command already follows. A group (`/scout alerts`) is listed by its
sub-commands, split the same way: `show` for everyone, the ones that change settings for admins.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _safety as safety
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

log = logging.getLogger(__name__)

ADMIN_MARK = "(Manage Server)"
WELCOME = (
    "Thanks for adding Model Scout! I watch OpenRouter for new anonymous (stealth) models, guess who made them "
    "and let you vote. An admin starts me with `/scout setup` and a channel."
)


def _is_admin(command: app_commands.Command[Any, ..., Any] | app_commands.Group) -> bool:
    return command.description.endswith(ADMIN_MARK)


def _group_lines(group: app_commands.Group) -> tuple[list[str], list[str]]:
    """A group's sub-commands as one line for everyone and one for admins, each naming its sub-commands."""
    split: dict[bool, list[str]] = {False: [], True: []}
    for command in group.commands:
        split[_is_admin(command)].append(command.name)
    lines: dict[bool, list[str]] = {False: [], True: []}
    for admin, names in split.items():
        if not names:
            continue
        shown = f"/scout {group.name} {names[0]}" if len(names) == 1 else f"/scout {group.name} {' | '.join(names)}"
        only = next(c for c in group.commands if c.name == names[0]) if len(names) == 1 else group
        description = only.description.removesuffix(ADMIN_MARK).strip()
        lines[admin].append(f"`{shown}`: {safety.escape(description)}")
    return lines[False], lines[True]


def help_embed(group: app_commands.Group) -> discord.Embed:
    """Every `/scout` command in two lists, everyone's first, so a member sees at once what they may do."""
    everyone: list[str] = []
    admins: list[str] = []
    for command in sorted(group.commands, key=lambda item: item.name):
        if isinstance(command, app_commands.Group):
            for_everyone, for_admins = _group_lines(command)
            everyone += for_everyone
            admins += for_admins
            continue
        description = command.description.removesuffix(ADMIN_MARK).strip()
        line = f"`/scout {command.name}`: {safety.escape(description)}"
        (admins if _is_admin(command) else everyone).append(line)
    embed = discord.Embed(title="Model Scout: commands", colour=discord.Colour.blurple())
    embed.add_field(name="For everyone", value="\n".join(everyone) or "—", inline=False)
    embed.add_field(name="For admins (Manage Server)", value="\n".join(admins) or "—", inline=False)
    embed.set_footer(
        text="Cards of new stealth models also carry a vote menu and the Evidence, Add note and Votes buttons."
    )
    return safety.finish_embed(embed)


async def help_command(interaction: discord.Interaction[ScoutBot]) -> None:
    """Ephemeral: whoever asks gets the list without filling the channel."""
    await safety.respond(interaction, embed=help_embed(interaction.client.scout_group))


class Help(ScoutCog):
    """Registers `/scout help` and welcomes the server the bot has just joined."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(
                name="help", description="What each command does and who may use it", callback=help_command
            ),
        )

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Say hello in the system channel, only if the bot may post there; a server without one gets nothing."""
        channel = guild.system_channel
        if channel is None or not channel.permissions_for(guild.me).send_messages:
            return
        try:
            await channel.send(**safety.message_kwargs(WELCOME, embed=help_embed(self.bot.scout_group)))
        except discord.HTTPException as error:
            log.warning("could not welcome guild %d: %s", guild.id, error.status)


async def setup(bot: ScoutBot) -> None:
    """The entry point `load_extension` looks for."""
    await bot.add_cog(Help(bot))
