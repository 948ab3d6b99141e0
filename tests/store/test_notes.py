"""Notes: bounded, never invisible, kept per guild; on a real SQLite file."""

from __future__ import annotations

import pytest

from bot.store.notes import MAX_NOTE_LENGTH
from tests.support.store import GUILD, MODEL

pytestmark = pytest.mark.usefixtures("models_to_vote_on")


async def test_notes_are_bounded_and_never_empty(store):
    with pytest.raises(ValueError, match="empty"):
        await store.notes.add(GUILD, MODEL, 1, "alice", "   ")
    with pytest.raises(ValueError, match="empty"):
        await store.notes.add(GUILD, MODEL, 1, "alice", "\u200b\u200d\u2060\u202e \x00")
    with pytest.raises(ValueError, match="at most"):
        await store.notes.add(GUILD, MODEL, 1, "alice", "x" * (MAX_NOTE_LENGTH + 1))
    note = await store.notes.add(GUILD, MODEL, 1, "alice", "  @everyone look  ")
    assert note.text == "@everyone look"
    assert [n.text for n in await store.notes.newest(GUILD, MODEL)] == ["@everyone look"]
