"""Per-guild settings: where to announce, what to announce, how cards behave, the last delivery error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store.database import Database, Row, utc_now

NEW_GUILD_HIDES_VOTES = True
# Every table holding a guild's data (member names, votes, notes, reveals, its cards and settings), purged together.
GUILD_TABLES = (
    "votes",
    "vote_history",
    "notes",
    "reveals",
    "announcements",
    "alerts",
    "guild_alerts",
    "guild_settings",
    "guild_departures",
)


@dataclass(frozen=True)
class GuildSettings:
    """One guild's choices; a guild that never ran `/scout setup` has none (and behaves as a new guild)."""

    guild_id: int
    channel_id: int | None
    all_models: bool
    last_error: str | None
    last_error_at: str | None
    hide_votes: bool = NEW_GUILD_HIDES_VOTES
    threads: bool = False


def _settings(row: Row) -> GuildSettings:
    return GuildSettings(
        row["guild_id"],
        row["channel_id"],
        bool(row["all_models"]),
        row["last_error"],
        row["last_error_at"],
        bool(row["hide_votes"]),
        bool(row["threads"]),
    )


def _flag(value: bool | None) -> int | None:
    """A yes/no setting as the integer column holds it; None stays None ("keep what is there")."""
    return None if value is None else int(value)


class GuildStore:
    """Guild settings, scoped by guild id: one guild's choices never reach another's cards."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings | None:
        """The guild's settings, or None when it was never set up."""
        row = await self._db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return _settings(row) if row else None

    async def hides_votes(self, guild_id: int) -> bool:
        """Whether members see only how many voted until the reveal; a guild never set up counts as new."""
        settings = await self.get(guild_id)
        return settings.hide_votes if settings else NEW_GUILD_HIDES_VOTES

    async def configure(
        self,
        guild_id: int,
        channel_id: int,
        *,
        all_models: bool | None = None,
        hide_votes: bool | None = None,
        threads: bool | None = None,
    ) -> None:
        """Set the channel, and the options given (None keeps the current one, or the default for a new guild).

        Every announcement not delivered yet follows to the new channel, including one left `posting`
        (its message, if any, went to a channel the guild no longer uses) and one that `failed` there.
        """
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO guild_settings (guild_id, channel_id, all_models, hide_votes, threads, updated_at)
                VALUES (?1, ?2, COALESCE(?3, 0), COALESCE(CAST(?4 AS INTEGER), CAST(?7 AS INTEGER)),
                        COALESCE(?5, 0), ?6)
                ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                    all_models = COALESCE(?3, guild_settings.all_models),
                    hide_votes = COALESCE(?4, guild_settings.hide_votes),
                    threads = COALESCE(?5, guild_settings.threads), last_error = NULL, last_error_at = NULL,
                    updated_at = excluded.updated_at
                """,
                (
                    guild_id,
                    channel_id,
                    _flag(all_models),
                    _flag(hide_votes),
                    _flag(threads),
                    now,
                    int(NEW_GUILD_HIDES_VOTES),
                ),
            )
            await tx.execute(
                "UPDATE announcements SET channel_id = ?, state = 'intended', attempts = 0, last_error = NULL, "
                "updated_at = ? WHERE guild_id = ? AND state IN ('intended', 'posting', 'failed')",
                (channel_id, now, guild_id),
            )

    async def set_hide_votes(self, guild_id: int, hidden: bool) -> None:
        """Hide (or show) who voted for what until the reveal; a guild not set up yet keeps the choice for later."""
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, channel_id, hide_votes, updated_at) VALUES (?, NULL, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET hide_votes = excluded.hide_votes, updated_at = excluded.updated_at",
            (guild_id, int(hidden), utc_now()),
        )

    async def ensure_default(self, guild_id: int, channel_id: int) -> bool:
        """Adopt the deployment's default channel for a guild that never ran /scout setup; True if adopted."""
        now = utc_now()
        async with self._db.transaction() as tx:
            inserted = await tx.execute(
                "INSERT INTO guild_settings (guild_id, channel_id, all_models, updated_at) VALUES (?, ?, 0, ?) "
                "ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, channel_id, now),
            )
            return inserted > 0

    async def record_error(self, guild_id: int, error: str | None) -> None:
        """Remember the last delivery failure (None clears it), so `/scout status` can tell an admin what to fix."""
        await self._db.execute(
            "UPDATE guild_settings SET last_error = ?, last_error_at = ? WHERE guild_id = ?",
            (error[:300] if error else None, utc_now() if error else None, guild_id),
        )

    async def all(self) -> list[GuildSettings]:
        """Every guild's settings, for tools that look across guilds (benchmarks, the CLI)."""
        rows = await self._db.fetchall("SELECT * FROM guild_settings ORDER BY guild_id")
        return [_settings(row) for row in rows]

    async def record_departure(self, guild_id: int) -> None:
        """The bot was removed from the guild: its data is purged after the retention period unless it comes back.
        The first departure counts; a second notice of the same one does not restart the clock."""
        await self._db.execute(
            "INSERT INTO guild_departures (guild_id, left_at) VALUES (?, ?) ON CONFLICT (guild_id) DO NOTHING",
            (guild_id, utc_now()),
        )

    async def record_return(self, guild_id: int) -> None:
        """The bot is in the guild (again): nothing of it is due for purging."""
        await self._db.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))

    async def with_data(self) -> set[int]:
        """Every guild the store holds anything of, to notice guilds that removed the bot while it was offline."""
        selects = " UNION ".join(f"SELECT guild_id FROM {table}" for table in GUILD_TABLES)
        return {row[0] for row in await self._db.fetchall(selects)}

    async def departed_before(self, days: float) -> list[int]:
        """Guilds the bot left more than `days` ago: their data is due for purging."""
        moment = datetime.now(UTC) - timedelta(days=days)
        cutoff = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        rows = await self._db.fetchall(
            "SELECT guild_id FROM guild_departures WHERE left_at <= ? ORDER BY guild_id", (cutoff,)
        )
        return [row[0] for row in rows]

    async def purge(self, guild_id: int) -> dict[str, int]:
        """Delete everything the store holds of one guild (members' names, votes, notes, reveals, cards, settings),
        in one transaction; returns the rows deleted per table. Other guilds' data is never touched."""
        deleted = {}
        async with self._db.transaction() as tx:
            for table in GUILD_TABLES:
                deleted[table] = await tx.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
        return deleted
