"""The background loop the watcher and the announcer share: it outlives failing passes and stops when told."""

from __future__ import annotations

import asyncio

from bot.jobs.background import BackgroundLoop


async def test_the_loop_prepares_once_outlives_a_failing_pass_and_waits_as_each_pass_says():
    events: list[str] = []
    waits: list[float] = []
    passes = iter([ValueError("broken reply"), 0.5, 0.25])
    three_passes = asyncio.Event()

    async def prepare() -> None:
        events.append("prepare")

    async def run_pass() -> float:
        outcome = next(passes)
        events.append(f"pass {outcome}")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def on_failure(error: Exception) -> float:
        events.append(f"failed: {error}")
        return 2.0

    async def pause(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            three_passes.set()
            await asyncio.sleep(3600)

    loop = BackgroundLoop("test-loop", run_pass, on_failure=on_failure, prepare=prepare, pause=pause)
    loop.start()
    await asyncio.wait_for(three_passes.wait(), 5)
    await asyncio.wait_for(loop.stop(), 5)  # stops while pausing, not an hour later
    assert events == ["prepare", "pass broken reply", "failed: broken reply", "pass 0.5", "pass 0.25"]
    assert waits == [2.0, 0.5, 0.25]


async def test_stop_cancels_the_pass_under_way_and_a_restart_prepares_and_runs_again():
    events: list[str] = []
    passing = asyncio.Event()

    async def prepare() -> None:
        events.append("prepare")

    async def run_pass() -> float:
        events.append("pass")
        passing.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        return 0.0

    loop = BackgroundLoop("test-loop", run_pass, on_failure=lambda error: 1.0, prepare=prepare)
    await loop.stop()  # never started: nothing to wait for, nothing run
    assert events == []
    for run in (1, 2):
        passing.clear()
        loop.start()
        loop.start()  # already running: no second loop (it would prepare and pass twice)
        await asyncio.wait_for(passing.wait(), 5)
        await asyncio.wait_for(loop.stop(), 5)
        await asyncio.sleep(0.05)  # a stopped loop starts no further pass
        assert events == ["prepare", "pass", "cancelled"] * run
