"""The bot's own calibration plan: which known models it chose to probe as references, and how each went.

The plan is kept here rather than in memory so that a calibration killed halfway resumes where it
stopped, and so that `/scout status` (another task) and `scout` (another process) can show progress.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.database import Database, utc_now

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class CalibrationTarget:
    """A known model the bot chose to probe as a reference; `state` is pending until its run ends."""

    model_id: str
    vendor: str
    state: str
    requests: int
    detail: str | None
    planned_at: str


@dataclass(frozen=True)
class CalibrationProgress:
    """Targets finished (done or failed) out of all planned for the suite, and the requests they cost."""

    finished: int
    planned: int
    done: int
    requests: int

    @property
    def complete(self) -> bool:
        """True when nothing planned is still pending (also when nothing was planned)."""
        return self.finished >= self.planned


class CalibrationStore:
    """The calibration plan of each suite version, one row per chosen model."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def plan(self, suite_version: str, targets: Iterable[tuple[str, str]]) -> int:
        """Add (model id, vendor) targets not planned before for this suite; returns how many were added."""
        now = utc_now()
        added = 0
        async with self._db.transaction() as tx:
            for model_id, vendor in targets:
                added += await tx.execute(
                    "INSERT INTO calibration_targets (model_id, suite_version, vendor, state, planned_at) "
                    "VALUES (?, ?, ?, 'pending', ?) ON CONFLICT (model_id, suite_version) DO NOTHING",
                    (model_id, suite_version, vendor, now),
                )
        return added

    async def targets(self, suite_version: str) -> list[CalibrationTarget]:
        """Every target of the suite, in the order they were planned (the order they are probed in)."""
        rows = await self._db.fetchall(
            "SELECT * FROM calibration_targets WHERE suite_version = ? ORDER BY planned_at, rowid", (suite_version,)
        )
        return [
            CalibrationTarget(
                row["model_id"], row["vendor"], row["state"], row["requests"], row["detail"], row["planned_at"]
            )
            for row in rows
        ]

    async def finish(self, model_id: str, suite_version: str, *, ok: bool, requests: int, detail: str) -> None:
        """Close a target with what its run cost: a crash before this leaves it pending, to be probed again."""
        await self._db.execute(
            "UPDATE calibration_targets SET state = ?, requests = ?, detail = ?, finished_at = ? "
            "WHERE model_id = ? AND suite_version = ?",
            (DONE if ok else FAILED, requests, detail, utc_now(), model_id, suite_version),
        )

    async def progress(self, suite_version: str) -> CalibrationProgress:
        """N/M for cards and `/scout status`, and the requests spent, which the budget is checked against."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS planned, COUNT(*) FILTER (WHERE state != 'pending') AS finished, "
            "COUNT(*) FILTER (WHERE state = 'done') AS done, COALESCE(SUM(requests), 0) AS requests "
            "FROM calibration_targets WHERE suite_version = ?",
            (suite_version,),
        )
        assert row is not None
        return CalibrationProgress(row["finished"], row["planned"], row["done"], row["requests"])
