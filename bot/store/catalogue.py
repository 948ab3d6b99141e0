"""Catalogue models, polls and their events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bot.catalogue.diff import CatalogueEvent, KnownModel, missing_models
from bot.catalogue.entry import CatalogueEntry, EntryError, parse_entry
from bot.catalogue.stealth import StealthVerdict
from bot.catalogue.vendors import vendor_for_model_id
from bot.store.alerts import record_alerts
from bot.store.database import Database, Row, Transaction, containing, utc_now
from bot.store.outbox import intend_announcements, intend_removal_replies


@dataclass(frozen=True)
class ModelRecord:
    """A model as the store remembers it: when it was seen, whether it is stealth and why, its last listing."""

    id: str
    name: str
    vendor: str | None
    created: int | None
    first_seen: str
    last_seen: str
    removed_at: str | None
    stealth: bool
    stealth_score: float
    stealth_reasons: tuple[str, ...]
    raw: dict[str, Any]

    @classmethod
    def from_row(cls, row: Row) -> ModelRecord:
        """Build a record from a `models` row; the listing is parsed only when `entry` is asked for."""
        return cls(
            id=row["id"],
            name=row["name"],
            vendor=row["vendor"],
            created=row["created"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            removed_at=row["removed_at"],
            stealth=bool(row["stealth"]),
            stealth_score=row["stealth_score"],
            stealth_reasons=tuple(json.loads(row["stealth_reasons"])),
            raw=json.loads(row["raw_json"]),
        )

    @cached_property
    def entry(self) -> CatalogueEntry | None:
        """The stored listing, typed, parsed once here so no reader re-parses `raw`; None if it no longer parses.

        Every stored listing parsed when it was recorded; None only guards rows a newer rule would refuse.
        """
        try:
            return parse_entry(self.raw)
        except EntryError:
            return None


@dataclass(frozen=True)
class PollRecord:
    """One poll as recorded: when, from where, whether it succeeded and what it found, for `/scout status`."""

    id: int
    started_at: str
    finished_at: str | None
    source: str
    ok: bool
    error: str | None
    listed: int
    skipped: int
    events: int
    baseline: bool


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class CatalogueStore:
    """Models, polls and catalogue events: what the watcher has seen, written one poll per transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def start_poll(self, source: str) -> int:
        """Open a poll row before fetching, so a fetch that fails is recorded too."""
        return await self._db.insert(
            "INSERT INTO polls (started_at, source) VALUES (?, ?) RETURNING id", (utc_now(), source)
        )

    async def fail_poll(self, poll_id: int, error: str) -> None:
        """Close a poll as failed; nothing else changes, so a bad fetch never marks a model removed."""
        await self._db.execute(
            "UPDATE polls SET finished_at = ?, ok = 0, error = ? WHERE id = ?", (utc_now(), error[:500], poll_id)
        )

    async def record_poll(
        self,
        poll_id: int,
        entries: Sequence[CatalogueEntry],
        verdicts: dict[str, StealthVerdict],
        decide: Callable[[Mapping[str, KnownModel], int], Awaitable[list[CatalogueEvent]]],
        *,
        skipped: int,
    ) -> tuple[list[CatalogueEvent], bool]:
        """Read the known state, let `decide` turn it into events, and write them: one transaction.

        `decide` gets the known models and the most models listed by a recent successful poll; it may
        raise to refuse the poll, which then writes nothing, and may hand CPU-heavy work to a thread.
        Reading inside the write transaction means two overlapping polls (two processes) cannot both
        find, and record, the same `new` event. A crash
        leaves either the old state (the next poll finds the same events again) or the new one with its
        outbox rows: an announcement is never lost nor doubled. Returns the events and whether the poll
        was the baseline (the store knew no model before it).
        """
        now = utc_now()
        async with self._db.transaction() as tx:
            known = await _known_models(tx.fetchall)
            events = await decide(known, await _recent_peak(tx))
            removed = {event.model_id for event in events if event.kind == "removed"}
            still_missing = [model.id for model in missing_models(entries, known) if model.id not in removed]
            await tx.executemany(
                """
                INSERT INTO models (id, name, vendor, created, first_seen, last_seen, raw_json, tracked_json,
                                    stealth, stealth_score, stealth_reasons)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, vendor = excluded.vendor, created = excluded.created,
                    last_seen = excluded.last_seen, removed_at = NULL, missing_polls = 0, missing_since = NULL,
                    raw_json = excluded.raw_json,
                    tracked_json = excluded.tracked_json, stealth = excluded.stealth,
                    stealth_score = excluded.stealth_score, stealth_reasons = excluded.stealth_reasons
                """,
                (  # a generator: the rows are built in the database thread, not on the event loop
                    (
                        entry.id,
                        entry.name,
                        _vendor_key(entry.id),
                        entry.created,
                        now,
                        now,
                        entry.raw_json,
                        entry.tracked_json(),
                        int(verdicts[entry.id].stealth),
                        verdicts[entry.id].score,
                        _compact(list(verdicts[entry.id].reasons)),
                    )
                    for entry in entries
                ),
            )
            await tx.executemany(
                "UPDATE models SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                [(now, model_id) for model_id in removed],
            )
            await tx.executemany(
                "UPDATE models SET missing_polls = missing_polls + 1, missing_since = COALESCE(missing_since, ?) "
                "WHERE id = ?",
                [(now, model_id) for model_id in still_missing],
            )
            await tx.executemany(
                "INSERT INTO catalogue_events (poll_id, model_id, kind, at, details_json) VALUES (?, ?, ?, ?, ?)",
                [(poll_id, event.model_id, event.kind, now, _compact(event.to_json())) for event in events],
            )
            for event in events:
                if event.kind in ("new", "returned"):
                    await intend_announcements(tx, event.model_id, stealth=event.stealth, now=now)
                elif event.kind == "removed" and event.stealth:
                    await intend_removal_replies(tx, event.model_id, now)
            alerts = await record_alerts(tx, poll_id, events, entries, now)
            await tx.execute(
                "UPDATE polls SET finished_at = ?, ok = 1, listed = ?, skipped = ?, events = ?, baseline = ? "
                "WHERE id = ?",
                (now, len(entries), skipped, len(events), int(not known), poll_id),
            )
            if alerts or any(event.kind in ("new", "returned", "removed") for event in events):
                tx.signal_outbox()
        return events, not known

    async def model(self, model_id: str) -> ModelRecord | None:
        """One model by id, listed or removed; None when the store never saw it."""
        row = await self._db.fetchone("SELECT * FROM models WHERE id = ?", (model_id,))
        return ModelRecord.from_row(row) if row else None

    async def models(self, *, stealth_only: bool = False, include_removed: bool = True) -> list[ModelRecord]:
        """Models newest first, optionally only stealth ones or only those still listed."""
        conditions = []
        if stealth_only:
            conditions.append("stealth = 1")
        if not include_removed:
            conditions.append("removed_at IS NULL")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = await self._db.fetchall(f"SELECT * FROM models {where} ORDER BY first_seen DESC, id")
        return [ModelRecord.from_row(row) for row in rows]

    async def search_models(self, text: str, limit: int = 25) -> list[ModelRecord]:
        """Models whose id or name contains `text` (for autocomplete): stealth, listed, newest released first."""
        pattern = containing(text.lower())
        rows = await self._db.fetchall(
            "SELECT * FROM models WHERE lower(id) LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\' "
            "ORDER BY stealth DESC, removed_at IS NOT NULL, COALESCE(created, 0) DESC, first_seen DESC, id LIMIT ?",
            (pattern, pattern, limit),
        )
        return [ModelRecord.from_row(row) for row in rows]

    async def events(self, *, model_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The latest catalogue events, newest first, as plain records (a card reads a removal from them)."""
        where, params = ("WHERE model_id = ?", (model_id,)) if model_id else ("", ())
        rows = await self._db.fetchall(
            f"SELECT id, poll_id, at, details_json FROM catalogue_events {where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [
            {"id": row["id"], "poll_id": row["poll_id"], "at": row["at"], **json.loads(row["details_json"])}
            for row in rows
        ]

    async def last_polls(self, limit: int = 1) -> list[PollRecord]:
        """The most recent polls, newest first, failed ones included."""
        rows = await self._db.fetchall("SELECT * FROM polls ORDER BY id DESC LIMIT ?", (limit,))
        return [_poll(row) for row in rows]

    async def last_successful_poll(self) -> PollRecord | None:
        """The newest poll that succeeded: how fresh the bot's view of the catalogue is."""
        row = await self._db.fetchone("SELECT * FROM polls WHERE ok = 1 ORDER BY id DESC LIMIT 1")
        return _poll(row) if row else None

    async def failures_since_success(self) -> int:
        """Failed polls since the last success: how long the gateway has been unreachable, in polls."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM polls WHERE ok = 0 AND finished_at IS NOT NULL "
            "AND id > COALESCE((SELECT MAX(id) FROM polls WHERE ok = 1), 0)"
        )
        return int(row[0]) if row else 0

    async def counts(self) -> dict[str, int]:
        """How many models the store knows, how many were stealth, how many are removed (for /scout status)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS listed, COALESCE(SUM(stealth), 0) AS stealth, COUNT(removed_at) AS removed FROM models"
        )
        assert row is not None  # an aggregate always returns one row
        return {"models": int(row["listed"]), "stealth": int(row["stealth"]), "removed": int(row["removed"])}


