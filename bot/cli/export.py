"""`scout export`: a guild's vote log from a terminal, the same rows `/scout export` uploads."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterable
from pathlib import Path

from bot.cli.common import EXIT_OK, CommandError, UsageError, discord_id_argument
from bot.export import FORMATS, ExportError, parse_since, write_rows
from bot.settings import Settings
from bot.store import Store
from bot.store.votes import ExportRow


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since) if args.since else None
    except ExportError as error:
        raise UsageError(f"--since: {error}") from None
    async with await Store.open(settings.database_path, create=False) as store:
        async with contextlib.aclosing(store.votes.export_rows(args.guild, model_id=args.model, since=since)) as rows:
            if args.out is None:
                count = await _write_stdout(rows, args.format)
            else:
                count = await _write_file(rows, args.format, Path(args.out))
    if args.out is not None:
        print(f"wrote {count} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


async def _write_stdout(rows: AsyncIterable[ExportRow], fmt: str) -> int:
    try:
        count = await write_rows(rows, fmt, sys.stdout)
        sys.stdout.flush()
    except OSError as error:
        raise CommandError(f"cannot write the export to standard output: {error.strerror or error}") from None
    return count


async def _write_file(rows: AsyncIterable[ExportRow], fmt: str, path: Path) -> int:
    """Write a regular file through a `.partial` beside it, renamed at the end, so a failed export never leaves
    half a file behind. A symlink is followed (its target is replaced, not the link); a device or a pipe is
    written in place."""
    target = path.resolve()
    if target.exists() and not target.is_file():
        return await _write_in_place(rows, fmt, target)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            count = await write_rows(rows, fmt, stream)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    return count


async def _write_in_place(rows: AsyncIterable[ExportRow], fmt: str, target: Path) -> int:
    try:
        with target.open("w", encoding="utf-8", newline="") as stream:
            return await write_rows(rows, fmt, stream)
    except OSError as error:
        raise CommandError(f"cannot write {target}: {error.strerror or error}") from None


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="write a server's votes and notes as CSV or JSON Lines")
    export.add_argument("--guild", required=True, type=discord_id_argument, metavar="ID", help="the Discord server id")
    export.add_argument("--model", metavar="ID", help="only this model")
    export.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or jsonl")
    export.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    export.add_argument("--since", metavar="ISO", help="only rows from this ISO-8601 date or time on")
    export.set_defaults(handler=cmd_export)
