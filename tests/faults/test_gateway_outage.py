"""The gateway down for a long stretch, then back: nothing marked removed, backoff capped, status honest."""

from __future__ import annotations

from bot.jobs.watcher import MAX_POLL_BACKOFF_SECONDS, poll_delay
from bot.testing.gateway_server import Fault
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, eventually

OUTAGE_POLLS = 12


def _status_fields(answer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, embeds, _ = answer
    return {field["name"]: field["value"] for field in embeds[0]["fields"]}


async def test_a_long_outage_removes_nothing_shows_in_status_and_polls_resume(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        events_before = await bot.store.catalogue.events(limit=1000)

        world.gateway.go_down()
        outcomes = [await bot.pipeline.poll_once() for _ in range(OUTAGE_POLLS // 2)]
        world.gateway.go_down(Fault.garbage())  # a broken proxy answering 200 with an HTML page
        outcomes += [await bot.pipeline.poll_once() for _ in range(OUTAGE_POLLS // 2)]
        assert [(report.ok, report.events) for report in outcomes] == [(False, ())] * OUTAGE_POLLS
        assert await bot.store.catalogue.events(limit=1000) == events_before
        assert await bot.store.catalogue.counts() == {"models": len(ORDINARY_MODELS), "stealth": 0, "removed": 0}

        shown = _status_fields(await world.answer(await world.command(bot, "scout status")))
        assert "failed:" in shown["Catalogue"] and f"{OUTAGE_POLLS} failed since (backing off)" in shown["Catalogue"]

        world.gateway.come_back()
        world.add_owl()  # listed during the outage
        report = await bot.pipeline.poll_once()
        assert report.ok and [(event.kind, event.model_id) for event in report.events] == [("new", OWL["id"])]
        await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id)
        )
        quiet = await bot.pipeline.poll_once()
        assert quiet.ok and quiet.events == ()

        shown = _status_fields(await world.answer(await world.command(bot, "scout status")))
        assert ", ok." in shown["Catalogue"] and "failed since" not in shown["Catalogue"]
        assert shown["Models"] == "3 known, 1 stealth, 0 removed"


async def test_the_watcher_counts_failed_polls_while_the_gateway_is_down(world: World):
    world.gateway.go_down()
    async with world.run_bot() as bot:

        async def failed_once() -> bool:
            return bot.watcher.poll_failures >= 1

        await eventually(failed_once, what="the watcher's first poll failing")
        assert await bot.store.catalogue.last_successful_poll() is None
        assert await bot.store.catalogue.failures_since_success() >= 1


def test_the_poll_backoff_doubles_per_failure_and_is_capped():
    delays = [poll_delay(60, failures) for failures in range(0, 200)]
    assert delays[:4] == [60, 120, 240, 480]
    assert delays == sorted(delays) and max(delays) == MAX_POLL_BACKOFF_SECONDS
    assert poll_delay(5, 10**6) == MAX_POLL_BACKOFF_SECONDS  # a week-long outage still polls every cap
    assert poll_delay(3600, 3) == 3600  # an interval above the cap is never shortened nor lengthened
