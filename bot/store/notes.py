"""Members' free-text notes on models, per guild: bounded, never invisible, never read across guilds."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.store.database import Database, Row, utc_now
from bot.store.votes import MAX_MEMBER_NAME_LENGTH

MAX_NOTE_LENGTH = 1000


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


def _visible(char: str) -> bool:
    """A character that shows: not a space, control, format (zero-width, bidi) or unassigned code point."""
    return not unicodedata.category(char).startswith(("C", "Z"))


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


class NoteStore:
    """Notes of every guild; every method is scoped by `guild_id`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, guild_id: int, model_id: str, member_id: int, member_name: str, text: str) -> Note:
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

    async def newest(self, guild_id: int, model_id: str, limit: int = 20) -> list[Note]:
        """The newest notes on a model in this guild, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM notes WHERE guild_id = ? AND model_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, model_id, limit),
        )
        return [_note(row) for row in rows]
