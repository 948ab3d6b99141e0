"""Members keep clicking while another OS process holds the database's write lock.

A second process (as `scout scan`, a backup or a stray `sqlite3` shell would) takes SQLite's write lock
with `BEGIN IMMEDIATE` and keeps it for `--hold` seconds, longer than the store's own busy retries
(about 50 s by default) when asked; with `--engine postgresql` it holds the store's advisory write lock
on a PostgreSQL server started for the run. Meanwhile members pick vendors in an announcement's select and run
`/scout status`, `/scout model` and the Votes button, spread evenly over the hold. Discord drops an
interaction not acknowledged within 3 s, so each must be acknowledged in time whatever the database is
doing; every vote must be stored once the lock is gone (queued and retried, never lost).

Acknowledgement latency is what FakeDiscord measures: INTERACTION_CREATE sent → callback received.

    scout bench ack-under-lock [--hold 20] [--interactions 80] [--engine sqlite|postgresql] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bot.benchmarks.end_to_end.harness import (
    ack_latency_figures,
    ack_summary,
    announces_stealth,
    every_vote_confirmed,
    finish,
    member_interaction,
    stealth_announced,
)
from bot.benchmarks.measure import machine
from bot.settings import Settings
from bot.testing.discord import MemberSpec
from bot.testing.locker import release, write_lock_held_elsewhere
from bot.testing.scripted_labs import STEALTH_ID

ACK_DEADLINE_S = 3.0
KINDS = ("vote", "status", "model", "votes-button")


async def run_ack_under_lock(hold: float = 20.0, interactions: int = 80, engine: str = "sqlite") -> dict[str, Any]:
    """One run: the figures as a dict, `met` saying whether every ack was in time and no vote was lost."""
    members = [MemberSpec(f"member-{index}") for index in range(interactions)]
    async with stealth_announced("Busy Guild", announces_stealth, engine=engine) as launched:
        fake, store, guild, announcement = launched.fake, launched.store, launched.guild, launched.announcement
        await launched.bot.pipeline.wait_idle()
        await asyncio.sleep(launched.bot.announce_edit_interval + 0.5)  # the card's own edits are done
        kinds = [KINDS[index % len(KINDS)] for index in range(interactions)]
        payloads = [
            member_interaction(fake, kind, index, announcement, guild, members[index])
            for index, kind in enumerate(kinds)
        ]
        async with write_lock_held_elsewhere(launched.database) as locker:
            started = time.monotonic()
            sent = []
            for index, payload in enumerate(payloads):
                delay = started + index * hold / interactions - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent.append(await fake.send_interaction(payload))
            await asyncio.sleep(max(0.0, started + hold - time.monotonic()))
            held_for = time.monotonic() - started
            await release(locker)
        records = [fake.interaction(interaction_id) for interaction_id in sent]
        await fake.wait_until(lambda: all(r.callback for r in records), timeout=60, what="every acknowledgement")
        votes = [r for r, kind in zip(records, kinds, strict=True) if kind == "vote"]
        await every_vote_confirmed(fake, votes, timeout=900)
        landed_after = time.monotonic() - started
        tally = await store.votes.tally(guild.id, STEALTH_ID)
    latencies = [r.callback.latency for r in records if r.callback is not None]
    stored_votes = tally.total
    lost = len(votes) - stored_votes
    met = len(latencies) == interactions and max(latencies) < ACK_DEADLINE_S and lost == 0
    return {
        "benchmark": "ack_under_lock",
        "engine": engine,
        "lock_held_s": round(held_for, 1),
        "interactions": interactions,
        "mix": {kind: kinds.count(kind) for kind in KINDS},
        "acknowledged": len(latencies),
        "ack_latency_s": ack_latency_figures(latencies),
        "ack_deadline_s": ACK_DEADLINE_S,
        "votes_cast": len(votes),
        "votes_stored": stored_votes,
        "votes_lost": lost,
        "every_vote_confirmed_after_s": round(landed_after, 1),
        "met": met,
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as lines for a person."""
    verdict = "met" if report["met"] else "MISSED"
    mix = ", ".join(f"{count} {kind}" for kind, count in report["mix"].items())
    return "\n".join(
        [
            f"ack under a held write lock on {report['engine']}: another process held it {report['lock_held_s']} s; "
            f"{report['interactions']} interactions ({mix})",
            f"  {ack_summary(report, report['interactions'])} (deadline {report['ack_deadline_s']:g} s)",
            f"  votes: {report['votes_cast']} cast, {report['votes_stored']} stored, {report['votes_lost']} lost; "
            f"every voter told 'Vote recorded' {report['every_vote_confirmed_after_s']} s after the lock was taken: "
            f"{verdict}",
            f"  machine: {report['machine']}",
        ]
    )


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures; exit 1 when the target was missed, so a script can tell."""
    report = await run_ack_under_lock(args.hold, args.interactions, args.engine)
    return finish(report, format_report(report), args.json)
