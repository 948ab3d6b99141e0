"""Per-guild settings: where to announce, whether to announce every new model, the last delivery error."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import Database, utc_now


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    channel_id: int | None
    all_models: bool
    last_error: str | None
    last_error_at: str | None


class GuildStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings | None:
        row = await self._db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        if row is None:
            return None
        return GuildSettings(
            row["guild_id"], row["channel_id"], bool(row["all_models"]), row["last_error"], row["last_error_at"]
        )

    async def configure(self, guild_id: int, channel_id: int, *, all_models: bool) -> None:
        """Set the channel; announcements already intended for the old channel follow to the new one."""
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO guild_settings (guild_id, channel_id, all_models, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                    all_models = excluded.all_models, last_error = NULL, last_error_at = NULL,
                    updated_at = excluded.updated_at
                """,
                (guild_id, channel_id, int(all_models), now),
            )
            await tx.execute(
                "UPDATE announcements SET channel_id = ?, state = 'intended', attempts = 0, last_error = NULL, updated_at = ? "
                "WHERE guild_id = ? AND state IN ('intended', 'failed')",
                (channel_id, now, guild_id),
            )

    async def ensure_default(self, guild_id: int, channel_id: int) -> bool:
        """Adopt the deployment's default channel for a guild that never ran /scout setup; True if adopted."""
        now = utc_now()
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "INSERT INTO guild_settings (guild_id, channel_id, all_models, updated_at) VALUES (?, ?, 0, ?) "
                "ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, channel_id, now),
            )
            return cursor.rowcount > 0

    async def record_error(self, guild_id: int, error: str | None) -> None:
        await self._db.execute(
            "UPDATE guild_settings SET last_error = ?, last_error_at = ? WHERE guild_id = ?",
            (error[:300] if error else None, utc_now() if error else None, guild_id),
        )

    async def all(self) -> list[GuildSettings]:
        rows = await self._db.fetchall("SELECT * FROM guild_settings ORDER BY guild_id")
        return [
            GuildSettings(r["guild_id"], r["channel_id"], bool(r["all_models"]), r["last_error"], r["last_error_at"])
            for r in rows
        ]
