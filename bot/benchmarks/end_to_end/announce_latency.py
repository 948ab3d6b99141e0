"""Time from a stealth model's first appearance in the catalogue to its announcement with guesses.

Every probe of the stealth model takes `--probe-latency` seconds (2 by default) at the fake gateway,
and the target is at most poll interval + slowest probe + 1 s: the probes must run concurrently,
never one after another. The bot is the real one (`ScoutBot` + `Pipeline`, deployment defaults for
probing) with the shortest poll interval the settings allow (5 s), on a store whose references were
calibrated first, so the guesses are real.

Each run places the appearance in the worst spot, just after a poll has been answered, so the bot
waits a whole interval before it can see the model; a launch at a random moment waits half that on
average. `appeared` is the moment the fake starts serving the new catalogue; the breakdown gives,
from then: the bot's next catalogue request (poll detect), the first post in the channel (before any
guess), the first and last probe request, and the edit that carries the guesses.

    scout bench announce-latency [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.benchmarks.end_to_end.harness import bench_settings, calibrate_references, finish, known_catalogue, running_bot
from bot.benchmarks.measure import machine
from bot.settings import MIN_POLL_INTERVAL_SECONDS, Settings
from bot.store import Store
from bot.testing.discord import ChannelSpec, FakeDiscord, GuildSpec, StoredMessage
from bot.testing.gateway_server import FakeGateway
from bot.testing.scripted_labs import STEALTH_ENTRY, STEALTH_ID, install_labs, stealth_model

MARGIN_S = 1.0
STAGES = ("poll_detect", "first_post", "first_probe", "last_probe", "with_guesses")


def _fields(message: StoredMessage) -> dict[str, str]:
    return {field["name"]: field["value"] for field in (message.embeds or [{}])[0].get("fields", [])}


def _is_announcement(message: StoredMessage) -> bool:
    return _fields(message).get("Listing", "").startswith(f"`{STEALTH_ID}`")


def _has_guesses(message: StoredMessage) -> bool:
    lead = (message.embeds or [{}])[0].get("description") or ""
    return _is_announcement(message) and not lead.startswith("**Probing")


async def _wait_for_poll_after(store: Store, poll_id: int, timeout: float) -> int:
    """The id of the first successful poll newer than `poll_id`, once it is recorded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = await store.catalogue.last_successful_poll()
        if latest is not None and latest.id > poll_id and latest.finished_at:
            return latest.id
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no poll within {timeout}s")


async def one_run(template: Path, folder: Path, run: int, poll_interval: float, probe_latency: float) -> dict[str, Any]:
    """One launch on a fresh copy of the calibrated store; seconds from the appearance to each stage."""
    database = folder / f"run{run}.db"
    shutil.copyfile(template, database)
    channel = ChannelSpec("model-scout")
    guild = GuildSpec(name="Bench Guild", channels=[channel])
    async with FakeGateway(api_key=None) as gateway, FakeDiscord(guilds=[guild]) as fake:
        install_labs(gateway)
        gateway.set_catalogue(known_catalogue())
        gateway.add_model(stealth_model(latency_s=probe_latency))
        settings = bench_settings(
            fake, gateway, database, poll_interval_seconds=poll_interval, announce_channel_id=channel.id
        )
        async with await Store.open(database) as store, running_bot(settings, fake, store):
            before = await store.catalogue.last_successful_poll()
            await _wait_for_poll_after(store, before.id if before else 0, timeout=poll_interval * 3)
            appeared = time.monotonic()
            gateway.set_catalogue([*known_catalogue(), STEALTH_ENTRY])
            give_up_after = poll_interval + probe_latency + 60
            announcement = await fake.wait_for_message(channel.id, _is_announcement, timeout=give_up_after)
            posted = time.monotonic()
            await fake.wait_until(
                lambda: _has_guesses(announcement), timeout=give_up_after, what="the edit with guesses"
            )
            guessed = time.monotonic()
            guess = await store.guesses.latest(STEALTH_ID)
        polls = [r.time for r in gateway.requests_to("models") if r.time >= appeared]
        probes = [r.time for r in gateway.requests_to("chat", model=STEALTH_ID)]
        return {
            "poll_detect": polls[0] - appeared,
            "first_post": posted - appeared,
            "first_probe": probes[0] - appeared,
            "last_probe": probes[-1] - appeared,
            "with_guesses": guessed - appeared,
            "probe_requests": len(probes),
            "peak_concurrent_probes": gateway.peak_chat_concurrency,
            "top_guess": f"{guess.top_vendor} {guess.confidence:.0%}" if guess else None,
        }


