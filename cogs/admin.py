"""Server set-up and health: `/scout setup` (Manage Server) and `/scout status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.jobs.key_health import stored_problem
from bot.jobs.self_calibration import reference_status
from bot.jobs.spend import usd
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

    polls = await _polls(interaction.client)
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
    embed.add_field(name="OpenRouter key", value=await _key_health(interaction.client), inline=False)
    embed.add_field(name="Spend", value=await _spend(interaction.client), inline=False)

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


def _when(stamp: str) -> str:
    return stamp[:19].replace("T", " ")


async def _polls(bot: ScoutBot) -> str:
    """The catalogue's health: a poll under way, the last poll's outcome (also one the store could not record, kept
    in memory), and how long the gateway has failed."""
    store, pipeline = bot.store, bot.pipeline
    last = await store.catalogue.last_polls(1)
    unstored = pipeline.unstored_poll_failure
    if pipeline.polling_since is not None:
        text = f"Polling now (started {_when(pipeline.polling_since)} UTC)."
    elif unstored is not None and (not last or unstored.started_at >= last[0].started_at):
        text = f"Last poll {_when(unstored.started_at)} UTC failed: {safety.plain(unstored.error, 300)}"
    elif not last:
        return "No poll yet."
    elif last[0].finished_at is None:
        text = f"Last poll {_when(last[0].started_at)} UTC did not finish (interrupted, or running in another process)."
    else:
        poll = last[0]
        outcome = "ok" if poll.ok else f"failed: {safety.plain(poll.error or 'unknown error', 300)}"
        text = f"Last poll {_when(poll.started_at)} UTC, {outcome}."
    success = await store.catalogue.last_successful_poll()
    failures = await store.catalogue.failures_since_success()
    if success is not None and last and success.id != last[0].id and failures:
        text += f"\nLast good poll {_when(success.started_at)} UTC; {failures} failed since (backing off)."
    return text


async def _key_health(bot: ScoutBot) -> str:
    """Whether probes can run at all: no key, a key the gateway refuses (and what to do), or a working key."""
    if bot.settings.openrouter_api_key is None:
        return "Not set: the bot does not probe or calibrate (set OPENROUTER_API_KEY)."
    problem = await stored_problem(bot.store)
    if problem is not None:
        return safety.plain(problem.describe(), 1000)
    return "Set, and it works: no refusal on record."


async def _spend(bot: ScoutBot) -> str:
    """The week's spend against the limit, and what one run may cost."""
    settings = bot.settings
    spent = await bot.store.spend.last_week()
    return (
        f"{usd(spent)} in the last 7 days of {usd(settings.spend_limit_usd_per_week)} "
        f"(SPEND_LIMIT_USD_PER_WEEK); a probe run may cost up to {usd(settings.probe_max_usd_per_run)} "
        "(PROBE_MAX_USD_PER_RUN). Free models always run."
    )


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
