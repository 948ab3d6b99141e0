"""The components on every card and their modals: persistent `DynamicItem`s whose custom ids carry the card.

Custom ids are `scout:<what>:<key>`, registered once at start-up, so the select and buttons on a week-old
message still work after a restart. On an announcement the key is the announcement id: the row says which
guild the message belongs to and which model it shows. On a `/scout model` or `/scout recent` answer, which
no announcement backs, the key is `m` and 16 hex digits of the model id's SHA-256 (model ids can be longer
than Discord's 100-character limit); it is looked up among the anonymous models, the only ones with votes.

Every callback answers Discord before it reads the database (a modal is the answer when one opens, a
defer otherwise), and every failure is answered in one sentence by `ScoutItem`, in one place.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.catalogue.vendors import COMMON_VENDOR_KEYS, canonical_vendor, display_name
from bot.store.notes import MAX_NOTE_LENGTH
from cogs import _safety as safety
from cogs._actions import (
    UNKNOWN_CARD,
    announcement_for,
    guild_card,
    record_note,
    record_vote,
    reveal_and_tell,
    store_and_tell,
)
from cogs._card import Card, removal_candidates, shown_ranking
from cogs._render import OPEN_SET_VENDOR, evidence_embed, votes_embed
from cogs._safety import CommandRefused

if TYPE_CHECKING:
    from bot.client import ScoutBot

OTHER_VALUE = "__other__"
MAX_SELECT_OPTIONS = 25
NOTES_SHOWN = 10
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
KEY = r"(?P<key>[0-9]{1,19}|m[0-9a-f]{16})"
MODEL_KEY_DIGITS = 16
REVEAL_BUTTONS = 5
BUTTON_LABEL_LIMIT = 80

ItemT = TypeVar("ItemT", bound=discord.ui.Item[Any])


def model_key(model_id: str) -> str:
    """The card key of a model no announcement backs: short, fixed-length, the same in every process."""
    return "m" + hashlib.sha256(model_id.encode()).hexdigest()[:MODEL_KEY_DIGITS]


async def model_for_key(interaction: discord.Interaction[ScoutBot], key: str, card_message_id: int | None) -> str:
    """The model a card key stands for in this guild: an announcement of this guild that still owns the card the
    component was used on (`card_message_id`), or an anonymous model."""
    if not key.startswith("m"):
        return (await announcement_for(interaction, int(key), card_message_id)).model_id
    for model in await interaction.client.store.catalogue.models(stealth_only=True):
        if model_key(model.id) == key:
            return model.id
    raise CommandRefused("This model is no longer known to me.")


class ScoutItem(discord.ui.DynamicItem[ItemT], template=r"scout:[a-z-]+:" + KEY):
    """A card's persistent component: `act` does the work; any failure is answered in one sentence here."""

    def __init__(self, key: str) -> None:
        super().__init__(self.build(key))
        self.key = key

    def card_message_id(self, interaction: discord.Interaction[ScoutBot]) -> int | None:
        """The card this component was used on: the message it sits on, for every component placed on the card."""
        return interaction.message.id if interaction.message is not None else None

    async def model_id(self, interaction: discord.Interaction[ScoutBot]) -> str:
        """The model behind this component, when its announcement still owns the card it was used on."""
        return await model_for_key(interaction, self.key, self.card_message_id(interaction))

    def build(self, key: str) -> ItemT:
        """The Discord item carrying this card's custom id; each component says how it looks."""
        raise NotImplementedError

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ScoutItem[ItemT]:
        return cls(match["key"])

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
    """The vendors of the card's ranking rows first (the bot's guesses with a real share), then the labs people
    vote for most, then "Other…": all 25 slots."""
    options: list[discord.SelectOption] = []
    seen: set[str] = {OPEN_SET_VENDOR}
    guessed = [vendor for vendor, _ in shown_ranking(card.guess)] if card else []
    not_sure = card is not None and card.guess is not None and card.guess.not_sure is not None
    for rank, vendor in enumerate(guessed, start=1):
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


