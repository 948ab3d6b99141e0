"""Members' votes and notes on models, reveals of the truth, scores, the vote log for export, and forgetting.

Everything here is scoped by guild: every query takes a `guild_id`, so one guild never reads another's
votes, notes or reveals. A member has one current vote per model (`votes`); every cast is also appended
to `vote_history`, which is what an export streams. Scores are never stored: they are computed from
these tables on each request, so a member who is forgotten drops out of every score at once.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.catalogue.vendors import canonical_vendor, display_name, vendor_for_label
from bot.store.database import Database, Row, Transaction, containing, utc_now
from bot.store.outbox import ask_for_edits

MAX_NOTE_LENGTH = 1000
MAX_MEMBER_NAME_LENGTH = 100
MAX_VENDOR_NAME_LENGTH = 100
UNKNOWN_VENDOR = "unknown"
"""The reserved key of the bot's open-set entry ("none of the vendors I know"): a guess led by it is no call."""
BOT_NAME = "Model Scout"
MEMBER_CHOICES = 25


class VotingClosed(Exception):
    """Voting on this model is not open in this guild; the message says why in one sentence."""


@dataclass(frozen=True)
class Vote:
    """A member's pick for a model: the vendor's key counts it, `vendor_name` shows it as typed."""

    guild_id: int
    model_id: str
    member_id: int
    member_name: str
    vendor: str
    voted_at: str
    vendor_name: str | None = None
    confidence: float | None = None

    @property
    def shown_vendor(self) -> str:
        """The vendor as members should read it: the table's name, or the name it was typed with."""
        return self.vendor_name or display_name(self.vendor)


@dataclass(frozen=True)
class CastResult:
    """The vote just recorded and the one it replaced, so the answer can say "changed from …"."""

    vote: Vote
    previous: Vote | None

    @property
    def previous_vendor(self) -> str | None:
        """The replaced vote's key; None for a first vote."""
        return self.previous.vendor if self.previous else None

    @property
    def changed(self) -> bool:
        """False when the member picked the vendor they had already picked."""
        return self.previous_vendor != self.vote.vendor


@dataclass(frozen=True)
class VendorVotes:
    """One line of a tally: votes are counted by key and shown by name."""

    vendor: str
    name: str
    votes: int


@dataclass(frozen=True)
class Tally:
    """Current votes on a model in one guild. While `hidden`, only `total` is known: early votes must not herd
    later ones, so whom members voted for stays out of sight until the reveal."""

    total: int
    by_vendor: tuple[VendorVotes, ...]
    hidden: bool


@dataclass(frozen=True)
class Note:
    """A member's free-text observation on a model, kept per guild."""

    id: int
    guild_id: int
    model_id: str
    member_id: int
    member_name: str
    text: str
    created_at: str


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


@dataclass(frozen=True)
class Scorecard:
    """One player's record on revealed models: a member's (by `member_id`) or the bot's (`member_id` None).

    `brier` is the mean Brier score, (p - outcome)², of the probability the player gave that their call was
    right, over the `rated_calls` that carried one: 0 is perfect, 0.25 is what always saying 50% earns, 1 is
    a certain call that was wrong. None when no call carried a probability.
    """

    member_id: int | None
    name: str
    calls: int
    correct: int
    rated_calls: int
    brier: float | None

    @property
    def is_bot(self) -> bool:
        """The bot plays on the same board as the members, without a member id."""
        return self.member_id is None

    @property
    def accuracy(self) -> float:
        """Correct calls per call; 0 before the first call rather than a division error."""
        return self.correct / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Forgotten:
    """What forgetting a member removed: every vote they cast (history included), their notes, and the
    models whose current tally changed (their cards need re-drawing)."""

    votes: int
    notes: int
    models: tuple[str, ...]


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
    vendor_name: str | None
    confidence: float | None
    note: str | None
    current_vote: bool | None
    correct: bool | None


def vendor_name_for(label: str) -> str:
    """The name a vendor label is shown with: the vendor table's name, else the label as typed (spaces folded)."""
    vendor = vendor_for_label(label)
    if vendor is not None:
        return vendor.name
    return " ".join(label.split())[:MAX_VENDOR_NAME_LENGTH] or display_name(canonical_vendor(label))


def _shown(key: str, stored_name: str | None) -> str:
    """Rows written before names were kept have none: they show the vendor table's name for their key."""
    return stored_name or display_name(key)


def _checked_confidence(confidence: float | None) -> float | None:
    if confidence is not None and not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        raise ValueError("a confidence is a probability between 0 and 1 (0.7 means 70%)")
    return confidence


