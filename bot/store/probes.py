"""Probe runs and their responses, reference fingerprints, and attribution guesses.

A probe response is written the moment it completes, with the run's counters in the same
transaction, so a crash loses nothing finished: the run stays `running`, the next start marks it
`abandoned`, and a new run of the same model reuses its answers instead of paying for them again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from bot.store.database import Database, utc_now
from bot.store.outbox import ask_for_edits

CORPUS_SUITE_VERSION = "corpus"
"""The suite version of references imported from a corpus: their prompt ids are content hashes, valid for any suite."""
REFERENCES_REVISION_KEY = "references.revision"

log = logging.getLogger(__name__)

# What one stored answer may hold. Probes ask for a few hundred tokens and the longest answer in the shared
# corpora is about 25,000 characters, so only a runaway or hostile reply is cut; the cut is marked in the text.
MAX_STORED_ANSWER_CHARS = 32_000
# A completion's raw JSON is kept for debugging; a larger one keeps only its id, model and usage.
MAX_STORED_RAW_CHARS = 64_000
CUT_MARKER = "\n[cut by Model Scout: {count:,} more characters not stored]"
_CUT_MARKER_ROOM = len(CUT_MARKER.format(count=10**12))


def cap_answer(text: str) -> tuple[str, bool]:
    """The text as stored: at most `MAX_STORED_ANSWER_CHARS`, ending in a marker saying how much was cut."""
    if len(text) <= MAX_STORED_ANSWER_CHARS:
        return text, False
    kept = MAX_STORED_ANSWER_CHARS - _CUT_MARKER_ROOM
    return text[:kept] + CUT_MARKER.format(count=len(text) - kept), True


def _capped_raw(raw: Mapping[str, Any]) -> str:
    whole = _compact(dict(raw))
    if len(whole) <= MAX_STORED_RAW_CHARS:
        return whole
    kept = {key: raw[key] for key in ("id", "model", "usage") if key in raw}
    summary = _compact(kept) if len(_compact(kept)) <= 1_000 else "{}"
    return _compact({**json.loads(summary), "cut": f"raw response of {len(whole):,} characters not stored"})


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- probe runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeRun:
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


@dataclass(frozen=True)
class ProbeResponse:
    """One probe's outcome. `request` is the body sent (without the model); `attempts` counts HTTP requests.

    `earlier_failures` keeps what went wrong on attempts that were retried; `carried_from_run` is set
    when the answer was reused from an abandoned run instead of being asked again.
    """

    probe_id: str
    kind: str
    ok: bool
    request: Mapping[str, Any]
    error_kind: str | None = None
    error: str | None = None
    content: str | None = None
    reasoning: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    attempts: int = 1
    earlier_failures: tuple[str, ...] = ()
    carried_from_run: int | None = None
    raw: Mapping[str, Any] | None = field(default=None, repr=False)


def _run(row: aiosqlite.Row) -> ProbeRun:
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


def _response(row: aiosqlite.Row) -> ProbeResponse:
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
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start_run(self, model_id: str, suite_version: str, purpose: str) -> int:
        return await self._db.execute(
            "INSERT INTO probe_runs (model_id, suite_version, purpose, state, started_at) VALUES (?, ?, ?, 'running', ?)",
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
                    _compact(request),
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
        await self._db.execute(
            "UPDATE probe_runs SET state = 'finished', finished_at = ? WHERE id = ? AND state = 'running'",
            (utc_now(), run_id),
        )

    async def abandon_running(self) -> list[ProbeRun]:
        """Mark runs a crash left `running` as `abandoned`; call once at start, before any new run begins."""
        async with self._db.transaction() as tx:
            cursor = await tx.execute("SELECT * FROM probe_runs WHERE state = 'running' ORDER BY id")
            stale = [_run(row) for row in await cursor.fetchall()]
            await tx.execute(
                "UPDATE probe_runs SET state = 'abandoned', finished_at = ? WHERE state = 'running'", (utc_now(),)
            )
        return stale

    async def run(self, run_id: int) -> ProbeRun | None:
        row = await self._db.fetchone("SELECT * FROM probe_runs WHERE id = ?", (run_id,))
        return _run(row) if row else None

    async def runs(self, model_id: str, limit: int = 10) -> list[ProbeRun]:
        rows = await self._db.fetchall(
            "SELECT * FROM probe_runs WHERE model_id = ? ORDER BY id DESC LIMIT ?", (model_id, limit)
        )
        return [_run(row) for row in rows]

    async def responses(self, run_id: int) -> list[ProbeResponse]:
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


# --- references ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceAnswer:
    content: str | None
    prompt_tokens: int | None = None


@dataclass(frozen=True)
class Reference:
    """A known model's fingerprint: its answers and token counts per probe id."""

    model_id: str
    vendor: str
    source: str
    suite_version: str
    answers: Mapping[str, ReferenceAnswer]
    run_id: int | None = None
    created_at: str = ""


def _stored_answer(content: str | None) -> str | None:
    return cap_answer(content)[0] if content is not None else None


class ReferenceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, references: Iterable[Reference]) -> int:
        """Store fingerprints, each replacing an earlier one of the same model, source and suite; one transaction."""
        now = utc_now()
        saved = 0
        async with self._db.transaction() as tx:
            for reference in references:
                await tx.execute(
                    "DELETE FROM reference_models WHERE model_id = ? AND source = ? AND suite_version = ?",
                    (reference.model_id, reference.source, reference.suite_version),
                )
                cursor = await tx.execute(
                    "INSERT INTO reference_models (model_id, vendor, source, suite_version, run_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        reference.model_id,
                        reference.vendor,
                        reference.source,
                        reference.suite_version,
                        reference.run_id,
                        now,
                    ),
                )
                await tx.executemany(
                    "INSERT INTO reference_answers (reference_id, probe_id, content, prompt_tokens) VALUES (?, ?, ?, ?)",
                    [
                        (cursor.lastrowid, probe_id, _stored_answer(answer.content), answer.prompt_tokens)
                        for probe_id, answer in reference.answers.items()
                    ],
                )
                saved += 1
            await tx.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, '1') "
                "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                (REFERENCES_REVISION_KEY,),
            )
        return saved

    async def load(self, suite_version: str, probe_ids: Collection[str] | None = None) -> list[Reference]:
        """References comparable with a run of `suite_version`: probed with it, or imported from a corpus.

        `probe_ids` limits the answers loaded to those a query can use, so a large imported corpus
        costs only the few prompts the suite asks.
        """
        answers_sql = "SELECT reference_id, probe_id, content, prompt_tokens FROM reference_answers"
        params: list[Any] = []
        if probe_ids is not None:
            wanted = sorted(set(probe_ids))
            if not wanted:
                return []
            answers_sql += f" WHERE probe_id IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        models = await self._db.fetchall(
            "SELECT * FROM reference_models WHERE suite_version IN (?, ?) ORDER BY id",
            (suite_version, CORPUS_SUITE_VERSION),
        )
        by_reference: dict[int, dict[str, ReferenceAnswer]] = {row["id"]: {} for row in models}
        async for row in self._db.iterate(answers_sql, params):
            answers = by_reference.get(row["reference_id"])
            if answers is not None:
                answers[row["probe_id"]] = ReferenceAnswer(row["content"], row["prompt_tokens"])
        return [
            Reference(
                row["model_id"],
                row["vendor"],
                row["source"],
                row["suite_version"],
                by_reference[row["id"]],
                row["run_id"],
                row["created_at"],
            )
            for row in models
        ]

    async def model_ids(self, suite_version: str) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT model_id FROM reference_models WHERE suite_version = ?", (suite_version,)
        )
        return {row["model_id"] for row in rows}

    async def fingerprint(self, suite_version: str) -> str:
        """Changes whenever references are saved: the key under which fits made on them are cached.

        A revision counter rather than row ids, because SQLite reuses the id of a replaced last row.
        """
        row = await self._db.fetchone("SELECT value FROM bot_state WHERE key = ?", (REFERENCES_REVISION_KEY,))
        return f"{suite_version}:{row['value'] if row else 0}"

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT source, COUNT(*) AS n FROM reference_models GROUP BY source")
        return {row["source"]: row["n"] for row in rows}

    async def by_vendor(self, suite_version: str) -> list[VendorReferences]:
        """How many references of each vendor a run of `suite_version` is compared with, and the newest one's time."""
        rows = await self._db.fetchall(
            "SELECT vendor, COUNT(*) AS n, MAX(created_at) AS newest FROM reference_models "
            "WHERE suite_version IN (?, ?) GROUP BY vendor ORDER BY vendor",
            (suite_version, CORPUS_SUITE_VERSION),
        )
        return [VendorReferences(row["vendor"], row["n"], row["newest"]) for row in rows]


@dataclass(frozen=True)
class VendorReferences:
    """One vendor's references for a suite: how many, and when the newest was stored (its age on `/scout status`)."""

    vendor: str
    count: int
    newest_at: str


# --- guesses ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearestModel:
    model_id: str
    similarity: float


