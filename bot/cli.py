"""The `scout` command: the same core the bot runs, driven from a terminal.

Exit codes: 0 success, 1 runtime failure (one line on stderr), 2 usage or settings error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.catalogue.diff import CatalogueEvent
from bot.catalogue.entry import EntryError, load_catalogue_file
from bot.catalogue.watcher import PollResult, SuspiciousCatalogue, poll_gateway, record_catalogue
from bot.gateway import GatewayClient, GatewayError
from bot.settings import Settings, SettingsError, load_settings
from bot.store import Store, StoreError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit code 1."""


def _print_json(record: object) -> None:
    print(json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def format_event(event: CatalogueEvent) -> str:
    tag = "STEALTH " if event.stealth else ""
    line = f"{event.kind.upper():8} {tag}{event.model_id}  {event.name}"
    if event.kind == "changed":
        line += f"  [{', '.join(event.fields)}]"
    if event.kind == "removed" and event.reveal_candidates:
        line += f"  reveal candidates: {', '.join(event.reveal_candidates)}"
    if event.stealth and event.kind in ("new", "returned"):
        line += "".join(f"\n           - {reason}" for reason in event.stealth_reasons)
    return line


async def cmd_scan(settings: Settings, args: argparse.Namespace) -> int:
    async with await Store.open(settings.database_path) as store:
        result: PollResult
        if args.catalogue:
            try:
                raw_entries = load_catalogue_file(args.catalogue)
            except (OSError, ValueError, EntryError) as error:
                raise CommandError(f"cannot read catalogue {args.catalogue}: {error}") from None
            result = await record_catalogue(store, raw_entries, args.catalogue)
        else:
            async with GatewayClient(settings.openrouter_base_url, _secret(settings.openrouter_api_key)) as client:
                result = await poll_gateway(store, client)
    for skipped in result.skipped:
        print(f"skipped entry #{skipped.position} ({skipped.model_id}): {skipped.reason}", file=sys.stderr)
    for event in result.events:
        if args.json:
            _print_json(event.to_json())
        else:
            print(format_event(event))
    if not args.json and result.baseline:
        print(f"baseline recorded: {result.listed} models listed", file=sys.stderr)
    return EXIT_OK


async def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    async with await Store.open(settings.database_path) as store:
        models = await store.catalogue.models(stealth_only=args.stealth)
    for model in models:
        if args.json:
            _print_json(
                {
                    "model_id": model.id, "name": model.name, "vendor": model.vendor, "stealth": model.stealth,
                    "stealth_score": model.stealth_score, "stealth_reasons": list(model.stealth_reasons),
                    "first_seen": model.first_seen, "last_seen": model.last_seen, "removed_at": model.removed_at,
                }
            )
        else:
            flags = ("STEALTH " if model.stealth else "") + ("removed " if model.removed_at else "")
            print(f"{model.id:50} {flags}{model.name}  (first seen {model.first_seen})")
    return EXIT_OK


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        print("DISCORD_TOKEN is not set: put the bot token in the environment or .env to start the bot", file=sys.stderr)
        return EXIT_USAGE
    from bot.client import run_bot

    await run_bot(settings)
    return EXIT_OK


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scout", description="Model Scout: spot and attribute stealth models.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="poll the catalogue once, record it and print the events")
    scan.add_argument("--catalogue", metavar="FILE", help="read a saved GET /models response instead of the gateway")
    scan.add_argument("--json", action="store_true", help="one JSON object per event per line")
    scan.set_defaults(handler=cmd_scan)

    models = commands.add_parser("models", help="list the models the store knows")
    models.add_argument("--stealth", action="store_true", help="only stealth models")
    models.add_argument("--json", action="store_true", help="one JSON object per model per line")
    models.set_defaults(handler=cmd_models)

    run = commands.add_parser("run", help="start the Discord bot (same as python -m bot)")
    run.set_defaults(handler=cmd_run)
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
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
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
