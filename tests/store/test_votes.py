"""Votes with history, notes, reveals, scores, forgetting a member and the streamed vote log, on a real SQLite file."""

from __future__ import annotations

import asyncio

import pytest

from bot.attribution.guess import Guess, RankedVendor
from bot.jobs.polling import record_catalogue
from bot.scoring import BOT_NAME
from bot.store import Store
from bot.store.notes import MAX_NOTE_LENGTH
from bot.store.votes import Vote, VotingClosed
from tests.e2e.conftest import ORDINARY_MODELS, OWL

GUILD, OTHER_GUILD = 111, 222
MODEL = OWL["id"]
PONY, HUNTER, SILENT = "openrouter/pony-alpha", "openrouter/hunter-alpha", "openrouter/silent-alpha"
ORDINARY = ORDINARY_MODELS[0]["id"]


def _stealth(model_id: str) -> dict:
    return {**OWL, "id": model_id, "name": model_id.split("/")[1].replace("-", " ").title()}


@pytest.fixture
async def store(store: Store) -> Store:
    """The store with four anonymous models (Owl, Pony, Hunter, Silent) and two ordinary ones listed."""
    await record_catalogue(store, [*ORDINARY_MODELS, OWL, *(_stealth(m) for m in (PONY, HUNTER, SILENT))], "fixture")
    assert {m.id for m in await store.catalogue.models(stealth_only=True)} == {MODEL, PONY, HUNTER, SILENT}
    return store


def _pairs(tally) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [(item.vendor, item.votes) for item in tally.by_vendor]


async def test_a_new_vote_replaces_the_current_one_and_history_keeps_both(store):
    first = await store.votes.cast(GUILD, MODEL, 1, "alice", "OpenAI")
    second = await store.votes.cast(GUILD, MODEL, 1, "alice", "claude")

    assert first.previous_vendor is None and first.vote.vendor == "openai"
    assert second.previous_vendor == "openai" and second.changed and second.previous.shown_vendor == "OpenAI"
    assert (await store.votes.current(GUILD, MODEL, 1)).vendor == "anthropic"
    assert _pairs(await store.votes.tally(GUILD, MODEL)) == [("anthropic", 1)]
    rows = [row async for row in store.members.export_rows(GUILD)]
    assert [(row.vendor, row.current_vote) for row in rows] == [("openai", False), ("anthropic", True)]


async def test_vendor_labels_are_normalised_so_aliases_count_together(store):
    for member, label in enumerate(["z-ai", "Zhipu/GLM", "thudm", "GLM"], start=1):
        await store.votes.cast(GUILD, MODEL, member, f"m{member}", label)
    await store.votes.cast(GUILD, MODEL, 9, "m9", "Some New Lab")
    assert _pairs(await store.votes.tally(GUILD, MODEL)) == [("zhipu", 4), ("some-new-lab", 1)]


async def test_a_freely_typed_vendor_keeps_the_name_it_was_typed_with(store):
    cast = await store.votes.cast(GUILD, MODEL, 1, "alice", "  Totally   Unknown Lab ")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "totally-unknown-lab")
    await store.votes.cast(GUILD, MODEL, 3, "carol", "glm")

    assert cast.vote.vendor == "totally-unknown-lab" and cast.vote.shown_vendor == "Totally Unknown Lab"
    assert (await store.votes.current(GUILD, MODEL, 1)).shown_vendor == "Totally Unknown Lab"
    tally = await store.votes.tally(GUILD, MODEL)
    assert [(item.name, item.votes) for item in tally.by_vendor] == [("Totally Unknown Lab", 2), ("Zhipu (GLM)", 1)]
    reveal = await store.reveals.reveal(GUILD, MODEL, "Totally Unknown Lab", None, 9)
    assert reveal.reveal.vendor_name == "Totally Unknown Lab" and (reveal.right, reveal.wrong) == (2, 1)
    assert (await store.reveals.reveal_for(GUILD, MODEL)).vendor_name == "Totally Unknown Lab"
    rows = [row async for row in store.members.export_rows(GUILD)]
    assert [row.vendor_name for row in rows] == ["Totally Unknown Lab", "totally-unknown-lab", "Zhipu (GLM)"]


