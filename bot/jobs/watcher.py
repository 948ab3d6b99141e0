"""The catalogue watcher: one poll each interval, backed off while the gateway fails, with self-calibration
running beside it, in the one process that holds the poller lease.

Several bot processes may share one PostgreSQL database (one per group of shards); exactly one of them polls,
probes and calibrates. Each waits for the database's poller lease; the holder polls until it stops or loses
the lease (its connection died), and then cancels its probes and calibration at once, before another process
can take over. A process that dies frees the lease with its connection, and a waiting process takes it the
moment the server notices, well within one poll interval.

The Discord client starts and stops it; what must happen before the first poll (waiting for Discord so
guilds that adopt the default channel are known) is handed in, so the watcher itself knows nothing of Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.jobs.background import BackgroundLoop
from bot.jobs.pipeline import Pipeline
from bot.store.database import Lease

log = logging.getLogger(__name__)

MAX_POLL_BACKOFF_SECONDS = 900.0
POLLER_LEASE = "poller"


def poll_delay(interval: float, failures: int, cap: float = MAX_POLL_BACKOFF_SECONDS) -> float:
    """The wait before the next poll: the interval, doubled per consecutive failure, never above the cap."""
    if failures <= 0:
        return interval
    return min(interval * 2 ** min(failures, 16), max(cap, interval))


def one_line(error: BaseException) -> str:
    """An error as one short log line: its first line, or its type when it says nothing."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:300]


class Watcher:
    """Polls through the pipeline pass after pass and keeps the pipeline's calibration running beside it, while
    this process holds the poller lease."""

    def __init__(
        self,
        pipeline: Pipeline,
        interval: float,
        lease: Lease,
        *,
        before_first_poll: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.interval = interval
        self.poll_failures = 0
        self._lease = lease
        self._before_first_poll = before_first_poll
        self._polls = BackgroundLoop("scout-watcher", self._poll, on_failure=self._poll_failed)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Wait for the lease, then poll and calibrate; a second call while it runs does nothing."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._lead(), name="scout-lease")

    async def stop(self) -> None:
        """Stop polling and calibrating and give the lease up: probes cut short resume where they stopped."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _lead(self) -> None:
        if self._before_first_poll is not None:
            await self._before_first_poll()
        while True:
            await self._lease.acquire()
            log.info("this process holds the poller lease: it polls, probes and calibrates")
            try:
                await self._work_until_lost()
            finally:
                await self._polls.stop()
                await self.pipeline.close()
                await self._lease.release()
            log.warning("the poller lease was lost (its database connection died); waiting to take it again")

    async def _work_until_lost(self) -> None:
        self._polls.start()
        calibration = asyncio.create_task(self.pipeline.calibrate_forever(), name="scout-calibration")
        try:
            await self._lease.lost.wait()
        finally:
            calibration.cancel()
            await asyncio.gather(calibration, return_exceptions=True)

    async def _poll(self) -> float:
        report = await self.pipeline.poll_once()
        self.poll_failures = 0 if report.ok else self.poll_failures + 1
        return poll_delay(self.interval, self.poll_failures)

    def _poll_failed(self, error: Exception) -> float:
        self.poll_failures += 1
        log.warning("poll failed (%d in a row): %s", self.poll_failures, one_line(error))
        return poll_delay(self.interval, self.poll_failures)
