"""Votes with history, notes, reveals, scores and the streamed vote log, on a real SQLite file."""

from __future__ import annotations

import pytest

from bot.store.probes import Guess, RankedVendor
from bot.store.votes import MAX_NOTE_LENGTH, Vote, VotingClosed

GUILD, OTHER_GUILD = 111, 222
MODEL = "openrouter/owl-alpha"


async def test_a_new_vote_replaces_the_current_one_and_history_keeps_both(store):
    first = await store.votes.cast(GUILD, MODEL, 1, "alice", "OpenAI")
    second = await store.votes.cast(GUILD, MODEL, 1, "alice", "claude")

    assert first.previous_vendor is None and first.vote.vendor == "openai"
    assert second.previous_vendor == "openai" and second.changed
    assert (await store.votes.current(GUILD, MODEL, 1)).vendor == "anthropic"
    assert await store.votes.tally(GUILD, MODEL) == [("anthropic", 1)]
    rows = [row async for row in store.votes.export_rows(GUILD)]
    assert [(row.vendor, row.current_vote) for row in rows] == [("openai", False), ("anthropic", True)]


async def test_vendor_labels_are_normalised_so_aliases_count_together(store):
    for member, label in enumerate(["z-ai", "Zhipu/GLM", "thudm", "GLM"], start=1):
        await store.votes.cast(GUILD, MODEL, member, f"m{member}", label)
    await store.votes.cast(GUILD, MODEL, 9, "m9", "Some New Lab")
    assert await store.votes.tally(GUILD, MODEL) == [("zhipu", 4), ("some-new-lab", 1)]


async def test_casting_twice_in_the_same_millisecond_still_marks_exactly_one_current_vote(store):
    for vendor in ["openai", "google", "openai", "xai", "xai"]:
        await store.votes.cast(GUILD, MODEL, 7, "bob", vendor)
    rows = [row async for row in store.votes.export_rows(GUILD)]
    assert len(rows) == 5
    assert [row.current_vote for row in rows] == [False, False, False, False, True]
    assert len({row.at for row in rows}) == 5


async def test_guilds_never_see_each_others_votes_notes_or_reveals(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.add_note(GUILD, MODEL, 1, "alice", "answers like GPT")
    await store.votes.reveal(GUILD, MODEL, "openai", "openai/gpt-5.1", 1)

    assert await store.votes.tally(OTHER_GUILD, MODEL) == []
    assert await store.votes.notes(OTHER_GUILD, MODEL) == []
    assert await store.votes.reveal_for(OTHER_GUILD, MODEL) is None
    assert [row async for row in store.votes.export_rows(OTHER_GUILD)] == []
    assert await store.votes.leaderboard(OTHER_GUILD) == []
    assert await store.votes.counts(OTHER_GUILD) == {"votes": 0, "notes": 0, "reveals": 0}
    # the other guild can still vote: the reveal closed voting only where it was made
    await store.votes.cast(OTHER_GUILD, MODEL, 2, "carol", "google")


async def test_notes_are_bounded_and_never_empty(store):
    with pytest.raises(ValueError, match="empty"):
        await store.votes.add_note(GUILD, MODEL, 1, "alice", "   ")
    with pytest.raises(ValueError, match="empty"):
        await store.votes.add_note(GUILD, MODEL, 1, "alice", "\u200b\u200d\u2060\u202e \x00")
    with pytest.raises(ValueError, match="at most"):
        await store.votes.add_note(GUILD, MODEL, 1, "alice", "x" * (MAX_NOTE_LENGTH + 1))
    note = await store.votes.add_note(GUILD, MODEL, 1, "alice", "  @everyone look  ")
    assert note.text == "@everyone look"
    assert [n.text for n in await store.votes.notes(GUILD, MODEL)] == ["@everyone look"]


async def test_reveal_scores_current_votes_and_closes_voting(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "google")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "OpenAI")  # bob changed his mind in time
    await store.votes.cast(GUILD, MODEL, 3, "carol", "xai")

    score = await store.votes.reveal(GUILD, MODEL, "gpt", "openai/gpt-5.1", revealed_by=42)

    assert (score.right, score.wrong) == (2, 1)
    assert score.reveal.vendor == "openai" and score.reveal.true_model == "openai/gpt-5.1"
    with pytest.raises(VotingClosed):
        await store.votes.cast(GUILD, MODEL, 4, "dave", "openai")
    rows = [row async for row in store.votes.export_rows(GUILD)]
    assert [(row.member_name, row.vendor, row.correct) for row in rows] == [
        ("alice", "openai", True),
        ("bob", "google", False),
        ("bob", "openai", True),
        ("carol", "xai", False),
    ]


