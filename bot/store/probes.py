"""Probe runs and their responses, and which stealth models still need probing.

A probe response is written the moment it completes, with the run's counters in the same
transaction, so a crash loses nothing finished: the run stays `running`, the next start marks it
`abandoned`, and a new run of the same model reuses its answers instead of paying for them again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.probes.response import MAX_STORED_ANSWER_CHARS, ProbeResponse, cap_answer
from bot.store.database import Database, Row, utc_now

log = logging.getLogger(__name__)

# A completion's raw JSON is kept for debugging; a larger one keeps only its id, model, provider and usage.
MAX_STORED_RAW_CHARS = 64_000


def _capped_raw(raw: Mapping[str, Any]) -> str:
    whole = compact_json(dict(raw))
    if len(whole) <= MAX_STORED_RAW_CHARS:
        return whole
    kept = {key: raw[key] for key in ("id", "model", "provider", "usage") if key in raw}
    summary = compact_json(kept) if len(compact_json(kept)) <= 1_000 else "{}"
    return compact_json({**json.loads(summary), "cut": f"raw response of {len(whole):,} characters not stored"})


def compact_json(value: Any) -> str:
    """JSON as stored in a column: no spaces, non-ASCII kept readable."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- probe runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeRun:
    """One run of the suite against a model, with its running totals: what it cost and how it ended."""

    id: int
    model_id: str
    suite_version: str
    purpose: str
    state: str
    started_at: str
    finished_at: str | None
    requests: int
    failures: int
    prompt_tokens: int
    completion_tokens: int


def _run(row: Row) -> ProbeRun:
    return ProbeRun(
        row["id"],
        row["model_id"],
        row["suite_version"],
        row["purpose"],
        row["state"],
        row["started_at"],
        row["finished_at"],
        row["requests"],
        row["failures"],
        row["prompt_tokens"],
        row["completion_tokens"],
    )


