"""The bot's own calibration plan: which known models it chose to probe as references, and how each went.

The plan is kept here rather than in memory so that a calibration killed halfway resumes where it
stopped, and so that `/scout status` (another task) and `scout` (another process) can show progress.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.attribution.guess import GUESS_NO_REFERENCES
from bot.store.database import Database, Row, utc_now
from bot.store.outbox import ask_for_edits
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
    """Targets finished (done or failed) out of all planned for the suite, and the requests they cost.

    `round_started_at` is when the oldest target still pending was planned, and `round_finished` how many
    targets finished since then: how fast the current round goes, for an estimate of when it ends.
    """

    finished: int
    planned: int
    done: int
    requests: int
    round_started_at: str | None = None
    round_finished: int = 0

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
        an outage (`outage`) counts apart from the model's own failures.

        The cards of models waiting for references show how far calibration got, so they are asked to be redrawn
        in the same transaction (the announcer keeps to its edit rate).
        """
        counted, lost = (0, 0) if ok else ((0, 1) if outage else (1, 0))
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE calibration_targets SET state = ?, requests = requests + ?, detail = ?, finished_at = ?, "
                "attempts = attempts + ?, outages = outages + ?, next_attempt_at = ? "
                "WHERE model_id = ? AND suite_version = ?",
                (
                    DONE if ok else FAILED,
                    requests,
                    detail,
                    now,
                    counted,
                    lost,
                    None if ok or retry_in is None else utc_in(retry_in),
                    model_id,
                    suite_version,
                ),
            )
            # The cards that show the round's progress: those waiting for references, and those guessed from the
            # references of a round still under way.
            rows = await tx.fetchall(
                "SELECT latest.model_id FROM guesses AS latest "
                "WHERE latest.id = (SELECT MAX(later.id) FROM guesses AS later WHERE later.model_id = latest.model_id) "
                "AND (latest.status = ? OR latest.created_at >= (SELECT MIN(planned_at) FROM calibration_targets "
                "WHERE suite_version = ? AND state = 'pending'))",
                (GUESS_NO_REFERENCES, suite_version),
            )
            await ask_for_edits(tx, [row["model_id"] for row in rows], now)
            tx.signal_outbox()

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
        pace = await self._db.fetchone(
            "SELECT MIN(planned_at) AS started FROM calibration_targets WHERE suite_version = ? AND state = 'pending'",
            (suite_version,),
        )
        started = pace["started"] if pace else None
        finished_since = 0
        if started is not None:
            counted = await self._db.fetchone(
                "SELECT COUNT(*) AS finished FROM calibration_targets "
                "WHERE suite_version = ? AND state != 'pending' AND finished_at >= ?",
                (suite_version, started),
            )
            finished_since = counted["finished"] if counted else 0
        return CalibrationProgress(
            row["finished"], row["planned"], row["done"], row["requests"], started, finished_since
        )
