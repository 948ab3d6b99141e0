"""Small key/value facts the bot keeps between runs (such as the hash of the last synced command tree)."""

from __future__ import annotations

from bot.store.database import Database


class StateStore:
    """Facts that must outlive a restart but belong to no table of their own, such as the synced tree's hash."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value kept under `key`, or None when it was never set (a first start)."""
        row = await self._db.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set(self, key: str, value: str) -> None:
        """Keep `value` under `key`, replacing what was there."""
        await self._db.execute(
            "INSERT INTO bot_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
