"""Reveals of the truth about models, per guild, and what they settle: right and wrong votes, who called it, scores.

Scores are never stored: the calls are read from the votes, guesses and reveals on each request and scored by
`bot.scoring`, so a member who is forgotten drops out of every score at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bot.attribution.calibration import UNKNOWN_VENDOR
from bot.catalogue.vendors import canonical_vendor
from bot.scoring import BOT_NAME, Call, Scorecard, ranked, scorecard
from bot.store.database import Database, Row, utc_now
from bot.store.outbox import ask_for_edits
from bot.store.votes import shown_vendor_name, vendor_name_for


@dataclass(frozen=True)
class Reveal:
    """The truth about a model in one guild; `revealed_by` is cleared if that admin asks to be forgotten."""

    guild_id: int
    model_id: str
    vendor: str
    vendor_name: str
    true_model: str | None
    revealed_by: int | None
    revealed_at: str


@dataclass(frozen=True)
class RevealScore:
    """How the guild's current votes fared against a reveal."""

    reveal: Reveal
    right: int
    wrong: int


def _reveal(row: Row) -> Reveal:
    return Reveal(
        row["guild_id"],
        row["model_id"],
        row["vendor"],
        shown_vendor_name(row["vendor"], row["vendor_name"]),
        row["true_model"],
        row["revealed_by"],
        row["revealed_at"],
    )


class RevealStore:
    """Reveals of every guild and the scores they settle; every method is scoped by `guild_id`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def reveal(
        self, guild_id: int, model_id: str, vendor_label: str, true_model: str | None, revealed_by: int | None
    ) -> RevealScore:
        """Record (or correct) the truth about a model in this guild and score every current vote against it; the
        guild's card is asked to show it in the same transaction."""
        vendor, vendor_name = canonical_vendor(vendor_label), vendor_name_for(vendor_label)
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO reveals (guild_id, model_id, vendor, vendor_name, true_model, revealed_by, revealed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, model_id) DO UPDATE SET vendor = excluded.vendor,
                    vendor_name = excluded.vendor_name, true_model = excluded.true_model,
                    revealed_by = excluded.revealed_by, revealed_at = excluded.revealed_at
                """,
                (guild_id, model_id, vendor, vendor_name, true_model or None, revealed_by, now),
            )
            row = await tx.fetchone(
                "SELECT COUNT(*) FILTER (WHERE vendor = ?) AS right_calls, COUNT(*) AS total FROM votes "
                "WHERE guild_id = ? AND model_id = ?",
                (vendor, guild_id, model_id),
            )
            await ask_for_edits(tx, [model_id], now, guild_id)
            tx.signal_outbox()
        assert row is not None
        reveal = Reveal(guild_id, model_id, vendor, vendor_name, true_model or None, revealed_by, now)
        return RevealScore(reveal, int(row["right_calls"]), int(row["total"]) - int(row["right_calls"]))

    async def reveal_for(self, guild_id: int, model_id: str) -> Reveal | None:
        """The truth if this guild knows it; another guild's reveal does not count here."""
        row = await self._db.fetchone("SELECT * FROM reveals WHERE guild_id = ? AND model_id = ?", (guild_id, model_id))
        return _reveal(row) if row else None

    async def called_by(self, guild_id: int, model_id: str) -> list[str]:
        """The members whose current vote names the revealed vendor, in the order those votes were cast (the
        history row of a current vote is the one with its time); empty before the reveal."""
        rows = await self._db.fetchall(
            """
            SELECT h.member_name FROM votes v
            JOIN reveals r ON r.guild_id = v.guild_id AND r.model_id = v.model_id AND r.vendor = v.vendor
            JOIN vote_history h ON h.guild_id = v.guild_id AND h.model_id = v.model_id
                AND h.member_id = v.member_id AND h.voted_at = v.voted_at
            WHERE v.guild_id = ? AND v.model_id = ?
            ORDER BY h.id
            """,
            (guild_id, model_id),
        )
        return [row["member_name"] for row in rows]

    async def scores(self, guild_id: int, *, since: str | None = None) -> list[Scorecard]:
        """Every member with a call on a model revealed here (on or after `since`, a season's start) and the bot,
        ranked. A member's call is their current vote (votes lock at the reveal), shown under the name of their
        latest one; the bot's is its latest guess made before the reveal, unless that guess was "none of the
        vendors I know"."""
        rows = await self._db.fetchall(
            """
            SELECT v.member_id, v.member_name, v.confidence, v.vendor = r.vendor AS right
            FROM votes v JOIN reveals r ON r.guild_id = v.guild_id AND r.model_id = v.model_id
            WHERE v.guild_id = ? AND r.revealed_at >= ?
            ORDER BY v.member_id, v.voted_at
            """,
            (guild_id, since or ""),
        )
        cards = []
        for member_id, group in itertools.groupby(rows, key=lambda row: int(row["member_id"])):
            calls = list(group)
            cards.append(
                scorecard(member_id, calls[-1]["member_name"], [Call(bool(c["right"]), c["confidence"]) for c in calls])
            )
        return ranked([*cards, scorecard(None, BOT_NAME, await self._bot_calls(guild_id, since))])

    async def _bot_calls(self, guild_id: int, since: str | None) -> list[Call]:
        rows = await self._db.fetchall(
            """
            SELECT r.vendor AS truth, g.top_vendor AS pick, g.confidence AS probability
            FROM reveals r JOIN guesses g ON g.id = (
                SELECT id FROM guesses WHERE model_id = r.model_id AND created_at <= r.revealed_at
                ORDER BY id DESC LIMIT 1
            )
            WHERE r.guild_id = ? AND r.revealed_at >= ?
            """,
            (guild_id, since or ""),
        )
        return [
            Call(canonical_vendor(row["pick"]) == row["truth"], float(row["probability"]))
            for row in rows
            if row["pick"] and canonical_vendor(row["pick"]) != UNKNOWN_VENDOR
        ]