def _vote(row: Row) -> Vote:
    return Vote(
        row["guild_id"],
        row["model_id"],
        row["member_id"],
        row["member_name"],
        row["vendor"],
        row["voted_at"],
        _shown(row["vendor"], row["vendor_name"]),
        row["confidence"],
    )


def _note(row: Row) -> Note:
    return Note(
        row["id"],
        row["guild_id"],
        row["model_id"],
        row["member_id"],
        row["member_name"],
        row["text"],
        row["created_at"],
    )


def _reveal(row: Row) -> Reveal:
    return Reveal(
        row["guild_id"],
        row["model_id"],
        row["vendor"],
        _shown(row["vendor"], row["vendor_name"]),
        row["true_model"],
        row["revealed_by"],
        row["revealed_at"],
    )


def _after(stamp: str) -> str:
    """One millisecond after `stamp`, in the store's timestamp format."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(milliseconds=1)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _visible(char: str) -> bool:
    """A character that shows: not a space, control, format (zero-width, bidi) or unassigned code point."""
    return not unicodedata.category(char).startswith(("C", "Z"))


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


def _ranked(cards: list[Scorecard]) -> list[Scorecard]:
    """Most correct calls first; then the higher accuracy, the lower (better) Brier score, and the name."""
    return sorted(cards, key=lambda c: (-c.correct, -c.accuracy, 2.0 if c.brier is None else c.brier, c.name))


_UPSERT_VOTE = """
    INSERT INTO votes (guild_id, model_id, member_id, member_name, vendor, vendor_name, confidence, voted_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (guild_id, model_id, member_id) DO UPDATE SET
        member_name = excluded.member_name, vendor = excluded.vendor, vendor_name = excluded.vendor_name,
        confidence = excluded.confidence, voted_at = excluded.voted_at
"""
_APPEND_HISTORY = """
    INSERT INTO vote_history (guild_id, model_id, member_id, member_name, vendor, vendor_name, confidence, voted_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""


class VoteStore:
    """Votes, notes, reveals and scores of every guild; every method is scoped by `guild_id`."""

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
        """Record a member's vote, replacing their current one and appending to the history, and ask for the
        guild's card to be edited in the same transaction (a crash never keeps the vote and a stale tally).

        Votes are taken only on stealth models that this guild has not revealed: a vote on a model whose maker
        is public, or after the answer is known, would score nothing but hindsight. The vote's time is kept
        strictly increasing per member and model, so the history row that is the current vote is exactly the
        one whose time equals the current vote's (exports rely on this to mark it without a per-row subquery).
        """
        confidence = _checked_confidence(confidence)
        vendor, vendor_name = canonical_vendor(vendor_label), vendor_name_for(vendor_label)
        name = member_name[:MAX_MEMBER_NAME_LENGTH]
        async with self._db.transaction() as tx:
            await _require_open(tx, guild_id, model_id)
            row = await tx.fetchone(
                "SELECT * FROM votes WHERE guild_id = ? AND model_id = ? AND member_id = ?",
                (guild_id, model_id, member_id),
            )
            previous = _vote(row) if row else None
            now = utc_now()
            if previous is not None and now <= previous.voted_at:
                now = _after(previous.voted_at)
            values = (guild_id, model_id, member_id, name, vendor, vendor_name, confidence, now)
            await tx.execute(_UPSERT_VOTE, values)
            await tx.execute(_APPEND_HISTORY, values)
            await ask_for_edits(tx, [model_id], now, guild_id)
            tx.signal_outbox()
        return CastResult(Vote(guild_id, model_id, member_id, name, vendor, now, vendor_name, confidence), previous)

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
                v.vendor_name or vendor_name_for(v.vendor),
                _checked_confidence(v.confidence),
                v.voted_at,
            )
            for v in votes
        ]
        async with self._db.transaction() as tx:
            await tx.executemany(_UPSERT_VOTE, rows)
            await tx.executemany(_APPEND_HISTORY, rows)
        return len(rows)

    async def current(self, guild_id: int, model_id: str, member_id: int) -> Vote | None:
        """The member's vote that counts, if they voted."""
        row = await self._db.fetchone(
            "SELECT * FROM votes WHERE guild_id = ? AND model_id = ? AND member_id = ?", (guild_id, model_id, member_id)
        )
        return _vote(row) if row else None

    async def tally(self, guild_id: int, model_id: str, *, hidden: bool = False) -> Tally:
        """Current votes per vendor, most voted first; with `hidden` (the guild's setting), only the count until
        the model is revealed here. A vendor typed several ways shows the name its first current vote used."""
        rows = await self._db.fetchall(
            """
            SELECT v.vendor, COUNT(*) AS n,
                   (SELECT f.vendor_name FROM votes f
                    WHERE f.guild_id = v.guild_id AND f.model_id = v.model_id AND f.vendor = v.vendor
                    ORDER BY f.voted_at LIMIT 1) AS vendor_name
            FROM votes v WHERE v.guild_id = ? AND v.model_id = ?
            GROUP BY v.guild_id, v.model_id, v.vendor ORDER BY n DESC, v.vendor
            """,
            (guild_id, model_id),
        )
        total = sum(int(row["n"]) for row in rows)
        if hidden and total and await self.reveal_for(guild_id, model_id) is None:
            return Tally(total, (), hidden=True)
        by_vendor = tuple(VendorVotes(r["vendor"], _shown(r["vendor"], r["vendor_name"]), int(r["n"])) for r in rows)
        return Tally(total, by_vendor, hidden=False)

    async def add_note(self, guild_id: int, model_id: str, member_id: int, member_name: str, text: str) -> Note:
        """Keep a note; an invisible or over-long one is refused with a reason (ValueError) and nothing is stored."""
        text = text.strip()
        if not any(_visible(char) for char in text):
            raise ValueError("a note cannot be empty")
        if len(text) > MAX_NOTE_LENGTH:
            raise ValueError(f"a note holds at most {MAX_NOTE_LENGTH} characters")
        name = member_name[:MAX_MEMBER_NAME_LENGTH]
        now = utc_now()
        note_id = await self._db.insert(
            "INSERT INTO notes (guild_id, model_id, member_id, member_name, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
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

    async def scores(self, guild_id: int, *, since: str | None = None) -> list[Scorecard]:
        """Every member with a call on a model revealed here (on or after `since`, a season's start) and the bot,
        ranked. A member's call is their current vote (votes lock at the reveal); the bot's is its latest guess
        made before the reveal, unless that guess was "none of the vendors I know"."""
        rows = await self._db.fetchall(
            """
            WITH called AS (
                SELECT v.member_id, v.member_name, v.voted_at, v.confidence,
                       CASE WHEN v.vendor = r.vendor THEN 1 ELSE 0 END AS hit
                FROM votes v JOIN reveals r ON r.guild_id = v.guild_id AND r.model_id = v.model_id
                WHERE v.guild_id = ? AND r.revealed_at >= ?
            )
            SELECT member_id, COUNT(*) AS calls, SUM(hit) AS correct, COUNT(confidence) AS rated,
                   SUM((confidence - hit) * (confidence - hit)) AS brier_sum,
                   (SELECT latest.member_name FROM called latest WHERE latest.member_id = called.member_id
                    ORDER BY latest.voted_at DESC LIMIT 1) AS member_name
            FROM called GROUP BY member_id
            """,
            (guild_id, since or ""),
        )
        cards = [
            Scorecard(
                row["member_id"],
                row["member_name"],
                int(row["calls"]),
                int(row["correct"]),
                int(row["rated"]),
                row["brier_sum"] / row["rated"] if row["rated"] else None,
            )
            for row in rows
        ]
        return _ranked([*cards, await self._bot_scorecard(guild_id, since)])

    async def _bot_scorecard(self, guild_id: int, since: str | None) -> Scorecard:
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
        calls = [
            (canonical_vendor(row["pick"]) == row["truth"], float(row["probability"]))
            for row in rows
            if row["pick"] and canonical_vendor(row["pick"]) != UNKNOWN_VENDOR
        ]
        brier = sum((p - right) ** 2 for right, p in calls) / len(calls) if calls else None
        return Scorecard(None, BOT_NAME, len(calls), sum(right for right, _ in calls), len(calls), brier)

    async def counts(self, guild_id: int) -> dict[str, int]:
        """How much this guild has stored, for /scout status."""
        row = await self._db.fetchone(
            """
            SELECT (SELECT COUNT(*) FROM votes WHERE guild_id = ?1) AS votes,
                   (SELECT COUNT(*) FROM notes WHERE guild_id = ?1) AS notes,
                   (SELECT COUNT(*) FROM reveals WHERE guild_id = ?1) AS reveals
            """,
            (guild_id,),
        )
        assert row is not None
        return {"votes": int(row["votes"]), "notes": int(row["notes"]), "reveals": int(row["reveals"])}

    async def members_with_data(self, guild_id: int, text: str = "") -> list[tuple[int, str]]:
        """Members who have a vote or a note here, with their latest name, whose name or id contains `text`,
        most recently active first: the choices of an admin forgetting someone who has left (and is no longer
        in Discord's member list). Current votes stand for the history: a cast is only ever replaced, and a
        member's history goes only with their current votes, when they are forgotten."""
        rows = await self._db.fetchall(
            """
            WITH seen AS (
                SELECT member_id, member_name, voted_at AS at FROM votes WHERE guild_id = ?1
                UNION ALL SELECT member_id, member_name, created_at FROM notes WHERE guild_id = ?1
            ), members AS (
                SELECT member_id, MAX(at) AS last_seen,
                       (SELECT latest.member_name FROM seen latest WHERE latest.member_id = seen.member_id
                        ORDER BY latest.at DESC LIMIT 1) AS member_name
                FROM seen GROUP BY member_id
            )
            SELECT member_id, member_name FROM members
            WHERE lower(member_name) LIKE ?2 ESCAPE '\\' OR CAST(member_id AS TEXT) LIKE ?2 ESCAPE '\\'
            ORDER BY last_seen DESC LIMIT ?3
            """,
            (guild_id, containing(text.strip().lower()), MEMBER_CHOICES),
        )
        return [(row["member_id"], row["member_name"]) for row in rows]

    async def forget_member(self, guild_id: int, member_id: int) -> Forgotten:
        """Delete everything this guild holds about one member: current votes, every past vote, notes, and their
        name on reveals they made. Nothing of theirs is left for a later export, tally or score to find; the cards
        whose tallies held their votes are asked to be edited in the same transaction."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT model_id FROM votes WHERE guild_id = ? AND member_id = ? ORDER BY model_id",
                (guild_id, member_id),
            )
            models = tuple(row["model_id"] for row in rows)
            await tx.execute("DELETE FROM votes WHERE guild_id = ? AND member_id = ?", (guild_id, member_id))
            casts = await tx.execute(
                "DELETE FROM vote_history WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
            )
            notes = await tx.execute("DELETE FROM notes WHERE guild_id = ? AND member_id = ?", (guild_id, member_id))
            await tx.execute(
                "UPDATE reveals SET revealed_by = NULL WHERE guild_id = ? AND revealed_by = ?", (guild_id, member_id)
            )
            await ask_for_edits(tx, models, utc_now(), guild_id)
            tx.signal_outbox()
        return Forgotten(casts, notes, models)

    async def export_rows(
        self,
        guild_id: int,
        *,
        model_id: str | None = None,
        since: str | None = None,
        member_id: int | None = None,
    ) -> AsyncGenerator[ExportRow, None]:
        """Every vote cast and note written in this guild (or by one member of it), oldest first, streamed.

        Votes and notes come from two cursors merged by time, so nothing is sorted or held in memory: an
        export of a million votes costs the same memory as one of ten. A reader that may stop early should
        use `contextlib.aclosing`, so the cursors close while the store is still open.
        """
        scope = _Scope(guild_id, model_id, since, member_id)
        votes = self._vote_rows(scope)
        notes = self._note_rows(scope)
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

    async def _vote_rows(self, scope: _Scope) -> AsyncGenerator[ExportRow, None]:
        conditions, params = scope.filters("h", "voted_at")
        sql = f"""
            SELECT h.voted_at, h.guild_id, h.model_id, h.member_id, h.member_name, h.vendor, h.vendor_name,
                   h.confidence, v.voted_at = h.voted_at AS current_vote,
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
                    _shown(row["vendor"], row["vendor_name"]),
                    row["confidence"],
                    None,
                    bool(row["current_vote"]),
                    _flag(row["correct"]),
                )

    async def _note_rows(self, scope: _Scope) -> AsyncGenerator[ExportRow, None]:
        conditions, params = scope.filters("n", "created_at")
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
                    None,
                    None,
                    row["text"],
                    None,
                    None,
                )