async def test_leaderboard_ranks_members_by_right_answers_on_revealed_models(store):
    second = "openrouter/pony-alpha"
    unrevealed = "openrouter/hunter-alpha"
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, second, 1, "alice", "zhipu")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "openai")
    await store.votes.cast(GUILD, second, 2, "bob", "google")
    await store.votes.cast(GUILD, unrevealed, 3, "carol", "xai")
    await store.votes.reveal(GUILD, MODEL, "openai", None, 9)
    await store.votes.reveal(GUILD, second, "z-ai", None, 9)

    board = await store.votes.leaderboard(GUILD)

    assert [(m.member_name, m.right, m.total) for m in board] == [("alice", 2, 2), ("bob", 1, 2)]
    assert board[0].accuracy == 1.0 and board[1].accuracy == 0.5


async def test_export_filters_by_model_and_time_and_merges_notes_in_time_order(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.add_note(GUILD, MODEL, 1, "alice", "first note")
    await store.votes.cast(GUILD, "other/model", 1, "alice", "google")
    await store.votes.add_note(GUILD, MODEL, 2, "bob", "second note")

    everything = [row async for row in store.votes.export_rows(GUILD)]
    assert sorted(row.kind for row in everything) == ["note", "note", "vote", "vote"]
    assert [row.at for row in everything] == sorted(row.at for row in everything)
    assert [row.note for row in everything if row.kind == "note"] == ["first note", "second note"]

    only_model = [row async for row in store.votes.export_rows(GUILD, model_id=MODEL)]
    assert {row.model_id for row in only_model} == {MODEL} and len(only_model) == 3

    cutoff = everything[2].at
    recent = [row async for row in store.votes.export_rows(GUILD, since=cutoff)]
    assert recent == [row for row in everything if row.at >= cutoff] and len(recent) >= 2


def _guess(model_id: str, vendor: str) -> Guess:
    return Guess(model_id, (RankedVendor(vendor, vendor, 0.7),), 0.7, ("evidence",))


async def test_the_bot_is_scored_on_its_last_guess_made_before_each_reveal(store):
    pony, hunter, silent = "openrouter/pony-alpha", "openrouter/hunter-alpha", "openrouter/silent-alpha"
    await store.guesses.save(_guess(MODEL, "google"))
    await store.guesses.save(_guess(MODEL, "openai"))  # the bot changed its mind before the reveal: this one counts
    await store.guesses.save(_guess(pony, "zhipu"))
    await store.guesses.save(_guess(hunter, "anthropic"))
    await store.votes.reveal(GUILD, MODEL, "openai", None, 9)
    await store.votes.reveal(GUILD, pony, "z-ai", None, 9)
    await store.votes.reveal(GUILD, silent, "xai", None, 9)  # never guessed
    await store.guesses.save(_guess(hunter, "xai"))  # a guess after the reveal would be hindsight
    await store.votes.reveal(OTHER_GUILD, hunter, "xai", None, 9)

    score = await store.votes.bot_score(GUILD)
    assert (score.right, score.total, score.missing) == (2, 2, 1) and score.accuracy == 1.0
    other = await store.votes.bot_score(OTHER_GUILD)
    assert (other.right, other.total) == (1, 1)


async def test_imported_votes_become_current_votes_with_history(store):
    added = await store.votes.import_votes(
        [
            Vote(1, "openrouter/a", 7, "ann", "z-ai", "2026-01-01T00:00:00.000Z"),
            Vote(1, "openrouter/a", 7, "ann", "OpenAI", "2026-01-01T00:00:01.000Z"),
            Vote(1, "openrouter/a", 8, "bob", "Zhipu/GLM", "2026-01-01T00:00:02.000Z"),
        ]
    )
    assert added == 3
    assert (await store.votes.current(1, "openrouter/a", 7)).vendor == "openai"
    assert dict(await store.votes.tally(1, "openrouter/a")) == {"openai": 1, "zhipu": 1}
    assert (await store.votes.counts(1))["votes"] == 2
    assert len([row async for row in store.votes.export_rows(1)]) == 3
    assert [row async for row in store.votes.export_rows(2)] == []
