"""The `scout` command: the same core the bot runs, driven from a terminal.

Each module of this package registers the sub-commands of one concern; this one assembles the parser,
reads the settings once and maps failures to exit codes: 0 success, 1 runtime failure, 2 usage or
settings error. Every failure is one line on stderr, never a traceback (`-v` logs the traceback of an
unexpected one, for a bug report).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import pkgutil
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import asyncpg

from bot.cli.common import ScoutArgumentParser
from bot.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandError, UsageError
from bot.gateway import GatewayError
from bot.jobs.key_health import KeyRefused
from bot.jobs.polling import SuspiciousCatalogue
from bot.jobs.spend import SpendRefused
from bot.settings import Settings, SettingsError, checked_database_url, database_file, load_settings
from bot.store import StoreError
from bot.store.database import is_postgresql_url

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RUNTIME_ERRORS = (CommandError, GatewayError, StoreError, SuspiciousCatalogue, SpendRefused, KeyRefused)
MAX_ERROR_LENGTH = 500


def _version() -> str:
    try:
        return version("model-scout")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _database_argument(text: str) -> Path | str:
    """A SQLite file, or a postgresql:// URL (better kept in DATABASE_URL: a command line is seen by `ps`)."""
    try:
        return checked_database_url(text) if is_postgresql_url(text) else database_file(Path(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_global_options(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    """`--database` and `-v`; a sub-command that gives one of these options its own meaning keeps it."""
    taken = parser._option_string_actions
    if "--database" not in taken:
        parser.add_argument(
            "--database",
            type=_database_argument,
            default=default,
            metavar="PATH",
            help="the SQLite file to use (default: DATABASE_URL if set, else DATABASE_PATH, else model_scout.db in "
            "the current folder), or a postgresql:// URL",
        )
    if "--verbose" not in taken and "-v" not in taken:
        parser.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=default if default is not None else False,
            help="log progress (INFO); commands other than `run` log only warnings",
        )


def _sub_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every sub-command's parser, at any depth (`scout references import`, `scout bench export`)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend([child, *_sub_parsers(child)])
    return found


def build_parser() -> argparse.ArgumentParser:
    """Every module of this package with a `register` function adds its sub-commands; none is listed by hand.

    The global options are accepted after the sub-command too (`scout models --database x.db`), as people type them.
    """
    parser = ScoutArgumentParser(prog="scout", description="Model Scout: spot and attribute stealth models.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(commands)
    for sub_parser in _sub_parsers(parser):
        _add_global_options(sub_parser, default=argparse.SUPPRESS)
    return parser


def _log_level(args: argparse.Namespace, settings: Settings) -> str:
    """The bot (a service) logs at LOG_LEVEL; a command run by hand logs only what needs attention unless -v."""
    if getattr(args, "service", False):
        return settings.log_level
    return "INFO" if args.verbose else "WARNING"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_ERROR_LENGTH]


def _run(
    handler: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]],
    settings: Settings,
    args: argparse.Namespace,
) -> int:
    """Run the command, turning every failure into one line and an exit code."""
    try:
        return asyncio.run(handler(settings, args))
    except UsageError as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except RUNTIME_ERRORS as error:
        print(f"error: {_one_line(str(error))}", file=sys.stderr)
    except (sqlite3.Error, asyncpg.PostgresError) as error:
        print(f"error: database {settings.database_shown}: {_one_line(str(error))}", file=sys.stderr)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{_one_line(error.strerror or str(error))}", file=sys.stderr)
    except RecursionError:
        print("error: the input is nested too deeply to read", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    except Exception as error:  # the last resort: a bug, still one line; -v logs the traceback to report it
        log.info("unexpected failure", exc_info=error)
        print(f"error: unexpected {type(error).__name__}: {_one_line(str(error))}", file=sys.stderr)
    return EXIT_FAILURE


def _database_overrides(database: Path | str | None) -> dict[str, Any]:
    """`--database` wins over DATABASE_URL and DATABASE_PATH: a URL for PostgreSQL, a path for SQLite."""
    if database is None:
        return {}
    if isinstance(database, str):
        return {"database_url": database}
    return {"database_path": database, "database_url": None}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `scout` command and return its exit code; tests call it in-process."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    try:
        settings = load_settings(**_database_overrides(args.database))
    except SettingsError as error:
        print(f"settings error: {error}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=_log_level(args, settings), format=LOG_FORMAT, stream=sys.stderr)
    return _run(args.handler, settings, args)


def entry_point() -> None:
    """The console script named in pyproject."""
    sys.exit(main())
