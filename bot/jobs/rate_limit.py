"""A request limiter shared by every probe run of one process: requests per minute and requests in flight.

Free stealth models allow about 20 requests a minute per account, so the window is strict (a sliding
log of start times, not a token bucket that would allow two bursts inside one minute), and a server's
`Retry-After` pauses every run, not only the request that got the 429.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

WINDOW_S = 60.0


class RateLimiter:
    """At most `per_minute` request starts in any 60-second window and `concurrency` requests at once.

    `clock` and `sleep` are injectable so the window logic is tested without waiting.
    """

    def __init__(
        self,
        per_minute: float,
        concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        # A fractional rate such as 0.5/min becomes one request per 120 s.
        self._capacity = max(1, int(per_minute))
        self._window_s = WINDOW_S * self._capacity / per_minute
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._in_flight = asyncio.Semaphore(concurrency)
        self._turn = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep

    def pause_for(self, seconds: float) -> None:
        """Start nothing for `seconds` (a server asked us to wait)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    async def _wait_for_window(self) -> None:
        """Wait until a start is allowed and record it; one waiter at a time keeps the order fair."""
        async with self._turn:
            while True:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self._window_s:
                    self._starts.popleft()
                wait = self._paused_until - now
                if len(self._starts) >= self._capacity:
                    wait = max(wait, self._starts[0] + self._window_s - now)
                if wait <= 0:
                    self._starts.append(now)
                    return
                await self._sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot: taken when the window allows, released when the request ends."""
        async with self._in_flight:
            await self._wait_for_window()
            yield
