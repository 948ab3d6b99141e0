"""Members keep clicking while the bot polls a 100,000-model catalogue.

The bot runs as its own process, started as in production (`python -m bot`, settings from the
environment, the shortest poll interval the settings allow), against FakeDiscord and FakeGateway in this
process. Once a stealth model has been announced, the gateway starts serving a 100,000-model catalogue
(and, from the next poll on, its successor with `--changes` edits), so the bot's next polls fetch, parse,
diff and store it. From then until `--polls` such polls are in the store, members vote in the
announcement's select, run `/scout status` and press the Votes button, one interaction every `--every`
seconds. Discord drops an interaction not acknowledged within 3 s, so each must be acknowledged in time
whatever the poll is doing, and every vote must land.

The synthetic entries are `bot.benchmarks.catalogue`'s, cut to the fields a lean listing has, so the
100,000 of them fit under the bot's catalogue body cap as a real catalogue must. Acknowledgement latency
is what FakeDiscord measures (INTERACTION_CREATE sent → callback received); the bot's peak memory is its
process's `VmHWM`, which this process's own memory (the fakes, the catalogue bodies) does not touch.

    scout bench ack-during-poll [--models 100000] [--polls 2] [--every 0.25] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.benchmarks.catalogue import catalogues
from bot.benchmarks.end_to_end.ack_under_lock import ACK_DEADLINE_S
from bot.benchmarks.end_to_end.harness import (
    ack_latency_figures,
    ack_summary,
    announces_stealth,
    every_vote_confirmed,
    finish,
    known_catalogue,
    member_interaction,
    stop_bot,
    wait_for_bot,
)
from bot.benchmarks.end_to_end.idle_memory import bot_environment, memory_kib
from bot.benchmarks.measure import machine
from bot.gateway import DEFAULT_CATALOGUE_MAX_BYTES
from bot.settings import MIN_POLL_INTERVAL_SECONDS, Settings
from bot.store import Store
from bot.store.catalogue import PollRecord
from bot.testing.discord import ChannelSpec, FakeDiscord, GuildSpec, MemberSpec, StoredMessage
from bot.testing.gateway_server import FakeGateway
from bot.testing.scripted_labs import STEALTH_ENTRY, STEALTH_ID, install_labs

KINDS = ("vote", "status", "votes-button")
LEAN_FIELDS = ("id", "name", "created", "description", "architecture", "pricing")
DESCRIPTION_WORDS = 1
STARTUP_TIMEOUT_S = 60.0
POLL_SAMPLE_S = 0.2


@dataclass
class Sent:
    """One interaction as sent: its kind, the FakeDiscord id, and the wall-clock moment it went out."""

    kind: str
    interaction_id: int
    at: datetime


@dataclass
class LargePolls:
    """The bot's polls of the large catalogue, read from the store as they finish."""

    size: int
    finished: dict[int, PollRecord] = field(default_factory=dict)

    async def follow(self, store: Store, wanted: int, timeout: float) -> None:
        """Sample the last successful poll until `wanted` polls listing the large catalogue have finished."""
        deadline = time.monotonic() + timeout
        while len(self.finished) < wanted:
            poll = await store.catalogue.last_successful_poll()
            if poll is not None and poll.listed >= self.size:
                self.finished[poll.id] = poll
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.finished)} of {wanted} large polls finished within {timeout:g} s")
            await asyncio.sleep(POLL_SAMPLE_S)

    def spans(self) -> list[tuple[datetime, datetime]]:
        """Start and end of every large poll the store recorded as finished."""
        return [
            (_moment(poll.started_at), _moment(poll.finished_at or poll.started_at)) for poll in self.finished.values()
        ]

    def during_a_poll(self, moment: datetime) -> bool:
        """Whether an interaction sent at `moment` had to compete with a running poll."""
        return any(start <= moment <= end for start, end in self.spans())


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def large_catalogues(size: int, changes: int) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """The large catalogue and its successor as served, each keeping the scripted labs and the announced model,
    with the size of each body.

    Raises ValueError when a body would exceed the bot's catalogue cap (the bot would refuse that poll, and
    the benchmark would measure a refusal instead of a poll), or when `size` is no larger than the small
    catalogue before it (its polls would be taken for large ones)."""
    kept = [*known_catalogue(), STEALTH_ENTRY]
    if size <= len(kept):
        raise ValueError(f"the large catalogue needs more than the {len(kept)} models listed before it")
    before, after = catalogues(size, changes, seed=0, description_words=DESCRIPTION_WORDS)
    listings = [
        kept + [{key: entry[key] for key in LEAN_FIELDS if key in entry} for entry in listing]
        for listing in (before, after)
    ]
    sizes = [len(json.dumps({"data": listing}).encode()) for listing in listings]
    if max(sizes) > DEFAULT_CATALOGUE_MAX_BYTES:
        raise ValueError(
            f"a {size}-model catalogue takes {max(sizes) / 2**20:.1f} MiB, over the bot's "
            f"{DEFAULT_CATALOGUE_MAX_BYTES / 2**20:.0f} MiB cap"
        )
    return listings, sizes


async def _click_until(
    fake: FakeDiscord,
    announcement: StoredMessage,
    guild: GuildSpec,
    every: float,
    until: asyncio.Task[None],
) -> list[Sent]:
    """One interaction every `every` seconds, each from a member of its own, until `until` is done."""
    sent: list[Sent] = []
    started = time.monotonic()
    while not until.done():
        index = len(sent)
        kind = KINDS[index % len(KINDS)]
        payload = member_interaction(fake, kind, index, announcement, guild, MemberSpec(f"member-{index}"))
        sent.append(Sent(kind, await fake.send_interaction(payload), datetime.now().astimezone()))
        await asyncio.sleep(max(0.0, started + (index + 1) * every - time.monotonic()))
    return sent


