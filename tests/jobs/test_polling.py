"""Polling the catalogue against the fake gateway over real HTTP, with a real SQLite file."""

import copy

import pytest

from bot.gateway import GatewayClient, GatewayError
from bot.jobs.polling import SuspiciousCatalogue, poll_gateway
from bot.testing.gateway_server import SNAPSHOT_2026_06_07, FakeGateway, Fault
from tests.support.shared_data import snapshot_or_skip


def listing(model_id, name=None, price="0.000001"):
    return {
        "id": model_id,
        "name": name or f"Lab: {model_id}",
        "description": "d",
        "context_length": 1000,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        "pricing": {"prompt": price, "completion": price},
        "supported_parameters": ["temperature"],
    }


NAMED = [listing(f"openai/model-{i}") for i in range(30)]
OWL = listing("openrouter/owl-alpha", "Owl Alpha", price="0")


def client_for(gateway):
    return GatewayClient(gateway.base_url, "sk-test", max_attempts=2, backoff_base_s=0.01, timeout_s=0.3)


async def test_failed_polls_change_nothing_and_are_recorded(store):
    async with FakeGateway() as gateway, client_for(gateway) as client:
        gateway.set_catalogue(NAMED + [OWL])
        first = await poll_gateway(store, client)
        assert [(e.kind, e.model_id) for e in first.events] == [("new", "openrouter/owl-alpha")]
        for fault in (Fault.http(500), Fault.garbage(), Fault.truncated_json(), Fault.bad_shape(), Fault.hang(2)):
            gateway.set_fault("models", fault)
            with pytest.raises(GatewayError):
                await poll_gateway(store, client)
        gateway.set_fault("models", None)
        assert (await store.catalogue.counts())["removed"] == 0
        assert await store.catalogue.failures_since_success() == 5
        again = await poll_gateway(store, client)
        assert again.events == []
        assert await store.catalogue.failures_since_success() == 0


async def test_catalogue_that_lost_most_models_is_not_trusted(store):
    async with FakeGateway() as gateway, client_for(gateway) as client:
        gateway.replay([NAMED + [OWL], NAMED[:3]])
        await poll_gateway(store, client)
        with pytest.raises(SuspiciousCatalogue, match="only 3 of 31"):
            await poll_gateway(store, client)
        assert (await store.catalogue.counts())["removed"] == 0


async def test_broken_entries_are_skipped_and_the_rest_recorded(store):
    broken = listing("acme/broken")
    broken["context_length"] = "a lot"
    async with FakeGateway() as gateway, client_for(gateway) as client:
        gateway.set_catalogue(NAMED + [broken, OWL, 42])
        result = await poll_gateway(store, client)
    assert [s.model_id for s in result.skipped] == ["acme/broken"]
    assert result.listed == len(NAMED) + 1


async def test_stealth_lifecycle_announced_once_each_way(store):
    """Appears, stays (changed price), disappears together with a newly named model: one event each.

    The removal is confirmed by the second poll without it, and still names the model that appeared the
    poll it went missing."""
    await store.guilds.configure(1, 100, all_models=False)
    later = copy.deepcopy(OWL)
    later["pricing"] = {"prompt": "0.000001", "completion": "0.000002"}
    async with FakeGateway() as gateway, client_for(gateway) as client:
        gateway.replay([NAMED, NAMED + [OWL], NAMED + [later], NAMED + [listing("openai/gpt-5.1")]])
        kinds = [
            [(e.kind, e.model_id, e.stealth) for e in (await poll_gateway(store, client)).events] for _ in range(6)
        ]
    assert kinds[0] == []
    assert kinds[1] == [("new", "openrouter/owl-alpha", True)]
    assert kinds[2] == [("changed", "openrouter/owl-alpha", True)]
    assert kinds[3] == [("new", "openai/gpt-5.1", False)]
    assert kinds[4] == [("removed", "openrouter/owl-alpha", True)]
    assert kinds[5] == []
    events = await store.catalogue.events(model_id="openrouter/owl-alpha")
    assert events[0]["event"] == "removed" and events[0]["reveal_candidates"] == ["openai/gpt-5.1"]
    announcement = await store.outbox.for_model(1, "openrouter/owl-alpha")
    assert announcement.state == "intended" and announcement.removal_state == "intended"
    assert await store.outbox.for_model(1, "openai/gpt-5.1") is None


async def test_all_models_opt_in_gets_every_new_model(store):
    await store.guilds.configure(1, 100, all_models=True)
    await store.guilds.configure(2, 200, all_models=False)
    async with FakeGateway() as gateway, client_for(gateway) as client:
        gateway.replay([NAMED, NAMED + [listing("openai/new")]])
        await poll_gateway(store, client)
        await poll_gateway(store, client)
    assert await store.outbox.for_model(1, "openai/new") is not None
    assert await store.outbox.for_model(2, "openai/new") is None


async def test_real_snapshot_baseline_reports_owl_alpha_only(store):
    payload = snapshot_or_skip(SNAPSHOT_2026_06_07)
    async with FakeGateway() as gateway, client_for(gateway) as client:
        gateway.set_catalogue(payload)
        result = await poll_gateway(store, client)
        assert [(e.kind, e.model_id) for e in result.events] == [("new", "openrouter/owl-alpha")]
        assert (await poll_gateway(store, client)).events == []
