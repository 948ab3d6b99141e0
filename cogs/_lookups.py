"""Finding a model or a vendor from what a member typed: autocompletes and the one resolver every command uses.

A member may pick a suggestion (the value is the model id), type a model's name and press enter ("Owl
Alpha"), or type only its start ("owl"): all resolve to the same model, as long as only one model fits.
Autocomplete answers within Discord's 3 seconds even while another process holds the database: a slow
search answers with no suggestions rather than not at all.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.catalogue.vendors import COMMON_VENDOR_KEYS, VENDORS, display_name
from cogs import _safety as safety
from cogs._safety import CommandRefused

if TYPE_CHECKING:
    from bot.client import ScoutBot

SUGGESTIONS = 25
AUTOCOMPLETE_BUDGET_SECONDS = 2.0
MAX_CHOICE_VALUE = 100


async def known_model_id(interaction: discord.Interaction[ScoutBot], typed: str) -> str:
    """The id of the model the member meant (by id, by name, or by the start of its name when only one model
    starts so); otherwise refuse in one sentence, naming the models a short name fits so the member can choose."""
    found = await interaction.client.store.catalogue.find_models(typed)
    if len(found) == 1:
        return found[0].id
    if found:
        names = ", ".join(safety.plain(model.name, 60) for model in found[:5])
        raise CommandRefused(
            f"“{safety.plain(typed.strip(), 60)}” fits several models ({names}); pick one from the list."
        )
    raise CommandRefused("I don't know that model; pick one from the suggestions.")


async def model_autocomplete(
    interaction: discord.Interaction[ScoutBot], current: str
) -> list[app_commands.Choice[str]]:
    """Models whose id or name contains what was typed: stealth first, then listed before removed, newest first."""
    try:
        models = await asyncio.wait_for(
            interaction.client.store.catalogue.search_models(current.strip()[:100], limit=SUGGESTIONS),
            AUTOCOMPLETE_BUDGET_SECONDS,
        )
    except TimeoutError:
        return []
    return [
        app_commands.Choice(name=safety.label(f"{model.name} ({model.id})", safety.CHOICE_NAME_LIMIT), value=model.id)
        for model in models
        if len(model.id) <= MAX_CHOICE_VALUE
    ]


async def open_model_autocomplete(
    interaction: discord.Interaction[ScoutBot], current: str
) -> list[app_commands.Choice[str]]:
    """Only the models a member can vote on here: anonymous, not revealed here, before the server's deadline."""
    if interaction.guild_id is None:
        return []
    try:
        models = await asyncio.wait_for(
            interaction.client.store.votes.open_models(interaction.guild_id, current.strip()[:100], SUGGESTIONS),
            AUTOCOMPLETE_BUDGET_SECONDS,
        )
    except TimeoutError:
        return []
    return [
        app_commands.Choice(name=safety.label(f"{name} ({model_id})", safety.CHOICE_NAME_LIMIT), value=model_id)
        for model_id, name in models
        if len(model_id) <= MAX_CHOICE_VALUE
    ]


async def vendor_autocomplete(
    interaction: discord.Interaction[ScoutBot], current: str
) -> list[app_commands.Choice[str]]:
    """Vendors whose key, name or alias starts with (or contains) what was typed; common ones when empty."""
    text = current.strip().lower()
    if not text:
        keys = list(COMMON_VENDOR_KEYS)
    else:
        starts = [v.key for v in VENDORS if any(a.startswith(text) for a in (v.key, v.name.lower(), *v.aliases))]
        contains = [v.key for v in VENDORS if v.key not in starts and text in v.name.lower()]
        keys = starts + contains
    return [app_commands.Choice(name=safety.label(display_name(key)), value=key) for key in keys[:SUGGESTIONS]]
