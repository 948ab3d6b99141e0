"""The spend ledger on both engines: what answered requests cost, summed over the last seven days."""

from __future__ import annotations

import pytest

from bot.store import Store


async def test_the_week_sums_what_was_booked_and_forgets_older_spend(store: Store):
    assert await store.spend.last_week() == 0
    await store.spend.record("acme/a", usd=0.004, reported=True, purpose="stealth")
    await store.spend.record("acme/b", usd=0.0125, reported=False, purpose="reference")
    await store.spend.record("acme/c", usd=-1.0, reported=True, purpose="manual")  # a negative report costs nothing
    assert await store.spend.last_week() == pytest.approx(0.0165)
    await store.db.execute("UPDATE spend SET at = ? WHERE model_id = ?", ("2020-01-01T00:00:00.000Z", "acme/b"))
    assert await store.spend.last_week() == pytest.approx(0.004)