@dataclass(frozen=True)
class RankedVendor:
    vendor: str
    name: str
    probability: float
    nearest: tuple[NearestModel, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "name": self.name,
            "probability": round(self.probability, 4),
            "nearest": [{"model": n.model_id, "similarity": round(n.similarity, 4)} for n in self.nearest],
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> RankedVendor:
        nearest = tuple(NearestModel(item["model"], float(item["similarity"])) for item in record.get("nearest", ()))
        return cls(record["vendor"], record["name"], float(record["probability"]), nearest)


GUESS_RANKED = "ranked"
"""The status of a guess that ranks vendors; any other status says why there is no ranking (see `reason`)."""
GUESS_NO_REFERENCES = "no_references"
GUESS_PROBES_FAILED = "probes_failed"
GUESS_NOT_FOUND = "not_found"
GUESS_TOO_LITTLE_EVIDENCE = "too_little_evidence"


@dataclass(frozen=True)
class Guess:
    """Who probably made a model: vendors best first, a calibrated confidence in the first, and why.

    A guess without a ranking is still stored: its `status` names what was missing (no references,
    probes failed, model not found…) and `reason` is the one line a card shows before anything else.
    """

    model_id: str
    ranking: tuple[RankedVendor, ...]
    confidence: float
    evidence: tuple[str, ...]
    run_id: int | None = None
    id: int | None = None
    created_at: str | None = None
    status: str = GUESS_RANKED
    reason: str | None = None

    @property
    def top_vendor(self) -> str | None:
        return self.ranking[0].vendor if self.ranking else None


def _guess(row: aiosqlite.Row) -> Guess:
    return Guess(
        model_id=row["model_id"],
        ranking=tuple(RankedVendor.from_json(item) for item in json.loads(row["ranking_json"])),
        confidence=row["confidence"],
        evidence=tuple(json.loads(row["evidence_json"])),
        run_id=row["run_id"],
        id=row["id"],
        created_at=row["created_at"],
        status=row["status"],
        reason=row["reason"],
    )


class GuessStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, guess: Guess) -> Guess:
        """Append a guess (earlier ones stay as history), asking in the same transaction for the model's cards to be
        edited; returns it with its id and time."""
        now = utc_now()
        async with self._db.transaction() as tx:
            cursor = await tx.execute(
                "INSERT INTO guesses (model_id, run_id, created_at, top_vendor, confidence, ranking_json, "
                "evidence_json, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guess.model_id,
                    guess.run_id,
                    now,
                    guess.top_vendor,
                    guess.confidence,
                    _compact([item.to_json() for item in guess.ranking]),
                    _compact(list(guess.evidence)),
                    guess.status,
                    guess.reason,
                ),
            )
            await ask_for_edits(tx, [guess.model_id], now)
        self._db.outbox_changed.set()
        return replace(guess, id=cursor.lastrowid, created_at=now)

    async def latest(self, model_id: str) -> Guess | None:
        row = await self._db.fetchone("SELECT * FROM guesses WHERE model_id = ? ORDER BY id DESC LIMIT 1", (model_id,))
        return _guess(row) if row else None

    async def history(self, model_id: str, limit: int = 10) -> list[Guess]:
        rows = await self._db.fetchall(
            "SELECT * FROM guesses WHERE model_id = ? ORDER BY id DESC LIMIT ?", (model_id, limit)
        )
        return [_guess(row) for row in rows]

    async def waiting_for_references(self) -> list[Guess]:
        """The latest guess of each listed model when it is waiting for references: attribute these again once
        references arrive (their runs' answers are stored, so no request is sent twice)."""
        rows = await self._db.fetchall(
            "SELECT guesses.* FROM guesses JOIN models ON models.id = guesses.model_id "
            "WHERE models.removed_at IS NULL AND guesses.id = "
            "(SELECT MAX(id) FROM guesses AS later WHERE later.model_id = guesses.model_id) "
            "AND guesses.status = ? AND guesses.run_id IS NOT NULL ORDER BY guesses.id",
            (GUESS_NO_REFERENCES,),
        )
        return [_guess(row) for row in rows]


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


class ProbeAttemptStore:
    """Which stealth models still need probing, whoever saw them first: the bot, `scout scan` or a crashed run."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, model_id: str, suite_version: str, *, run_id: int, succeeded: bool, reason: str | None, retry_in: float
    ) -> ProbeAttempts:
        """Count one attempt: a success closes the model for this suite, a failure is due again in `retry_in` s."""
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO probe_attempts (model_id, suite_version, attempts, succeeded_run_id, next_attempt_at,
                    last_reason, updated_at)
                VALUES (?, ?, 1, ?, ?, ?, ?)
                ON CONFLICT (model_id, suite_version) DO UPDATE SET
                    attempts = attempts + 1,
                    succeeded_run_id = COALESCE(excluded.succeeded_run_id, succeeded_run_id),
                    next_attempt_at = excluded.next_attempt_at,
                    last_reason = excluded.last_reason,
                    updated_at = excluded.updated_at
                """,
                (
                    model_id,
                    suite_version,
                    run_id if succeeded else None,
                    None if succeeded else utc_in(retry_in),
                    reason,
                    now,
                ),
            )
            cursor = await tx.execute(
                "SELECT * FROM probe_attempts WHERE model_id = ? AND suite_version = ?", (model_id, suite_version)
            )
            row = await cursor.fetchone()
        assert row is not None
        return _attempts(row)

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

    async def next_due_at(self, suite_version: str, max_attempts: int) -> str | None:
        """When the next retry falls due (None when none is waiting), so a loop can sleep until then."""
        row = await self._db.fetchone(
            "SELECT MIN(next_attempt_at) AS at FROM probe_attempts "
            "WHERE suite_version = ? AND succeeded_run_id IS NULL AND attempts < ?",
            (suite_version, max_attempts),
        )
        return row["at"] if row else None


def _attempts(row: aiosqlite.Row) -> ProbeAttempts:
    return ProbeAttempts(
        row["model_id"],
        row["suite_version"],
        row["attempts"],
        row["succeeded_run_id"],
        row["next_attempt_at"],
        row["last_reason"],
    )
