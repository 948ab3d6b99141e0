"""`scout bench catalogue`: one poll of a large catalogue over HTTP, diffed against a large store.

The catalogue is synthetic but shaped like OpenRouter's (same fields, realistic text lengths), so the
benchmark runs anywhere; the HTTP side is a real aiohttp server on 127.0.0.1 and the store a real
SQLite file, so the figure covers fetch, parse, stealth verdicts, diff and the write transaction.

The catalogues are built and served by a child process, so the peak memory reported is the poller's own,
as the bot's would be. While each poll runs, a ticker task measures how late the event loop wakes it: the
longest stall is how long an interaction would have waited for the bot's attention.

Targets (issue 11): the poller's peak RSS below the 601 MB (573 MiB) measured before its fixes, and no
event-loop stall near Discord's 3 s acknowledgement window (at most 1 s, a third of it). The command exits
1 when one is missed; `--max-rss-mib` and `--max-stall-seconds` state other bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.benchmarks.measure import Stopwatch, Target, current_rss_mib, machine, peak_rss_mib, targets_json
from bot.console import non_negative_int, positive_int, print_json
from bot.errors import EXIT_FAILURE, EXIT_OK
from bot.gateway import DEFAULT_CATALOGUE_MAX_BYTES, GatewayClient
from bot.jobs.polling import poll_gateway
from bot.settings import Settings
from bot.store import Store

TICK_SECONDS = 0.01
MAX_RSS_MIB = 573.0
MAX_STALL_SECONDS = 1.0
DESCRIPTION_WORDS = 60

AUTHORS = ("openai", "anthropic", "google", "qwen", "mistralai", "meta-llama", "deepseek", "z-ai", "newlab", "tuner")


def synthetic_entry(index: int, rng: random.Random, description_words: int = DESCRIPTION_WORDS) -> dict[str, Any]:
    """A listing shaped like OpenRouter's, with a random price, so the diff has real work to do."""
    author = AUTHORS[index % len(AUTHORS)]
    price = f"{rng.randint(1, 3000) / 1e8:.8f}"
    return {
        "id": f"{author}/model-{index}",
        "canonical_slug": f"{author}/model-{index}-2026",
        "hugging_face_id": f"{author}/Model-{index}" if index % 3 == 0 else None,
        "name": f"{author.title()}: Model {index}",
        "created": 1_700_000_000 + index,
        "description": " ".join(
            rng.choice(("fast", "capable", "model", "for", "agents", "coding", "reasoning"))
            for _ in range(description_words)
        ),
        "context_length": rng.choice((8192, 32768, 131072, 1_000_000)),
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {"prompt": price, "completion": price},
        "top_provider": {"context_length": 131072, "max_completion_tokens": 8192, "is_moderated": False},
        "supported_parameters": ["max_tokens", "temperature", "top_p", "tools"],
    }


