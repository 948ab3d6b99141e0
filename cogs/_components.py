"""The components on every card and their modals: persistent `DynamicItem`s whose custom ids carry the card.

Custom ids are `scout:<what>:<announcement id>`, registered once at start-up, so the select and buttons
on a week-old message still work after a restart. The announcement id, not the model id, goes in the
custom id: model ids can be longer than Discord's 100-character limit, and the announcement row also
says which guild the message belongs to.

Every callback answers Discord before it reads the database (a modal is the answer when one opens, a
defer otherwise), and every failure is answered in one sentence by `ScoutItem`, in one place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.catalogue.vendors import COMMON_VENDOR_KEYS, canonical_vendor, display_name
from bot.store.notes import MAX_NOTE_LENGTH
from bot.store.outbox import Announcement
from cogs import _safety as safety
from cogs._actions import announcement_for, guild_card, record_note, record_vote, store_and_tell
from cogs._card import Card, supported_ranking
from cogs._render import OPEN_SET_VENDOR, votes_embed

if TYPE_CHECKING:
    from bot.client import ScoutBot

OTHER_VALUE = "__other__"
MAX_SELECT_OPTIONS = 25
NOTES_SHOWN = 10
GUESSES_OFFERED = 3
MENU_LABS = (
    *COMMON_VENDOR_KEYS,
    "bytedance",
    "tencent",
    "stepfun",
    "meituan",
    "baidu",
    "kuaishou",
    "microsoft",
    "cohere",
    "ibm",
    "ai21",
    "inclusionai",
)
CONFIDENCE_CHOICES = (50, 60, 70, 80, 90, 99)

ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])


class ScoutItem(discord.ui.DynamicItem[ItemT], template=r"scout:[a-z-]+:(?P<announcement>[0-9]{1,19})"):
    """A card's persistent component: `act` does the work; any failure is answered in one sentence here."""

    def __init__(self, announcement_id: int) -> None:
        super().__init__(self.build(announcement_id))
        self.announcement_id = announcement_id

    def card_message_id(self, interaction: discord.Interaction[ScoutBot]) -> int | None:
        """The card this component was used on: the message it sits on, for every component placed on the card."""
        return interaction.message.id if interaction.message is not None else None

    async def announcement(self, interaction: discord.Interaction[ScoutBot]) -> Announcement:
        """The row behind this component, when it still owns the card the component was used on."""
        return await announcement_for(interaction, self.announcement_id, self.card_message_id(interaction))

    def build(self, announcement_id: int) -> ItemT:
        """The Discord item carrying this card's custom id; each component says how it looks."""
        raise NotImplementedError

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ScoutItem[ItemT]:
        return cls(int(match["announcement"]))

    # discord.py types the argument `Interaction[ClientT]` with a type variable its class does not bind, so no
    # override can name the one client these items run on.
    async def callback(self, interaction: discord.Interaction[ScoutBot]) -> None:  # type: ignore[override]
        try:
            await self.act(interaction)
        except Exception as error:
            await safety.answer_error(interaction, error)

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        """What the component does; it may raise, `callback` answers the member."""
        raise NotImplementedError


def vendor_options(card: Card | None) -> list[discord.SelectOption]:
    """The bot's supported top guesses first, then the labs people vote for most, then "Other…": all 25 slots."""
    options: list[discord.SelectOption] = []
    seen: set[str] = {OPEN_SET_VENDOR}
    guessed = [vendor for vendor, _ in supported_ranking(card.guess)] if card else []
    not_sure = card is not None and card.guess is not None and card.guess.not_sure is not None
    for rank, vendor in enumerate(guessed[:GUESSES_OFFERED], start=1):
        key = canonical_vendor(vendor)
        if key not in seen:
            seen.add(key)
            options.append(
                discord.SelectOption(
                    label=safety.label(display_name(key)),
                    value=safety.label(key),
                    description="One of the bot's candidates" if not_sure else f"The bot's guess #{rank}",
                )
            )
    for key in MENU_LABS:
        if key not in seen and len(options) < MAX_SELECT_OPTIONS - 1:
            seen.add(key)
            options.append(discord.SelectOption(label=safety.label(display_name(key)), value=key))
    options.append(discord.SelectOption(label="Other…", value=OTHER_VALUE, description="Type the vendor's name"))
    return options


