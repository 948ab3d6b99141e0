"""The database file deleted, or replaced by another file, under the running bot: it stops writing at once, says
so loudly, and exits non-zero so the supervisor restarts it on whatever file is at that path now. Votes cast in
between are not "recorded" into a file nobody will ever open again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.database import DatabaseGone
from tests.support.bot_process import running_bot
from tests.support.store import list_owl
from tests.support.world import World

EXITS_WITHIN_S = 15.0


def _delete(database: Path, _: Path) -> None:
    for path in (database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)


def _replace(database: Path, other: Path) -> None:
    shutil.copy(other, database.with_name("incoming.db"))
    database.with_name("incoming.db").replace(database)


@pytest.mark.parametrize("change", [_delete, _replace], ids=["deleted", "replaced"])
async def test_the_bot_stops_writing_says_so_and_exits_non_zero(world: World, tmp_path: Path, change):  # type: ignore[no-untyped-def]
    other = tmp_path / "other.db"
    async with await Store.open(other):
        pass
    environment = world.process_environment(log_level="INFO")
    async with running_bot(environment, tmp_path / "run") as bot:
        await bot.wait_for(lambda: "synced" in bot.log() or "unchanged since the last sync" in bot.log(), what="ready")
        await bot.wait_for(lambda: world.fake.connected, what="the gateway connection")
        change(world.database, other)
        await bot.wait_for(lambda: not bot.running, what="the bot to exit", timeout=EXITS_WITHIN_S)
        log = bot.log()
    assert bot.process.returncode not in (0, None), log[-2000:]
    assert "CRITICAL" in log and str(world.database) in log and "Traceback" not in log, log[-2000:]
    assert log.strip().splitlines()[-1].startswith("error: ")


async def test_a_store_whose_file_was_deleted_refuses_every_write(tmp_path: Path):
    database = tmp_path / "scout.db"
    async with await Store.open(database) as store:
        model = await list_owl(store)
        _delete(database, tmp_path)
        with pytest.raises(DatabaseGone, match="deleted"):
            await store.votes.cast(1, model, 7, "alice", "openai")
        assert store.db.missing() is not None
    assert not database.exists()


async def test_a_vote_after_the_file_is_gone_is_never_answered_as_recorded(world: World):
    async with world.run_bot() as bot:
        card = await world.announce_owl(bot)
        await bot.pipeline.wait_idle()
        _delete(world.database, world.database)
        [select] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
        click = world.fake.build_component(card.id, select, member=world.member, values=["openai"])
        text, _, _ = await world.answer(await world.fake.send_interaction(click))
    assert "Vote recorded" not in text and "database" in text, text
