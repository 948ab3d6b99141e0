"""Facts kept between runs, on both engines; a turn claimed once for every process (the `/scout probe` cooldown)."""

from __future__ import annotations

from bot.store import Store


async def test_a_turn_is_claimed_once_per_cooldown_and_says_who_holds_it(store: Store):
    assert await store.state.claim_turn("turn", "2026-01-01T10:00:00.000Z", "2026-01-01T09:50:00.000Z") is None
    held = await store.state.claim_turn("turn", "2026-01-01T10:05:00.000Z", "2026-01-01T09:55:00.000Z")
    assert held == "2026-01-01T10:00:00.000Z"  # within the cooldown: refused, and told since when
    assert await store.state.claim_turn("turn", "2026-01-01T10:11:00.000Z", "2026-01-01T10:01:00.000Z") is None
    assert await store.state.get("turn") == "2026-01-01T10:11:00.000Z"
