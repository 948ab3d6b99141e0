"""Per-guild alert preferences and the alerts outbox (grouped messages, one per guild, poll and kind).

Alerts are planned inside the poll's write transaction (`record_alerts`), so a crash leaves either no
poll and no alerts or both: an alert is never lost nor doubled, as with announcements.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.alerts import AlertPreferences, plan_alerts
from bot.catalogue.diff import CatalogueEvent
from bot.catalogue.entry import CatalogueEntry
from bot.store.database import Database, Row, Shards, Transaction, utc_now
from bot.store.outbox import queue_alerts

FLAGS = ("paused", "stealth", "new_models", "free_only", "prices", "context", "removals")
LISTS = ("namespaces", "modalities", "watched")


@dataclass(frozen=True)
class Alert:
    """One row of the alerts outbox."""

    id: int
    guild_id: int
    poll_id: int
    kind: str
    channel_id: int
    lines: tuple[str, ...]
    state: str
    message_id: int | None
    attempts: int
    last_error: str | None


def _alert(row: Row) -> Alert:
    return Alert(
        row["id"],
        row["guild_id"],
        row["poll_id"],
        row["kind"],
        row["channel_id"],
        tuple(json.loads(row["lines_json"])),
        row["state"],
        row["message_id"],
        row["attempts"],
        row["last_error"],
    )


def _preferences(row: Row) -> AlertPreferences:
    """Preferences from a row of `PREFERENCES_COLUMNS`; a guild with no `guild_alerts` row gets the defaults."""
    if row["updated_at"] is None:
        return AlertPreferences(row["guild_id"], row["channel_id"])
    values: dict[str, Any] = {name: bool(row[name]) for name in FLAGS}
    values.update({name: tuple(json.loads(row[name])) for name in LISTS})
    return AlertPreferences(row["guild_id"], row["channel_id"], role_id=row["role_id"], **values)


PREFERENCES_COLUMNS = "s.channel_id AS channel_id, " + ", ".join(
    f"a.{name} AS {name}" for name in (*FLAGS, *LISTS, "role_id", "updated_at")
)
EDITABLE = frozenset((*FLAGS, *LISTS, "role_id"))


class AlertStore:
    """Preferences per guild and the alerts outbox."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def preferences(self, guild_id: int) -> AlertPreferences:
        """A guild's preferences, its defaults when it never chose, with its announcement channel."""
        row = await self._db.fetchone(
            f"SELECT g.guild_id AS guild_id, {PREFERENCES_COLUMNS} FROM (SELECT CAST(? AS BIGINT) AS guild_id) g "
            "LEFT JOIN guild_settings s ON s.guild_id = g.guild_id LEFT JOIN guild_alerts a ON a.guild_id = g.guild_id",
            (guild_id,),
        )
        assert row is not None
        return _preferences(row)

    async def update(self, guild_id: int, **changes: Any) -> AlertPreferences:
        """Change some preferences and keep the others; unknown names are a programming error."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not an alert preference: {', '.join(sorted(unknown))}")
        current = await self.preferences(guild_id)
        merged = {**{name: getattr(current, name) for name in EDITABLE}, **changes}
        columns = [*FLAGS, *LISTS, "role_id"]
        values = [int(merged[name]) for name in FLAGS] + [json.dumps(list(merged[name])) for name in LISTS]
        await self._db.execute(
            f"INSERT INTO guild_alerts (guild_id, {', '.join(columns)}, updated_at) "
            f"VALUES (?, {', '.join('?' for _ in columns)}, ?) ON CONFLICT (guild_id) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in [*columns, "updated_at"]),
            (guild_id, *values, merged["role_id"], utc_now()),
        )
        return await self.preferences(guild_id)

    async def stealth_ping_role(self, guild_id: int, model_id: str) -> int | None:
        """The role to mention on this model's announcement: only for a stealth model, only if the guild chose one."""
        row = await self._db.fetchone(
            "SELECT a.role_id FROM guild_alerts a JOIN models m ON m.id = ? AND m.stealth = 1 "
            "WHERE a.guild_id = ? AND a.role_id IS NOT NULL",
            (model_id, guild_id),
        )
        return int(row["role_id"]) if row else None

    async def pending(self, limit: int = 50, *, shards: Shards | None = None) -> list[Alert]:
        """Alerts still to post, oldest first; a row left in `posting` by a crash is among them. With `shards`, only
        those of this process's guilds."""
        where, params = shards.condition() if shards else ("1 = 1", ())
        rows = await self._db.fetchall(
            f"SELECT * FROM alerts WHERE state IN ('intended', 'posting') AND {where} ORDER BY id LIMIT ?",
            (*params, limit),
        )
        return [_alert(row) for row in rows]

    async def for_guild(self, guild_id: int, limit: int = 20) -> list[Alert]:
        """A guild's latest alerts, newest first (for `/scout alerts show`)."""
        rows = await self._db.fetchall(
            "SELECT * FROM alerts WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild_id, limit)
        )
        return [_alert(row) for row in rows]

    async def mark_posting(self, alert_id: int) -> None:
        """Written just before the HTTP call, so a crash after it is looked for before posting again."""
        await self._db.execute(
            "UPDATE alerts SET state = 'posting', attempts = attempts + 1, updated_at = ? "
            "WHERE id = ? AND state IN ('intended', 'posting')",
            (utc_now(), alert_id),
        )

    async def mark_posted(self, alert_id: int, message_id: int) -> None:
        """The message exists: never post this alert again."""
        await self._db.execute(
            "UPDATE alerts SET state = 'posted', message_id = ?, last_error = NULL, updated_at = ? WHERE id = ?",
            (message_id, utc_now(), alert_id),
        )

    async def mark_failed(self, alert_id: int, error: str) -> None:
        """Give up (channel gone, no permission); the reason shows in `/scout alerts show`."""
        await self._db.execute(
            "UPDATE alerts SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?",
            (error[:300], utc_now(), alert_id),
        )

    async def record_error(self, alert_id: int, error: str) -> None:
        """A transient failure: the alert stays pending, the reason is kept."""
        await self._db.execute(
            "UPDATE alerts SET last_error = ?, updated_at = ? WHERE id = ?", (error[:300], utc_now(), alert_id)
        )


async def record_alerts(
    tx: Transaction,
    poll_id: int,
    events: Sequence[CatalogueEvent],
    entries: Sequence[CatalogueEntry],
    now: str,
) -> int:
    """Plan this poll's alerts for every guild and queue them, inside the poll's transaction; returns how many."""
    if not events:
        return 0
    rows = await tx.fetchall(
        f"SELECT s.guild_id AS guild_id, {PREFERENCES_COLUMNS} FROM guild_settings s "
        "LEFT JOIN guild_alerts a ON a.guild_id = s.guild_id"
    )
    guilds = [_preferences(row) for row in rows]
    planned = plan_alerts(events, {entry.id: entry for entry in entries}, guilds)
    await queue_alerts(tx, poll_id, planned, now)
    return len(planned)
