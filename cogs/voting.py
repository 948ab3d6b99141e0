"""Votes and notes: the components on every announcement, their modals, and `/scout vote|note|votes`.

The components are `DynamicItem`s whose custom ids carry the announcement id
(`scout:vote:<id>`, `scout:note:<id>`, `scout:votes:<id>`), registered once at start-up, so the select
and buttons on a week-old message still work after a restart. The announcement id, not the model id,
goes in the custom id: model ids can be longer than Discord's 100-character limit, and the
announcement row also says which guild the message belongs to.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.catalogue.vendors import COMMON_VENDOR_KEYS, VENDORS, canonical_vendor, display_name
from bot.store.outbox import Announcement
from bot.store.votes import MAX_NOTE_LENGTH, Tally, VotingClosed
from cogs import _safety as safety
from cogs._safety import CommandRefused
from cogs._scout_cog import ScoutCog

if TYPE_CHECKING:
    from bot.client import ScoutBot

OTHER_VALUE = "__other__"
MAX_SELECT_OPTIONS = 25
NOTES_SHOWN = 10
MODAL_TITLE_LIMIT = 45


def _bot(interaction: discord.Interaction) -> ScoutBot:
    return interaction.client  # type: ignore[return-value]


def _member_name(interaction: discord.Interaction) -> str:
    return safety.label(interaction.user.display_name, 100)


# --- shared actions: the components and the slash commands do the same things ----------------------


async def known_model_id(interaction: discord.Interaction, model_id: str) -> str:
    """The model id if the store knows it; otherwise refuse in one sentence."""
    model_id = model_id.strip()
    if not model_id or await _bot(interaction).store.catalogue.model(model_id) is None:
        raise CommandRefused("I don't know that model; pick one from the suggestions.")
    return model_id


async def cast_vote(interaction: discord.Interaction, model_id: str, vendor_label: str) -> str:
    """Record the member's vote, ask for the announcement to be re-rendered, and say what was recorded."""
    if not vendor_label.strip():
        raise CommandRefused("Tell me which vendor you think made it.")
    store = _bot(interaction).store
    assert interaction.guild_id is not None
    try:
        result = await store.votes.cast(
            interaction.guild_id, model_id, interaction.user.id, _member_name(interaction), vendor_label
        )
    except VotingClosed as error:
        raise CommandRefused(f"Voting is not open: {error}.") from None
    await store.outbox.bump_revision(model_id, interaction.guild_id)
    vendor = safety.escape(result.vote.shown_vendor)
    if result.previous and result.changed:
        was = safety.escape(result.previous.shown_vendor)
        return f"Vote changed: you now think {safety.code(model_id)} is by **{vendor}** (was {was})."
    return f"Vote recorded: you think {safety.code(model_id)} is by **{vendor}**."


async def add_note(interaction: discord.Interaction, model_id: str, text: str) -> str:
    store = _bot(interaction).store
    assert interaction.guild_id is not None
    try:
        await store.votes.add_note(interaction.guild_id, model_id, interaction.user.id, _member_name(interaction), text)
    except ValueError as error:
        raise CommandRefused(f"I can't save that note: {error}.") from None
    return f"Note saved on {safety.code(model_id)}."


async def tally_embed(interaction: discord.Interaction, model_id: str) -> discord.Embed:
    """This guild's current votes and newest notes on a model; never another guild's."""
    store = _bot(interaction).store
    assert interaction.guild_id is not None
    tally = await store.votes.tally(interaction.guild_id, model_id)
    notes = await store.votes.notes(interaction.guild_id, model_id, limit=NOTES_SHOWN)
    reveal = await store.votes.reveal_for(interaction.guild_id, model_id)
    embed = discord.Embed(
        title=safety.plain(f"Votes on {model_id}", safety.TITLE_LIMIT), colour=discord.Colour.blurple()
    )
    embed.description = tally_text(tally) if tally.total else "No votes yet."
    if reveal is not None:
        embed.add_field(name="Revealed", value=safety.plain(reveal.vendor_name, safety.FIELD_VALUE_LIMIT), inline=False)
    for note in notes:
        embed.add_field(
            name=safety.plain(
                f"{note.member_name} · {note.created_at[:16].replace('T', ' ')} UTC", safety.FIELD_NAME_LIMIT
            ),
            value=safety.plain(note.text, safety.FIELD_VALUE_LIMIT),
            inline=False,
        )
    return embed


