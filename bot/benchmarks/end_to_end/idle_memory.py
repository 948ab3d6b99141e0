"""The bot's resident memory when idle in 50 guilds.

The bot runs as its own process, started exactly as in production (`python -m bot`), configured only
through the environment, against FakeDiscord (50 guilds, each with its announcement channel already
set up in the store) and FakeGateway (the real OpenRouter catalogue snapshot from the shared data
when it is beside the repo, otherwise the scripted labs' catalogue). Once the bot is connected and
has polled the catalogue, it is left alone to settle and its `VmRSS` is read from /proc a few times;
the figure is the largest sample, with the kernel's high-water mark (`VmHWM`) beside it.

The issue sets no number; the target used here, 200 MiB, is the export's budget.

    scout bench idle-memory [--guilds 50] [--settle 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from bot.benchmarks.end_to_end.harness import API_KEY, finish, known_catalogue, stop_bot, wait_for_bot
from bot.benchmarks.measure import machine
from bot.settings import Settings
from bot.store import Store
from bot.testing.discord import ChannelSpec, FakeDiscord, GuildSpec, MemberSpec
from bot.testing.gateway_server import SNAPSHOT_2026_06_07, FakeGateway, load_snapshot

TARGET_RSS_MIB = 200.0
SAMPLES = 5


def guild_specs(count: int) -> list[GuildSpec]:
    """`count` guilds, each with the channel the store is told to announce in."""
    return [
        GuildSpec(
            name=f"Guild {index}",
            channels=[ChannelSpec("model-scout"), ChannelSpec("general"), ChannelSpec("off-topic")],
            members=[MemberSpec(f"g{index}-member-{number}") for number in range(10)],
        )
        for index in range(count)
    ]


def catalogue_payload() -> tuple[dict[str, Any] | list[dict[str, Any]], str]:
    """The real catalogue when the shared data is beside the repo, else the scripted labs'; and which it is."""
    try:
        return load_snapshot(SNAPSHOT_2026_06_07), f"shared snapshot {SNAPSHOT_2026_06_07}"
    except FileNotFoundError:
        return known_catalogue(), "scripted labs (shared snapshot absent)"


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB, from /proc/<pid>/status."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def bot_environment(fake: FakeDiscord, gateway: FakeGateway, database: Path) -> dict[str, str]:
    """Only what the bot needs: nothing of this machine's own settings reaches it."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DISCORD_TOKEN": fake.token,
        "OPENROUTER_API_KEY": API_KEY,
        "OPENROUTER_BASE_URL": gateway.base_url,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_PATH": str(database),
        "POLL_INTERVAL_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
    }


async def _poll_recorded(database: Path) -> bool:
    """The bot's first poll is in the store: asking the gateway is not enough, the sample must follow the write."""
    async with await Store.open(database) as store:
        return await store.catalogue.last_successful_poll() is not None


async def run_idle_memory(guild_count: int = 50, settle: float = 10.0, sample_every: float = 1.0) -> dict[str, Any]:
    """Start `python -m bot`, let it connect, poll and settle, then sample its memory: the figures as a dict."""
    guilds = guild_specs(guild_count)
    payload, catalogue_source = catalogue_payload()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        database = folder / "idle.db"
        async with await Store.open(database) as store:
            for guild in guilds:
                await store.guilds.configure(guild.id, guild.channels[0].id, all_models=False)
        async with FakeGateway(api_key=API_KEY) as gateway, FakeDiscord(guilds=guilds) as fake:
            gateway.set_catalogue(payload)
            with (folder / "bot.log").open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot"],
                    cwd=folder,
                    env=bot_environment(fake, gateway, database),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    await wait_for_bot(lambda: fake.connected, 60, "connection to the fake Discord", process)
                    await wait_for_bot(partial(_poll_recorded, database), 60, "catalogue poll recorded", process)
                    await asyncio.sleep(settle)
                    samples = []
                    for _ in range(SAMPLES):
                        samples.append(memory_kib(process.pid))
                        await asyncio.sleep(sample_every)
                    alive = process.poll() is None
                finally:
                    stop_bot(process)
            log_tail = (folder / "bot.log").read_text(encoding="utf-8", errors="replace")[-2000:]
        async with await Store.open(database) as store:
            poll = await store.catalogue.last_successful_poll()
    rss = max(sample["VmRSS"] for sample in samples) / 1024
    return {
        "benchmark": "idle_memory",
        "guilds": guild_count,
        "catalogue": catalogue_source,
        "models_listed_by_its_poll": poll.listed if poll else 0,
        "settle_s": settle,
        "rss_mib": round(rss, 1),
        "rss_samples_mib": [round(sample["VmRSS"] / 1024, 1) for sample in samples],
        "hwm_mib": round(max(sample["VmHWM"] for sample in samples) / 1024, 1),
        "target_rss_mib": TARGET_RSS_MIB,
        "bot_alive_when_sampled": alive,
        "bot_exit_code_after_sigterm": process.returncode,
        "met": alive and poll is not None and rss < TARGET_RSS_MIB,
        "bot_log_tail": log_tail if not alive else "",
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as lines for a person."""
    verdict = "met" if report["met"] else "MISSED"
    lines = [
        f"idle bot (python -m bot) in {report['guilds']} guilds, catalogue: {report['catalogue']} "
        f"({report['models_listed_by_its_poll']} models recorded by its poll), "
        f"sampled after {report['settle_s']:g} s idle",
        f"  VmRSS {report['rss_mib']} MiB (samples {report['rss_samples_mib']}), high-water {report['hwm_mib']} MiB; "
        f"target < {report['target_rss_mib']:g} MiB: {verdict}",
        f"  machine: {report['machine']}",
    ]
    if report["bot_log_tail"]:
        lines.append("  the bot died; its log ends with:\n" + report["bot_log_tail"])
    return "\n".join(lines)


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures; exit 1 when the target was missed, so a script can tell."""
    report = await run_idle_memory(args.guilds, args.settle)
    return finish(report, format_report(report), args.json)
