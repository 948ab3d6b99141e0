"""Ways a database file gets damaged on disk, for the restore and damaged-database tests."""

from __future__ import annotations

from pathlib import Path

SCHEMA_ENTRY = b"tablebot_statebot_state"


def damage_schema_names(path: Path) -> None:
    """Overwrite the name of one table in SQLite's schema page with bytes that are not UTF-8: the page still
    parses, but reading the table list fails with a decoding error instead of a database error."""
    data = bytearray(path.read_bytes())
    start = data.find(SCHEMA_ENTRY)
    assert start >= 0, "the schema entry to damage is not in the file"
    for index in range(start + len(b"table"), start + len(SCHEMA_ENTRY)):
        data[index] = 0xFF
    path.write_bytes(bytes(data))


def flip_bytes(path: Path, offset: int, count: int = 200) -> None:
    """Invert `count` bytes from `offset`, as a failing disk or a bad copy does to a page."""
    data = bytearray(path.read_bytes())
    for index in range(offset, offset + count):
        data[index] ^= 0xFF
    path.write_bytes(bytes(data))
