"""`scout migrate`'s copy from SQLite to PostgreSQL keeps every id a card in Discord may show from being handed out
again: the identity sequences continue above SQLite's `sqlite_sequence`, not only above the largest row copied."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SQLiteDatabase
from bot.store.transfer import copy_sqlite_to_postgres
from tests.support.store import list_owl


async def test_ids_continue_above_every_id_sqlite_handed_out(tmp_path: Path, postgres_url: str):
    async with await Store.open(tmp_path / "scout.db") as source:
        model = await list_owl(source)
        for guild in (1, 2, 3):
            await source.outbox.intend(guild, model, 10)
        await source.db.execute("DELETE FROM announcements WHERE guild_id = 3")  # id 3 was handed out, then deleted
        assert isinstance(source.db, SQLiteDatabase)
        async with await Store.open(postgres_url) as target:
            assert isinstance(target.db, PostgresDatabase)
            await copy_sqlite_to_postgres(source.db, target.db)
            assert (await target.outbox.intend(9, model, 10)).id == 4