class VendorSelect(ScoutItem[discord.ui.Select[Any]], template=r"scout:vote:(?P<announcement>[0-9]{1,19})"):
    def __init__(self, announcement_id: int, options: list[discord.SelectOption] | None = None) -> None:
        self.options = options or vendor_options(None)
        super().__init__(announcement_id)

    def build(self, announcement_id: int) -> discord.ui.Select[Any]:
        return discord.ui.Select(
            custom_id=safety.custom_id(f"scout:vote:{announcement_id}"),
            placeholder="Who made it? Vote for a vendor",
            options=self.options,
            min_values=1,
            max_values=1,
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        value = self.item.values[0] if self.item.values else ""
        card = self.card_message_id(interaction)
        if value == OTHER_VALUE:
            await interaction.response.send_modal(OtherVendorModal(self.announcement_id, card))
            return
        await safety.acknowledge(interaction)

        async def vote() -> str:
            announcement = await self.announcement(interaction)
            return await record_vote(interaction, announcement.model_id, value)

        await store_and_tell(interaction, vote, "vote", confidence_view(self.announcement_id, card))


class ConfidenceSelect(
    ScoutItem[discord.ui.Select[Any]], template=r"scout:sure:(?P<announcement>[0-9]{1,19})(?::(?P<card>[0-9]{1,19}))?"
):
    """States how sure the member is of their current vote on this card (a probability, for scoring).

    It is sent in the ephemeral answer to a vote, not on the card, so its custom id names the card's message too.
    """

    def __init__(self, announcement_id: int, card: int | None) -> None:
        self.card = card
        super().__init__(announcement_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfidenceSelect:
        return cls(int(match["announcement"]), int(match["card"]) if match["card"] else None)

    def build(self, announcement_id: int) -> discord.ui.Select[Any]:
        suffix = f":{self.card}" if self.card is not None else ""
        return discord.ui.Select(
            custom_id=safety.custom_id(f"scout:sure:{announcement_id}{suffix}"),
            placeholder="How sure are you? (optional, for scoring)",
            options=[discord.SelectOption(label=f"{p}% sure", value=str(p)) for p in CONFIDENCE_CHOICES],
        )

    def card_message_id(self, interaction: discord.Interaction[ScoutBot]) -> int | None:
        return self.card

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await safety.acknowledge(interaction)
        percent = int(self.item.values[0]) if self.item.values else CONFIDENCE_CHOICES[0]
        guild_id = interaction.guild_id
        assert guild_id is not None

        async def restate() -> str:
            announcement = await self.announcement(interaction)
            vote = await interaction.client.store.votes.current(guild_id, announcement.model_id, interaction.user.id)
            if vote is None:
                raise safety.CommandRefused("Vote for a vendor first, then say how sure you are.")
            return await record_vote(interaction, announcement.model_id, vote.vendor, percent / 100)

        await store_and_tell(interaction, restate, "vote")


def confidence_view(announcement_id: int, card: int | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfidenceSelect(announcement_id, card))
    return view


class NoteButton(ScoutItem[discord.ui.Button[Any]], template=r"scout:note:(?P<announcement>[0-9]{1,19})"):
    def build(self, announcement_id: int) -> discord.ui.Button[Any]:
        return discord.ui.Button(
            label="Add note",
            style=discord.ButtonStyle.secondary,
            custom_id=safety.custom_id(f"scout:note:{announcement_id}"),
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await interaction.response.send_modal(NoteModal(self.announcement_id, self.card_message_id(interaction)))


class TallyButton(ScoutItem[discord.ui.Button[Any]], template=r"scout:votes:(?P<announcement>[0-9]{1,19})"):
    def build(self, announcement_id: int) -> discord.ui.Button[Any]:
        return discord.ui.Button(
            label="Votes",
            style=discord.ButtonStyle.primary,
            custom_id=safety.custom_id(f"scout:votes:{announcement_id}"),
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await safety.acknowledge(interaction)
        announcement = await self.announcement(interaction)
        await safety.respond(interaction, embed=await tally_embed(interaction, announcement.model_id))


async def tally_embed(interaction: discord.Interaction[ScoutBot], model_id: str) -> discord.Embed:
    """This guild's votes and newest notes on a model; never another guild's."""
    assert interaction.guild_id is not None
    card = await guild_card(interaction, model_id)
    notes = await interaction.client.store.notes.newest(interaction.guild_id, model_id, limit=NOTES_SHOWN)
    return votes_embed(card, notes)


def announcement_view(announcement_id: int, card: Card) -> discord.ui.View:
    """A card's components: the vendor vote only while voting is open (an anonymous model not revealed here)."""
    view = discord.ui.View(timeout=None)
    if card.voting_open:
        view.add_item(VendorSelect(announcement_id, vendor_options(card)))
    view.add_item(NoteButton(announcement_id))
    view.add_item(TallyButton(announcement_id))
    return view


class _CardModal(discord.ui.Modal):
    """A modal opened from a card: it answers Discord first, then finds the card (the database may be busy).

    It remembers the card it was opened from, so the row is checked against that message like a component."""

    def __init__(self, title: str, custom_id: str, announcement_id: int, card: int | None, stores: str) -> None:
        super().__init__(title=title, custom_id=safety.custom_id(custom_id))
        self.announcement_id = announcement_id
        self.card = card
        self.stores = stores

    # discord.py types the argument `Interaction[ClientT]` with a type variable its class does not bind, so no
    # override can name the one client these items run on.
    async def on_submit(self, interaction: discord.Interaction[ScoutBot]) -> None:  # type: ignore[override]
        await safety.acknowledge(interaction)

        async def store() -> str:
            announcement = await announcement_for(interaction, self.announcement_id, self.card)
            return await self.submit(interaction, announcement.model_id)

        await store_and_tell(interaction, store, self.stores)

    async def submit(self, interaction: discord.Interaction[ScoutBot], model_id: str) -> str:
        """Store what was typed, once the card behind the modal is known to belong to this guild."""
        raise NotImplementedError

    # As for on_submit: discord.py binds no client type for it.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[ScoutBot], error: Exception
    ) -> None:
        await safety.answer_error(interaction, error)


class OtherVendorModal(_CardModal):
    """The "Other…" choice: a vendor typed freely, normalised like every other label."""

    vendor: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Vendor", custom_id="vendor", placeholder="e.g. Zhipu, Meituan, StepFun", max_length=100
    )

    def __init__(self, announcement_id: int, card: int | None) -> None:
        super().__init__("Who made this model?", f"scout:other:{announcement_id}", announcement_id, card, "vote")

    async def submit(self, interaction: discord.Interaction[ScoutBot], model_id: str) -> str:
        return await record_vote(interaction, model_id, self.vendor.value)


class NoteModal(_CardModal):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note",
        custom_id="note",
        style=discord.TextStyle.paragraph,
        max_length=MAX_NOTE_LENGTH,
        placeholder="What did you notice?",
    )

    def __init__(self, announcement_id: int, card: int | None) -> None:
        super().__init__("Note on this model", f"scout:note-modal:{announcement_id}", announcement_id, card, "note")

    async def submit(self, interaction: discord.Interaction[ScoutBot], model_id: str) -> str:
        return await record_note(interaction, model_id, self.text.value)


DYNAMIC_ITEMS: tuple[type[ScoutItem[Any]], ...] = (VendorSelect, ConfidenceSelect, NoteButton, TallyButton)
