"""`scout bench catalogue`: one poll of a large catalogue over HTTP, diffed against a large store.

The catalogue is synthetic but shaped like OpenRouter's (same fields, realistic text lengths), so the
benchmark runs anywhere; the HTTP side is a real aiohttp server on 127.0.0.1 and the store a real
SQLite file, so the figure covers fetch, parse, stealth verdicts, diff and the write transaction.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.benchmarks.measure import Stopwatch, current_rss_mib, machine, peak_rss_mib
from bot.catalogue.watcher import poll_gateway
from bot.cli.common import EXIT_OK, non_negative_int, positive_int, print_json
from bot.gateway import GatewayClient
from bot.settings import Settings
from bot.store import Store

AUTHORS = ("openai", "anthropic", "google", "qwen", "mistralai", "meta-llama", "deepseek", "z-ai", "newlab", "tuner")


def synthetic_entry(index: int, rng: random.Random) -> dict[str, Any]:
    author = AUTHORS[index % len(AUTHORS)]
    price = f"{rng.randint(1, 3000) / 1e8:.8f}"
    return {
        "id": f"{author}/model-{index}",
        "canonical_slug": f"{author}/model-{index}-2026",
        "hugging_face_id": f"{author}/Model-{index}" if index % 3 == 0 else None,
        "name": f"{author.title()}: Model {index}",
        "created": 1_700_000_000 + index,
        "description": " ".join(
            rng.choice(("fast", "capable", "model", "for", "agents", "coding", "reasoning")) for _ in range(60)
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


def catalogues(size: int, changes: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A catalogue and its successor with `changes` edits: a third repriced, a third removed, a third new."""
    rng = random.Random(seed)
    before = [synthetic_entry(index, rng) for index in range(size)]
    after = json.loads(json.dumps(before))
    third = changes // 3
    for entry in after[:third]:
        entry["pricing"] = {"prompt": "0.00000999", "completion": "0.00000999"}
    del after[third : 2 * third]
    after.extend(synthetic_entry(size + index, rng) for index in range(changes - 2 * third))
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


async def run_catalogue_benchmark(size: int = 5000, changes: int = 300, seed: int = 0) -> dict[str, Any]:
    before, after = catalogues(size, changes, seed)
    bodies = [json.dumps({"data": before}).encode(), json.dumps({"data": after}).encode()]
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
    host, port = runner.addresses[0][:2]
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with (
                await Store.open(Path(folder) / "bench.db") as store,
                GatewayClient(f"http://{host}:{port}/api/v1") as client,
            ):
                with Stopwatch() as baseline:
                    await poll_gateway(store, client)
                rss_before = current_rss_mib()
                with Stopwatch() as diff:
                    result = await poll_gateway(store, client)
                rss_after = current_rss_mib()
    finally:
        await runner.cleanup()
    kinds: dict[str, int] = {}
    for event in result.events:
        kinds[event.kind] = kinds.get(event.kind, 0) + 1
    return {
        "benchmark": "catalogue",
        "catalogue_models": len(after),
        "store_models": size,
        "catalogue_bytes": len(bodies[1]),
        "baseline_poll_seconds": round(baseline.seconds, 3),
        "diff_poll_seconds": round(diff.seconds, 3),
        "events": kinds,
        "rss_mib_before_diff": round(rss_before, 1),
        "rss_mib_after_diff": round(rss_after, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "machine": machine(),
    }


async def cmd_bench_catalogue(settings: Settings, args: argparse.Namespace) -> int:
    report = await run_catalogue_benchmark(args.models, args.changes, args.seed)
    if args.json:
        print_json(report)
    else:
        print(
            f"catalogue poll+diff: {report['catalogue_models']} listed vs {report['store_models']} stored, "
            f"{sum(report['events'].values())} events {report['events']}\n"
            f"  diff poll {report['diff_poll_seconds']:.3f} s (baseline poll {report['baseline_poll_seconds']:.3f} s), "
            f"RSS {report['rss_mib_before_diff']:.0f} -> {report['rss_mib_after_diff']:.0f} MiB, peak {report['peak_rss_mib']:.0f} MiB\n"
            f"  machine: {report['machine']}"
        )
    return EXIT_OK


def register(names: argparse._SubParsersAction) -> None:
    bench = names.add_parser("catalogue", help="poll and diff a large catalogue against a large store")
    bench.add_argument("--models", type=positive_int, default=5000, help="catalogue and store size (default 5000)")
    bench.add_argument(
        "--changes", type=non_negative_int, default=300, help="changes between the two polls (default 300)"
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the random catalogue (default 0)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=cmd_bench_catalogue)
