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
