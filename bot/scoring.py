"""How calls on revealed models are scored: members and the bot on one board, by one Brier score.

A call is a vendor named for a model whose maker is now known, with the probability its caller gave that it
was right when one was stated. The store gathers the calls; everything computed from them is here, so a
member's score and the bot's can never be worked out two different ways.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BOT_NAME = "Model Scout"


@dataclass(frozen=True)
class Call:
    """One call on a revealed model: whether it named the true vendor, and the probability stated for it."""

    right: bool
    probability: float | None = None


def brier_score(calls: Iterable[Call]) -> float | None:
    """The mean (p - outcome)² over the calls that stated a probability: 0 is perfect, 0.25 is what always saying
    50% earns, 1 is a certain call that was wrong. None when no call stated one: no score is not a bad score."""
    errors = [(call.probability - call.right) ** 2 for call in calls if call.probability is not None]
    return sum(errors) / len(errors) if errors else None


@dataclass(frozen=True)
class Scorecard:
    """One player's record on revealed models: a member's (by `member_id`) or the bot's (`member_id` None).

    `brier` is the `brier_score` of the `rated_calls`, the calls that carried a probability.
    """

    member_id: int | None
    name: str
    calls: int
    correct: int
    rated_calls: int
    brier: float | None

    @property
    def is_bot(self) -> bool:
        """The bot plays on the same board as the members, without a member id."""
        return self.member_id is None

    @property
    def accuracy(self) -> float:
        """Correct calls per call; 0 before the first call rather than a division error."""
        return self.correct / self.calls if self.calls else 0.0


def scorecard(member_id: int | None, name: str, calls: Sequence[Call]) -> Scorecard:
    """The record of one player's calls; the bot's has no `member_id`."""
    rated = sum(call.probability is not None for call in calls)
    return Scorecard(member_id, name, len(calls), sum(call.right for call in calls), rated, brier_score(calls))


def ranked(cards: Iterable[Scorecard]) -> list[Scorecard]:
    """Most correct calls first; then the higher accuracy, the lower (better) Brier score, and the name."""
    return sorted(cards, key=lambda c: (-c.correct, -c.accuracy, 2.0 if c.brier is None else c.brier, c.name))
