"""`scout backup` and `scout restore`: a copy of the database that survives the host, and the way back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.errors import EXIT_OK, CommandError, UsageError
from bot.settings import Settings
from bot.store import Store
from bot.store.sqlite import restore_database


def _same_file(first: Path, second: Path) -> bool:
    return first.resolve() == second.resolve()


PG_DUMP = (
    "scout backup and restore copy SQLite files; DATABASE_URL is PostgreSQL: back it up with "
    'pg_dump --format=custom "$DATABASE_URL" > scout.dump and restore with pg_restore --clean --dbname "$DATABASE_URL" '
    "scout.dump (or your host's backups)"
)


async def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Safe while the bot runs: SQLite's backup API copies one consistent state, whatever the bot writes meanwhile."""
    if settings.database_url is not None:
        raise CommandError(PG_DUMP)
    target = Path(args.path)
    if target.is_dir():
        target = target / settings.database_path.name
    if _same_file(target, settings.database_path):
        raise UsageError(f"PATH: {args.path} is the database itself; name another file")
    async with await Store.from_settings(settings, create=False) as store:
        await store.db.backup_to(target)
    print(f"backed up {settings.database_path} to {target}", file=sys.stderr)
    return EXIT_OK


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Stop the bot first: it would keep writing over what is being restored."""
    if settings.database_url is not None:
        raise CommandError(PG_DUMP)
    backup = Path(args.backup)
    if _same_file(backup, settings.database_path):
        raise UsageError(f"BACKUP: {args.backup} is the database itself; name the backup file")
    set_aside = await restore_database(backup, settings.database_path)
    if set_aside is not None:
        print(f"the database could not be read; it was kept as {set_aside}", file=sys.stderr)
    print(f"restored {settings.database_path} from {backup}", file=sys.stderr)
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout backup` and `scout restore`."""
    backup = commands.add_parser(
        "backup", help="copy the database to PATH, consistently, even while the bot runs (SQLite online backup)"
    )
    backup.add_argument("path", metavar="PATH", help="the backup file to write, or a folder to write it into")
    backup.set_defaults(handler=cmd_backup)

    restore = commands.add_parser(
        "restore", help="replace the database with a backup made by `scout backup` (stop the bot first)"
    )
    restore.add_argument("backup", metavar="BACKUP", help="the backup file to restore from")
    restore.set_defaults(handler=cmd_restore)
