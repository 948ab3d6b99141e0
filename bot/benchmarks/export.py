"""`scout bench export`: stream a guild's vote log of a million votes to CSV and to JSON Lines.

The issue asks that an export's memory not grow with the log (under 200 MB RSS for a million votes),
so the figure that matters is the process's peak resident memory, next to the wall time of each
format. The votes are loaded through the store's bulk import (`VoteStore.import_votes`) in batches,
untimed; `--database` keeps the loaded file so a later run reuses it, topping it up if it was cut short.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.benchmarks.measure import Stopwatch, current_rss_mib, machine, peak_rss_mib
from bot.console import positive_int, print_json
from bot.errors import EXIT_FAILURE, EXIT_OK
from bot.export import FORMATS, export_to_directory
from bot.settings import Settings
from bot.store import Store
from bot.store.votes import Vote

GUILD_ID = 424242
MEMBERS = 20_000
VENDORS = ("openai", "anthropic", "google", "zhipu", "alibaba", "deepseek", "mistral", "meta")
TARGET_PEAK_RSS_MIB = 200.0
LOAD_BATCH = 20_000


def synthetic_vote(index: int) -> tuple[str, int, str, str]:
    """The `index`-th vote: a distinct (model, member) pair each time, so every vote stays a current vote."""
    model_id = f"openrouter/stealth-{index // MEMBERS}"
    member_id = 10_000_000 + index % MEMBERS
    return model_id, member_id, f"member-{member_id}", VENDORS[index % len(VENDORS)]


async def load_votes(store: Store, total: int, on_progress: Callable[[int], None] | None = None) -> int:
    """Load votes until the guild holds `total`, in batches; how many this call added (0 when already loaded)."""
    already = (await store.members.counts(GUILD_ID))["votes"]
    started = datetime(2026, 1, 1, tzinfo=UTC)
    for batch_start in range(already, total, LOAD_BATCH):
        batch = []
        for index in range(batch_start, min(batch_start + LOAD_BATCH, total)):
            model_id, member_id, name, vendor = synthetic_vote(index)
            voted_at = (
                (started + timedelta(milliseconds=index)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            )
            batch.append(Vote(GUILD_ID, model_id, member_id, name, vendor, voted_at))
        await store.votes.import_votes(batch)
        if on_progress is not None:
            on_progress(batch_start + len(batch))
    return max(0, total - already)


async def run_export_benchmark(
    votes: int = 1_000_000, database: Path | None = None, on_progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Load `votes` votes (unless `database` already holds them), then export them in every format."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = database or folder / "bench.db"
        async with await Store.open(path) as store:
            with Stopwatch() as loading:
                cast = await load_votes(store, votes, on_progress)
            rss_before = current_rss_mib()
            formats: dict[str, dict[str, Any]] = {}
            for fmt in FORMATS:
                with Stopwatch() as timer:
                    files = await export_to_directory(store.members.export_rows(GUILD_ID), fmt, folder, f"votes.{fmt}")
                formats[fmt] = {
                    "rows": files.rows,
                    "seconds": round(timer.seconds, 2),
                    "rows_per_second": round(files.rows / timer.seconds) if timer.seconds else None,
                    "file_mib": round(sum(p.stat().st_size for p in files.paths) / 2**20, 1),
                    "peak_rss_mib_so_far": round(peak_rss_mib(), 1),
                }
                for exported in files.paths:
                    exported.unlink()
    peak = peak_rss_mib()
    return {
        "benchmark": "export",
        "votes": votes,
        "votes_cast_now": cast,
        "load_seconds": round(loading.seconds, 1),
        "rss_mib_before_export": round(rss_before, 1),
        "formats": formats,
        "peak_rss_mib": round(peak, 1),
        "target_peak_rss_mib": TARGET_PEAK_RSS_MIB,
        "met": peak < TARGET_PEAK_RSS_MIB and all(item["rows"] == votes for item in formats.values()),
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as a person reads them; `--json` is for scripts."""
    lines = [
        f"export of {report['votes']:,} votes "
        f"(loaded {report['votes_cast_now']:,} now in {report['load_seconds']} s, not timed):"
    ]
    for fmt, item in report["formats"].items():
        lines.append(
            f"  {fmt:5} {item['rows']:,} rows in {item['seconds']:.2f} s ({item['rows_per_second']:,} rows/s), "
            f"{item['file_mib']} MiB file"
        )
    verdict = "met" if report["met"] else "MISSED"
    lines.append(
        f"  RSS before export {report['rss_mib_before_export']:.0f} MiB, process peak {report['peak_rss_mib']:.0f} MiB "
        f"(target < {report['target_peak_rss_mib']:.0f} MiB: {verdict})"
    )
    lines.append(f"  machine: {report['machine']}")
    return "\n".join(lines)


async def cmd_bench_export(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures of `scout bench export`."""

    def progress(done: int) -> None:
        if not args.json:
            print(f"  loaded {done:,} votes", flush=True)

    report = await run_export_benchmark(args.votes, args.database, progress)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return EXIT_OK if report["met"] else EXIT_FAILURE


def register(names: argparse._SubParsersAction) -> None:
    """Add `scout bench export`."""
    bench = names.add_parser("export", help="export a million-vote log to CSV and JSONL: time and peak memory")
    bench.add_argument("--votes", type=positive_int, default=1_000_000, help="votes in the log (default 1,000,000)")
    bench.add_argument(
        "--database", type=Path, metavar="FILE", help="keep the loaded votes in FILE and reuse them next time"
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_export)
