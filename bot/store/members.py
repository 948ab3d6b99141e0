"""What a guild holds about its members: the vote log an export streams, who has data, and forgetting a member.

Red-DiscordBot's habit: a member can get, and erase, what the bot keeps about them. The log is every vote cast
(`vote_history`) and note written, in time order; forgetting deletes all of it for one member of one guild.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from typing import Any

from bot.store.database import Database, Row, containing, utc_now
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
    """One line of a vote log: a cast vote (`kind == "vote"`) or a note (`kind == "note"`) in the history; in the
    current log, a member's standing on one model (`kind == "current"`: their vote, if any, and their notes).

    Every row also says what settled the model here: its listed name, the revealed vendor and real model, and the
    bot's call (its latest guess made before the reveal; before a reveal, its latest guess), as the leaderboard
    counts it.
    """

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
    model_name: str | None = None
    revealed_vendor: str | None = None
    revealed_model: str | None = None
    bot_guess: str | None = None
    bot_confidence: float | None = None


@dataclass(frozen=True)
class GuildData:
    """A guild this database holds something for: how many current votes, notes and reveals, and whether it ran
    `/scout setup` (the store knows guilds by id only; their names live in Discord)."""

    guild_id: int
    votes: int
    notes: int
    reveals: int
    set_up: bool


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


# What settled a model in a guild, joined onto a row of the table aliased {row}: the listing, the reveal, and the
# bot's call (its latest guess made before the reveal, or its latest guess while there is none).
_SETTLED_COLUMNS = """
    m.name AS model_name, r.vendor AS revealed_vendor, r.true_model AS revealed_model,
    g.top_vendor AS bot_guess, g.confidence AS bot_confidence
"""
_SETTLED_JOINS = """
    LEFT JOIN models m ON m.id = {row}.model_id
    LEFT JOIN reveals r ON r.guild_id = {row}.guild_id AND r.model_id = {row}.model_id
    LEFT JOIN guesses g ON g.id = (
        SELECT later.id FROM guesses later
        WHERE later.model_id = {row}.model_id AND (r.revealed_at IS NULL OR later.created_at <= r.revealed_at)
        ORDER BY later.id DESC LIMIT 1
    )
