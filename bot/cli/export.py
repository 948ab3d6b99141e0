"""`scout export`: a guild's vote log from a terminal, the same rows `/scout export` uploads.

Written to standard output it behaves like any Unix filter: `scout export … | head` ends quietly with exit
code 0 when the reader stops early, as `cat` does, instead of printing a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterable
from pathlib import Path

from bot.cli.common import discord_id_argument
from bot.console import to_a_reader_who_may_leave
from bot.errors import EXIT_OK, EXIT_USAGE, CommandError, UsageError
from bot.export import FORMATS, ExportError, check_format, parse_since, write_rows
from bot.settings import Settings
from bot.store import Store
from bot.store.members import ExportRow, GuildData

GUILDS_LISTED = 20


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
        if args.guild is None:
            _list_guilds(await store.members.guilds())
            return EXIT_USAGE
        model_id = await _model_id(store, args.model) if args.model else None
        rows_of = store.members.export_rows if args.history else store.members.current_rows
        log = rows_of(args.guild, model_id=model_id, since=since, member_id=args.member)
        async with contextlib.aclosing(log) as rows:
            if args.out is None:
                await _write_stdout(rows, args.format, args.excel, args.history)
                return EXIT_OK
            count = await _write_file(rows, args.format, Path(args.out), args.excel, args.history)
    print(f"wrote {count} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def _list_guilds(guilds: list[GuildData]) -> None:
    """Without --guild, say which guilds there are to export: one line on stderr, like every usage error (stdout
    is for the export itself)."""
    if not guilds:
        print("error: --guild is required, and this database holds no server's data yet", file=sys.stderr)
        return
    shown = ", ".join(
        f"{guild.guild_id} ({_count(guild.votes, 'vote')}, {_count(guild.notes, 'note')}"
        f"{', set up' if guild.set_up else ''})"
        for guild in guilds[:GUILDS_LISTED]
    )
    more = f" and {len(guilds) - GUILDS_LISTED} more" if len(guilds) > GUILDS_LISTED else ""
    print(f"error: --guild is required; the servers in this database: {shown}{more}", file=sys.stderr)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


async def _model_id(store: Store, typed: str) -> str:
    """--model by id, by name or by the start of its name, like the bot's commands."""
    found = await store.catalogue.find_models(typed)
    if len(found) == 1:
        return found[0].id
    if found:
        raise UsageError(f"--model {typed!r} fits several models: {', '.join(m.id for m in found[:5])}")
    raise UsageError(f"--model {typed!r}: no such model in this database")


async def _write_stdout(rows: AsyncIterable[ExportRow], fmt: str, excel: bool, history: bool) -> None:
    try:
        with to_a_reader_who_may_leave():
            await write_rows(rows, fmt, sys.stdout, excel=excel, history=history)
    except OSError as error:
        raise CommandError(f"cannot write the export to standard output: {error.strerror or error}") from None


async def _write_file(rows: AsyncIterable[ExportRow], fmt: str, path: Path, excel: bool, history: bool) -> int:
    """Write a regular file through a `.partial` beside it, renamed at the end, so a failed export never leaves
    half a file behind. A symlink is followed (its target is replaced, not the link); a device or a pipe is
    written in place."""
    target = path.resolve()
    if target.exists() and not target.is_file():
        return await _write_in_place(rows, fmt, target, excel, history)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            count = await write_rows(rows, fmt, stream, excel=excel, history=history)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
    return count


async def _write_in_place(rows: AsyncIterable[ExportRow], fmt: str, target: Path, excel: bool, history: bool) -> int:
    try:
        with target.open("w", encoding="utf-8", newline="") as stream:
            return await write_rows(rows, fmt, stream, excel=excel, history=history)
    except OSError as error:
        raise CommandError(f"cannot write {target}: {error.strerror or error}") from None


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout export` to the CLI."""
    export = commands.add_parser("export", help="write a server's votes and notes as CSV or JSON Lines")
    export.add_argument(
        "--guild", type=discord_id_argument, metavar="ID", help="the Discord server id (left out: list the servers)"
    )
    export.add_argument("--member", type=discord_id_argument, metavar="ID", help="only this member's votes and notes")
    export.add_argument("--model", metavar="ID|NAME", help="only this model (its id, its name or the start of it)")
    export.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or jsonl")
    export.add_argument(
        "--history",
        action="store_true",
        help="every vote cast (each change) and every note, in time order, instead of one row per member and model",
    )
    export.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    export.add_argument("--since", metavar="ISO", help="only rows from this ISO-8601 date or time on")
    export.add_argument(
        "--excel", action="store_true", help="CSV for Excel on Windows: UTF-8 with a byte order mark and CRLF lines"
    )
    export.set_defaults(handler=cmd_export)
