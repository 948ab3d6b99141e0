"""Members' votes on models and their history, per guild.

Every query takes a `guild_id`, so one guild never reads another's votes. A member has one current vote per
model (`votes`); every cast is also appended to `vote_history`, which is what an export streams
(`bot/store/members.py`). Votes are scored against reveals in `bot/store/reveals.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.catalogue.vendors import canonical_vendor, display_name, vendor_for_label
from bot.store.database import Database, Row, Transaction, utc_now
from bot.store.outbox import ask_for_edits

MAX_MEMBER_NAME_LENGTH = 100
MAX_VENDOR_NAME_LENGTH = 100
REVEALED_HERE = "SELECT 1 FROM reveals WHERE guild_id = ? AND model_id = ?"


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


def vendor_name_for(label: str) -> str:
    """The name a vendor label is shown with: the vendor table's name, else the label as typed (spaces folded)."""
    vendor = vendor_for_label(label)
    if vendor is not None:
        return vendor.name
    return " ".join(label.split())[:MAX_VENDOR_NAME_LENGTH] or display_name(canonical_vendor(label))


def shown_vendor_name(key: str, stored_name: str | None) -> str:
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
        shown_vendor_name(row["vendor"], row["vendor_name"]),
        row["confidence"],
    )


def _after(stamp: str) -> str:
    """One millisecond after `stamp`, in the store's timestamp format."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(milliseconds=1)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    """Votes of every guild and their history; every method is scoped by `guild_id`."""

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
        if hidden and total and await self._db.fetchone(REVEALED_HERE, (guild_id, model_id)) is None:
            return Tally(total, (), hidden=True)
        by_vendor = tuple(
            VendorVotes(r["vendor"], shown_vendor_name(r["vendor"], r["vendor_name"]), int(r["n"])) for r in rows
        )
        return Tally(total, by_vendor, hidden=False)


async def _require_open(tx: Transaction, guild_id: int, model_id: str) -> None:
    """Refuse, with the reason, a vote on a model that is not an anonymous one or that this guild revealed."""
    model = await tx.fetchone("SELECT stealth FROM models WHERE id = ?", (model_id,))
    if model is None or not model["stealth"]:
        raise VotingClosed(f"{model_id} is not an anonymous model, so there is no maker to guess")
    if await tx.fetchone(REVEALED_HERE, (guild_id, model_id)):
        raise VotingClosed(f"{model_id} has been revealed in this server, so voting on it is closed")
