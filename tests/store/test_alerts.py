"""Alert preferences and the alerts outbox on a real SQLite file, fed by real polls."""

from __future__ import annotations

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store

OWL = {"id": "openrouter/owl-alpha", "name": "Owl Alpha", "pricing": {"prompt": "0", "completion": "0"}}


def listing(model_id: str, prompt: str = "0.000001") -> dict:
    return {"id": model_id, "name": f"Lab: {model_id}", "pricing": {"prompt": prompt, "completion": prompt}}


CATALOGUE = [listing(f"openai/model-{index}") for index in range(60)]
REPRICED = [listing(f"openai/model-{index}", prompt="0.000002") for index in range(50)] + CATALOGUE[50:]


async def test_defaults_until_a_guild_chooses_and_each_change_keeps_the_others(store: Store) -> None:
    await store.guilds.configure(1, 100, all_models=False)
    defaults = await store.alerts.preferences(1)
    assert (defaults.channel_id, defaults.stealth, defaults.paused, defaults.prices) == (100, True, False, False)
    await store.alerts.update(1, prices=True, watched=("openai",))
    await store.alerts.update(1, role_id=555)
    after = await store.alerts.preferences(1)
    assert (after.prices, after.watched, after.role_id, after.stealth) == (True, ("openai",), 555, True)
    with pytest.raises(ValueError, match="not an alert preference: channel_id"):
        await store.alerts.update(1, channel_id=5)


async def test_a_burst_of_fifty_changes_is_one_alert_row_per_guild(store: Store) -> None:
    for guild_id in (1, 2, 3):
        await store.guilds.configure(guild_id, 100 + guild_id, all_models=False)
    await store.alerts.update(1, prices=True, watched=("openai",))
    await store.alerts.update(2, prices=True, watched=("openai/model-7",))
    await record_catalogue(store, CATALOGUE, "before")
    await record_catalogue(store, REPRICED, "50 repriced")
    pending = await store.alerts.pending()
    assert [(alert.guild_id, alert.kind, alert.channel_id, len(alert.lines)) for alert in pending] == [
        (1, "price", 101, 50),
        (2, "price", 102, 1),
    ]
    await record_catalogue(store, REPRICED, "the same again")
    assert len(await store.alerts.pending()) == 2


async def test_removal_alerts_wait_for_the_confirmed_removal(store: Store) -> None:
    await store.guilds.configure(1, 101, all_models=False)
    await store.alerts.update(1, removals=True)
    await record_catalogue(store, CATALOGUE, "before")
    await record_catalogue(store, CATALOGUE[5:], "missing once")
    assert await store.alerts.pending() == []
    await record_catalogue(store, CATALOGUE[5:], "missing twice")
    [alert] = await store.alerts.pending()
    assert alert.kind == "removed" and len(alert.lines) == 5


async def test_pausing_stops_announcements_and_alerts_and_keeps_every_setting(store: Store) -> None:
    await store.guilds.configure(1, 101, all_models=False)
    await store.alerts.update(1, removals=True, role_id=555)
    await record_catalogue(store, CATALOGUE, "before")
    await store.alerts.update(1, paused=True)
    await record_catalogue(store, CATALOGUE[5:] + [OWL], "owl arrives")
    await record_catalogue(store, CATALOGUE[5:] + [OWL], "removal confirmed")
    assert await store.outbox.for_model(1, OWL["id"]) is None and await store.alerts.pending() == []
    resumed = await store.alerts.update(1, paused=False)
    assert (resumed.removals, resumed.role_id, resumed.channel_id) == (True, 555, 101)
    await record_catalogue(store, CATALOGUE[10:] + [OWL], "after the pause")
    await record_catalogue(store, CATALOGUE[10:] + [OWL], "removal confirmed again")
    assert [alert.kind for alert in await store.alerts.pending()] == ["removed"]


async def test_stealth_announcements_can_be_turned_off_per_guild(store: Store) -> None:
    for guild_id in (1, 2):
        await store.guilds.configure(guild_id, 100 + guild_id, all_models=False)
    await store.alerts.update(2, stealth=False)
    await record_catalogue(store, CATALOGUE, "before")
    await record_catalogue(store, CATALOGUE + [OWL], "owl arrives")
    assert await store.outbox.for_model(1, OWL["id"]) is not None
    assert await store.outbox.for_model(2, OWL["id"]) is None


async def test_the_ping_role_applies_to_stealth_models_only(store: Store) -> None:
    await store.guilds.configure(1, 101, all_models=True)
    await store.alerts.update(1, role_id=555)
    await record_catalogue(store, CATALOGUE, "before")
    await record_catalogue(store, CATALOGUE + [OWL, listing("openai/new")], "owl and a named model")
    assert await store.alerts.stealth_ping_role(1, OWL["id"]) == 555
    assert await store.alerts.stealth_ping_role(1, "openai/new") is None
    assert await store.alerts.stealth_ping_role(2, OWL["id"]) is None


async def test_a_paused_guild_gets_no_removal_reply_and_others_still_do(store: Store) -> None:
    for guild_id in (1, 2):
        await store.guilds.configure(guild_id, 100 + guild_id, all_models=False)
    await record_catalogue(store, CATALOGUE, "before")
    await record_catalogue(store, CATALOGUE + [OWL], "owl announced in both")
    await store.alerts.update(1, paused=True)
    for source in ("owl missing once", "owl removal confirmed"):
        await record_catalogue(store, CATALOGUE, source)
    assert (await store.outbox.for_model(1, OWL["id"])).removal_state == "none"
    assert (await store.outbox.for_model(2, OWL["id"])).removal_state == "intended"
