"""The numbered migrations of both engines, and the tables they leave.

`migrations/V{n}__{name}.sql` runs on every engine. Where SQLite and PostgreSQL disagree (types: Discord ids
need PostgreSQL's BIGINT, SQLite's `INTEGER PRIMARY KEY` is PostgreSQL's identity column, REAL is only single
precision there), the number has one file per engine instead: `V{n}__{name}.sqlite.sql` and
`V{n}__{name}.postgresql.sql`. Every engine sees the numbers 1..n without a gap (a test checks it), so a
database of either engine at version k needs exactly the files above k.
"""

from __future__ import annotations

import re
from importlib import resources

ENGINES = ("sqlite", "postgresql")
MIGRATION_NAME = re.compile(r"^V(\d+)__(\w+?)(?:\.(sqlite|postgresql))?\.sql$")
CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`]?(\w+)", re.IGNORECASE)
DROP_TABLE = re.compile(r"DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?[\"`]?(\w+)", re.IGNORECASE)
RENAME_TABLE = re.compile(r"ALTER\s+TABLE\s+[\"`]?(\w+)[\"`]?\s+RENAME\s+TO\s+[\"`]?(\w+)", re.IGNORECASE)


class MigrationFilesError(Exception):
    """The migration folder itself is inconsistent (a programming error, caught by the tests)."""


def migration_files(engine: str) -> list[tuple[int, str]]:
    """(number, file name) of `engine`'s migrations in order: the shared file, or the engine's own."""
    shared: dict[int, str] = {}
    own: dict[int, str] = {}
    for entry in resources.files("bot.store").joinpath("migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        number, for_engine = int(match.group(1)), match.group(3)
        if for_engine is None:
            shared[number] = entry.name
        elif for_engine == engine:
            own[number] = entry.name
    if clash := sorted(set(shared) & set(own)):
        raise MigrationFilesError(f"migration {clash[0]} has both a shared file and one for {engine}")
    return sorted({**shared, **own}.items())


def migrations(engine: str) -> list[tuple[int, str]]:
    """(number, SQL) of `engine`'s migrations in order."""
    folder = resources.files("bot.store").joinpath("migrations")
    return [(number, folder.joinpath(name).read_text(encoding="utf-8")) for number, name in migration_files(engine)]


def latest_version(engine: str) -> int:
    """The number of the newest migration this code knows for `engine`."""
    found = migration_files(engine)
    return found[-1][0] if found else 0


def statements(script: str) -> list[str]:
    """Split a migration into statements; our migrations hold no semicolons inside literals or triggers."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def expected_tables(engine: str, up_to: int | None = None) -> set[str]:
    """The tables `engine`'s migrations (up to version `up_to`, or all) leave, replayed in order: created, renamed
    and dropped."""
    tables: set[str] = set()
    for number, script in migrations(engine):
        if up_to is not None and number > up_to:
            break
        for statement in statements(script):
            if created := CREATE_TABLE.match(statement):
                tables.add(created.group(1))
            elif dropped := DROP_TABLE.match(statement):
                tables.discard(dropped.group(1))
            elif renamed := RENAME_TABLE.match(statement):
                tables.discard(renamed.group(1))
                tables.add(renamed.group(2))
    return tables
