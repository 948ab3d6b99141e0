"""A storm of 429s from Discord (issue 11, point 10): the announcer honours `retry_after` and adds no delay.

discord.py sleeps each 429's `retry_after` and gives up after five; the announcer then waits what Discord's
headers say and tries again, without a backoff of its own growing on top. Before the fix, the waits between
rounds doubled (5 s, 10 s, 20 s…) and a storm of 25 × 1.5 s held an announcement back for 198 s. The storm
here is 15 × 429 (three rounds) on posts, on edits, and as a global limit: every gap between two attempts
stays within Discord's longest stated wait, and the message lands.
"""

from __future__ import annotations

import pytest

from bot.testing.discord.records import RecordedRequest
from tests.support.world import OWL, World, announcements_in, eventually

RETRY_AFTER = 0.1
STATED_WAIT = 1.0  # the fake's Retry-After header: whole seconds, at least 1, as Discord sends it
STORM = 15
# Between two attempts: the stated wait, plus the announcer's wake-up and a loaded test machine's slack; still
# below the first step of the old backoff (5 s), which then doubled.
LONGEST_GAP = STATED_WAIT + 2.0


def _attempts(world: World, method: str, channel_id: int, *, edits: bool) -> list[RecordedRequest]:
    prefix = f"/channels/{channel_id}/messages"
    return [
        request
        for request in world.fake.requests
        if request.method == method and request.path.startswith(prefix) and (request.path != prefix) == edits
    ]


def _gaps(attempts: list[RecordedRequest]) -> list[float]:
    return [later.at - earlier.at for earlier, later in zip(attempts, attempts[1:], strict=False)]


def _storm(world: World, pattern: str, *, global_limit: bool) -> None:
    if not global_limit:
        world.fake.rate_limit(pattern, times=STORM, retry_after=RETRY_AFTER)
        return
    world.fake.inject_fault(
        pattern,
        429,
        {"message": "You are being rate limited.", "retry_after": RETRY_AFTER, "global": True},
        times=STORM,
        headers={"Retry-After": "1", "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global", "Via": "1.1 google"},
    )


@pytest.mark.parametrize("global_limit", [False, True], ids=["route limit", "global limit"])
async def test_a_rate_limited_post_goes_out_as_soon_as_discord_allows(world: World, global_limit: bool):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        _storm(world, "POST /channels/*/messages", global_limit=global_limit)
        await world.owl_appears(bot)
        await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id), timeout=30
        )
    attempts = _attempts(world, "POST", world.channel.id, edits=False)
    assert len(attempts) == STORM + 1
    assert max(_gaps(attempts)) < LONGEST_GAP, _gaps(attempts)


async def test_a_rate_limited_edit_lands_as_soon_as_discord_allows(world: World):
    async with world.run_bot() as bot:
        [announcement] = [await world.announce_owl(bot)]
        await bot.pipeline.wait_idle()

        async def edited() -> bool:
            row = await bot.store.outbox.for_model(world.guild.id, OWL["id"])
            return row is not None and row.posted_revision == row.revision

        await eventually(edited, what="the first edit with guesses")
        edits_before = announcement.edit_count
        world.fake.rate_limit("PATCH /channels/*/messages/*", times=STORM, retry_after=RETRY_AFTER)
        started = len(_attempts(world, "PATCH", world.channel.id, edits=True))
        await bot.pipeline.reprobe(OWL["id"])
        await world.fake.wait_until(lambda: announcement.edit_count > edits_before, what="the edit", timeout=30)
    attempts = _attempts(world, "PATCH", world.channel.id, edits=True)[started:]
    assert len(attempts) == STORM + 1
    assert max(_gaps(attempts)) < LONGEST_GAP, _gaps(attempts)