async def test_votes_on_a_model_that_is_not_anonymous_are_refused_with_the_reason(store):
    for model_id in (ORDINARY, "nobody/never-listed"):
        with pytest.raises(VotingClosed, match="is not an anonymous model"):
            await store.votes.cast(GUILD, model_id, 1, "alice", "openai")
    assert await store.members.counts(GUILD) == {"votes": 0, "notes": 0, "reveals": 0}


async def test_casting_twice_in_the_same_millisecond_still_marks_exactly_one_current_vote(store):
    for vendor in ["openai", "google", "openai", "xai", "xai"]:
        await store.votes.cast(GUILD, MODEL, 7, "bob", vendor)
    rows = [row async for row in store.members.export_rows(GUILD)]
    assert len(rows) == 5
    assert [row.current_vote for row in rows] == [False, False, False, False, True]
    assert len({row.at for row in rows}) == 5


async def test_a_stated_confidence_is_kept_and_a_bad_one_is_refused_without_losing_the_vote(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai", confidence=0.8)
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match="between 0 and 1"):
            await store.votes.cast(GUILD, MODEL, 1, "alice", "google", confidence=bad)
    vote = await store.votes.current(GUILD, MODEL, 1)
    assert (vote.vendor, vote.confidence) == ("openai", 0.8)
    await store.votes.cast(GUILD, MODEL, 1, "alice", "google")
    assert [(r.vendor, r.confidence) async for r in store.members.export_rows(GUILD)] == [
        ("openai", 0.8),
        ("google", None),
    ]


async def test_a_hidden_tally_shows_only_how_many_voted_until_the_reveal(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "openai")
    await store.votes.cast(GUILD, MODEL, 3, "carol", "google")

    hidden = await store.votes.tally(GUILD, MODEL, hidden=True)
    assert (hidden.total, hidden.by_vendor, hidden.hidden) == (3, (), True)
    shown = await store.votes.tally(GUILD, MODEL)
    assert (shown.total, _pairs(shown), shown.hidden) == (3, [("openai", 2), ("google", 1)], False)

    await store.reveals.reveal(GUILD, MODEL, "openai", None, 9)
    after = await store.votes.tally(GUILD, MODEL, hidden=True)
    assert (after.total, _pairs(after), after.hidden) == (3, [("openai", 2), ("google", 1)], False)
    # another guild's reveal does not lift this guild's veil
    await store.votes.cast(OTHER_GUILD, PONY, 4, "dave", "xai")
    await store.reveals.reveal(GUILD, PONY, "xai", None, 9)
    assert (await store.votes.tally(OTHER_GUILD, PONY, hidden=True)).hidden


