"""A fresh install's first minutes: from the bot's start to the first card, its calibration line, and its guess.

This is what the README's quick start promises a new team. The bot starts on an empty database with an API
key and the deployment's defaults (probe rate, calibration budget and models per lab), in a server whose
channel is set; the fake gateway serves the real June 2026 catalogue (`../shared/data`), in which Owl Alpha
is listed anonymously, and answers every request of every model after `--probe-latency` seconds. So the bot
picks its references from the real catalogue, as it would in production, and probes them for real.

Calibration probes `CALIBRATION_PARALLEL_MODELS` reference models at a time, each with its requests at once
(a reference's 18 requests fit in one minute of the default rate limit, 20), so the round should take about
ceil(models / parallel) × (latency + 1 s); the target adds one poll's worth of slack.

    scout bench first-guess [--probe-latency 2] [--json]
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.attribution.guess import Guess
from bot.benchmarks.end_to_end.harness import API_KEY, bench_settings, finish, running_bot
from bot.benchmarks.measure import machine
from bot.catalogue.vendors import vendor_for_model_id
from bot.jobs.references import CALIBRATION_PARALLEL_MODELS
from bot.probes.suite import SUITE_VERSION
from bot.settings import Settings
from bot.store import Store
from bot.testing.discord import ChannelSpec, FakeDiscord, GuildSpec, StoredMessage
from bot.testing.gateway_server import SNAPSHOT_2026_06_07, FakeGateway, load_snapshot
from bot.testing.scripted_labs import LABS, lab_model, stealth_model

STEALTH = "openrouter/owl-alpha"
SLACK_S = 10.0
GIVE_UP_S = 1800.0
GUESS_LEADS = ("Most likely", "**Not sure:**")
"""How a card's lead starts once it has a guess: naming a lab, or saying it is not sure which."""
CALIBRATING = re.compile(r"\*\*Calibrating:\*\* (\d+) of (\d+) reference models")


def _said(guess: Guess) -> str:
    if guess.not_sure is not None:
        return f"not sure: {guess.not_sure.reason}"
    return f"{guess.top_vendor} {guess.confidence:.0%}"


def _description(message: StoredMessage) -> str:
    return (message.embeds or [{}])[0].get("description") or ""


def _lab_like(model_id: str) -> str:
    """Which scripted lab's habits a catalogue model answers with: its own when scripted, else one by its name."""
    vendor = vendor_for_model_id(model_id)
    if vendor is not None and vendor.key in LABS:
        return vendor.key
    return sorted(LABS)[sum(map(ord, model_id)) % len(LABS)]


async def run_first_guess_benchmark(probe_latency: float = 2.0) -> dict[str, Any]:
    """One fresh start; seconds from the bot's first catalogue request to each stage."""
    snapshot = load_snapshot(SNAPSHOT_2026_06_07)
    channel = ChannelSpec("model-scout")
    guild = GuildSpec(name="Fresh Guild", channels=[channel])
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "fresh.db"
        async with FakeGateway(api_key=API_KEY) as gateway, FakeDiscord(guilds=[guild]) as fake:
            gateway.set_catalogue(snapshot)
            for entry in snapshot["data"]:
                if entry["id"] != STEALTH:
                    gateway.add_model(lab_model(entry["id"], _lab_like(entry["id"]), latency_s=probe_latency))
            gateway.add_model(stealth_model(latency_s=probe_latency))
            settings = bench_settings(fake, gateway, database, poll_interval_seconds=60, announce_channel_id=channel.id)
            async with await Store.open(database) as store, running_bot(settings, fake, store):
                started = time.monotonic()
                card = await fake.wait_for_message(channel.id, lambda m: STEALTH in str(m.embeds), timeout=120)
                posted = time.monotonic()
                await fake.wait_until(lambda: CALIBRATING.search(_description(card)), timeout=120)
                calibrating = time.monotonic()
                shown = CALIBRATING.search(_description(card))
                await fake.wait_until(
                    lambda: _description(card).startswith(GUESS_LEADS), timeout=GIVE_UP_S, what="the first guess"
                )
                guessed = time.monotonic()
                progress = await store.calibration.progress(SUITE_VERSION)
                failed = [t for t in await store.calibration.targets(SUITE_VERSION) if t.state == "failed"]
                guess = await store.guesses.latest(STEALTH)
        first_request = min(request.time for request in gateway.requests)
    assert shown is not None
    references = progress.planned
    target = math.ceil(references / CALIBRATION_PARALLEL_MODELS) * (probe_latency + 1) + SLACK_S
    return {
        "benchmark": "first_guess",
        "probe_latency_s": probe_latency,
        "reference_models": references,
        "references_done": progress.done,
        "calibration_requests": progress.requests,
        "references_failed": {target.model_id: target.detail for target in failed},
        "seconds_from_start": {
            "first_poll": round(first_request - started, 2),
            "card_posted": round(posted - started, 2),
            "calibrating_line": round(calibrating - started, 2),
            "first_guess": round(guessed - started, 2),
        },
        "calibrating_line_said": shown.group(0).replace("**", ""),
        "top_guess": _said(guess) if guess else None,
        "target_s": round(target, 1),
        "met": guessed - started <= target,
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as lines for a person."""
    stages = report["seconds_from_start"]
    verdict = "met" if report["met"] else "MISSED"
    return "\n".join(
        [
            f"fresh install, real June 2026 catalogue, every request {report['probe_latency_s']:g} s at the gateway:",
            f'  card posted {stages["card_posted"]:.1f} s after the start, with "{report["calibrating_line_said"]}" '
            f"by {stages['calibrating_line']:.1f} s",
            f"  first guess on the card {stages['first_guess']:.1f} s after the start ({report['top_guess']}): "
            f"{report['references_done']} of {report['reference_models']} reference models done, "
            f"{report['calibration_requests']} requests",
            *(f"  reference {model} failed: {detail}" for model, detail in report["references_failed"].items()),
            f"  target <= {report['target_s']:g} s ({CALIBRATION_PARALLEL_MODELS} references at a time, each one "
            f"latency + 1 s, plus {SLACK_S:g} s): {verdict}",
            f"  machine: {report['machine']}",
        ]
    )


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures; exit 1 when the target was missed, so a script can tell."""
    report = await run_first_guess_benchmark(args.probe_latency)
    return finish(report, format_report(report), args.json)
