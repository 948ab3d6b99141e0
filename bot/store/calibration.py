"""The bot's own calibration plan: which known models it chose to probe as references, and how each went.

The plan is kept here rather than in memory so that a calibration killed halfway resumes where it
stopped, and so that `/scout status` (another task) and `scout` (another process) can show progress.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.database import Database, Row, utc_now
from bot.store.probes import utc_in

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
    attempts: int = 0
    outages: int = 0
    next_attempt_at: str | None = None


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


def _target(row: Row) -> CalibrationTarget:
    return CalibrationTarget(
        row["model_id"],
        row["vendor"],
        row["state"],
        row["requests"],
        row["detail"],
        row["planned_at"],
        row["attempts"],
        row["outages"],
        row["next_attempt_at"],
    )


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
        return [_target(row) for row in rows]

    async def due(self, suite_version: str) -> list[CalibrationTarget]:
        """Targets to probe now: pending ones not put off, and failed ones whose retry has fallen due."""
        rows = await self._db.fetchall(
            "SELECT * FROM calibration_targets WHERE suite_version = ? AND ("
            "(state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)) OR "
            "(state = 'failed' AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?)) ORDER BY planned_at, rowid",
            (suite_version, utc_now(), utc_now()),
        )
        return [_target(row) for row in rows]

    async def finish(
        self,
        model_id: str,
        suite_version: str,
        *,
        ok: bool,
        requests: int,
        detail: str,
        retry_in: float | None = None,
        outage: bool = False,
    ) -> None:
        """Close a target's run with what it cost (added to what earlier runs cost): a crash before this leaves it
        pending, to be probed again. A failure is tried again in `retry_in` seconds (None: given up); one lost to
        an outage (`outage`) counts apart from the model's own failures."""
        counted, lost = (0, 0) if ok else ((0, 1) if outage else (1, 0))
        await self._db.execute(
            "UPDATE calibration_targets SET state = ?, requests = requests + ?, detail = ?, finished_at = ?, "
            "attempts = attempts + ?, outages = outages + ?, next_attempt_at = ? "
            "WHERE model_id = ? AND suite_version = ?",
            (
                DONE if ok else FAILED,
                requests,
                detail,
                utc_now(),
                counted,
                lost,
                None if ok or retry_in is None else utc_in(retry_in),
                model_id,
                suite_version,
            ),
        )

    async def postpone(self, model_id: str, suite_version: str, *, retry_in: float, detail: str) -> None:
        """A target whose run was not started (the key refused, the spend limit reached): due again later, as it
        was (pending, or failed and waiting for its retry), with nothing counted against it."""
        await self._db.execute(
            "UPDATE calibration_targets SET next_attempt_at = ?, detail = ? WHERE model_id = ? AND suite_version = ?",
            (utc_in(retry_in), detail, model_id, suite_version),
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