RECENT_POLLS_FOR_PEAK = 10


async def _known_models(fetchall: Callable[[str], Awaitable[list[Row]]]) -> dict[str, KnownModel]:
    rows = await fetchall(
        "SELECT id, name, tracked_json, stealth, stealth_reasons, removed_at, missing_polls, first_seen, "
        "missing_since FROM models"
    )
    return await asyncio.to_thread(_known_models_of, rows)


def _known_models_of(rows: list[Row]) -> dict[str, KnownModel]:
    """Built in a thread: for a store of 100,000 models this takes long enough to stall the event loop."""
    return {
        row["id"]: KnownModel(
            row["id"],
            row["name"],
            row["tracked_json"],
            bool(row["stealth"]),
            tuple(json.loads(row["stealth_reasons"])),
            row["removed_at"] is not None,
            row["missing_polls"],
            row["first_seen"],
            row["missing_since"],
        )
        for row in rows
    }


async def _recent_peak(tx: Transaction) -> int:
    """The most models any of the last successful polls listed: the yardstick for a catalogue shrinking by steps."""
    row = await tx.fetchone(
        "SELECT COALESCE(MAX(listed), 0) FROM "
        "(SELECT listed FROM polls WHERE ok = 1 ORDER BY id DESC LIMIT ?) AS recent",
        (RECENT_POLLS_FOR_PEAK,),
    )
    return int(row[0]) if row else 0


def _poll(row: Row) -> PollRecord:
    return PollRecord(
        row["id"],
        row["started_at"],
        row["finished_at"],
        row["source"],
        bool(row["ok"]),
        row["error"],
        row["listed"],
        row["skipped"],
        row["events"],
        bool(row["baseline"]),
    )


def _vendor_key(model_id: str) -> str | None:
    vendor = vendor_for_model_id(model_id)
    return vendor.key if vendor else None
