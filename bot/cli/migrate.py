"""`scout migrate --to postgresql://…`: move the SQLite database into an empty PostgreSQL one, checked by count."""

from __future__ import annotations

import argparse
import sys

from bot.errors import EXIT_OK, UsageError
from bot.settings import Settings, checked_database_url, masked_url
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SQLiteDatabase
from bot.store.transfer import copy_sqlite_to_postgres


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Stop the bot first: votes cast during the copy would stay behind in the SQLite file."""
    try:
        url = checked_database_url(args.to)
    except ValueError as error:
        raise UsageError(f"--to {error}") from None
    source = await SQLiteDatabase.open(settings.database_path, create=False)
    try:
        target = await PostgresDatabase.open(url, pool_size=2)
        try:
            copies = await copy_sqlite_to_postgres(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    for copy in copies:
        print(f"{copy.table:20} {copy.target_rows:>10} rows", file=sys.stderr)
    total = sum(copy.target_rows for copy in copies)
    print(
        f"copied {total} rows of {len(copies)} tables from {settings.database_path} to {masked_url(url)}; "
        "every count matches. Set DATABASE_URL to it and start the bot.",
        file=sys.stderr,
    )
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout migrate`."""
    migrate = commands.add_parser(
        "migrate",
        help="copy the SQLite database (DATABASE_PATH or --database) into an empty PostgreSQL database "
        "(stop the bot first)",
    )
    migrate.add_argument(
        "--to", required=True, metavar="URL", help="the PostgreSQL database: postgresql://user:password@host/db"
    )
    migrate.set_defaults(handler=cmd_migrate)
