"""What a model's card shows in one guild, read from the store in one place.

The announcer, `/scout model` and the components all draw a card from a `Card`, so a card reads
the same wherever it appears; `_render` only draws, it never queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.attribution.guess import Guess
from bot.store import Store
from bot.store.catalogue import ModelRecord
from bot.store.reveals import Reveal
from bot.store.votes import Tally

REMOVAL_EVENTS_SCANNED = 20
_NO_GUESS_PREFIX = re.compile(r"^\s*no guess yet\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Card:
    """A model as one guild sees it: listing, the bot's guess, the votes here and the truth once revealed."""

    model: ModelRecord
    guess: Guess | None
    tally: Tally
    reveal: Reveal | None
    called_by: list[str]

    @property
    def voting_open(self) -> bool:
        """Only an anonymous model that is not revealed here yet has something to vote on."""
        return self.model.stealth and self.reveal is None


def supported_ranking(guess: Guess | None) -> list[tuple[str, float]]:
    """The ranking only when the evidence supports one; an empty ranking is the core's "no guess yet"."""
    if guess is None:
        return []
    return [(item.vendor, item.probability) for item in guess.ranking]


def no_guess_reason(guess: Guess) -> str:
    """Why the core gave no ranking (no references yet, probes failed…), without a "no guess yet:" of its own:
    the card already leads with those words."""
    reason = guess.reason or (guess.evidence[0] if guess.evidence else "no vendor stood out")
    return _NO_GUESS_PREFIX.sub("", reason)


async def load_card(store: Store, guild_id: int, model_id: str) -> Card | None:
    """The card of a model in a guild, or None when the store does not know the model."""
    model = await store.catalogue.model(model_id)
    if model is None:
        return None
    reveal = await store.reveals.reveal_for(guild_id, model_id)
    return Card(
        model=model,
        guess=await store.guesses.latest(model_id),
        tally=await store.votes.tally(guild_id, model_id, hidden=await store.guilds.hides_votes(guild_id)),
        reveal=reveal,
        called_by=await store.reveals.called_by(guild_id, model_id) if reveal else [],
    )


async def removal_candidates(store: Store, model_id: str) -> list[str]:
    """The models listed in the poll that noticed the removal: possibly the stealth model's real name."""
    for event in await store.catalogue.events(model_id=model_id, limit=REMOVAL_EVENTS_SCANNED):
        if event.get("event") == "removed":
            return [str(item) for item in event.get("reveal_candidates") or []]
    return []
