"""The store hands out the typed listing, parsed in one place, so no reader re-parses the raw JSON."""

from __future__ import annotations

import json

from bot.catalogue.entry import parse_entry
from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.world import OWL


async def test_a_stored_model_hands_out_its_listing_typed(store: Store):
    await record_catalogue(store, [OWL], "fixture")
    record = await store.catalogue.model(OWL["id"])
    assert record is not None and record.entry == parse_entry(OWL)
    assert record.entry.pricing == {"prompt": "0", "completion": "0"} and record.entry.output_modalities == ("text",)
    assert record.entry is record.entry  # parsed once per record, not on every read


async def test_a_stored_listing_that_no_longer_parses_has_no_entry_and_the_record_still_loads(store: Store):
    await record_catalogue(store, [OWL], "fixture")
    await store.db.execute(
        "UPDATE models SET raw_json = ? WHERE id = ?", (json.dumps({"name": "no id any more"}), OWL["id"])
    )
    record = await store.catalogue.model(OWL["id"])
    assert record is not None and record.id == OWL["id"] and record.entry is None


async def test_a_model_is_found_by_its_id_its_name_or_the_start_of_either(store: Store):
    beta = {**OWL, "id": "openrouter/owl-beta", "name": "OpenRouter: Owl Beta"}
    await record_catalogue(store, [OWL, beta, {**OWL, "id": "acme/falcon-1", "name": "Acme: Falcon 1"}], "fixture")

    def ids(found: list) -> list[str]:
        return sorted(model.id for model in found)

    assert ids(await store.catalogue.find_models("openrouter/owl-alpha")) == ["openrouter/owl-alpha"]
    assert ids(await store.catalogue.find_models("owl beta")) == ["openrouter/owl-beta"]  # the name, without "X: "
    assert ids(await store.catalogue.find_models("OpenRouter: Owl Beta")) == ["openrouter/owl-beta"]
    assert ids(await store.catalogue.find_models("FALC")) == ["acme/falcon-1"]  # the start, in any case
    assert ids(await store.catalogue.find_models("owl")) == ["openrouter/owl-alpha", "openrouter/owl-beta"]
    assert await store.catalogue.find_models("nothing") == [] and await store.catalogue.find_models("  ") == []
