"""Server set-up and health: `/scout setup` (Manage Server) and `/scout status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.jobs.self_calibration import reference_status
from cogs import _safety as safety
from cogs._actions import until_stored
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

REQUIRED_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
}


def missing_permissions(channel: discord.abc.GuildChannel) -> list[str] | None:
    """The permissions the bot lacks in `channel`, or None when its own member is not known yet."""
    me = channel.guild.me
    if me is None:
        return None
    granted = channel.permissions_for(me)
    return [name for flag, name in REQUIRED_PERMISSIONS.items() if not getattr(granted, flag)]


@app_commands.describe(
    channel="Where announcements go (undelivered ones move there too)",
    all_models="Also announce models that are not anonymous (unchanged when left out)",
    hide_votes="Show only how many voted until the reveal (unchanged when left out; on for new servers)",
    threads="Open a discussion thread on each announcement (unchanged when left out; off by default)",
)
async def setup_command(
    interaction: discord.Interaction[ScoutBot],
    channel: discord.TextChannel,
    all_models: bool | None = None,
    hide_votes: bool | None = None,
    threads: bool | None = None,
) -> None:
    """Options left out keep their current value: moving the channel must not silently change anything else."""
    safety.require_manage_guild(interaction)
    await safety.acknowledge(interaction)
    store = interaction.client.store
    guild_id = interaction.guild_id
    assert guild_id is not None
    await until_stored(
        lambda: store.guilds.configure(
            guild_id, channel.id, all_models=all_models, hide_votes=hide_votes, threads=threads
        ),
        "setup",
    )
    await interaction.client.announce_active_stealth_models(guild_id, channel.id)
    settings = await store.guilds.get(guild_id)
    assert settings is not None
    scope = "every new model" if settings.all_models else "new stealth models"
    votes = "hidden until the reveal" if settings.hide_votes else "shown as they come"
    text = f"Announcements of {scope} will go to {channel.mention}; votes are {votes}"
    text += ", each with a discussion thread." if settings.threads else "."
    resolved = interaction.guild.get_channel(channel.id) if interaction.guild else None
    missing = missing_permissions(resolved) if isinstance(resolved, discord.abc.GuildChannel) else None
    if missing:
        text += f" I am missing these permissions there: {', '.join(missing)}."
    await safety.respond(interaction, text)


async def status_command(interaction: discord.Interaction[ScoutBot]) -> None:
    """Everything an admin needs to see why an announcement did not arrive, in one ephemeral embed."""
    await safety.acknowledge(interaction)
    store = interaction.client.store
    guild_id = interaction.guild_id
    assert guild_id is not None
    embed = discord.Embed(title="Model Scout status", colour=discord.Colour.blurple())

    last = await store.catalogue.last_polls(1)
    success = await store.catalogue.last_successful_poll()
    failures = await store.catalogue.failures_since_success()
    if not last:
        polls = "No poll yet."
    else:
        poll = last[0]
        outcome = "ok" if poll.ok else f"failed: {safety.plain(poll.error or 'unknown error', 300)}"
        polls = f"Last poll {poll.started_at[:19].replace('T', ' ')} UTC, {outcome}."
        if success and not poll.ok:
            good = success.started_at[:19].replace("T", " ")
            polls += f"\nLast good poll {good} UTC; {failures} failed since (backing off)."
    embed.add_field(name="Catalogue", value=polls, inline=False)

    counts = await store.catalogue.counts()
    embed.add_field(
        name="Models",
        value=f"{counts['models']} known, {counts['stealth']} stealth, {counts['removed']} removed",
        inline=False,
    )

    settings = await store.guilds.get(guild_id)
    if settings is None or settings.channel_id is None:
        here = "Not set up: run `/scout setup` to choose a channel."
    else:
        here = (
            f"Announcing {'every new model' if settings.all_models else 'stealth models'} in <#{settings.channel_id}>."
        )
        here += f"\nVotes {'hidden until the reveal' if settings.hide_votes else 'shown as they come'}"
        here += "; a discussion thread on each new card." if settings.threads else "."
        channel = interaction.guild.get_channel(settings.channel_id) if interaction.guild else None
        if channel is None:
            here += "\nThat channel no longer exists or I cannot see it."
        elif isinstance(channel, discord.abc.GuildChannel):
            missing = missing_permissions(channel)
            if missing:
                here += f"\nMissing permissions there: {', '.join(missing)}."
        if settings.last_error:
            when = (settings.last_error_at or "")[:16].replace("T", " ")
            here += f"\nLast delivery error ({when} UTC): {safety.plain(settings.last_error, 300)}"
    embed.add_field(name="This server", value=here, inline=False)
    references = (await reference_status(store)).describe()
    embed.add_field(name="Who the bot can name", value=safety.plain(references, 1000), inline=False)

    outbox = await store.outbox.counts(guild_id)
    votes = await store.members.counts(guild_id)
    embed.add_field(
        name="Activity here",
        value=(
            f"{outbox.get('posted', 0)} announced, {outbox.get('intended', 0) + outbox.get('posting', 0)} pending, "
            f"{outbox.get('failed', 0)} failed; "
            f"{votes['votes']} votes, {votes['notes']} notes, {votes['reveals']} reveals"
        ),
        inline=False,
    )
    await safety.respond(interaction, embed=embed)


class Admin(ScoutCog):
    """Registers `/scout setup` and `/scout status`."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(
                name="setup", description="Choose the announcement channel (Manage Server)", callback=setup_command
            ),
            app_commands.Command(
                name="status", description="Polling, delivery and permission health", callback=status_command
            ),
        )


async def setup(bot: ScoutBot) -> None:
    """The entry point `load_extension` looks for."""
    await bot.add_cog(Admin(bot))
