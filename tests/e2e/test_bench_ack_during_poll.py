"""`scout bench ack-during-poll` in a tiny version, so it keeps working between the runs that feed the
README; it checks what the benchmark counts, never how fast anything was."""

from __future__ import annotations

import pytest

from bot.benchmarks.end_to_end.ack_during_poll import KINDS, format_report, large_catalogues, run_ack_during_poll
from bot.gateway import DEFAULT_CATALOGUE_MAX_BYTES


async def test_the_benchmark_clicks_through_the_bots_large_polls_and_counts_every_vote():
    report = await run_ack_during_poll(models=200, changes=30, polls=2, every=0.05)
    assert report["large_polls"] == 2 and all(seconds >= 0 for seconds in report["poll_seconds"])
    assert report["interactions"] >= len(KINDS) and report["acknowledged"] == report["interactions"]
    assert sum(report["mix"].values()) == report["interactions"]
    assert report["votes_cast"] == report["mix"]["vote"] == report["votes_stored"] and report["votes_lost"] == 0
    assert report["bot_alive_after"] and report["bot_peak_rss_mib"] >= report["bot_rss_mib_before_large_polls"] > 0
    assert "p99" in format_report(report)


def test_the_large_catalogue_fits_under_the_bots_cap_and_one_too_large_or_too_small_is_refused():
    listings, sizes = large_catalogues(2000, 30)
    assert len(listings) == len(sizes) == 2 and max(sizes) < DEFAULT_CATALOGUE_MAX_BYTES
    assert all(len(listing) > 2000 for listing in listings)
    with pytest.raises(ValueError, match="over the bot's 32 MiB cap"):
        large_catalogues(120_000, 30)
    with pytest.raises(ValueError, match="needs more than the 9 models listed before it"):
        large_catalogues(9, 0)
