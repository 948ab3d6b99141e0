"""Reveals and the scores they settle: right and wrong votes, locked voting, the leaderboard, who called it."""

from __future__ import annotations

import asyncio

import pytest

from bot.attribution.guess import Guess, RankedVendor
from bot.scoring import BOT_NAME, Call, brier_score
from bot.store.votes import VotingClosed
from tests.support.store import GUILD, HUNTER, MODEL, OTHER_GUILD, PONY, SILENT

pytestmark = pytest.mark.usefixtures("models_to_vote_on")


async def test_reveal_scores_current_votes_and_locks_voting(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "google")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "OpenAI")  # bob changed his mind in time
    await store.votes.cast(GUILD, MODEL, 3, "carol", "xai")

    score = await store.reveals.reveal(GUILD, MODEL, "gpt", "openai/gpt-5.1", revealed_by=42)

    assert (score.right, score.wrong) == (2, 1)
    assert score.reveal.vendor == "openai" and score.reveal.true_model == "openai/gpt-5.1"
    with pytest.raises(VotingClosed, match="has been revealed in this server"):
        await store.votes.cast(GUILD, MODEL, 4, "dave", "openai")
    with pytest.raises(VotingClosed):
        await store.votes.cast(GUILD, MODEL, 3, "carol", "openai")  # no changing a vote after the answer is known
    rows = [row async for row in store.members.export_rows(GUILD)]
    assert [(row.member_name, row.vendor, row.correct) for row in rows] == [
        ("alice", "openai", True),
        ("bob", "google", False),
        ("bob", "openai", True),
        ("carol", "xai", False),
    ]


def _guess(model_id: str, vendor: str, probability: float = 0.7) -> Guess:
    return Guess(model_id, (RankedVendor(vendor, vendor, probability),), probability, ("evidence",))


async def test_scores_rank_members_and_the_bot_with_accuracy_and_brier_scores(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai", confidence=0.9)
    await store.votes.cast(GUILD, PONY, 1, "alice", "zhipu", confidence=0.6)
    await store.votes.cast(GUILD, MODEL, 2, "bob", "openai")
    await store.votes.cast(GUILD, PONY, 2, "bob", "google", confidence=1.0)
    await store.votes.cast(GUILD, HUNTER, 3, "carol", "xai")  # never revealed: no call yet
    await store.guesses.save(_guess(MODEL, "openai", 0.8))
    await store.guesses.save(_guess(PONY, "deepseek", 0.4))
    await store.reveals.reveal(GUILD, MODEL, "openai", None, 9)
    await store.reveals.reveal(GUILD, PONY, "z-ai", None, 9)

    cards = await store.reveals.scores(GUILD)

    assert [(c.name, c.calls, c.correct, c.rated_calls) for c in cards] == [
        ("alice", 2, 2, 2),
        (BOT_NAME, 2, 1, 2),
        ("bob", 2, 1, 1),
    ]
    alice, bot, bob = cards
    assert alice.accuracy == 1.0 and alice.brier == pytest.approx(((0.9 - 1) ** 2 + (0.6 - 1) ** 2) / 2)
    assert bot.is_bot and bot.brier == pytest.approx(((0.8 - 1) ** 2 + (0.4 - 0) ** 2) / 2)
    assert bob.brier == pytest.approx(1.0)  # certain, and wrong: the worst a call can score


async def test_the_bot_is_scored_on_its_last_guess_before_each_reveal_and_unknown_is_no_call(store):
    await store.guesses.save(_guess(MODEL, "google"))
    await store.guesses.save(_guess(MODEL, "openai"))  # the bot changed its mind before the reveal: this one counts
    await store.guesses.save(_guess(PONY, "zhipu"))
    await store.guesses.save(_guess(SILENT, "unknown", 0.6))  # "none of the vendors I know" is not a call
    await store.reveals.reveal(GUILD, MODEL, "openai", None, 9)
    await store.reveals.reveal(GUILD, PONY, "z-ai", None, 9)
    await store.reveals.reveal(GUILD, SILENT, "xai", None, 9)
    await store.guesses.save(_guess(HUNTER, "xai"))  # a guess made after the reveal would be hindsight
    await store.reveals.reveal(GUILD, HUNTER, "anthropic", None, 9)
    await asyncio.sleep(0.002)  # times have millisecond resolution: a guess in the reveal's millisecond counts
    await store.guesses.save(_guess(HUNTER, "anthropic"))

    [bot] = await store.reveals.scores(GUILD)
    assert (bot.calls, bot.correct, bot.accuracy) == (3, 2, 2 / 3)


async def test_a_season_counts_only_models_revealed_since_its_start(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, PONY, 1, "alice", "google")
    await store.reveals.reveal(GUILD, MODEL, "openai", None, 9)
    await asyncio.sleep(0.002)  # the season starts a millisecond or more after the first reveal
    season_start = (await store.reveals.reveal(GUILD, PONY, "google", None, 9)).reveal.revealed_at

    [alice_all, _] = await store.reveals.scores(GUILD)
    [alice_season, _] = await store.reveals.scores(GUILD, since=season_start)
    assert (alice_all.calls, alice_season.calls) == (2, 1)
    assert [c.name for c in await store.reveals.scores(GUILD, since="2999-01-01")] == [BOT_NAME]


async def test_who_called_it_lists_the_right_current_votes_in_the_order_they_were_cast(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "openai")
    await store.votes.cast(GUILD, MODEL, 3, "carol", "google")
    await store.votes.cast(GUILD, MODEL, 1, "alice (renamed)", "OpenAI")  # alice's current vote is now the last
    await store.votes.cast(GUILD, MODEL, 4, "dave", "openai")
    await store.votes.cast(GUILD, MODEL, 4, "dave", "xai")  # dave changed away from the right answer
    await store.votes.cast(OTHER_GUILD, MODEL, 5, "erin", "openai")
    assert await store.reveals.called_by(GUILD, MODEL) == []  # nothing is called before the reveal

    await store.reveals.reveal(GUILD, MODEL, "gpt", None, 9)

    assert await store.reveals.called_by(GUILD, MODEL) == ["bob", "alice (renamed)"]
    assert await store.reveals.called_by(OTHER_GUILD, MODEL) == []  # that guild has not revealed it


async def test_members_and_the_bot_are_scored_by_the_one_brier_score(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai", confidence=0.7)
    await store.votes.cast(GUILD, PONY, 1, "alice", "google", confidence=0.6)
    await store.votes.cast(GUILD, HUNTER, 1, "alice", "xai")
    await asyncio.sleep(0.002)  # times have millisecond resolution: the renamed vote is the latest one
    await store.votes.cast(GUILD, PONY, 1, "alice-renamed", "google", confidence=0.6)
    await store.guesses.save(_guess(MODEL, "openai", 0.7))
    await store.guesses.save(_guess(PONY, "google", 0.6))
    await store.guesses.save(_guess(HUNTER, "anthropic", 0.5))
    for model_id, truth in ((MODEL, "openai"), (PONY, "z-ai"), (HUNTER, "xai")):
        await store.reveals.reveal(GUILD, model_id, truth, None, 9)

    alice, bot = await store.reveals.scores(GUILD)

    assert alice.name == "alice-renamed"  # the name of the member's latest vote
    assert alice.brier == brier_score([Call(True, 0.7), Call(False, 0.6)])
    assert bot.brier == brier_score([Call(True, 0.7), Call(False, 0.6), Call(False, 0.5)])
    assert (alice.calls, alice.rated_calls, bot.calls, bot.rated_calls) == (3, 2, 3, 3)
