"""The calibration plan on both engines: a failed target is due again after its backoff, a put-off one when its
refusal says, and only the model's own failures count towards giving up."""

from __future__ import annotations

from bot.store import Store

SUITE = "test-suite"


async def _states(store: Store) -> dict[str, tuple[str, int, int]]:
    return {t.model_id: (t.state, t.attempts, t.outages) for t in await store.calibration.targets(SUITE)}


async def test_failed_targets_come_due_again_and_outages_count_apart(store: Store):
    await store.calibration.plan(SUITE, [("acme/a", "acme"), ("acme/b", "acme"), ("acme/c", "acme")])
    assert [t.model_id for t in await store.calibration.due(SUITE)] == ["acme/a", "acme/b", "acme/c"]

    await store.calibration.finish("acme/a", SUITE, ok=False, requests=11, detail="503s", retry_in=0, outage=True)
    await store.calibration.finish("acme/b", SUITE, ok=False, requests=11, detail="404s", retry_in=None)
    await store.calibration.postpone("acme/c", SUITE, retry_in=3600, detail="the key is refused")
    assert await _states(store) == {"acme/a": ("failed", 0, 1), "acme/b": ("failed", 1, 0), "acme/c": ("pending", 0, 0)}
    assert [t.model_id for t in await store.calibration.due(SUITE)] == ["acme/a"]  # b gave up, c waits

    await store.calibration.finish("acme/a", SUITE, ok=True, requests=11, detail="")
    [a] = [t for t in await store.calibration.targets(SUITE) if t.model_id == "acme/a"]
    assert (a.state, a.requests, a.next_attempt_at) == ("done", 22, None)  # both runs' requests count
    assert await store.calibration.due(SUITE) == []
