"""`scout bench attribution`: vendor attribution accuracy and calibration of the style engine on a corpus.

The protocol (leave-one-model-out, or queries against a reference corpus; K prompts per seeded draw)
lives in `bot.benchmarks.attribution.protocol`; this module only exposes it on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.attribution.corpus import CorpusError
from bot.console import positive_int
from bot.errors import EXIT_FAILURE, EXIT_OK, CommandError
from bot.settings import Settings


async def cmd_bench_attribution(settings: Settings, args: argparse.Namespace) -> int:
    """Run the benchmark off the event loop; a bad corpus is one error line; exit 1 when a target is missed."""
    from bot.benchmarks.attribution.protocol import run_attribution_benchmark

    options: dict[str, Any] = {"probes": args.probes, "seed": args.seed, "open_set": args.open_set}
    if args.draws is not None:
        options["draws"] = args.draws
    if args.references:
        options["references_path"] = args.references
    try:
        report = await asyncio.to_thread(run_attribution_benchmark, args.corpus, **options)
    except CorpusError as error:
        raise CommandError(str(error)) from None
    if args.json:
        payload = report.to_json()
        print(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False))
    else:
        print(report.format_text())
    return EXIT_OK if all(target.met for target in report.targets) else EXIT_FAILURE


def register(names: argparse._SubParsersAction) -> None:
    """Add `scout bench attribution` and its flags."""
    bench = names.add_parser("attribution", help="vendor attribution accuracy and calibration on a corpus")
    bench.add_argument(
        "--corpus", required=True, metavar="FILE", help="JSONL(.gz) of {model, vendor, prompt_id, prompt, response}"
    )
    bench.add_argument("--references", metavar="FILE", help="attribute every corpus model against this corpus instead")
    bench.add_argument("--probes", type=positive_int, default=8, metavar="K", help="prompts per draw (default 8)")
    bench.add_argument("--draws", type=positive_int, metavar="N", help="random draws of K prompts")
    bench.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random draws (default 0)")
    bench.add_argument(
        "--open-set",
        action="store_true",
        help='also play each query with its whole vendor removed and report how well "unknown" spots it',
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_attribution)