async def prepare_template(folder: Path) -> Path:
    """A store with the known models calibrated as references, copied for every run."""
    template = folder / "calibrated.db"
    async with FakeGateway(api_key=None) as gateway, FakeDiscord() as fake:
        install_labs(gateway)
        settings = bench_settings(fake, gateway, template)
        async with await Store.open(template) as store:
            await calibrate_references(store, settings)
    return template


async def run_announce_benchmark(
    runs: int = 3, poll_interval: float = MIN_POLL_INTERVAL_SECONDS, probe_latency: float = 2.0
) -> dict[str, Any]:
    """`runs` launches on copies of one calibrated store: each stage's min/median/max, `met` against the target."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        template = await prepare_template(folder)
        results = [await one_run(template, folder, run, poll_interval, probe_latency) for run in range(runs)]
    target = poll_interval + probe_latency + MARGIN_S
    totals = [result["with_guesses"] for result in results]
    summary = {
        stage: {
            "min": round(min(r[stage] for r in results), 2),
            "median": round(statistics.median(r[stage] for r in results), 2),
            "max": round(max(r[stage] for r in results), 2),
        }
        for stage in STAGES
    }
    return {
        "benchmark": "announce_latency",
        "runs": runs,
        "poll_interval_s": poll_interval,
        "probe_latency_s": probe_latency,
        "target_s": target,
        "seconds_from_appearance": summary,
        "probe_requests": int(results[0]["probe_requests"]),
        "peak_concurrent_probes": int(max(r["peak_concurrent_probes"] for r in results)),
        "top_guesses": [r["top_guess"] for r in results],
        "per_run": [{stage: round(r[stage], 3) for stage in STAGES} for r in results],
        "met": max(totals) <= target,
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as lines for a person."""
    summary = report["seconds_from_appearance"]
    lines = [
        f"stealth model appearance -> announcement with guesses: {report['runs']} runs, poll interval "
        f"{report['poll_interval_s']:g} s, every probe {report['probe_latency_s']:g} s at the gateway, "
        f"appearance just after a poll (worst case)",
        f"  {'seconds after appearance':28} {'min':>6} {'median':>7} {'max':>6}",
    ]
    labels = {
        "poll_detect": "next catalogue request",
        "first_post": "announcement posted",
        "first_probe": "first probe sent",
        "last_probe": "last probe sent",
        "with_guesses": "edited with guesses",
    }
    for stage in STAGES:
        item = summary[stage]
        lines.append(f"  {labels[stage]:28} {item['min']:6.2f} {item['median']:7.2f} {item['max']:6.2f}")
    verdict = "met" if report["met"] else "MISSED"
    lines.append(
        f"  {report['probe_requests']} probe requests per run, at most {report['peak_concurrent_probes']} at once; "
        f"target <= {report['target_s']:g} s (interval + slowest probe + 1 s): {verdict}"
    )
    lines.append(
        "  top guess per run (the stealth model is scripted to write like zhipu): "
        f"{', '.join(map(str, report['top_guesses']))}"
    )
    lines.append(f"  machine: {report['machine']}")
    return "\n".join(lines)


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures; exit 1 when the target was missed, so a script can tell."""
    report = await run_announce_benchmark(args.runs, args.poll_interval, args.probe_latency)
    return finish(report, format_report(report), args.json)
