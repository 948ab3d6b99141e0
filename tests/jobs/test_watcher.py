"""The watcher's backoff between failed polls."""

from __future__ import annotations

from bot.jobs.watcher import poll_delay


def test_the_poll_backoff_doubles_and_is_capped():
    assert poll_delay(60, 0) == 60
    assert poll_delay(60, 1) == 120 and poll_delay(60, 3) == 480
    assert poll_delay(60, 50) == 900
    assert poll_delay(5, 100, cap=30) == 30
