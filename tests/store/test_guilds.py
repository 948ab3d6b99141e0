"""Guild settings: moving the channel takes every undelivered announcement along and keeps every other choice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import Store
from tests.support.store import list_owl

GUILD, OLD, NEW = 1, 100, 200
MODELS = ["lab/intended", "lab/posting", "lab/failed", "lab/posted"]


async def _rows_in_each_state(store: Store) -> dict[str, int]:
    ids = {}
    for model_id in MODELS:
        ids[model_id] = (await store.outbox.intend(GUILD, model_id, OLD)).id
    await store.outbox.mark_posting(ids["lab/posting"])
    await store.outbox.mark_posting(ids["lab/failed"])
    await store.outbox.mark_failed(ids["lab/failed"], "channel gone")
    await store.outbox.mark_posting(ids["lab/posted"])
    await store.outbox.mark_posted(ids["lab/posted"], 555, 1)
    return ids


async def test_moving_the_channel_moves_every_undelivered_row_including_one_left_posting(store: Store):
    await store.guilds.configure(GUILD, OLD, all_models=True)
    ids = await _rows_in_each_state(store)

    await store.guilds.configure(GUILD, NEW)

    rows = {model_id: await store.outbox.get(row_id) for model_id, row_id in ids.items()}
    for model_id in ("lab/intended", "lab/posting", "lab/failed"):
        assert (rows[model_id].channel_id, rows[model_id].state, rows[model_id].attempts) == (NEW, "intended", 0)
        assert rows[model_id].last_error is None
    assert (rows["lab/posted"].channel_id, rows["lab/posted"].state) == (OLD, "posted")  # its message stays put


async def test_moving_the_channel_keeps_the_other_settings_and_clears_the_last_error(store: Store):
    await store.guilds.configure(GUILD, OLD, all_models=True, hide_votes=False, threads=True)
    await store.guilds.record_error(GUILD, "missing permission")

    await store.guilds.configure(GUILD, NEW)

    settings = await store.guilds.get(GUILD)
    assert settings is not None
    assert (settings.channel_id, settings.all_models, settings.hide_votes, settings.threads) == (NEW, True, False, True)
    assert settings.last_error is None

    await store.guilds.configure(GUILD, NEW, all_models=False)
    assert (await store.guilds.get(GUILD)).all_models is False  # type: ignore[union-attr]


async def test_a_new_guild_hides_votes_until_the_reveal_and_may_turn_that_off(store: Store):
    assert await store.guilds.hides_votes(GUILD)  # never set up: a new guild
    await store.guilds.configure(GUILD, OLD)
    settings = await store.guilds.get(GUILD)
    assert settings is not None and settings.hide_votes and not settings.threads and not settings.all_models

    await store.guilds.set_hide_votes(GUILD, False)
    assert not await store.guilds.hides_votes(GUILD)
    await store.guilds.set_hide_votes(2, False)  # a guild not set up yet keeps the choice, without a channel
    assert (await store.guilds.get(2)).channel_id is None  # type: ignore[union-attr]
    assert not await store.guilds.hides_votes(2)


async def test_guilds_that_existed_before_the_upgrade_keep_seeing_the_tally(tmp_path: Path):
    database = tmp_path / "old.db"
    initial = (Path(__file__).parents[2] / "bot/store/migrations/V1__initial.sqlite.sql").read_text(encoding="utf-8")
    with sqlite3.connect(database) as connection:
        connection.executescript(initial)
        connection.execute("INSERT INTO guild_settings (guild_id, channel_id, updated_at) VALUES (1, 100, 'x')")
        connection.execute("PRAGMA user_version = 1")

    async with await Store.open(database) as store:
        assert not await store.guilds.hides_votes(1)  # existing guild: as before the upgrade
        assert await store.guilds.hides_votes(3)  # new guild: hidden


async def test_a_departed_guild_is_purged_whole_after_its_retention_and_no_other_guild_is_touched(store: Store):
    model = await list_owl(store)
    for guild in (1, 2):
        await store.guilds.configure(guild, 10 * guild)
        await store.outbox.intend(guild, model, 10 * guild)
        await store.votes.cast(guild, model, 7, "alice", "openai")
        await store.notes.add(guild, model, 7, "alice", "sounds like GPT")
    assert await store.guilds.with_data() == {1, 2}
    await store.guilds.record_departure(1)
    await store.guilds.record_departure(1)  # a second notice keeps the first departure's time
    assert await store.guilds.departed_before(1) == []
    assert await store.guilds.departed_before(0) == [1]
    await store.guilds.record_return(1)
    assert await store.guilds.departed_before(0) == []
    await store.guilds.record_departure(1)

    deleted = await store.guilds.purge(1)
    assert deleted["votes"] == deleted["vote_history"] == deleted["notes"] == deleted["guild_settings"] == 1
    assert deleted["guild_departures"] == 1 and deleted["announcements"] == 1
    assert await store.guilds.with_data() == {2}
    assert (await store.votes.current(2, model, 7)).vendor == "openai"
