"""What the bot spent at the gateway, in US dollars, one row per answered chat request.

The figure is the cost the gateway reported for the request (OpenRouter's `usage.cost`) where it gave one, and
otherwise what the listing's prices make of the tokens it reported (`reported` says which). SPEND_LIMIT_USD_PER_WEEK
is checked against the last seven days of it, so it survives restarts and covers the bot and `scout` alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.database import Database, utc_now

WEEK = timedelta(days=7)


def week_ago() -> str:
    """The start of the rolling week, in the store's timestamp format."""
    moment = datetime.now(UTC) - WEEK
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SpendStore:
    """The spend ledger: appended as requests are answered, summed over the last week."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, model_id: str, *, usd: float, reported: bool, purpose: str, run_id: int | None = None
    ) -> None:
        """Add one answered request's cost."""
        await self._db.execute(
            "INSERT INTO spend (at, model_id, run_id, purpose, usd, reported) VALUES (?, ?, ?, ?, ?, ?)",
            (utc_now(), model_id, run_id, purpose, max(0.0, usd), int(reported)),
        )

    async def last_week(self) -> float:
        """Dollars spent in the last seven days."""
        row = await self._db.fetchone("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE at >= ?", (week_ago(),))
        return float(row[0]) if row else 0.0

    async def of_run(self, run_id: int) -> float:
        """Dollars one probe run spent."""
        row = await self._db.fetchone("SELECT COALESCE(SUM(usd), 0) FROM spend WHERE run_id = ?", (run_id,))
        return float(row[0]) if row else 0.0
