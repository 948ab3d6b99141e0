"""A background loop: one pass after another until stopped, outliving any pass that fails.

The bot's catalogue watcher and the announcer both run one, so stopping works the same for both: a flag
as well as the cancel, because Python 3.11's `wait_for` can swallow a cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class BackgroundLoop:
    """Runs `prepare` once, then `run_pass` forever; each pass (or `on_failure`) says how long `pause` waits."""

    def __init__(
        self,
        name: str,
        run_pass: Callable[[], Awaitable[float]],
        *,
        on_failure: Callable[[Exception], float],
        prepare: Callable[[], Awaitable[None]] | None = None,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._name = name
        self._run_pass = run_pass
        self._on_failure = on_failure
        self._prepare = prepare
        self._pause = pause
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the loop in a task of its own; a second call while it runs does nothing."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Stop the loop and wait for it to end; a pass under way is cancelled."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        if self._prepare is not None:
            await self._prepare()
        while not self._stopping:
            try:
                wait_s = await self._run_pass()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the loop must outlive any single pass
                wait_s = self._on_failure(error)
            await self._pause(wait_s)