def tally_text(tally: Tally) -> str:
    votes = f"{tally.total} vote{'s' if tally.total != 1 else ''}"
    if tally.hidden:
        return f"{votes}; who voted for whom shows at the reveal."
    lines = [
        f"**{safety.escape(item.name)}**: {item.votes} ({item.votes / tally.total:.0%})" for item in tally.by_vendor
    ]
    return "\n".join([*lines, votes])


async def announcement_for(interaction: discord.Interaction, announcement_id: int) -> Announcement:
    """The announcement behind a component, refusing ids that belong to another guild."""
    announcement = await _bot(interaction).store.outbox.get(announcement_id)
    if announcement is None or announcement.guild_id != interaction.guild_id:
        raise CommandRefused("This announcement is no longer known to me.")
    return announcement


# --- components -----------------------------------------------------------------------------------


def vendor_options(guessed: list[str]) -> list[discord.SelectOption]:
    """The bot's top guesses first, then the common vendors, then "Other…"; at most 25 options."""
    options: list[discord.SelectOption] = []
    seen: set[str] = set()
    for rank, vendor in enumerate(guessed[:3], start=1):
        key = canonical_vendor(vendor)
        if key not in seen:
            seen.add(key)
            options.append(
                discord.SelectOption(
                    label=safety.label(display_name(key)),
                    value=safety.label(key),
                    description=f"The bot's guess #{rank}",
                )
            )
    for key in COMMON_VENDOR_KEYS:
        if key not in seen and len(options) < MAX_SELECT_OPTIONS - 1:
            seen.add(key)
            options.append(discord.SelectOption(label=safety.label(display_name(key)), value=key))
    options.append(discord.SelectOption(label="Other…", value=OTHER_VALUE, description="Type the vendor's name"))
    return options


class VendorSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"scout:vote:(?P<announcement>[0-9]{1,19})"
):
    def __init__(self, announcement_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=safety.custom_id(f"scout:vote:{announcement_id}"),
                placeholder="Who made it? Vote for a vendor",
                options=options or vendor_options([]),
                min_values=1,
                max_values=1,
            )
        )
        self.announcement_id = announcement_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VendorSelect:
        return cls(int(match["announcement"]), getattr(item, "options", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            announcement = await announcement_for(interaction, self.announcement_id)
            value = self.item.values[0] if self.item.values else ""
            if value == OTHER_VALUE:
                await interaction.response.send_modal(OtherVendorModal(announcement))
                return
            await safety.acknowledge(interaction)
            await safety.respond(interaction, await cast_vote(interaction, announcement.model_id, value))
        except Exception as error:
            await safety.answer_error(interaction, error)


class NoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"scout:note:(?P<announcement>[0-9]{1,19})"):
    def __init__(self, announcement_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add note",
                style=discord.ButtonStyle.secondary,
                custom_id=safety.custom_id(f"scout:note:{announcement_id}"),
            )
        )
        self.announcement_id = announcement_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NoteButton:
        return cls(int(match["announcement"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            announcement = await announcement_for(interaction, self.announcement_id)
            await interaction.response.send_modal(NoteModal(announcement))
        except Exception as error:
            await safety.answer_error(interaction, error)


class TallyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"scout:votes:(?P<announcement>[0-9]{1,19})"
):
    def __init__(self, announcement_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Votes",
                style=discord.ButtonStyle.primary,
                custom_id=safety.custom_id(f"scout:votes:{announcement_id}"),
            )
        )
        self.announcement_id = announcement_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TallyButton:
        return cls(int(match["announcement"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            announcement = await announcement_for(interaction, self.announcement_id)
            await safety.respond(interaction, embed=await tally_embed(interaction, announcement.model_id))
        except Exception as error:
            await safety.answer_error(interaction, error)


def announcement_view(announcement_id: int, guessed_vendors: list[str], *, voting_open: bool = True) -> discord.ui.View:
    """The components of one announcement; the select disappears once the model is revealed."""
    view = discord.ui.View(timeout=None)
    if voting_open:
        view.add_item(VendorSelect(announcement_id, vendor_options(guessed_vendors)))
    view.add_item(NoteButton(announcement_id))
    view.add_item(TallyButton(announcement_id))
    return view


def _modal_title(prefix: str, model_id: str) -> str:
    return safety.label(f"{prefix} {model_id}", MODAL_TITLE_LIMIT)


class OtherVendorModal(discord.ui.Modal):
    """The "Other…" choice: a vendor typed freely, normalised like every other label."""

    vendor: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Vendor", custom_id="vendor", placeholder="e.g. Zhipu, Meituan, StepFun", max_length=100
    )

    def __init__(self, announcement: Announcement) -> None:
        super().__init__(
            title=_modal_title("Who made", announcement.model_id), custom_id=f"scout:other:{announcement.id}"[:100]
        )
        self.announcement = announcement

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await safety.acknowledge(interaction)
        await safety.respond(interaction, await cast_vote(interaction, self.announcement.model_id, self.vendor.value))

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await safety.answer_error(interaction, error)


class NoteModal(discord.ui.Modal):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note",
        custom_id="note",
        style=discord.TextStyle.paragraph,
        max_length=MAX_NOTE_LENGTH,
        placeholder="What did you notice?",
    )

    def __init__(self, announcement: Announcement) -> None:
        super().__init__(
            title=_modal_title("Note on", announcement.model_id), custom_id=f"scout:note-modal:{announcement.id}"[:100]
        )
        self.announcement = announcement

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await safety.acknowledge(interaction)
        await safety.respond(interaction, await add_note(interaction, self.announcement.model_id, self.text.value))

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await safety.answer_error(interaction, error)


# --- slash commands -------------------------------------------------------------------------------


async def model_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Model ids and names containing what was typed; stealth and recent ones first."""
    models = await _bot(interaction).store.catalogue.search_models(current.strip()[:100], limit=25)
    return [
        app_commands.Choice(name=safety.label(f"{model.name} ({model.id})", safety.CHOICE_NAME_LIMIT), value=model.id)
        for model in models
        if len(model.id) <= 100
    ]


async def vendor_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Vendors whose key, name or alias starts with (or contains) what was typed; common ones when empty."""
    text = current.strip().lower()
    if not text:
        keys = list(COMMON_VENDOR_KEYS)
    else:
        starts = [v.key for v in VENDORS if any(a.startswith(text) for a in (v.key, v.name.lower(), *v.aliases))]
        contains = [v.key for v in VENDORS if v.key not in starts and text in v.name.lower()]
        keys = starts + contains
    return [app_commands.Choice(name=safety.label(display_name(key)), value=key) for key in keys[:25]]


@app_commands.describe(model="The model (type to search)", vendor="The vendor you think made it")
@app_commands.autocomplete(model=model_autocomplete, vendor=vendor_autocomplete)
async def vote_command(
    interaction: discord.Interaction, model: app_commands.Range[str, 1, 200], vendor: app_commands.Range[str, 1, 100]
) -> None:
    model_id = await known_model_id(interaction, model)
    await safety.acknowledge(interaction)
    await safety.respond(interaction, await cast_vote(interaction, model_id, vendor))


@app_commands.describe(model="The model (type to search)", text="Your note (up to 1,000 characters)")
@app_commands.autocomplete(model=model_autocomplete)
async def note_command(
    interaction: discord.Interaction,
    model: app_commands.Range[str, 1, 200],
    text: app_commands.Range[str, 1, MAX_NOTE_LENGTH],
) -> None:
    model_id = await known_model_id(interaction, model)
    await safety.acknowledge(interaction)
    await safety.respond(interaction, await add_note(interaction, model_id, text))


@app_commands.describe(model="The model (type to search)")
@app_commands.autocomplete(model=model_autocomplete)
async def votes_command(interaction: discord.Interaction, model: app_commands.Range[str, 1, 200]) -> None:
    model_id = await known_model_id(interaction, model)
    await safety.respond(interaction, embed=await tally_embed(interaction, model_id))


DYNAMIC_ITEMS = (VendorSelect, NoteButton, TallyButton)


class Voting(ScoutCog):
    """Registers this concern's `/scout` sub-commands and the persistent components of announcements."""

    def __init__(self, bot: ScoutBot) -> None:
        super().__init__(
            bot,
            app_commands.Command(name="vote", description="Vote for who you think made a model", callback=vote_command),
            app_commands.Command(
                name="note", description="Add a note about a model for this server", callback=note_command
            ),
            app_commands.Command(
                name="votes", description="This server's votes and notes on a model", callback=votes_command
            ),
        )

    async def cog_load(self) -> None:
        await super().cog_load()
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        await super().cog_unload()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)


async def setup(bot: ScoutBot) -> None:
    await bot.add_cog(Voting(bot))
