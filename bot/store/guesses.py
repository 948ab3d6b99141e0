"""Attribution guesses, appended per model: the latest is what a card shows, the earlier ones are history."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.attribution.findings import Finding
from bot.attribution.guess import GUESS_NO_REFERENCES, Guess, NotSure, RankedVendor
from bot.store.database import Database, Row, utc_now
from bot.store.outbox import ask_for_edits
from bot.store.probes import compact_json


def _guess(row: Row) -> Guess:
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
        not_sure=NotSure.from_json(json.loads(row["not_sure_json"])) if row["not_sure_json"] else None,
        findings=tuple(Finding.from_json(item) for item in json.loads(row["findings_json"])),
    )


class GuessStore:
    """Guesses are appended, never updated: a card always shows the latest, and the earlier ones stay for the record."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, guess: Guess) -> Guess:
        """Append a guess (earlier ones stay as history), asking in the same transaction for the model's cards to be
        edited; returns it with its id and time."""
        now = utc_now()
        async with self._db.transaction() as tx:
            inserted = await tx.fetchone(
                "INSERT INTO guesses (model_id, run_id, created_at, top_vendor, confidence, ranking_json, "
                "evidence_json, status, reason, not_sure_json, findings_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (
                    guess.model_id,
                    guess.run_id,
                    now,
                    guess.top_vendor,
                    guess.confidence,
                    compact_json([item.to_json() for item in guess.ranking]),
                    compact_json(list(guess.evidence)),
                    guess.status,
                    guess.reason,
                    compact_json(guess.not_sure.to_json()) if guess.not_sure else None,
                    compact_json([item.to_json() for item in guess.findings]),
                ),
            )
            await ask_for_edits(tx, [guess.model_id], now)
            tx.signal_outbox()
        assert inserted is not None
        return replace(guess, id=inserted["id"], created_at=now)

    async def latest(self, model_id: str) -> Guess | None:
        """The guess a card shows for the model, or None before its first run finished."""
        row = await self._db.fetchone("SELECT * FROM guesses WHERE model_id = ? ORDER BY id DESC LIMIT 1", (model_id,))
        return _guess(row) if row else None

    async def made_since(self, moment: str) -> list[Guess]:
        """The latest guess of each listed model when it was made from a run at or after `moment`: guesses made
        while a calibration round was under way, from the references of that moment, to make again once the
        round is over."""
        rows = await self._db.fetchall(
            "SELECT guesses.* FROM guesses JOIN models ON models.id = guesses.model_id "
            "WHERE models.removed_at IS NULL AND guesses.id = "
            "(SELECT MAX(id) FROM guesses AS later WHERE later.model_id = guesses.model_id) "
            "AND guesses.created_at >= ? AND guesses.run_id IS NOT NULL ORDER BY guesses.id",
            (moment,),
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