class VendorSelect(ScoutItem[discord.ui.Select[Any]], template=r"scout:vote:" + KEY):
    def __init__(self, key: str, options: list[discord.SelectOption] | None = None) -> None:
        self.options = options or vendor_options(None)
        super().__init__(key)

    def build(self, key: str) -> discord.ui.Select[Any]:
        return discord.ui.Select(
            custom_id=safety.custom_id(f"scout:vote:{key}"),
            placeholder="Who made it? Vote for a vendor",
            options=self.options,
            min_values=1,
            max_values=1,
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        value = self.item.values[0] if self.item.values else ""
        card = self.card_message_id(interaction)
        if value == OTHER_VALUE:
            await interaction.response.send_modal(OtherVendorModal(self.key, card))
            return
        await safety.acknowledge(interaction)

        async def vote() -> str:
            return await record_vote(interaction, await self.model_id(interaction), value)

        await store_and_tell(interaction, vote, "vote", confidence_view(self.key, card))


class ConfidenceSelect(
    ScoutItem[discord.ui.Select[Any]], template=r"scout:sure:" + KEY + r"(?::(?P<card>[0-9]{1,19}))?"
):
    """States how sure the member is of their current vote on this card (a probability, for scoring).

    It is sent in the ephemeral answer to a vote, not on the card, so its custom id names the card's message too.
    """

    def __init__(self, key: str, card: int | None = None) -> None:
        self.card = card
        super().__init__(key)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfidenceSelect:
        return cls(match["key"], int(match["card"]) if match["card"] else None)

    def card_message_id(self, interaction: discord.Interaction[ScoutBot]) -> int | None:
        return self.card

    def build(self, key: str) -> discord.ui.Select[Any]:
        suffix = f":{self.card}" if self.card is not None else ""
        return discord.ui.Select(
            custom_id=safety.custom_id(f"scout:sure:{key}{suffix}"),
            placeholder="How sure are you? (optional, for scoring)",
            options=[discord.SelectOption(label=f"{p}% sure", value=str(p)) for p in CONFIDENCE_CHOICES],
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await safety.acknowledge(interaction)
        percent = int(self.item.values[0]) if self.item.values else CONFIDENCE_CHOICES[0]
        guild_id = interaction.guild_id
        assert guild_id is not None

        async def restate() -> str:
            model_id = await self.model_id(interaction)
            vote = await interaction.client.store.votes.current(guild_id, model_id, interaction.user.id)
            if vote is None:
                raise safety.CommandRefused("Vote for a vendor first, then say how sure you are.")
            return await record_vote(interaction, model_id, vote.vendor, percent / 100)

        await store_and_tell(interaction, restate, "vote")


def confidence_view(key: str, card: int | None) -> discord.ui.View:
    """The "How sure are you?" select that follows every vote, whichever way it was cast; `card` is the message
    the vote was cast on, when a card's menu cast it."""
    view = discord.ui.View(timeout=None)
    view.add_item(ConfidenceSelect(key, card))
    return view


class NoteButton(ScoutItem[discord.ui.Button[Any]], template=r"scout:note:" + KEY):
    def build(self, key: str) -> discord.ui.Button[Any]:
        return discord.ui.Button(
            label="Add note",
            style=discord.ButtonStyle.secondary,
            custom_id=safety.custom_id(f"scout:note:{key}"),
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await interaction.response.send_modal(NoteModal(self.key, self.card_message_id(interaction)))


class TallyButton(ScoutItem[discord.ui.Button[Any]], template=r"scout:votes:" + KEY):
    def build(self, key: str) -> discord.ui.Button[Any]:
        return discord.ui.Button(
            label="Votes",
            style=discord.ButtonStyle.primary,
            custom_id=safety.custom_id(f"scout:votes:{key}"),
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await safety.acknowledge(interaction)
        await safety.respond(interaction, embed=await tally_embed(interaction, await self.model_id(interaction)))


class EvidenceButton(ScoutItem[discord.ui.Button[Any]], template=r"scout:evidence:" + KEY):
    """Everything behind the card (findings, nearest references, every signal, the listing), privately."""

    def build(self, key: str) -> discord.ui.Button[Any]:
        return discord.ui.Button(
            label="Evidence",
            style=discord.ButtonStyle.secondary,
            custom_id=safety.custom_id(f"scout:evidence:{key}"),
        )

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await safety.acknowledge(interaction)
        card = await guild_card(interaction, await self.model_id(interaction))
        await safety.respond(interaction, embed=evidence_embed(card))


async def tally_embed(interaction: discord.Interaction[ScoutBot], model_id: str) -> discord.Embed:
    """This guild's votes and newest notes on a model; never another guild's."""
    assert interaction.guild_id is not None
    card = await guild_card(interaction, model_id)
    notes = await interaction.client.store.notes.newest(interaction.guild_id, model_id, limit=NOTES_SHOWN)
    return votes_embed(card, notes)


def announcement_view(announcement_id: int, card: Card) -> discord.ui.View:
    """A card's components: the vendor vote only while voting is open (an anonymous model not revealed here)."""
    key = str(announcement_id)
    view = discord.ui.View(timeout=None)
    if card.voting_open:
        view.add_item(VendorSelect(key, vendor_options(card)))
    view.add_item(EvidenceButton(key))
    view.add_item(NoteButton(key))
    view.add_item(TallyButton(key))
    return view


def model_view(card: Card) -> discord.ui.View | None:
    """The vote on a `/scout model` answer (its evidence is already shown); None when there is nothing to vote on."""
    if not card.voting_open:
        return None
    key = model_key(card.model.id)
    view = discord.ui.View(timeout=None)
    view.add_item(VendorSelect(key, vendor_options(card)))
    view.add_item(NoteButton(key))
    view.add_item(TallyButton(key))
    return view


class ModelPicker(ScoutItem[discord.ui.Select[Any]], template=r"scout:pick-model"):
    """Under `/scout recent`: pick one of the listed models to vote on; the vote menu then comes privately."""

    def __init__(self, models: list[tuple[str, str]] | None = None) -> None:
        self.models = models or []
        super().__init__("")

    def build(self, key: str) -> discord.ui.Select[Any]:
        options = [
            discord.SelectOption(
                label=safety.label(name), value=model_key(model_id), description=safety.label(model_id)
            )
            for model_id, name in self.models[:MAX_SELECT_OPTIONS]
        ] or [discord.SelectOption(label="No model to vote on", value="none")]
        return discord.ui.Select(
            custom_id="scout:pick-model", placeholder="Vote on one of these models", options=options
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ModelPicker:
        return cls()

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        await safety.acknowledge(interaction)
        chosen = self.item.values[0] if self.item.values else ""
        if not re.fullmatch(KEY, chosen) or not chosen.startswith("m"):
            raise CommandRefused("Pick a model from the list.")
        card = await guild_card(interaction, await model_for_key(interaction, chosen, None))
        view = model_view(card)
        if view is None:
            raise CommandRefused(f"Voting on {safety.code(card.model.id)} is closed in this server.")
        name = safety.plain(card.model.name, 100)
        await safety.respond(interaction, f"Who made **{name}**? Pick a vendor.", view=view)


def recent_view(models: list[tuple[str, str]]) -> discord.ui.View | None:
    """The model picker under `/scout recent`: the models shown there that are open for votes here."""
    if not models:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ModelPicker(models))
    return view


class RevealAsButton(
    ScoutItem[discord.ui.Button[Any]], template=r"scout:reveal-as:(?P<key>[0-9]{1,19}):(?P<index>[0-9]{1,2})"
):
    """On a removal reply, one per candidate: an admin records in one click that the model was that candidate."""

    def __init__(self, announcement_id: int, index: int, candidate: str = "") -> None:
        self.index = index
        self.candidate = candidate
        super().__init__(str(announcement_id))

    def build(self, key: str) -> discord.ui.Button[Any]:
        label = safety.label(f"Reveal as {self.candidate}", BUTTON_LABEL_LIMIT) if self.candidate else "Reveal"
        return discord.ui.Button(
            label=label,
            style=discord.ButtonStyle.secondary,
            custom_id=safety.custom_id(f"scout:reveal-as:{key}:{self.index}"),
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RevealAsButton:
        return cls(int(match["key"]), int(match["index"]))

    async def act(self, interaction: discord.Interaction[ScoutBot]) -> None:
        safety.require_manage_guild(interaction)  # before anything else: a member's click is refused privately
        await safety.acknowledge(interaction, ephemeral=False)
        announcement = await interaction.client.store.outbox.get(int(self.key))
        if announcement is None or announcement.guild_id != interaction.guild_id:
            raise CommandRefused(UNKNOWN_CARD)
        if interaction.message is None or announcement.removal_message_id != interaction.message.id:
            raise CommandRefused("This reply is out of date: use `/scout reveal`.")
        candidates = await removal_candidates(interaction.client.store, announcement.model_id)
        if self.index >= len(candidates):
            raise CommandRefused("That candidate is no longer known to me; use `/scout reveal`.")
        await reveal_and_tell(interaction, announcement.model_id, None, candidates[self.index])


def removal_view(announcement_id: int, candidates: list[str]) -> discord.ui.View | None:
    """The reveal buttons under a removal reply, for its first few candidates (admins only, checked on click)."""
    if not candidates:
        return None
    view = discord.ui.View(timeout=None)
    for index, candidate in enumerate(candidates[:REVEAL_BUTTONS]):
        view.add_item(RevealAsButton(announcement_id, index, candidate))
    return view


class _CardModal(discord.ui.Modal):
    """A modal opened from a card: it answers Discord first, then finds the card (the database may be busy).

    It remembers the card it was opened from, so the row is checked against that message like a component."""

    def __init__(
        self, title: str, custom_id: str, key: str, card: int | None, stores: str, view: discord.ui.View | None = None
    ) -> None:
        super().__init__(title=title, custom_id=safety.custom_id(custom_id))
        self.key = key
        self.card = card
        self.stores = stores
        self.answer_view = view

    # discord.py types the argument `Interaction[ClientT]` with a type variable its class does not bind, so no
    # override can name the one client these items run on.
    async def on_submit(self, interaction: discord.Interaction[ScoutBot]) -> None:  # type: ignore[override]
        await safety.acknowledge(interaction)

        async def store() -> str:
            return await self.submit(interaction, await model_for_key(interaction, self.key, self.card))

        await store_and_tell(interaction, store, self.stores, self.answer_view)

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

    def __init__(self, key: str, card: int | None) -> None:
        super().__init__("Who made this model?", f"scout:other:{key}", key, card, "vote", confidence_view(key, card))

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

    def __init__(self, key: str, card: int | None) -> None:
        super().__init__("Note on this model", f"scout:note-modal:{key}", key, card, "note")

    async def submit(self, interaction: discord.Interaction[ScoutBot], model_id: str) -> str:
        return await record_note(interaction, model_id, self.text.value)


DYNAMIC_ITEMS: tuple[type[ScoutItem[Any]], ...] = (
    VendorSelect,
    ConfidenceSelect,
    EvidenceButton,
    NoteButton,
    TallyButton,
    ModelPicker,
    RevealAsButton,
)
