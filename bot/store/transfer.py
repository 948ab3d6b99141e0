"""Moving a SQLite database into PostgreSQL (`scout migrate --to`): every table, every row, with its id.

Ids are kept as they were, because they are in Discord: a card's components carry their announcement id,
alerts and removal replies carry theirs in a footer. After the copy each identity sequence continues above
the largest id copied, and every table is counted on both sides: a copy that differs is an error, not a
warning. The target must be empty (freshly migrated, no rows), so nothing already there is mixed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import StoreError
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SQLiteDatabase

BATCH_ROWS = 5000
# Parents before children, so every foreign key finds its row.
TABLE_ORDER = (
    "models",
    "polls",
    "catalogue_events",
    "probe_runs",
    "probe_responses",
    "spend",
    "reference_models",
    "reference_answers",
    "guesses",
    "probe_attempts",
    "calibration_targets",
    "guild_settings",
    "guild_alerts",
    "votes",
    "vote_history",
    "notes",
    "reveals",
    "announcements",
    "alerts",
    "bot_state",
    "guild_departures",
)


@dataclass(frozen=True)
class TableCopy:
    """One table's row count on both sides after the copy."""

    table: str
    source_rows: int
    target_rows: int


async def copy_sqlite_to_postgres(source: SQLiteDatabase, target: PostgresDatabase) -> list[TableCopy]:
    """Copy every table of `source` into the empty `target` in one transaction; returns the counts compared."""
    if await source.schema_version() != await target.schema_version():
        raise StoreError(
            f"{source.name} is at schema version {await source.schema_version()}, {target.name} at "
            f"{await target.schema_version()}: open both with this Model Scout first"
        )
    tables = await _tables(source, target)
    for table in tables:
        row = await target.fetchone(f"SELECT COUNT(*) FROM {table}")
        if row is not None and row[0]:
            raise StoreError(f"{target.name} is not empty ({table} has {row[0]} rows): migrate into a new database")
    async with target.bulk_load() as load:
        for table in tables:
            columns = await target.columns(table)
            select = ", ".join(columns)
            batch: list[tuple[object, ...]] = []
            async for row in source.iterate(f"SELECT {select} FROM {table} ORDER BY rowid"):
                batch.append(tuple(row[index] for index in range(len(columns))))
                if len(batch) >= BATCH_ROWS:
                    await load(table, columns, batch)
                    batch = []
            if batch:
                await load(table, columns, batch)
    handed_out = await source.ids_handed_out()
    for table in tables:
        await target.reset_identity(table, handed_out.get(table, 0))
    copies = [TableCopy(table, await _count(source, table), await _count(target, table)) for table in sorted(tables)]
    if wrong := [copy for copy in copies if copy.source_rows != copy.target_rows]:
        first = wrong[0]
        raise StoreError(f"copy of {first.table} differs: {first.source_rows} rows in SQLite, {first.target_rows} now")
    return copies


async def _tables(source: SQLiteDatabase, target: PostgresDatabase) -> list[str]:
    """Every table of the schema, parents first; one this module does not know is an error (it may need care)."""
    present = await source.table_names() & await target.table_names()
    unknown = sorted(present - set(TABLE_ORDER) - {"model_scout_schema", "sqlite_sequence"})
    if unknown:
        raise StoreError(f"scout migrate does not know the table(s) {', '.join(unknown)}: add them to TABLE_ORDER")
    return [table for table in TABLE_ORDER if table in present]


async def _count(database: SQLiteDatabase | PostgresDatabase, table: str) -> int:
    row = await database.fetchone(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row else 0