async def _require_open(tx: Transaction, guild_id: int, model_id: str) -> None:
    """Refuse, with the reason, a vote on a model that is not an anonymous one or that this guild revealed."""
    model = await tx.fetchone("SELECT stealth FROM models WHERE id = ?", (model_id,))
    if model is None or not model["stealth"]:
        raise VotingClosed(f"{model_id} is not an anonymous model, so there is no maker to guess")
    if await tx.fetchone("SELECT 1 FROM reveals WHERE guild_id = ? AND model_id = ?", (guild_id, model_id)):
        raise VotingClosed(f"{model_id} has been revealed in this server, so voting on it is closed")


@dataclass(frozen=True)
class _Scope:
    """Which rows of a guild's log an export covers."""

    guild_id: int
    model_id: str | None
    since: str | None
    member_id: int | None

    def filters(self, alias: str, time_column: str) -> tuple[str, list[object]]:
        conditions = [f"{alias}.guild_id = ?"]
        params: list[object] = [self.guild_id]
        for column, value in (("model_id", self.model_id), ("member_id", self.member_id)):
            if value is not None:
                conditions.append(f"{alias}.{column} = ?")
                params.append(value)
        if self.since is not None:
            conditions.append(f"{alias}.{time_column} >= ?")
            params.append(self.since)
        return " AND ".join(conditions), params
