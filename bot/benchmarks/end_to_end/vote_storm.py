"""500 members pick a vendor in an announcement's select within 5 seconds.

Discord drops an interaction that is not acknowledged within 3 s, so every click must be acknowledged
(the bot defers, then answers) within that window, and every vote must be stored exactly once. The
clicks are spread evenly over the window by FakeDiscord, which also measures each acknowledgement's
latency: from sending INTERACTION_CREATE on the gateway to the callback request arriving. The fake
runs in the bot's own process and event loop, so its work (building payloads, JSON, websocket frames)
is counted against the bot: a pessimistic set-up.

The store is then checked through its API: 500 current votes in the tally, and 500 vote rows in the
exported log, one per member.

    scout bench vote-storm [--members 500] [--window 5] [--engine sqlite|postgresql] [--processes N] [--json]

`--engine postgresql` runs the same storm on a PostgreSQL server started for the run; `--processes N` (with
PostgreSQL) runs N bot processes, one shard and one guild each, storming every guild at once
(`storm_across_processes.py`).
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
    finish,
    fresh_database,
    stealth_announced,
)
from bot.benchmarks.end_to_end.storm_across_processes import run_storm_across_processes
from bot.benchmarks.measure import machine
from bot.errors import UsageError
from bot.settings import Settings
from bot.testing.discord import MemberSpec, StoredMessage
from bot.testing.scripted_labs import STEALTH_ID

ACK_DEADLINE_S = 3.0
OTHER_VALUE = "__other__"


def _announced_and_probed(message: StoredMessage) -> bool:
    description = (message.embeds or [{}])[0].get("description") or ""
    return announces_stealth(message) and not description.startswith("**Probing")


async def run_vote_storm(members: int = 500, window: float = 5.0, engine: str = "sqlite") -> dict[str, Any]:
    """One storm: the figures as a dict, `met` saying whether every click was acknowledged in time and stored once."""
    voters = [MemberSpec(f"voter-{index}") for index in range(members)]
    async with stealth_announced("Storm Guild", _announced_and_probed, engine=engine) as launched:
        fake, store, guild, announcement = launched.fake, launched.store, launched.guild, launched.announcement
        [select_id] = [cid for cid in announcement.custom_ids() if cid.startswith("scout:vote:")]
        select = announcement.find_component(select_id)
        assert select is not None, "the card lost its vote select"
        vendors = [o["value"] for o in select["options"] if o["value"] != OTHER_VALUE]
        clicks = [
            fake.build_component(announcement.id, select_id, member=voter, values=[vendors[index % len(vendors)]])
            for index, voter in enumerate(voters)
        ]

        started = time.monotonic()
        interaction_ids = []
        for index, click in enumerate(clicks):
            delay = started + index * window / members - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            interaction_ids.append(await fake.send_interaction(click))
        sent_span = time.monotonic() - started
        records = [fake.interaction(interaction_id) for interaction_id in interaction_ids]
        await fake.wait_until(lambda: all(r.callback for r in records), timeout=60, what="every acknowledgement")
        await fake.wait_until(lambda: all(r.followup_ids for r in records), timeout=120, what="every answer")
        all_answered = time.monotonic() - started
        answers = [fake.followups(r.id)[0].content for r in records]

        tally = await store.votes.tally(guild.id, STEALTH_ID)
        rows = [row async for row in store.members.export_rows(guild.id, model_id=STEALTH_ID)]
    latencies = [r.callback.latency for r in records if r.callback is not None]
    vote_rows = [row for row in rows if row.kind == "vote"]
    current_votes = tally.total
    distinct_voters = len({row.member_id for row in vote_rows})
    recorded = sum("Vote recorded" in (text or "") for text in answers)
    met = (
        len(latencies) == members
        and max(latencies) <= ACK_DEADLINE_S
        and current_votes == members
        and len(vote_rows) == members
        and distinct_voters == members
        and sent_span <= window + 0.5
    )
    return {
        "benchmark": "vote_storm",
        "engine": engine,
        "processes": 1,
        "members": members,
        "window_s": window,
        "sent_within_s": round(sent_span, 2),
        "acknowledged": len(latencies),
        "ack_latency_s": ack_latency_figures(latencies),
        "ack_deadline_s": ACK_DEADLINE_S,
        "all_answered_after_s": round(all_answered, 2),
        "answers_saying_vote_recorded": recorded,
        "current_votes": current_votes,
        "vote_history_rows": len(vote_rows),
        "distinct_voters_in_history": distinct_voters,
        "met": met,
        "machine": machine(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The figures as lines for a person."""
    verdict = "met" if report["met"] else "MISSED"
    if report["processes"] > 1:
        return "\n".join(
            [
                f"vote storm on {report['engine']}, {report['processes']} processes: {report['members']} members in "
                f"each of {report['processes']} guilds, {report['votes_sent']} clicks "
                f"sent over {report['sent_within_s']} s",
                f"  {ack_summary(report, report['votes_sent'])} (deadline {report['ack_deadline_s']:g} s)",
                f"  every answer sent {report['all_answered_after_s']} s after the first click",
                f"  store: {report['current_votes_per_guild']} current votes per guild, "
                f"{report['vote_history_rows']} history rows: {verdict}",
                f"  machine: {report['machine']}",
            ]
        )
    return "\n".join(
        [
            f"vote storm on {report['engine']}: {report['members']} members pick a vendor in the select, "
            f"sent over {report['sent_within_s']} s",
            f"  {ack_summary(report, report['members'])} (deadline {report['ack_deadline_s']:g} s)",
            f"  every answer sent {report['all_answered_after_s']} s after the first click; "
            f"{report['answers_saying_vote_recorded']} say 'Vote recorded'",
            f"  store: {report['current_votes']} current votes, {report['vote_history_rows']} history rows from "
            f"{report['distinct_voters_in_history']} distinct members: {verdict}",
            f"  machine: {report['machine']}",
        ]
    )


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the figures; exit 1 when the target was missed, so a script can tell."""
    if args.processes > 1:
        if args.engine != "postgresql":
            raise UsageError("--processes: several bot processes share one database only on --engine postgresql")
        async with fresh_database(args.engine) as url:
            assert isinstance(url, str)
            report = await run_storm_across_processes(url, args.processes, args.members, args.window)
    else:
        report = await run_vote_storm(args.members, args.window, args.engine)
    return finish(report, format_report(report), args.json)
