"""A guild's member data: isolation between guilds, forgetting a member, the members with data, the vote log."""

from __future__ import annotations

import pytest

from bot.scoring import BOT_NAME
from tests.support.store import GUILD, MODEL, OTHER_GUILD, PONY

pytestmark = pytest.mark.usefixtures("models_to_vote_on")


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
