"""What a model's card shows in one guild, read from the store in one place.

The announcer, `/scout model` and the components all draw a card from a `Card`, so a card reads
the same wherever it appears; `_render` only draws, it never queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.attribution.guess import GUESS_NO_REFERENCES, GUESS_NOT_FOUND, GUESS_PROBES_FAILED, GUESS_RANKED, Guess
from bot.probes.suite import SUITE_VERSION
from bot.store import Store
from bot.store.calibration import CalibrationProgress
from bot.store.catalogue import ModelRecord
from bot.store.database import utc_now
from bot.store.reveals import Reveal
from bot.store.votes import Tally

REMOVAL_EVENTS_SCANNED = 20
SHARE_SHOWN = 0.05
"""A vendor gets a ranking row (and a "the bot's guess" entry in the vote menu) from a 5% share on."""
ROWS_SHOWN = 3
_NO_GUESS_PREFIX = re.compile(r"^\s*no guess( yet)?\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Card:
    """A model as one guild sees it: listing, the bot's guess, the votes here and the truth once revealed."""

    model: ModelRecord
    guess: Guess | None
    tally: Tally
    reveal: Reveal | None
    called_by: list[str]
    calibration: CalibrationProgress | None = None
    """How far the bot's own calibration got, while the guess waits for references or may change with them."""
    next_probe_at: str | None = None
    """When probes that failed are tried again; None once no retry is planned."""
    voting_closes_at: str | None = None
    """When this guild stops taking votes on the model besides the reveal (its deadline), if it set one."""

    @property
    def calibrating(self) -> bool:
        """References are being built right now, so a guess follows without anyone doing anything."""
        return self.calibration is not None and self.calibration.planned > 0 and not self.calibration.complete

    @property
    def voting_closed_by_deadline(self) -> bool:
        """The guild's deadline for votes on this model has passed."""
        return self.voting_closes_at is not None and self.voting_closes_at <= utc_now()

    @property
    def voting_open(self) -> bool:
        """Only an anonymous model not revealed here yet, before the guild's deadline, has something to vote on."""
        return self.model.stealth and self.reveal is None and not self.voting_closed_by_deadline


def supported_ranking(guess: Guess | None) -> list[tuple[str, float]]:
    """The ranking only when the evidence supports one; an empty ranking is the core's "no guess yet"."""
    if guess is None:
        return []
    return [(item.vendor, item.probability) for item in guess.ranking]


def shown_ranking(guess: Guess | None) -> list[tuple[str, float]]:
    """The ranking rows a card shows: vendors with a real share (at least 5%), best first, at most three."""
    return [(vendor, share) for vendor, share in supported_ranking(guess) if share >= SHARE_SHOWN][:ROWS_SHOWN]


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
    guess = await store.guesses.latest(model_id)
    return Card(
        model=model,
        guess=guess,
        tally=await store.votes.tally(guild_id, model_id, hidden=await store.guilds.hides_votes(guild_id)),
        reveal=reveal,
        called_by=await store.reveals.called_by(guild_id, model_id) if reveal else [],
        calibration=await _calibration_shown(store, guess) if reveal is None else None,
        next_probe_at=await _next_probe_at(store, guess) if reveal is None else None,
        voting_closes_at=await store.votes.closes_at(guild_id, model_id) if model.stealth and not reveal else None,
    )


async def _calibration_shown(store: Store, guess: Guess | None) -> CalibrationProgress | None:
    """The calibration round a card shows: while its guess waits for references, or was made from the references
    of the round still under way (it is made again when the round is over)."""
    if guess is None or guess.status not in (GUESS_NO_REFERENCES, GUESS_RANKED):
        return None
    progress = await store.calibration.progress(SUITE_VERSION)
    if guess.status == GUESS_RANKED and (
        progress.round_started_at is None or guess.created_at is None or guess.created_at < progress.round_started_at
    ):
        return None
    return progress


async def _next_probe_at(store: Store, guess: Guess | None) -> str | None:
    if guess is None or guess.status not in (GUESS_PROBES_FAILED, GUESS_NOT_FOUND):
        return None
    attempts = await store.probe_attempts.get(guess.model_id, SUITE_VERSION)
    return attempts.next_attempt_at if attempts and attempts.succeeded_run_id is None else None


async def removal_candidates(store: Store, model_id: str) -> list[str]:
    """The models listed in the poll that noticed the removal: possibly the stealth model's real name."""
    for event in await store.catalogue.events(model_id=model_id, limit=REMOVAL_EVENTS_SCANNED):
        if event.get("event") == "removed":
            return [str(item) for item in event.get("reveal_candidates") or []]
    return []
