"""The outbox's one owner: a vote, a reveal, a forgotten member or a guess asks for its card edit in its own
transaction, so a failure keeps neither the change nor the edit, and a success keeps both."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.attribution.guess import Guess, RankedVendor
from bot.store import Store
from bot.store.database import Shards
from tests.support.store import list_owl

GUILD, OTHER_GUILD = 111, 222
CHANNEL = 999
ALICE = 1
GUESS = Guess("openrouter/owl-alpha", (RankedVendor("openai", "OpenAI", 0.7),), 0.7, ("says it is GPT",))

Change = Callable[[Store, str], Awaitable[object]]


async def _vote(store: Store, model_id: str) -> object:
    return await store.votes.cast(GUILD, model_id, ALICE, "alice", "openai")


async def _reveal(store: Store, model_id: str) -> object:
    return await store.reveals.reveal(GUILD, model_id, "openai", None, ALICE)


async def _forget(store: Store, model_id: str) -> object:
    return await store.members.forget(GUILD, ALICE)


async def _guess(store: Store, model_id: str) -> object:
    return await store.guesses.save(GUESS)


async def _change_happened(store: Store, model_id: str) -> dict[str, bool]:
    """What each change leaves behind when it commits, read through the store."""
    vote = await store.votes.current(GUILD, model_id, ALICE)
    return {
        "vote": vote is not None and vote.vendor == "openai",
        "reveal": await store.reveals.reveal_for(GUILD, model_id) is not None,
        "forget": vote is None,
        "guess": await store.guesses.latest(model_id) is not None,
    }


CHANGES: dict[str, Change] = {"vote": _vote, "reveal": _reveal, "forget": _forget, "guess": _guess}


@pytest.fixture
async def model_id(store: Store) -> str:
    """Owl listed and announced in two guilds; Alice has voted on it (so there is something to forget)."""
    model_id = await list_owl(store)
    await store.outbox.intend(GUILD, model_id, CHANNEL)
    await store.outbox.intend(OTHER_GUILD, model_id, CHANNEL)
    await store.votes.cast(GUILD, model_id, ALICE, "alice", "google")
    return model_id


async def _revisions(store: Store, model_id: str) -> tuple[int, int]:
    here, there = await store.outbox.for_model(GUILD, model_id), await store.outbox.for_model(OTHER_GUILD, model_id)
    assert here is not None and there is not None
    return here.revision, there.revision


@pytest.mark.parametrize("change", CHANGES)
async def test_a_change_raises_the_revision_of_the_cards_that_show_it(store: Store, model_id: str, change: str):
    here, there = await _revisions(store, model_id)
    store.db.outbox_changed.clear()

    await CHANGES[change](store, model_id)

    assert (await _change_happened(store, model_id))[change]
    every_guild = change == "guess"  # a guess shows in every guild; votes, reveals and members are one guild's
    assert await _revisions(store, model_id) == (here + 1, there + int(every_guild))
    assert store.db.outbox_changed.is_set()  # the announcer is woken once the change has committed


REFUSE_CARD_EDITS = {
    "sqlite": [
        "CREATE TRIGGER refuse_card_edits BEFORE UPDATE OF revision ON announcements "
        "BEGIN SELECT RAISE(ABORT, 'card edits refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_card_edits() RETURNS trigger LANGUAGE plpgsql AS "
        "'BEGIN RAISE EXCEPTION ''card edits refused''; END'",
        "CREATE TRIGGER refuse_card_edits BEFORE UPDATE OF revision ON announcements "
        "FOR EACH ROW EXECUTE FUNCTION refuse_card_edits()",
    ],
}
"""A trigger that makes every card edit fail, in each engine's dialect."""


@pytest.mark.parametrize("change", CHANGES)
async def test_a_change_whose_card_edit_fails_is_not_kept(store: Store, model_id: str, change: str):
    """A card edit that fails inside the transaction takes the change with it: had the edit been asked for after
    the change committed (as it once was, from the cogs), the change would be stored with a stale card."""
    before = await _revisions(store, model_id)
    assert not (await _change_happened(store, model_id))[change]
    for statement in REFUSE_CARD_EDITS[store.db.engine]:
        await store.db.execute(statement)

    with pytest.raises(Exception, match="card edits refused"):
        await CHANGES[change](store, model_id)

    assert not (await _change_happened(store, model_id))[change]
    assert await _revisions(store, model_id) == before


async def test_each_process_reads_only_the_cards_of_its_own_shards(store: Store):
    """Discord puts guild g on shard (g >> 22) % count: with three shards, each process delivers its third."""
    guilds = {shard: (3_000 + shard) << 22 for shard in range(3)}  # (id >> 22) % 3 == shard
    for guild_id in guilds.values():
        await store.outbox.intend(guild_id, "openrouter/owl-alpha", 10)
    for shard, guild_id in guilds.items():
        mine = await store.outbox.pending(shards=Shards(3, (shard,)))
        assert [announcement.guild_id for announcement in mine] == [guild_id]
    both = await store.outbox.pending(shards=Shards(3, (0, 2)))
    assert sorted(announcement.guild_id for announcement in both) == [guilds[0], guilds[2]]
    assert len(await store.outbox.pending()) == 3


async def test_a_deleted_card_is_posted_again_once_then_left_alone(store):
    model = await list_owl(store)
    row = await store.outbox.intend(1, model, 10)
    await store.outbox.mark_posted(row.id, 111, row.revision)
    assert await store.outbox.mark_deleted(row.id, repost=True)
    again = await store.outbox.get(row.id)
    assert (again.state, again.message_id, again.reposts, again.nonce) == ("intended", None, 1, f"scout-a{row.id}-1")
    await store.outbox.mark_posted(row.id, 222, again.revision)
    assert not await store.outbox.mark_deleted(row.id, repost=True)  # once only
    gone = await store.outbox.get(row.id)
    assert gone.state == "posted" and gone.posted_revision == gone.revision and "not posted again" in gone.last_error
