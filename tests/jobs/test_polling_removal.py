"""Removal needs confirmation over time: a catalogue shrinking by steps must not mark most models removed."""

from __future__ import annotations

import pytest

from bot.catalogue.entry import load_catalogue_file
from bot.jobs.polling import SuspiciousCatalogue, record_catalogue
from bot.store import Store


async def shrink_by_steps(store: Store, catalogue: list[dict], loss: float, polls: int) -> list[bool]:
    """Poll `catalogue`, then `polls` more times, each listing `loss` fewer models; which polls were accepted."""
    await record_catalogue(store, catalogue, "full")
    listed, accepted = list(catalogue), []
    for step in range(polls):
        listed = listed[: int(len(listed) * (1 - loss))]
        try:
            await record_catalogue(store, listed, f"shrunk {step + 1}")
            accepted.append(True)
        except SuspiciousCatalogue:
            accepted.append(False)
    return accepted


@pytest.mark.parametrize(("loss", "polls"), [(0.45, 3), (0.3, 5), (0.25, 8), (0.1, 12), (0.6, 3)])
async def test_a_catalogue_shrinking_by_steps_never_marks_most_models_removed(store, catalogue_december, loss, polls):
    catalogue = list(load_catalogue_file(str(catalogue_december)))
    accepted = await shrink_by_steps(store, catalogue, loss, polls)
    removed = (await store.catalogue.counts())["removed"]
    assert removed < len(catalogue) / 2, (removed, accepted)
    assert not all(accepted), "a catalogue that halved over a few polls must be refused at some poll"


async def test_the_reported_case_removes_nothing(store, catalogue_december):
    """349 models losing 45% on each of three polls: the first shrink is unconfirmed, the next two refused."""
    catalogue = list(load_catalogue_file(str(catalogue_december)))
    assert await shrink_by_steps(store, catalogue, 0.45, 3) == [True, False, False]
    assert (await store.catalogue.counts())["removed"] == 0
    [last] = await store.catalogue.last_polls(1)
    assert not last.ok and "of 349 known models; not trusted, nothing marked removed" in (last.error or "")


async def test_a_real_removal_is_confirmed_by_the_second_poll_without_it(store, catalogue_december):
    catalogue = list(load_catalogue_file(str(catalogue_december)))
    gone = catalogue[0]["id"]
    await record_catalogue(store, catalogue, "full")
    first = await record_catalogue(store, catalogue[1:], "without one")
    assert first.events == [] and (await store.catalogue.model(gone)).removed_at is None
    second = await record_catalogue(store, catalogue[1:], "still without it")
    assert [(event.kind, event.model_id) for event in second.events] == [("removed", gone)]
    assert (await record_catalogue(store, catalogue[1:], "and again")).events == []


async def test_a_model_missing_from_one_poll_then_back_starts_counting_again(store, catalogue_december):
    catalogue = list(load_catalogue_file(str(catalogue_december)))
    flaky = catalogue[0]["id"]
    await record_catalogue(store, catalogue, "full")
    for source in ("missing", "back", "missing again"):
        listed = catalogue if source == "back" else catalogue[1:]
        assert (await record_catalogue(store, listed, source)).events == [], source
    assert (await store.catalogue.model(flaky)).removed_at is None