def _response(row: Row) -> ProbeResponse:
    request = json.loads(row["request_json"])
    return ProbeResponse(
        probe_id=row["probe_id"],
        kind=row["kind"],
        ok=bool(row["ok"]),
        request=request.get("body", {}),
        error_kind=row["error_kind"],
        error=row["error"],
        content=row["content"],
        reasoning=row["reasoning"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        latency_s=row["latency_s"],
        attempts=int(request.get("attempts", 1)),
        earlier_failures=tuple(request.get("earlier_failures", ())),
        carried_from_run=request.get("carried_from_run"),
        raw=json.loads(row["raw_json"]) if row["raw_json"] else None,
    )


class ProbeStore:
    """Probe runs and their responses; each response is written as it completes, so a crash loses nothing paid for."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def start_run(self, model_id: str, suite_version: str, purpose: str) -> int:
        """Open a run as `running` before its first request, so a crash mid-run is visible at the next start."""
        return await self._db.insert(
            "INSERT INTO probe_runs (model_id, suite_version, purpose, state, started_at) "
            "VALUES (?, ?, ?, 'running', ?) RETURNING id",
            (model_id, suite_version, purpose, utc_now()),
        )

    async def record_response(self, run_id: int, response: ProbeResponse) -> None:
        """Store one outcome and add its requests and tokens to the run, in one transaction.

        A carried-over answer costs this run no request and no token: it was paid for by the run it came from.
        """
        request = {"body": dict(response.request), "attempts": response.attempts}
        if response.earlier_failures:
            request["earlier_failures"] = list(response.earlier_failures)
        if response.carried_from_run is not None:
            request["carried_from_run"] = response.carried_from_run
        paid = response.carried_from_run is None
        content, content_cut = cap_answer(response.content) if response.content is not None else (None, False)
        reasoning, reasoning_cut = cap_answer(response.reasoning) if response.reasoning is not None else (None, False)
        if content_cut or reasoning_cut:
            log.warning(
                "probe %s of run %d: answer over %d characters, cut", response.probe_id, run_id, MAX_STORED_ANSWER_CHARS
            )
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO probe_responses (run_id, probe_id, kind, request_json, ok, error_kind, error, content,
                    reasoning, prompt_tokens, completion_tokens, latency_s, raw_json, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    run_id,
                    response.probe_id,
                    response.kind,
                    compact_json(request),
                    int(response.ok),
                    response.error_kind,
                    response.error,
                    content,
                    reasoning,
                    response.prompt_tokens,
                    response.completion_tokens,
                    response.latency_s,
                    _capped_raw(response.raw) if response.raw is not None else None,
                    utc_now(),
                ),
            )
            await tx.execute(
                "UPDATE probe_runs SET requests = requests + ?, failures = failures + ?, "
                "prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ? WHERE id = ?",
                (
                    response.attempts if paid else 0,
                    int(not response.ok),
                    (response.prompt_tokens or 0) if paid else 0,
                    (response.completion_tokens or 0) if paid else 0,
                    run_id,
                ),
            )

    async def finish_run(self, run_id: int) -> None:
        """Close a run; one already marked abandoned stays so, its answers were carried elsewhere."""
        await self._db.execute(
            "UPDATE probe_runs SET state = 'finished', finished_at = ? WHERE id = ? AND state = 'running'",
            (utc_now(), run_id),
        )

    async def abandon_run(self, run_id: int) -> None:
        """Close a run cut short (the key was refused mid-run): its answers are reused by the model's next run."""
        await self._db.execute(
            "UPDATE probe_runs SET state = 'abandoned', finished_at = ? WHERE id = ? AND state = 'running'",
            (utc_now(), run_id),
        )

    async def abandon_running(self) -> list[ProbeRun]:
        """Mark runs a crash left `running` as `abandoned`; call once at start, before any new run begins."""
        async with self._db.transaction() as tx:
            stale = [
                _run(row) for row in await tx.fetchall("SELECT * FROM probe_runs WHERE state = 'running' ORDER BY id")
            ]
            await tx.execute(
                "UPDATE probe_runs SET state = 'abandoned', finished_at = ? WHERE state = 'running'", (utc_now(),)
            )
        return stale

    async def run(self, run_id: int) -> ProbeRun | None:
        """One run by id, to attribute it again from its stored answers."""
        row = await self._db.fetchone("SELECT * FROM probe_runs WHERE id = ?", (run_id,))
        return _run(row) if row else None

    async def responses(self, run_id: int) -> list[ProbeResponse]:
        """A run's responses in the order they completed."""
        rows = await self._db.fetchall("SELECT * FROM probe_responses WHERE run_id = ? ORDER BY id", (run_id,))
        return [_response(row) for row in rows]

    async def reusable_answers(self, model_id: str, suite_version: str) -> tuple[int, list[ProbeResponse]] | None:
        """The successful responses of the model's latest run, with its id, when a crash interrupted it.

        Only the latest run counts: once a run of the model finished, older abandoned answers are stale.
        """
        row = await self._db.fetchone(
            "SELECT id, state FROM probe_runs WHERE model_id = ? AND suite_version = ? ORDER BY id DESC LIMIT 1",
            (model_id, suite_version),
        )
        if row is None or row["state"] != "abandoned":
            return None
        responses = [response for response in await self.responses(row["id"]) if response.ok]
        return row["id"], responses


# --- what still needs probing ------------------------------------------------------------------------


def utc_in(seconds: float) -> str:
    """The ISO time `seconds` from now, in the same format as `utc_now` so the two compare as text."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ProbeAttempts:
    """How probing a model with one suite went so far: attempts made, the run that succeeded, the next try."""

    model_id: str
    suite_version: str
    attempts: int
    succeeded_run_id: int | None
    next_attempt_at: str | None
    last_reason: str | None
    outages: int = 0


class ProbeAttemptStore:
    """Which stealth models still need probing, whoever saw them first: the bot, `scout scan` or a crashed run."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        model_id: str,
        suite_version: str,
        *,
        run_id: int,
        succeeded: bool,
        reason: str | None,
        retry_in: float | None,
        outage: bool = False,
    ) -> ProbeAttempts:
        """Count one run: a success closes the model for this suite, a failure is due again in `retry_in` s (None:
        the last attempt allowed failed, so no next try is planned).

        A run lost to an outage (`outage`: the gateway or the account failed, not the model) is counted apart, so
        it never brings the model nearer to being given up."""
        now = utc_now()
        counted, lost = (0, 1) if outage and not succeeded else (1, 0)
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO probe_attempts (model_id, suite_version, attempts, outages, succeeded_run_id,
                    next_attempt_at, last_reason, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (model_id, suite_version) DO UPDATE SET
                    attempts = probe_attempts.attempts + excluded.attempts,
                    outages = probe_attempts.outages + excluded.outages,
                    succeeded_run_id = COALESCE(excluded.succeeded_run_id, probe_attempts.succeeded_run_id),
                    next_attempt_at = excluded.next_attempt_at,
                    last_reason = excluded.last_reason,
                    updated_at = excluded.updated_at
                """,
                (
                    model_id,
                    suite_version,
                    counted,
                    lost,
                    run_id if succeeded else None,
                    None if succeeded or retry_in is None else utc_in(retry_in),
                    reason,
                    now,
                ),
            )
            row = await tx.fetchone(
                "SELECT * FROM probe_attempts WHERE model_id = ? AND suite_version = ?", (model_id, suite_version)
            )
        assert row is not None
        return _attempts(row)

    async def postpone(self, model_id: str, suite_version: str, *, retry_in: float, reason: str) -> None:
        """A run that was not started (the key refused, the spend limit reached): due again in `retry_in` s, with
        nothing counted against the model."""
        now = utc_now()
        await self._db.execute(
            """
            INSERT INTO probe_attempts (model_id, suite_version, attempts, next_attempt_at, last_reason, updated_at)
            VALUES (?, ?, 0, ?, ?, ?)
            ON CONFLICT (model_id, suite_version) DO UPDATE SET next_attempt_at = excluded.next_attempt_at,
                last_reason = excluded.last_reason, updated_at = excluded.updated_at
            """,
            (model_id, suite_version, utc_in(retry_in), reason, now),
        )

    async def get(self, model_id: str, suite_version: str) -> ProbeAttempts | None:
        """The model's attempts with this suite, or None when it was never probed with it."""
        row = await self._db.fetchone(
            "SELECT * FROM probe_attempts WHERE model_id = ? AND suite_version = ?", (model_id, suite_version)
        )
        return _attempts(row) if row else None

    async def due(self, suite_version: str, max_attempts: int) -> list[str]:
        """Listed stealth models with no successful run of this suite, never tried or due for a retry, oldest first."""
        rows = await self._db.fetchall(
            """
            SELECT models.id FROM models
            LEFT JOIN probe_attempts AS a ON a.model_id = models.id AND a.suite_version = ?
            WHERE models.stealth = 1 AND models.removed_at IS NULL
              AND (a.model_id IS NULL
                   OR (a.succeeded_run_id IS NULL AND a.attempts < ?
                       AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= ?)))
            ORDER BY models.first_seen, models.id
            """,
            (suite_version, max_attempts, utc_now()),
        )
        return [row["id"] for row in rows]


def _attempts(row: Row) -> ProbeAttempts:
    return ProbeAttempts(
        row["model_id"],
        row["suite_version"],
        row["attempts"],
        row["succeeded_run_id"],
        row["next_attempt_at"],
        row["last_reason"],
        row["outages"],
    )
