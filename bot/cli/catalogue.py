"""`scout scan` and `scout models`: the catalogue watcher from a terminal."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from bot.catalogue.diff import CatalogueEvent
from bot.catalogue.entry import EntryError, load_catalogue_file
from bot.console import print_json
from bot.errors import EXIT_OK, CommandError
from bot.gateway import GatewayClient
from bot.jobs.polling import PollResult, poll_gateway, record_catalogue
from bot.settings import Settings
from bot.store import Store


def format_event(event: CatalogueEvent) -> str:
    """One event as a reader scans it: kind, id and name, then what changed or why it looks anonymous."""
    tag = "STEALTH " if event.stealth else ""
    line = f"{event.kind.upper():8} {tag}{event.model_id}  {event.name}"
    if event.kind == "changed":
        line += "".join(f"\n           {change}" for change in event.change_lines())
    if event.kind == "removed" and event.reveal_candidates:
        line += f"  reveal candidates: {', '.join(event.reveal_candidates)}"
    if event.stealth and event.kind in ("new", "returned"):
        line += "".join(f"\n           - {reason}" for reason in event.stealth_reasons)
    return line


def summary_line(events: list[CatalogueEvent]) -> str:
    """The last line of `scout scan`: how many models are new, stealth, changed, removed (and returned)."""
    counts = Counter(event.kind for event in events)
    stealth = sum(1 for event in events if event.stealth and event.kind in ("new", "returned"))
    line = f"summary: {counts['new']} new, {stealth} stealth, {counts['changed']} changed, {counts['removed']} removed"
    return line + (f", {counts['returned']} returned" if counts["returned"] else "")


async def cmd_scan(settings: Settings, args: argparse.Namespace) -> int:
    """Record one catalogue (from the gateway or a saved file) and print what changed."""
    async with await Store.from_settings(settings) as store:
        result: PollResult
        if args.catalogue:
            try:
                raw_entries = load_catalogue_file(args.catalogue)
            except (OSError, ValueError, EntryError) as error:
                raise CommandError(f"cannot read catalogue {args.catalogue}: {error}") from None
            result = await record_catalogue(store, raw_entries, args.catalogue)
        else:
            async with GatewayClient.from_settings(settings) as client:
                result = await poll_gateway(store, client)
    for skipped in result.skipped:
        print(f"skipped entry #{skipped.position} ({skipped.model_id}): {skipped.reason}", file=sys.stderr)
    for event in result.events:
        if args.json:
            print_json(event.to_json())
        else:
            print(format_event(event))
    if not args.json and result.baseline:
        print(f"baseline recorded: {result.listed} models listed", file=sys.stderr)
    if not args.json:
        print(summary_line(result.events))
    return EXIT_OK


async def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    """List what the store knows; read-only, so a missing database is an error, not a new file."""
    async with await Store.from_settings(settings, create=False) as store:
        models = await store.catalogue.models(stealth_only=args.stealth)
    for model in models:
        if args.json:
            print_json(
                {
                    "model_id": model.id,
                    "name": model.name,
                    "vendor": model.vendor,
                    "stealth": model.stealth,
                    "stealth_score": model.stealth_score,
                    "stealth_reasons": list(model.stealth_reasons),
                    "first_seen": model.first_seen,
                    "last_seen": model.last_seen,
                    "removed_at": model.removed_at,
                }
            )
        else:
            flags = ("STEALTH " if model.stealth else "") + ("removed " if model.removed_at else "")
            print(f"{model.id:50} {flags}{model.name}  (first seen {model.first_seen})")
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout scan` and `scout models`."""
    scan = commands.add_parser("scan", help="poll the catalogue once, record it and print the events")
    scan.add_argument("--catalogue", metavar="FILE", help="read a saved GET /models response instead of the gateway")
    scan.add_argument("--json", action="store_true", help="one JSON object per event per line")
    scan.set_defaults(handler=cmd_scan)

    models = commands.add_parser("models", help="list the models the store knows")
    models.add_argument("--stealth", action="store_true", help="only stealth models")
    models.add_argument("--json", action="store_true", help="one JSON object per model per line")
    models.set_defaults(handler=cmd_models)
