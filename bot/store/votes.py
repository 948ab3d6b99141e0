"""Members' votes and notes on models, reveals of the truth, scores, and the vote log for export.

Everything here is scoped by guild: every query takes a `guild_id`, so one guild never reads another's
votes, notes or reveals. A member has one current vote per model (`votes`); every cast is also appended
to `vote_history`, which is what an export streams.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosqlite

from bot.catalogue.vendors import canonical_vendor
from bot.store.database import Database, utc_now

MAX_NOTE_LENGTH = 1000
MAX_MEMBER_NAME_LENGTH = 100


class VotingClosed(Exception):
    """Voting on this model is not open in this guild; the message says why in one sentence."""


@dataclass(frozen=True)
class Vote:
    guild_id: int
    model_id: str
    member_id: int
    member_name: str
    vendor: str
    voted_at: str
    confidence: float | None = None


@dataclass(frozen=True)
class CastResult:
    vote: Vote
    previous_vendor: str | None

    @property
    def changed(self) -> bool:
        return self.previous_vendor != self.vote.vendor


@dataclass(frozen=True)
class Note:
    id: int
    guild_id: int
    model_id: str
    member_id: int
    member_name: str
    text: str
    created_at: str


@dataclass(frozen=True)
class Reveal:
    guild_id: int
    model_id: str
    vendor: str
    true_model: str | None
    revealed_by: int | None
    revealed_at: str


@dataclass(frozen=True)
class RevealScore:
    """How the guild's current votes fared against a reveal."""

    reveal: Reveal
    right: int
    wrong: int


@dataclass(frozen=True)
class MemberScore:
    member_id: int
    member_name: str
    right: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass(frozen=True)
class BotScore:
    """The bot's own record: its latest guess made before each reveal, against the truth."""

    right: int
    total: int
    missing: int

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass(frozen=True)
class ExportRow:
    """One line of a vote log: a cast vote (`kind == "vote"`) or a note (`kind == "note"`)."""

    at: str
    guild_id: int
    model_id: str
    member_id: int
    member_name: str
    kind: str
    vendor: str | None
    note: str | None
    current_vote: bool | None
    correct: bool | None


def _vote(row: aiosqlite.Row) -> Vote:
    return Vote(
        row["guild_id"],
        row["model_id"],
        row["member_id"],
        row["member_name"],
        row["vendor"],
        row["voted_at"],
        row["confidence"],
    )


def _note(row: object) -> Note:
    return Note(
        row["id"],
        row["guild_id"],
        row["model_id"],
        row["member_id"],
        row["member_name"],
        row["text"],
        row["created_at"],
    )  # type: ignore[index]


def _reveal(row: object) -> Reveal:
    return Reveal(
        row["guild_id"], row["model_id"], row["vendor"], row["true_model"], row["revealed_by"], row["revealed_at"]
    )  # type: ignore[index]


