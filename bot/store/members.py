"""What a guild holds about its members: the vote log an export streams, who has data, and forgetting a member.

Red-DiscordBot's habit: a member can get, and erase, what the bot keeps about them. The log is every vote cast
(`vote_history`) and note written, in time order; forgetting deletes all of it for one member of one guild.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from bot.store.database import Database, containing, utc_now
from bot.store.outbox import ask_for_edits
from bot.store.votes import shown_vendor_name

MEMBER_CHOICES = 25


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


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


class MemberStore:
    """Members' data in every guild; every method is scoped by `guild_id`."""

    def __init__(self, db: Database) -> None:
        self._db = db

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

    async def with_data(self, guild_id: int, text: str = "") -> list[tuple[int, str]]:
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

    async def forget(self, guild_id: int, member_id: int) -> Forgotten:
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
                    shown_vendor_name(row["vendor"], row["vendor_name"]),
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
