"""The shared limiter, on a fake clock: the window, Retry-After pauses and the in-flight cap."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.rate_limit import RateLimiter


class FakeClock:
    """Time that passes only when somebody sleeps; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def starts(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        async with limiter.slot():
            times.append(clock.now)
    return times


async def test_requests_inside_the_rate_start_at_once():
    clock = FakeClock()
    limiter = RateLimiter(20, 20, clock=clock, sleep=clock.sleep)
    assert await starts(limiter, clock, 12) == [1000.0] * 12
    assert clock.sleeps == []


async def test_no_more_than_the_rate_start_within_any_minute():
    clock = FakeClock()
    limiter = RateLimiter(5, 5, clock=clock, sleep=clock.sleep)
    times = await starts(limiter, clock, 12)
    for index, started in enumerate(times):
        in_window = [t for t in times if started - 60 < t <= started]
        assert len(in_window) <= 5, (index, times)
    assert times[5] == pytest.approx(1060.0) and times[10] == pytest.approx(1120.0)


async def test_fractional_rates_space_single_requests_out():
    clock = FakeClock()
    limiter = RateLimiter(0.5, 1, clock=clock, sleep=clock.sleep)
    assert await starts(limiter, clock, 3) == [1000.0, 1120.0, 1240.0]


async def test_retry_after_pauses_every_later_start():
    clock = FakeClock()
    limiter = RateLimiter(100, 10, clock=clock, sleep=clock.sleep)
    await starts(limiter, clock, 1)
    limiter.pause_for(7.5)
    assert await starts(limiter, clock, 2) == [1007.5, 1007.5]


async def test_concurrency_caps_requests_in_flight():
    limiter = RateLimiter(1000, 3)
    in_flight = peak = 0
    release = asyncio.Event()

    async def request() -> None:
        nonlocal in_flight, peak
        async with limiter.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await release.wait()
            in_flight -= 1

    tasks = [asyncio.create_task(request()) for _ in range(8)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert peak == 3
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 3


def test_bad_limits_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
    with pytest.raises(ValueError):
        RateLimiter(10, 0)
