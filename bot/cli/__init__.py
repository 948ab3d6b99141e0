"""The `scout` command: the same core the bot runs, driven from a terminal.

Each module of this package registers the sub-commands of one concern; this one assembles the parser,
reads the settings once and maps failures to exit codes: 0 success, 1 runtime failure (one line on
stderr), 2 usage or settings error.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import pkgutil
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.catalogue.watcher import SuspiciousCatalogue
from bot.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandError
from bot.gateway import GatewayError
from bot.settings import Settings, SettingsError, load_settings
from bot.store import StoreError


def build_parser() -> argparse.ArgumentParser:
    """Every module of this package with a `register` function adds its sub-commands; none is listed by hand."""
    parser = argparse.ArgumentParser(prog="scout", description="Model Scout: spot and attribute stealth models.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"settings error: {error}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    handler: Callable[[Settings, argparse.Namespace], Awaitable[int]] = args.handler
    try:
        return asyncio.run(handler(settings, args))
    except (CommandError, GatewayError, StoreError, SuspiciousCatalogue) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


def entry_point() -> None:
    sys.exit(main())
