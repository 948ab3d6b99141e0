"""The vote storm against several bot processes on one PostgreSQL database, one shard (and one guild) each.

Each process is a real `python -m bot` with `SHARD_COUNT=N` and its own `SHARD_IDS`; one of them holds the
poller lease and announces the stealth model in every guild through the shared outbox. Then `--members`
members per guild pick a vendor in their guild's card, all guilds at once, spread over `--window` seconds:
FakeDiscord routes each click to the process holding its guild's shard and measures the acknowledgement.
Every click must be acknowledged within Discord's 3 s, every vote stored once.

    scout bench vote-storm --engine postgresql --processes 3 [--members 500] [--window 5] [--json]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bot.benchmarks.end_to_end.harness import (
    API_KEY,
    VENDORS,
    ack_latency_figures,
    announces_stealth,
    known_catalogue,
    stop_bot,
    wait_for_bot,
)
from bot.benchmarks.measure import machine
from bot.jobs.polling import record_catalogue
from bot.settings import MIN_POLL_INTERVAL_SECONDS
from bot.store import Store
from bot.testing.discord import ChannelSpec, FakeDiscord, GuildSpec, MemberSpec, StoredMessage, snowflake_on_shard
from bot.testing.gateway_server import FakeGateway
from bot.testing.scripted_labs import STEALTH_ENTRY, STEALTH_ID, install_labs

ACK_DEADLINE_S = 3.0
STARTUP_TIMEOUT_S = 120.0


def _environment(fake: FakeDiscord, gateway: FakeGateway, url: str, shards: int, shard: int) -> dict[str, str]:
    """Only what the bot needs: nothing of this machine's own settings reaches it."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DISCORD_TOKEN": fake.token,
        "OPENROUTER_API_KEY": API_KEY,
        "OPENROUTER_BASE_URL": gateway.base_url,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_URL": url,
        "SHARD_COUNT": str(shards),
        "SHARD_IDS": str(shard),
        "POLL_INTERVAL_SECONDS": str(MIN_POLL_INTERVAL_SECONDS),
        "CALIBRATION_REQUEST_BUDGET": "0",
        "LOG_LEVEL": "WARNING",
    }


def _probed_card(fake: FakeDiscord, channel: ChannelSpec) -> StoredMessage | None:
    for message in fake.channel_messages(channel.id):
        description = (message.embeds or [{}])[0].get("description") or ""
        if announces_stealth(message) and not description.startswith("**Probing"):
            return message
    return None


@contextlib.contextmanager
def _processes(environments: list[dict[str, str]], folder: Path) -> Any:
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for index, environment in enumerate(environments):
            log = (folder / f"bot-{index}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot"], cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT
                )
            )
        yield processes
    finally:
        for process in processes:
            stop_bot(process)


async def run_storm_across_processes(url: str, processes: int, members: int, window: float) -> dict[str, Any]:
    """One storm over `processes` bot processes on the PostgreSQL database `url`; the figures as a dict."""
    channels = [ChannelSpec("model-scout") for _ in range(processes)]
    guilds = [
        GuildSpec(id=snowflake_on_shard(shard, processes), name=f"Storm Guild {shard}", channels=[channels[shard]])
        for shard in range(processes)
    ]
    async with await Store.open(url) as store:
        for guild, channel in zip(guilds, channels, strict=True):
            await store.guilds.configure(guild.id, channel.id, all_models=False)
        await record_catalogue(store, known_catalogue(), "bench: before the launch")
        with tempfile.TemporaryDirectory() as scratch:
            async with FakeGateway(api_key=None) as gateway, FakeDiscord(guilds=guilds) as fake:
                install_labs(gateway)
                gateway.set_catalogue([*known_catalogue(), STEALTH_ENTRY])
                environments = [_environment(fake, gateway, url, processes, shard) for shard in range(processes)]
                with _processes(environments, Path(scratch)) as running:
                    for channel, process in zip(channels, running, strict=True):
                        await wait_for_bot(partial(_probed_card, fake, channel), STARTUP_TIMEOUT_S, "a card", process)
                    cards = [_probed_card(fake, channel) for channel in channels]
                    records, sent_span, answered = await _storm(fake, [c for c in cards if c], members, window)
                    alive = all(process.poll() is None for process in running)
        tallies = [(await store.votes.tally(guild.id, STEALTH_ID)).total for guild in guilds]
        history = await store.db.fetchone("SELECT COUNT(*) FROM vote_history")
    latencies = [r.callback.latency for r in records if r.callback is not None]
    total = processes * members
    met = (
        alive
        and len(latencies) == total
        and max(latencies) <= ACK_DEADLINE_S
        and tallies == [members] * processes
        and history is not None
        and history[0] == total
    )
    return {
        "benchmark": "vote_storm",
        "engine": "postgresql",
        "processes": processes,
        "members": members,
        "votes_sent": total,
        "window_s": window,
        "sent_within_s": round(sent_span, 2),
        "acknowledged": len(latencies),
        "ack_latency_s": ack_latency_figures(latencies),
        "ack_deadline_s": ACK_DEADLINE_S,
        "all_answered_after_s": round(answered, 2),
        "current_votes_per_guild": tallies,
        "vote_history_rows": history[0] if history else 0,
        "met": met,
        "machine": machine(),
    }


async def _storm(
    fake: FakeDiscord, cards: list[StoredMessage], members: int, window: float
) -> tuple[list[Any], float, float]:
    """Every guild's members click at once, interleaved, evenly over `window`; returns the records and timings."""
    clicks = []
    for index in range(members):
        for shard, card in enumerate(cards):
            [select_id] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
            voter = MemberSpec(f"voter-{shard}-{index}")
            clicks.append(
                fake.build_component(card.id, select_id, member=voter, values=[VENDORS[index % len(VENDORS)]])
            )
    started = time.monotonic()
    sent = []
    for index, click in enumerate(clicks):
        delay = started + index * window / len(clicks) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(await fake.send_interaction(click))
    sent_span = time.monotonic() - started
    records = [fake.interaction(interaction_id) for interaction_id in sent]
    await fake.wait_until(lambda: all(r.callback for r in records), timeout=120, what="every acknowledgement")
    await fake.wait_until(lambda: all(r.followup_ids for r in records), timeout=300, what="every answer")
    return records, sent_span, time.monotonic() - started
