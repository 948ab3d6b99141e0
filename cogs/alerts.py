"""`/scout alerts`: what this server hears about, and who is pinged (Manage Server to change anything).

Each sub-command changes only the options it is given and keeps every other setting; `pause` turns
all announcements and alerts off without deleting anything, `resume` turns them back on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.alerts import AlertPreferences, alert_text, parse_list
from cogs import _safety as safety
from cogs._safety import CommandRefused

if TYPE_CHECKING:
    from bot.client import ScoutBot


def _listed(items: tuple[str, ...]) -> str:
    return ", ".join(safety.code(item, 100) for item in items) if items else "any"


def preferences_text(preferences: AlertPreferences) -> str:
    """Every setting on one screen, in the words of the commands that change them."""
    on = {True: "on", False: "off"}
    new_models = on[preferences.new_models]
    if preferences.new_models:
        new_models += (
            f" ({'free only, ' if preferences.free_only else ''}namespaces/vendors: {_listed(preferences.namespaces)}, "
            f"modalities: {_listed(preferences.modalities)})"
        )
    return "\n".join(
        [
            f"Announcements: {'**paused** (`/scout alerts resume` resumes them)' if preferences.paused else 'on'}",
            f"Channel: {f'<#{preferences.channel_id}>' if preferences.channel_id else 'none yet: run `/scout setup`'}",
            f"New stealth models: {on[preferences.stealth]}",
            f"Role pinged on a new stealth model: {f'<@&{preferences.role_id}>' if preferences.role_id else 'none'}",
            f"All new models: {new_models}",
            f"Watched models and vendors: {_listed(preferences.watched)}",
            f"Price drops and rises of watched: {on[preferences.prices]}",
            f"Context changes of watched: {on[preferences.context]}",
            f"Removals: {on[preferences.removals]}",
        ]
    )


async def _change(interaction: discord.Interaction[ScoutBot], **changes: Any) -> None:
    safety.require_manage_guild(interaction)
    assert interaction.guild_id is not None
    await safety.acknowledge(interaction)
    preferences = await interaction.client.store.alerts.update(interaction.guild_id, **changes)
    await safety.respond(interaction, "Saved.\n" + preferences_text(preferences))


def _list_option(name: str, text: str | None) -> tuple[str, ...]:
    try:
        return parse_list(text)
    except ValueError as error:
        raise CommandRefused(f"`{name}`: {error}.") from None


alerts_group = app_commands.Group(name="alerts", description="What this server is told about, and who is pinged")


@alerts_group.command(name="show", description="This server's alert settings")
async def _show_command(interaction: discord.Interaction[ScoutBot]) -> None:
    assert interaction.guild_id is not None
    await safety.acknowledge(interaction)
    store = interaction.client.store
    text = preferences_text(await store.alerts.preferences(interaction.guild_id))
    for alert in await store.alerts.for_guild(interaction.guild_id, limit=1):
        text += f"\nLast alert: {alert_text(alert.kind, alert.lines)[0]}, {alert.state}"
        text += f" ({safety.plain(alert.last_error, 200)})" if alert.last_error else ""
    await safety.respond(interaction, text)


@alerts_group.command(name="stealth", description="Announce new stealth models (on by default) (Manage Server)")
@app_commands.describe(enabled="Announce new stealth models")
async def _stealth_command(interaction: discord.Interaction[ScoutBot], enabled: bool) -> None:
    await _change(interaction, stealth=enabled)


@alerts_group.command(
    name="new-models", description="One message per poll listing new models, with filters (Manage Server)"
)
@app_commands.describe(
    enabled="Tell this server about every new model",
    free_only="Only models that cost nothing",
    namespaces="Only these namespaces or vendors, e.g. `openai, z-ai, mistral` (empty: any)",
    modalities="Only models taking or giving one of these, e.g. `image, audio` (empty: any)",
)
async def _new_models_command(
    interaction: discord.Interaction[ScoutBot],
    enabled: bool,
    free_only: bool | None = None,
    namespaces: app_commands.Range[str, 0, 1000] | None = None,
    modalities: app_commands.Range[str, 0, 300] | None = None,
) -> None:
    changes: dict[str, Any] = {"new_models": enabled}
    if free_only is not None:
        changes["free_only"] = free_only
    if namespaces is not None:
        changes["namespaces"] = _list_option("namespaces", namespaces)
    if modalities is not None:
        changes["modalities"] = _list_option("modalities", modalities)
    await _change(interaction, **changes)


@alerts_group.command(name="watch", description="Price and context changes of chosen models or vendors (Manage Server)")
@app_commands.describe(
    targets="Model ids, namespaces or vendors, e.g. `openai/gpt-5, anthropic, qwen` (empty: none)",
    prices="Tell this server when their prices drop or rise",
    context="Tell this server when their context length changes",
)
async def _watch_command(
    interaction: discord.Interaction[ScoutBot],
    targets: app_commands.Range[str, 0, 1000] | None = None,
    prices: bool | None = None,
    context: bool | None = None,
) -> None:
    changes: dict[str, Any] = {}
    if targets is not None:
        changes["watched"] = _list_option("targets", targets)
    if prices is not None:
        changes["prices"] = prices
    if context is not None:
        changes["context"] = context
    await _change(interaction, **changes)


@alerts_group.command(name="removals", description="Tell this server when models leave the catalogue (Manage Server)")
@app_commands.describe(enabled="Tell this server about removals")
async def _removals_command(interaction: discord.Interaction[ScoutBot], enabled: bool) -> None:
    await _change(interaction, removals=enabled)


@alerts_group.command(
    name="role", description="A role to ping on new stealth models (leave empty to stop) (Manage Server)"
)
@app_commands.describe(role="The role to mention; the only mention the bot ever sends")
async def _role_command(interaction: discord.Interaction[ScoutBot], role: discord.Role | None = None) -> None:
    if role is not None and (role.is_default() or role.managed):
        raise CommandRefused("Pick a role members can hold: not @everyone and not a bot's own role.")
    await _change(interaction, role_id=role.id if role else None)


@alerts_group.command(
    name="pause", description="Turn every announcement and alert off; nothing is deleted (Manage Server)"
)
async def _pause_command(interaction: discord.Interaction[ScoutBot]) -> None:
    await _change(interaction, paused=True)


@alerts_group.command(name="resume", description="Turn announcements and alerts back on (Manage Server)")
async def _resume_command(interaction: discord.Interaction[ScoutBot]) -> None:
    await _change(interaction, paused=False)


class Alerts(commands.Cog):
    """Adds the `/scout alerts` group when loaded and takes it away when unloaded."""

    def __init__(self, bot: ScoutBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """The group lives in this cog, not in the shared list of `/scout` sub-commands."""
        self.bot.scout_group.add_command(alerts_group)

    async def cog_unload(self) -> None:
        """Unloading takes the commands away, so reloading the extension never collides with itself."""
        self.bot.scout_group.remove_command(alerts_group.name)


async def setup(bot: ScoutBot) -> None:
    """Extension entry point, found by `bot.client.discover_extensions`."""
    await bot.add_cog(Alerts(bot))
