"""The catalogue watcher: one poll each interval, backed off while the gateway fails, with self-calibration
running beside it.

The Discord client starts and stops it; what must happen before the first poll (waiting for Discord so
guilds that adopt the default channel are known) is handed in, so the watcher itself knows nothing of Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.jobs.background import BackgroundLoop
from bot.jobs.pipeline import Pipeline

log = logging.getLogger(__name__)

MAX_POLL_BACKOFF_SECONDS = 900.0


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
    """Polls through the pipeline pass after pass and keeps the pipeline's calibration running beside it."""

    def __init__(
        self,
        pipeline: Pipeline,
        interval: float,
        *,
        before_first_poll: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.interval = interval
        self.poll_failures = 0
        self._loop = BackgroundLoop(
            "scout-watcher", self._poll, on_failure=self._poll_failed, prepare=before_first_poll
        )
        self._calibration: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling and calibrating; a second call while they run does nothing."""
        self._loop.start()
        if self._calibration is None or self._calibration.done():
            self._calibration = asyncio.create_task(self.pipeline.calibrate_forever(), name="scout-calibration")

    async def stop(self) -> None:
        """Stop both and wait for them: probes cut short resume at the next start."""
        await self._loop.stop()
        if self._calibration is not None:
            self._calibration.cancel()
            await asyncio.gather(self._calibration, return_exceptions=True)

    async def _poll(self) -> float:
        report = await self.pipeline.poll_once()
        self.poll_failures = 0 if report.ok else self.poll_failures + 1
        return poll_delay(self.interval, self.poll_failures)

    def _poll_failed(self, error: Exception) -> float:
        self.poll_failures += 1
        log.warning("poll failed (%d in a row): %s", self.poll_failures, one_line(error))
        return poll_delay(self.interval, self.poll_failures)
