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

    async def claim_turn(self, key: str, now: str, earliest_previous: str) -> str | None:
        """Set `key` to the time `now` unless the time it holds is later than `earliest_previous` (a turn taken
        within the cooldown): one statement, so two servers, or two processes, asking at once cannot both win.
        Returns None when the turn was claimed, else the time of the turn that holds it."""
        async with self._db.transaction() as tx:
            claimed = await tx.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value WHERE bot_state.value <= ?",
                (key, now, earliest_previous),
            )
            if claimed > 0:
                return None
            held = await tx.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
        return str(held[0]) if held else None