def _after(stamp: str) -> str:
    """One millisecond after `stamp`, in the store's timestamp format."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(milliseconds=1)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _visible(char: str) -> bool:
    """A character that shows: not a space, control, format (zero-width, bidi) or unassigned code point."""
    return not unicodedata.category(char).startswith(("C", "Z"))


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


class VoteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def cast(
        self,
        guild_id: int,
        model_id: str,
        member_id: int,
        member_name: str,
        vendor_label: str,
        *,
        confidence: float | None = None,
    ) -> CastResult:
        """Record a member's vote (with the probability they state, if any), replacing their current one and
        appending to the history; refused on a model that is not anonymous or that this guild revealed.

        The vote's time is kept strictly increasing per member and model, so the history row that is the
        current vote is exactly the one whose time equals the current vote's (exports rely on this to mark
        it without a per-row subquery).
        """
        if confidence is not None and not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            raise ValueError("a confidence is a probability between 0 and 1 (0.7 means 70%)")
        vendor = canonical_vendor(vendor_label)
        name = member_name[:MAX_MEMBER_NAME_LENGTH]
        async with self._db.transaction() as tx:
            await _require_open(tx, guild_id, model_id)
            cursor = await tx.execute(
                "SELECT vendor, voted_at FROM votes WHERE guild_id = ? AND model_id = ? AND member_id = ?",
                (guild_id, model_id, member_id),
            )
            previous = await cursor.fetchone()
            now = utc_now()
            if previous is not None and now <= previous["voted_at"]:
                now = _after(previous["voted_at"])
            await tx.execute(
                """
                INSERT INTO votes (guild_id, model_id, member_id, member_name, vendor, confidence, voted_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, model_id, member_id) DO UPDATE SET member_name = excluded.member_name,
                    vendor = excluded.vendor, confidence = excluded.confidence, voted_at = excluded.voted_at
                """,
                (guild_id, model_id, member_id, name, vendor, confidence, now),
            )
            await tx.execute(
                "INSERT INTO vote_history (guild_id, model_id, member_id, member_name, vendor, confidence, voted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (guild_id, model_id, member_id, name, vendor, confidence, now),
            )
        return CastResult(
            Vote(guild_id, model_id, member_id, name, vendor, now, confidence), previous["vendor"] if previous else None
        )

    async def import_votes(self, votes: Iterable[Vote]) -> int:
        """Load many votes in one transaction (restoring a vote log, loading a benchmark); returns how many.

        Each vote becomes its member's current vote and one history row, as if cast in the given order.
        """
        rows = [
            (
                v.guild_id,
                v.model_id,
                v.member_id,
                v.member_name[:MAX_MEMBER_NAME_LENGTH],
                canonical_vendor(v.vendor),
                v.voted_at,
            )
            for v in votes
        ]
        async with self._db.transaction() as tx:
            await tx.executemany(
                """
                INSERT INTO votes (guild_id, model_id, member_id, member_name, vendor, voted_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, model_id, member_id) DO UPDATE SET
                    member_name = excluded.member_name, vendor = excluded.vendor, voted_at = excluded.voted_at
                """,
                rows,
            )
            await tx.executemany(
                "INSERT INTO vote_history (guild_id, model_id, member_id, member_name, vendor, voted_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    async def current(self, guild_id: int, model_id: str, member_id: int) -> Vote | None:
        row = await self._db.fetchone(
            "SELECT * FROM votes WHERE guild_id = ? AND model_id = ? AND member_id = ?", (guild_id, model_id, member_id)
        )
        return _vote(row) if row else None

    async def tally(self, guild_id: int, model_id: str) -> list[tuple[str, int]]:
        """Current votes per vendor, most voted first."""
        rows = await self._db.fetchall(
            "SELECT vendor, COUNT(*) AS n FROM votes WHERE guild_id = ? AND model_id = ? GROUP BY vendor ORDER BY n DESC, vendor",
            (guild_id, model_id),
        )
        return [(row["vendor"], row["n"]) for row in rows]

    async def add_note(self, guild_id: int, model_id: str, member_id: int, member_name: str, text: str) -> Note:
        text = text.strip()
        if not any(_visible(char) for char in text):
            raise ValueError("a note cannot be empty")
        if len(text) > MAX_NOTE_LENGTH:
            raise ValueError(f"a note holds at most {MAX_NOTE_LENGTH} characters")
        name = member_name[:MAX_MEMBER_NAME_LENGTH]
        now = utc_now()
        note_id = await self._db.execute(
            "INSERT INTO notes (guild_id, model_id, member_id, member_name, text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, model_id, member_id, name, text, now),
        )
        return Note(note_id, guild_id, model_id, member_id, name, text, now)

    async def notes(self, guild_id: int, model_id: str, limit: int = 20) -> list[Note]:
        """The newest notes on a model in this guild."""
        rows = await self._db.fetchall(
            "SELECT * FROM notes WHERE guild_id = ? AND model_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, model_id, limit),
        )
        return [_note(row) for row in rows]

    async def reveal(
        self, guild_id: int, model_id: str, vendor_label: str, true_model: str | None, revealed_by: int | None
    ) -> RevealScore:
        """Record (or correct) the truth about a model in this guild and score every current vote against it."""
        vendor = canonical_vendor(vendor_label)
        now = utc_now()
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO reveals (guild_id, model_id, vendor, true_model, revealed_by, revealed_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, model_id) DO UPDATE SET vendor = excluded.vendor, true_model = excluded.true_model,
                    revealed_by = excluded.revealed_by, revealed_at = excluded.revealed_at
                """,
                (guild_id, model_id, vendor, true_model or None, revealed_by, now),
            )
            cursor = await tx.execute(
                "SELECT COALESCE(SUM(vendor = ?), 0) AS right, COUNT(*) AS total FROM votes WHERE guild_id = ? AND model_id = ?",
                (vendor, guild_id, model_id),
            )
            row = await cursor.fetchone()
        reveal = Reveal(guild_id, model_id, vendor, true_model or None, revealed_by, now)
        return RevealScore(reveal, int(row["right"]), int(row["total"]) - int(row["right"]))

    async def reveal_for(self, guild_id: int, model_id: str) -> Reveal | None:
        row = await self._db.fetchone("SELECT * FROM reveals WHERE guild_id = ? AND model_id = ?", (guild_id, model_id))
        return _reveal(row) if row else None

    async def reveals(self, guild_id: int) -> list[Reveal]:
        rows = await self._db.fetchall(
            "SELECT * FROM reveals WHERE guild_id = ? ORDER BY revealed_at DESC", (guild_id,)
        )
        return [_reveal(row) for row in rows]

    async def leaderboard(self, guild_id: int, limit: int = 10) -> list[MemberScore]:
        """Members ranked by right guesses on revealed models (then by fewer attempts), with their latest name."""
        rows = await self._db.fetchall(
            """
            SELECT v.member_id, v.member_name, MAX(v.voted_at) AS last_vote,
                   SUM(v.vendor = r.vendor) AS right, COUNT(*) AS total
            FROM votes v JOIN reveals r ON r.guild_id = v.guild_id AND r.model_id = v.model_id
            WHERE v.guild_id = ?
            GROUP BY v.member_id
            ORDER BY right DESC, total ASC, v.member_id
            LIMIT ?
            """,
            (guild_id, limit),
        )
        return [MemberScore(row["member_id"], row["member_name"], int(row["right"]), int(row["total"])) for row in rows]

    async def bot_score(self, guild_id: int) -> BotScore:
        """The bot's latest guess made before each of this guild's reveals, scored like a member's vote."""
        rows = await self._db.fetchall(
            """
            SELECT r.vendor AS truth,
                   (SELECT g.top_vendor FROM guesses g WHERE g.model_id = r.model_id AND g.created_at <= r.revealed_at
                    ORDER BY g.id DESC LIMIT 1) AS guess
            FROM reveals r WHERE r.guild_id = ?
            """,
            (guild_id,),
        )
        right = total = missing = 0
        for row in rows:
            if not row["guess"]:
                missing += 1
                continue
            total += 1
            right += canonical_vendor(row["guess"]) == row["truth"]
        return BotScore(right, total, missing)

    async def counts(self, guild_id: int) -> dict[str, int]:
        row = await self._db.fetchone(
            """
            SELECT (SELECT COUNT(*) FROM votes WHERE guild_id = ?1) AS votes,
                   (SELECT COUNT(*) FROM notes WHERE guild_id = ?1) AS notes,
                   (SELECT COUNT(*) FROM reveals WHERE guild_id = ?1) AS reveals
            """,
            (guild_id,),
        )
        return {"votes": int(row["votes"]), "notes": int(row["notes"]), "reveals": int(row["reveals"])}

    async def export_rows(
        self, guild_id: int, *, model_id: str | None = None, since: str | None = None
    ) -> AsyncIterator[ExportRow]:
        """Every vote cast and note written in this guild, oldest first, streamed in batches.

        Votes and notes come from two cursors merged by time, so nothing is sorted or held in memory: an
        export of a million votes costs the same memory as one of ten. A reader that may stop early should
        use `contextlib.aclosing`, so the cursors close while the store is still open.
        """
        votes = self._vote_rows(guild_id, model_id, since)
        notes = self._note_rows(guild_id, model_id, since)
        try:
            vote = await anext(votes, None)
            note = await anext(notes, None)
            while vote is not None or note is not None:
                if note is None or (vote is not None and vote.at <= note.at):
                    assert vote is not None
                    yield vote
                    vote = await anext(votes, None)
                else:
                    yield note
                    note = await anext(notes, None)
        finally:  # a reader that stops early (a failed write) must not leave cursors for the garbage collector
            await votes.aclose()
            await notes.aclose()

    async def _vote_rows(self, guild_id: int, model_id: str | None, since: str | None) -> AsyncIterator[ExportRow]:
        conditions, params = _filters("h", guild_id, model_id, since, "voted_at")
        sql = f"""
            SELECT h.voted_at, h.guild_id, h.model_id, h.member_id, h.member_name, h.vendor,
                   v.voted_at = h.voted_at AS current_vote,
                   CASE WHEN r.vendor IS NULL THEN NULL ELSE h.vendor = r.vendor END AS correct
            FROM vote_history h
            LEFT JOIN votes v ON v.guild_id = h.guild_id AND v.model_id = h.model_id AND v.member_id = h.member_id
            LEFT JOIN reveals r ON r.guild_id = h.guild_id AND r.model_id = h.model_id
            WHERE {conditions} ORDER BY h.id
        """
        async with contextlib.aclosing(self._db.iterate(sql, params)) as rows:
            async for row in rows:
                yield ExportRow(
                    row["voted_at"],
                    row["guild_id"],
                    row["model_id"],
                    row["member_id"],
                    row["member_name"],
                    "vote",
                    row["vendor"],
                    None,
                    bool(row["current_vote"]),
                    _flag(row["correct"]),
                )

    async def _note_rows(self, guild_id: int, model_id: str | None, since: str | None) -> AsyncIterator[ExportRow]:
        conditions, params = _filters("n", guild_id, model_id, since, "created_at")
        sql = f"SELECT n.* FROM notes n WHERE {conditions} ORDER BY n.id"
        async with contextlib.aclosing(self._db.iterate(sql, params)) as rows:
            async for row in rows:
                yield ExportRow(
                    row["created_at"],
                    row["guild_id"],
                    row["model_id"],
                    row["member_id"],
                    row["member_name"],
                    "note",
                    None,
                    row["text"],
                    None,
                    None,
                )


async def _require_open(tx: aiosqlite.Connection, guild_id: int, model_id: str) -> None:
    """Refuse, with the reason, a vote on a model that is not an anonymous one or that this guild revealed."""
    cursor = await tx.execute("SELECT stealth FROM models WHERE id = ?", (model_id,))
    model = await cursor.fetchone()
    if model is None or not model["stealth"]:
        raise VotingClosed(f"{model_id} is not an anonymous model, so there is no maker to guess")
    cursor = await tx.execute("SELECT 1 FROM reveals WHERE guild_id = ? AND model_id = ?", (guild_id, model_id))
    if await cursor.fetchone():
        raise VotingClosed(f"{model_id} has been revealed in this server, so voting on it is closed")


def _filters(
    alias: str, guild_id: int, model_id: str | None, since: str | None, time_column: str
) -> tuple[str, list[object]]:
    conditions = [f"{alias}.guild_id = ?"]
    params: list[object] = [guild_id]
    if model_id is not None:
        conditions.append(f"{alias}.model_id = ?")
        params.append(model_id)
    if since is not None:
        conditions.append(f"{alias}.{time_column} >= ?")
        params.append(since)
    return " AND ".join(conditions), params
