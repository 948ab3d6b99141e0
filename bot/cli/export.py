"""`scout export`: a guild's vote log from a terminal, the same rows `/scout export` uploads.

Written to standard output it behaves like any Unix filter: `scout export … | head` ends quietly with exit
code 0 when the reader stops early, as `cat` does, instead of printing a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterable
from pathlib import Path

from bot.cli.common import discord_id_argument
from bot.errors import EXIT_OK, CommandError, UsageError
from bot.export import FORMATS, ExportError, check_format, parse_since, write_rows
from bot.settings import Settings
from bot.store import Store
from bot.store.members import ExportRow


async def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Stream the log to standard output or to `--out`; a bad option is refused before the database is opened."""
    try:
        since = parse_since(args.since) if args.since else None
    except ExportError as error:
        raise UsageError(f"--since: {error}") from None
    try:
        check_format(args.format, excel=args.excel)
    except ExportError as error:
        raise UsageError(str(error)) from None
    async with await Store.from_settings(settings, create=False) as store:
        log = store.members.export_rows(args.guild, model_id=args.model, since=since, member_id=args.member)
        async with contextlib.aclosing(log) as rows:
            if args.out is None:
                await _write_stdout(rows, args.format, args.excel)
                return EXIT_OK
            count = await _write_file(rows, args.format, Path(args.out), args.excel)
    print(f"wrote {count} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


async def _write_stdout(rows: AsyncIterable[ExportRow], fmt: str, excel: bool) -> None:
    try:
        await write_rows(rows, fmt, sys.stdout, excel=excel)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
    except OSError as error:
        raise CommandError(f"cannot write the export to standard output: {error.strerror or error}") from None


def _discard_stdout() -> None:
    """The reader left (`| head`): point stdout at /dev/null, so the interpreter's last flush of what is still
    buffered cannot fail again at exit (the way Python's documentation on SIGPIPE recommends)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


async def _write_file(rows: AsyncIterable[ExportRow], fmt: str, path: Path, excel: bool) -> int:
    """Write a regular file through a `.partial` beside it, renamed at the end, so a failed export never leaves
    half a file behind. A symlink is followed (its target is replaced, not the link); a device or a pipe is
    written in place."""
    target = path.resolve()
    if target.exists() and not target.is_file():
        return await _write_in_place(rows, fmt, target, excel)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            count = await write_rows(rows, fmt, stream, excel=excel)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    return count


async def _write_in_place(rows: AsyncIterable[ExportRow], fmt: str, target: Path, excel: bool) -> int:
    try:
        with target.open("w", encoding="utf-8", newline="") as stream:
            return await write_rows(rows, fmt, stream, excel=excel)
    except OSError as error:
        raise CommandError(f"cannot write {target}: {error.strerror or error}") from None


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout export` to the CLI."""
    export = commands.add_parser("export", help="write a server's votes and notes as CSV or JSON Lines")
    export.add_argument("--guild", required=True, type=discord_id_argument, metavar="ID", help="the Discord server id")
    export.add_argument("--member", type=discord_id_argument, metavar="ID", help="only this member's votes and notes")
    export.add_argument("--model", metavar="ID", help="only this model")
    export.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or jsonl")
    export.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    export.add_argument("--since", metavar="ISO", help="only rows from this ISO-8601 date or time on")
    export.add_argument(
        "--excel", action="store_true", help="CSV for Excel on Windows: UTF-8 with a byte order mark and CRLF lines"
    )
    export.set_defaults(handler=cmd_export)