async def run_ack_during_poll(
    models: int = 100_000, changes: int = 300, polls: int = 2, every: float = 0.25, poll_timeout: float = 900.0
) -> dict[str, Any]:
    """Run the bot against the large catalogues while members act; the report `format_report` prints."""
    channel = ChannelSpec("model-scout")
    guild = GuildSpec(name="Polling Guild", channels=[channel])
    listings, sizes = large_catalogues(models, changes)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        database = folder / "polling.db"
        async with await Store.open(database) as store:
            await store.guilds.configure(guild.id, channel.id, all_models=False)
        async with FakeGateway(api_key=None) as gateway, FakeDiscord(guilds=[guild]) as fake:
            install_labs(gateway)
            gateway.set_catalogue(known_catalogue())
            environment = bot_environment(fake, gateway, database)
            environment["POLL_INTERVAL_SECONDS"] = str(MIN_POLL_INTERVAL_SECONDS)
            async with await Store.open(database) as store:
                with (folder / "bot.log").open("wb") as log:
                    process = subprocess.Popen(
                        [sys.executable, "-m", "bot"], cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT
                    )
                    try:
                        await wait_for_bot(lambda: fake.connected, STARTUP_TIMEOUT_S, "connection", process)
                        await wait_for_bot(
                            store.catalogue.last_successful_poll, STARTUP_TIMEOUT_S, "first poll", process
                        )
                        gateway.set_catalogue([*known_catalogue(), STEALTH_ENTRY])
                        announcement = await fake.wait_for_message(
                            channel.id, announces_stealth, timeout=STARTUP_TIMEOUT_S
                        )
                        rss_before_kib = memory_kib(process.pid)["VmRSS"]
                        gateway.replay([*listings])
                        large = LargePolls(models)
                        following = asyncio.create_task(large.follow(store, polls, poll_timeout))
                        sent = await _click_until(fake, announcement, guild, every, following)
                        await following
                        records = [fake.interaction(item.interaction_id) for item in sent]
                        await fake.wait_until(
                            lambda: all(r.callback for r in records), timeout=60, what="every acknowledgement"
                        )
                        votes = [r for r, item in zip(records, sent, strict=True) if item.kind == "vote"]
                        await every_vote_confirmed(fake, votes, timeout=300)
                        bot_memory = memory_kib(process.pid)
                        alive = process.poll() is None
                        tally = await store.votes.tally(guild.id, STEALTH_ID)
                    finally:
                        stop_bot(process)
    latencies = [r.callback.latency for r in records if r.callback is not None]
    during = [
        r.callback.latency for r, item in zip(records, sent, strict=True) if large.during_a_poll(item.at) and r.callback
    ]
    lost = len(votes) - tally.total
    durations = [(end - start).total_seconds() for start, end in large.spans()]
    met = alive and len(latencies) == len(sent) and max(latencies) < ACK_DEADLINE_S and lost == 0
    return {
        "benchmark": "ack_during_poll",
        "catalogue_models": models,
        "catalogue_bytes": sizes,
        "large_polls": len(durations),
        "poll_seconds": [round(seconds, 2) for seconds in durations],
        "interactions": len(sent),
        "sent_during_a_poll": len(during),
        "mix": {kind: [item.kind for item in sent].count(kind) for kind in KINDS},
        "acknowledged": len(latencies),
        "ack_latency_s": ack_latency_figures(latencies),
        "ack_latency_during_polls_max_s": round(max(during), 3) if during else None,
        "ack_deadline_s": ACK_DEADLINE_S,
        "votes_cast": len(votes),
        "votes_stored": tally.total,
        "votes_lost": lost,
        "bot_rss_mib_before_large_polls": round(rss_before_kib / 1024, 1),
        "bot_peak_rss_mib": round(bot_memory["VmHWM"] / 1024, 1),
        "bot_alive_after": alive,
        "met": met,
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as a person reads them; `--json` is for scripts."""
    verdict = "met" if report["met"] else "MISSED"
    mix = ", ".join(f"{count} {kind}" for kind, count in report["mix"].items())
    sizes = " and ".join(f"{size / 2**20:.1f} MiB" for size in report["catalogue_bytes"])
    return "\n".join(
        [
            f"ack during a large poll: the bot (python -m bot) polled a {report['catalogue_models']}-model catalogue "
            f"({sizes}) {report['large_polls']} times, taking {report['poll_seconds']} s",
            f"  {report['interactions']} interactions ({mix}), {report['sent_during_a_poll']} sent while a poll ran",
            f"  {ack_summary(report, report['interactions'])} (max while a poll ran "
            f"{report['ack_latency_during_polls_max_s']} s; deadline {report['ack_deadline_s']:g} s)",
            f"  votes: {report['votes_cast']} cast, {report['votes_stored']} stored, {report['votes_lost']} lost: "
            f"{verdict}",
            f"  bot process: VmRSS {report['bot_rss_mib_before_large_polls']} MiB before the large polls, "
            f"peak (VmHWM) {report['bot_peak_rss_mib']} MiB",
            f"  machine: {report['machine']}",
        ]
    )


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures; exit 1 when a target was missed, so a script can tell."""
    report = await run_ack_during_poll(args.models, args.changes, args.polls, args.every)
    return finish(report, format_report(report), args.json)