"""
NOTES_JOINED_BY = "\n"


def _settled(row: Row) -> dict[str, Any]:
    guessed = row["bot_guess"]
    return {
        "model_name": row["model_name"],
        "revealed_vendor": row["revealed_vendor"],
        "revealed_model": row["revealed_model"],
        "bot_guess": guessed,
        "bot_confidence": row["bot_confidence"] if guessed else None,
    }


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

    async def guilds(self) -> list[GuildData]:
        """Every guild with settings, votes, notes or reveals here, by id: what `scout export` can export."""
        rows = await self._db.fetchall(
            """
            SELECT guild_id, SUM(votes) AS votes, SUM(notes) AS notes, SUM(reveals) AS reveals, SUM(set_up) AS set_up
            FROM (
                SELECT guild_id, 1 AS votes, 0 AS notes, 0 AS reveals, 0 AS set_up FROM votes
                UNION ALL SELECT guild_id, 0, 1, 0, 0 FROM notes
                UNION ALL SELECT guild_id, 0, 0, 1, 0 FROM reveals
                UNION ALL SELECT guild_id, 0, 0, 0, 1 FROM guild_settings
            ) AS held
            GROUP BY guild_id ORDER BY guild_id
            """
        )
        return [
            GuildData(row["guild_id"], int(row["votes"]), int(row["notes"]), int(row["reveals"]), bool(row["set_up"]))
            for row in rows
        ]

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

    async def current_rows(
        self,
        guild_id: int,
        *,
        model_id: str | None = None,
        since: str | None = None,
        member_id: int | None = None,
    ) -> AsyncGenerator[ExportRow, None]:
        """One row per member and model in this guild (or of one member): the vote that counts, with its notes;
        a member with only notes on a model gets a row without a vote. Ordered by model, then member.

        Votes and notes come from two cursors in that order, merged as they stream (nothing held in memory).
        """
        scope = _Scope(guild_id, model_id, since, member_id)
        votes = self._current_votes(scope)
        notes = self._notes_by_member(scope)
        try:
            vote = await anext(votes, None)
            note = await anext(notes, None)
            while vote is not None or note is not None:
                vote_key = (vote.model_id, vote.member_id) if vote else None
                note_key = (note.model_id, note.member_id) if note else None
                if note_key is None or (vote_key is not None and vote_key < note_key):
                    assert vote is not None
                    yield vote
                    vote = await anext(votes, None)
                    continue
                texts = []
                latest = note
                while note is not None and (note.model_id, note.member_id) == note_key:
                    texts.append(note.note or "")
                    latest = note
                    note = await anext(notes, None)
                joined = NOTES_JOINED_BY.join(texts)
                assert latest is not None
                if vote_key == note_key:
                    assert vote is not None
                    yield replace(vote, note=joined)
                    vote = await anext(votes, None)
                else:
                    yield replace(latest, kind="current", note=joined)
        finally:
            await votes.aclose()
            await notes.aclose()

    async def _current_votes(self, scope: _Scope) -> AsyncGenerator[ExportRow, None]:
        conditions, params = scope.filters("v", "voted_at")
        sql = f"""
            SELECT v.*, CASE WHEN r.vendor IS NULL THEN NULL ELSE v.vendor = r.vendor END AS correct,
                   {_SETTLED_COLUMNS}
            FROM votes v {_SETTLED_JOINS.format(row="v")}
            WHERE {conditions} ORDER BY v.model_id, v.member_id
        """
        async with contextlib.aclosing(self._db.iterate(sql, params)) as rows:
            async for row in rows:
                yield ExportRow(
                    row["voted_at"],
                    row["guild_id"],
                    row["model_id"],
                    row["member_id"],
                    row["member_name"],
                    "current",
                    row["vendor"],
                    shown_vendor_name(row["vendor"], row["vendor_name"]),
                    row["confidence"],
                    None,
                    True,
                    _flag(row["correct"]),
                    **_settled(row),
                )

    async def _notes_by_member(self, scope: _Scope) -> AsyncGenerator[ExportRow, None]:
        conditions, params = scope.filters("n", "created_at")
        sql = f"""
            SELECT n.*, {_SETTLED_COLUMNS} FROM notes n {_SETTLED_JOINS.format(row="n")}
            WHERE {conditions} ORDER BY n.model_id, n.member_id, n.id
        """
        async with contextlib.aclosing(self._db.iterate(sql, params)) as rows:
            async for row in rows:
                yield _note_row(row)

    async def _vote_rows(self, scope: _Scope) -> AsyncGenerator[ExportRow, None]:
        conditions, params = scope.filters("h", "voted_at")
        sql = f"""
            SELECT h.voted_at, h.guild_id, h.model_id, h.member_id, h.member_name, h.vendor, h.vendor_name,
                   h.confidence, v.voted_at = h.voted_at AS current_vote,
                   CASE WHEN r.vendor IS NULL THEN NULL ELSE h.vendor = r.vendor END AS correct,
                   {_SETTLED_COLUMNS}
            FROM vote_history h
            LEFT JOIN votes v ON v.guild_id = h.guild_id AND v.model_id = h.model_id AND v.member_id = h.member_id
            {_SETTLED_JOINS.format(row="h")}
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
                    **_settled(row),
                )

    async def _note_rows(self, scope: _Scope) -> AsyncGenerator[ExportRow, None]:
        conditions, params = scope.filters("n", "created_at")
        sql = f"""
            SELECT n.*, {_SETTLED_COLUMNS} FROM notes n {_SETTLED_JOINS.format(row="n")}
            WHERE {conditions} ORDER BY n.id
        """
        async with contextlib.aclosing(self._db.iterate(sql, params)) as rows:
            async for row in rows:
                yield _note_row(row)


def _note_row(row: Row) -> ExportRow:
    return ExportRow(
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
        **_settled(row),
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
