"""Votes and their history: casting and replacing, aliases, confidence, hidden tallies, bulk import."""

from __future__ import annotations

import pytest

from bot.store.votes import Vote, VotingClosed
from tests.support.store import GUILD, MODEL, ORDINARY, OTHER_GUILD, PONY, pairs

pytestmark = pytest.mark.usefixtures("models_to_vote_on")


async def test_a_new_vote_replaces_the_current_one_and_history_keeps_both(store):
    first = await store.votes.cast(GUILD, MODEL, 1, "alice", "OpenAI")
    second = await store.votes.cast(GUILD, MODEL, 1, "alice", "claude")

    assert first.previous_vendor is None and first.vote.vendor == "openai"
    assert second.previous_vendor == "openai" and second.changed and second.previous.shown_vendor == "OpenAI"
    assert (await store.votes.current(GUILD, MODEL, 1)).vendor == "anthropic"
    assert pairs(await store.votes.tally(GUILD, MODEL)) == [("anthropic", 1)]
    rows = [row async for row in store.members.export_rows(GUILD)]
    assert [(row.vendor, row.current_vote) for row in rows] == [("openai", False), ("anthropic", True)]


async def test_vendor_labels_are_normalised_so_aliases_count_together(store):
    for member, label in enumerate(["z-ai", "Zhipu/GLM", "thudm", "GLM"], start=1):
        await store.votes.cast(GUILD, MODEL, member, f"m{member}", label)
    await store.votes.cast(GUILD, MODEL, 9, "m9", "Some New Lab")
    assert pairs(await store.votes.tally(GUILD, MODEL)) == [("zhipu", 4), ("some-new-lab", 1)]


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
    assert (shown.total, pairs(shown), shown.hidden) == (3, [("openai", 2), ("google", 1)], False)

    await store.reveals.reveal(GUILD, MODEL, "openai", None, 9)
    after = await store.votes.tally(GUILD, MODEL, hidden=True)
    assert (after.total, pairs(after), after.hidden) == (3, [("openai", 2), ("google", 1)], False)
    # another guild's reveal does not lift this guild's veil
    await store.votes.cast(OTHER_GUILD, PONY, 4, "dave", "xai")
    await store.reveals.reveal(GUILD, PONY, "xai", None, 9)
    assert (await store.votes.tally(OTHER_GUILD, PONY, hidden=True)).hidden


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
    assert dict(pairs(await store.votes.tally(1, "openrouter/a"))) == {"openai": 1, "zhipu": 1}
    assert (await store.members.counts(1))["votes"] == 2
    assert len([row async for row in store.members.export_rows(1)]) == 3
    assert [row async for row in store.members.export_rows(2)] == []