async def test_guilds_never_see_each_others_votes_notes_or_reveals(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.notes.add(GUILD, MODEL, 1, "alice", "answers like GPT")
    await store.reveals.reveal(GUILD, MODEL, "openai", "openai/gpt-5.1", 1)

    assert (await store.votes.tally(OTHER_GUILD, MODEL)).total == 0
    assert await store.notes.newest(OTHER_GUILD, MODEL) == []
    assert await store.reveals.reveal_for(OTHER_GUILD, MODEL) is None
    assert [row async for row in store.members.export_rows(OTHER_GUILD)] == []
    assert [card.name for card in await store.reveals.scores(OTHER_GUILD)] == [BOT_NAME]
    assert await store.members.counts(OTHER_GUILD) == {"votes": 0, "notes": 0, "reveals": 0}
    # the other guild can still vote: the reveal closed voting only where it was made
    await store.votes.cast(OTHER_GUILD, MODEL, 2, "carol", "google")


async def test_notes_are_bounded_and_never_empty(store):
    with pytest.raises(ValueError, match="empty"):
        await store.notes.add(GUILD, MODEL, 1, "alice", "   ")
    with pytest.raises(ValueError, match="empty"):
        await store.notes.add(GUILD, MODEL, 1, "alice", "\u200b\u200d\u2060\u202e \x00")
    with pytest.raises(ValueError, match="at most"):
        await store.notes.add(GUILD, MODEL, 1, "alice", "x" * (MAX_NOTE_LENGTH + 1))
    note = await store.notes.add(GUILD, MODEL, 1, "alice", "  @everyone look  ")
    assert note.text == "@everyone look"
    assert [n.text for n in await store.notes.newest(GUILD, MODEL)] == ["@everyone look"]


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


async def test_forgetting_a_member_removes_every_trace_and_their_scores(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "google")
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.votes.cast(GUILD, PONY, 1, "alice", "xai")
    await store.notes.add(GUILD, MODEL, 1, "alice", "alice's hunch")
    await store.votes.cast(GUILD, MODEL, 2, "bob", "openai")
    await store.notes.add(GUILD, MODEL, 2, "bob", "bob's hunch")
    await store.votes.cast(OTHER_GUILD, MODEL, 1, "alice", "openai")
    await store.reveals.reveal(GUILD, MODEL, "openai", None, revealed_by=1)
    assert "alice" in [c.name for c in await store.reveals.scores(GUILD)]

    forgotten = await store.members.forget(GUILD, 1)

    assert (forgotten.votes, forgotten.notes, forgotten.models) == (3, 1, (MODEL, PONY))
    rows = [row async for row in store.members.export_rows(GUILD)]
    assert {row.member_id for row in rows} == {2} and len(rows) == 2
    assert [row async for row in store.members.export_rows(GUILD, member_id=1)] == []
    assert [c.name for c in await store.reveals.scores(GUILD)] == ["bob", BOT_NAME]
    assert (await store.votes.tally(GUILD, MODEL)).total == 1
    assert (await store.reveals.reveal_for(GUILD, MODEL)).revealed_by is None
    assert await store.members.with_data(GUILD) == [(2, "bob")]
    # only this guild forgot: alice's vote in the other guild is that guild's business
    assert (await store.votes.current(OTHER_GUILD, MODEL, 1)).vendor == "openai"
    assert (await store.members.forget(GUILD, 1)) == type(forgotten)(0, 0, ())


async def test_members_with_data_lists_voters_and_note_writers_by_name_or_id(store):
    await store.votes.cast(GUILD, MODEL, 111222333444555666, "alice", "openai")
    await store.notes.add(GUILD, MODEL, 7, "bob", "a note only")
    await store.votes.cast(OTHER_GUILD, MODEL, 8, "mallory", "openai")

    assert sorted(await store.members.with_data(GUILD)) == [(7, "bob"), (111222333444555666, "alice")]
    assert await store.members.with_data(GUILD, "ALI") == [(111222333444555666, "alice")]
    assert await store.members.with_data(GUILD, "3334445") == [(111222333444555666, "alice")]


async def test_export_filters_by_model_member_and_time_and_merges_notes_in_time_order(store):
    await store.votes.cast(GUILD, MODEL, 1, "alice", "openai")
    await store.notes.add(GUILD, MODEL, 1, "alice", "first note")
    await store.votes.cast(GUILD, PONY, 1, "alice", "google")
    await store.notes.add(GUILD, MODEL, 2, "bob", "second note")

    everything = [row async for row in store.members.export_rows(GUILD)]
    assert sorted(row.kind for row in everything) == ["note", "note", "vote", "vote"]
    assert [row.at for row in everything] == sorted(row.at for row in everything)
    assert [row.note for row in everything if row.kind == "note"] == ["first note", "second note"]

    only_model = [row async for row in store.members.export_rows(GUILD, model_id=MODEL)]
    assert {row.model_id for row in only_model} == {MODEL} and len(only_model) == 3

    only_bob = [row async for row in store.members.export_rows(GUILD, member_id=2)]
    assert [(row.member_name, row.note) for row in only_bob] == [("bob", "second note")]

    cutoff = everything[2].at
    recent = [row async for row in store.members.export_rows(GUILD, since=cutoff)]
    assert recent == [row for row in everything if row.at >= cutoff] and len(recent) >= 2


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
    assert dict(_pairs(await store.votes.tally(1, "openrouter/a"))) == {"openai": 1, "zhipu": 1}
    assert (await store.members.counts(1))["votes"] == 2
    assert len([row async for row in store.members.export_rows(1)]) == 3
    assert [row async for row in store.members.export_rows(2)] == []