def catalogues(
    size: int, changes: int, seed: int, description_words: int = DESCRIPTION_WORDS
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A catalogue and its successor with `changes` edits: a third repriced, a third removed, a third new."""
    rng = random.Random(seed)
    before = [synthetic_entry(index, rng, description_words) for index in range(size)]
    after = json.loads(json.dumps(before))
    third = changes // 3
    for entry in after[:third]:
        entry["pricing"] = {"prompt": "0.00000999", "completion": "0.00000999"}
    del after[third : 2 * third]
    after.extend(synthetic_entry(size + index, rng, description_words) for index in range(changes - 2 * third))
    after.append(
        {
            "id": "openrouter/kestrel-alpha",
            "name": "Kestrel Alpha",
            "description": "A cloaked model.",
            "pricing": {"prompt": "0", "completion": "0"},
            "supported_parameters": ["temperature"],
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        }
    )
    return before, after


async def serve_catalogues(size: int, changes: int, seed: int, description_words: int) -> None:
    """The child process: serve the catalogue, then its successor, and print `port bytes-before bytes-after`."""
    before, after = catalogues(size, changes, seed, description_words)
    bodies = [json.dumps({"data": before}).encode(), json.dumps({"data": after}).encode()]
    del before, after
    served = 0

    async def models(_: web.Request) -> web.Response:
        nonlocal served
        body = bodies[min(served, 1)]
        served += 1
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v1/models", models)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], len(bodies[0]), len(bodies[1]), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


class LoopStalls:
    """A ticker that sleeps `TICK_SECONDS` at a time and records how much later than asked it woke up."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopStalls:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + TICK_SECONDS
            await asyncio.sleep(TICK_SECONDS)
            self.worst = max(self.worst, loop.time() - asked)


async def run_catalogue_benchmark(
    size: int = 5000, changes: int = 300, seed: int = 0, description_words: int = DESCRIPTION_WORDS
) -> dict[str, Any]:
    """Two polls of a served catalogue against a fresh store: times, memory and the event loop's longest stall."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import asyncio, sys; from bot.benchmarks.catalogue import serve_catalogues; "
        "asyncio.run(serve_catalogues(*map(int, sys.argv[1:])))",
        *map(str, (size, changes, seed, description_words)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdin is not None
    port, before_bytes, after_bytes = map(int, (await server.stdout.readline()).split())
    body_cap = max(DEFAULT_CATALOGUE_MAX_BYTES, before_bytes, after_bytes)
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with (
                await Store.open(Path(folder) / "bench.db") as store,
                GatewayClient(f"http://127.0.0.1:{port}/api/v1", max_body_bytes=body_cap) as client,
            ):
                async with LoopStalls() as baseline_stalls:
                    with Stopwatch() as baseline:
                        await poll_gateway(store, client)
                rss_before = current_rss_mib()
                async with LoopStalls() as diff_stalls:
                    with Stopwatch() as diff:
                        result = await poll_gateway(store, client)
                rss_after = current_rss_mib()
    finally:
        server.stdin.close()
        await server.wait()
    kinds: dict[str, int] = {}
    for event in result.events:
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    return {
        "benchmark": "catalogue",
        "catalogue_models": result.listed + len(result.skipped),
        "store_models": size,
        "catalogue_bytes": after_bytes,
        "body_cap_bytes": body_cap,
        "baseline_poll_seconds": round(baseline.seconds, 3),
        "diff_poll_seconds": round(diff.seconds, 3),
        "baseline_poll_longest_loop_stall_seconds": round(baseline_stalls.worst, 3),
        "diff_poll_longest_loop_stall_seconds": round(diff_stalls.worst, 3),
        "events": kinds,
        "rss_mib_before_diff": round(rss_before, 1),
        "rss_mib_after_diff": round(rss_after, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "machine": machine(),
    }


def targets(report: dict[str, Any], max_rss_mib: float, max_stall_seconds: float) -> list[Target]:
    """Issue 11's bounds on the poller's peak memory and its longest event-loop stall."""
    stall = max(report["diff_poll_longest_loop_stall_seconds"], report["baseline_poll_longest_loop_stall_seconds"])
    return [
        Target("peak_rss_mib", report["peak_rss_mib"], max_rss_mib, True, "issue 11"),
        Target("longest_loop_stall_seconds", stall, max_stall_seconds, True, "issue 11"),
    ]


async def cmd_bench_catalogue(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures of `scout bench catalogue`; exit 1 when a target is missed."""
    report = await run_catalogue_benchmark(args.models, args.changes, args.seed, args.description_words)
    checked = targets(report, args.max_rss_mib, args.max_stall_seconds)
    report["targets"] = targets_json(checked)
    if args.json:
        print_json(report)
    else:
        print(
            f"catalogue poll+diff: {report['catalogue_models']} listed vs {report['store_models']} stored, "
            f"{sum(report['events'].values())} events {report['events']}\n"
            f"  catalogue {report['catalogue_bytes'] / 1e6:.1f} MB; "
            f"diff poll {report['diff_poll_seconds']:.3f} s (baseline poll {report['baseline_poll_seconds']:.3f} s); "
            f"longest event-loop stall {report['diff_poll_longest_loop_stall_seconds']:.3f} s "
            f"(baseline poll {report['baseline_poll_longest_loop_stall_seconds']:.3f} s)\n  "
            f"RSS {report['rss_mib_before_diff']:.0f} -> {report['rss_mib_after_diff']:.0f} MiB, "
            f"peak {report['peak_rss_mib']:.0f} MiB\n"
            f"  machine: {report['machine']}\n"
            "targets:\n" + "\n".join(target.line() for target in checked)
        )
    return EXIT_OK if all(target.met for target in checked) else EXIT_FAILURE


def register(names: argparse._SubParsersAction) -> None:
    """Add `scout bench catalogue`."""
    bench = names.add_parser("catalogue", help="poll and diff a large catalogue against a large store")
    bench.add_argument("--models", type=positive_int, default=5000, help="catalogue and store size (default 5000)")
    bench.add_argument(
        "--changes", type=non_negative_int, default=300, help="changes between the two polls (default 300)"
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the random catalogue (default 0)")
    bench.add_argument(
        "--description-words",
        type=positive_int,
        default=DESCRIPTION_WORDS,
        help=f"words per synthetic description (default {DESCRIPTION_WORDS}; fewer makes a leaner catalogue)",
    )
    bench.add_argument(
        "--max-rss-mib", type=float, default=MAX_RSS_MIB, help=f"peak RSS target (default {MAX_RSS_MIB:g} MiB)"
    )
    bench.add_argument(
        "--max-stall-seconds",
        type=float,
        default=MAX_STALL_SECONDS,
        help=f"longest event-loop stall target (default {MAX_STALL_SECONDS:g} s)",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_catalogue)
