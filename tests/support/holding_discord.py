"""FakeDiscord with two more ways for posting a message to go wrong, for crash and duplicate tests.

The shared fake answers or refuses a request; these faults sit *around* its real handler of
`POST /channels/{id}/messages`, so a test can stop time at the two moments a crash can split:

- `hold_post(channel, after_storing=False)`: the request has arrived but Discord has not stored the
  message yet (the bot has marked its intent and is waiting for the answer);
- `hold_post(channel, after_storing=True)`: Discord has stored the message but its answer (with the
  message id) has not reached the bot yet;
- `fail_after_storing(channel, status)`: Discord stores the message and still answers 5xx, as its
  edge does on a timeout, so a naive retry would post it twice.

A subclass in the tests' own module rather than an edit to the shared fake: the extra faults wrap one
handler and need nothing else from it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from bot.testing.discord import DiscordError, FakeDiscord, json_response


@dataclass
class PostHold:
    """One held post. `arrived` is set when the request is being held; `release()` lets it go on,
    `release(drop=True)` makes a hold placed before storing answer 503 without storing anything."""

    channel_id: int
    after_storing: bool
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False

    def release(self, *, drop: bool = False) -> None:
        self.dropped = drop
        self._released.set()

    async def wait_released(self) -> None:
        await self._released.wait()


@dataclass
class _FailAfterStoring:
    status: int
    remaining: int


class HoldingDiscord(FakeDiscord):
    """`FakeDiscord` plus `hold_post` and `fail_after_storing` (each applies to one channel's posts)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._holds: dict[int, PostHold] = {}
        self._fail_after: dict[int, _FailAfterStoring] = {}

    def hold_post(self, channel_id: int, *, after_storing: bool) -> PostHold:
        """Hold the next post to `channel_id` (one post only) until the test releases it."""
        hold = PostHold(channel_id, after_storing)
        self._holds[channel_id] = hold
        return hold

    def fail_after_storing(self, channel_id: int, *, status: int = 503, times: int = 1) -> None:
        """Store the next `times` posts to `channel_id`, then answer them with `status` anyway."""
        self._fail_after[channel_id] = _FailAfterStoring(status, times)

    def release_all(self) -> None:
        for hold in self._holds.values():
            hold.release(drop=True)

    async def _post_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        hold = self._holds.pop(channel_id, None)
        if hold is not None and not hold.after_storing:
            hold.arrived.set()
            await hold.wait_released()
            if hold.dropped:
                raise DiscordError(503, 0, "Service Unavailable (the test dropped this request)")
        response = await super()._post_message(request)
        if hold is not None and hold.after_storing:
            hold.arrived.set()
            await hold.wait_released()
        failure = self._fail_after.get(channel_id)
        if failure is not None and failure.remaining > 0 and response.status == 200:
            failure.remaining -= 1
            return json_response({"message": f"{failure.status}: Server Error", "code": 0}, status=failure.status)
        return response
