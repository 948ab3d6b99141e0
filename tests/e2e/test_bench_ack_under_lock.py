"""`scout bench ack-under-lock` in a tiny version, so it keeps working between the runs that feed the
README; it checks what the benchmark counts, never how fast anything was."""

from __future__ import annotations

from bot.benchmarks.end_to_end.ack_under_lock import format_report, run_ack_under_lock


async def test_the_ack_benchmark_counts_every_interaction_and_every_stored_vote():
    report = await run_ack_under_lock(hold=1.0, interactions=8)
    assert report["acknowledged"] == 8 and report["mix"] == {"vote": 2, "status": 2, "model": 2, "votes-button": 2}
    assert report["votes_cast"] == report["votes_stored"] == 2 and report["votes_lost"] == 0
    assert report["lock_held_s"] >= 1.0 and "p99" in format_report(report)


async def test_on_postgresql_the_ack_benchmark_holds_the_advisory_write_lock(postgres_server):
    report = await run_ack_under_lock(hold=1.0, interactions=8, engine="postgresql")
    assert report["engine"] == "postgresql" and report["acknowledged"] == 8
    assert report["votes_cast"] == report["votes_stored"] == 2 and report["votes_lost"] == 0
