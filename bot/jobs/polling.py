"""One poll of the catalogue: fetch it, parse and classify it, diff it against the store, persist the events.

The pure steps live in `bot.catalogue`; this module is where they meet the gateway and the store, for the
pipeline and `scout scan` alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.catalogue.diff import CatalogueEvent, KnownModel, diff_catalogue
from bot.catalogue.entry import CatalogueEntry, SkippedEntry, parse_entries
from bot.catalogue.stealth import CatalogueContext, StealthVerdict, classify
from bot.gateway import GatewayClient, GatewayError
from bot.store import Store, StoreError

log = logging.getLogger(__name__)

MIN_SHARE_STILL_LISTED = 0.5
MIN_MODELS_FOR_SHRINK_CHECK = 20


class SuspiciousCatalogue(Exception):
    """A catalogue that lost most of its models at once: far likelier a broken reply than a mass removal."""


@dataclass(frozen=True)
class PollResult:
    """What one recorded poll found, for the pipeline (which models to probe) and `scout scan` (what to print)."""

    poll_id: int
    events: list[CatalogueEvent]
    skipped: list[SkippedEntry]
    listed: int
    baseline: bool


def check_shrink(entries: Sequence[CatalogueEntry], known: Mapping[str, KnownModel], recent_peak: int) -> str | None:
    """Why a catalogue is too small to trust, or None.

    Two yardsticks, so a catalogue shrinking by steps is caught as well as one that collapses at once:
    the known models not yet confirmed removed (a model missing from one poll still counts), and the
    most models a recent successful poll listed.
    """
    active = sum(not model.removed for model in known.values())
    still_listed = sum(1 for entry in entries if entry.id in known and not known[entry.id].removed)
    if active >= MIN_MODELS_FOR_SHRINK_CHECK and still_listed < active * MIN_SHARE_STILL_LISTED:
        return f"lists only {still_listed} of {active} known models"
    if recent_peak >= MIN_MODELS_FOR_SHRINK_CHECK and len(entries) < recent_peak * MIN_SHARE_STILL_LISTED:
        return f"lists only {len(entries)} models where a recent poll listed {recent_peak}"
    return None


async def record_catalogue(
    store: Store, raw_entries: Iterable[Any], source: str, poll_id: int | None = None
) -> PollResult:
    """Diff a fetched catalogue against the store and persist the outcome (one transaction)."""
    if poll_id is None:
        poll_id = await store.catalogue.start_poll(source)
    entries, skipped, verdicts = await asyncio.to_thread(_parse_and_classify, raw_entries)

    async def decide(known: Mapping[str, KnownModel], recent_peak: int) -> list[CatalogueEvent]:
        shrink = check_shrink(entries, known, recent_peak)
        if shrink:
            raise SuspiciousCatalogue(f"catalogue from {source} {shrink}; not trusted, nothing marked removed")
        return await asyncio.to_thread(diff_catalogue, entries, verdicts, known)

    try:
        events, baseline = await store.catalogue.record_poll(poll_id, entries, verdicts, decide, skipped=len(skipped))
    except SuspiciousCatalogue as error:
        await store.catalogue.fail_poll(poll_id, str(error))
        raise
    for event in events:
        log.debug("catalogue %s: %s%s", event.kind, event.model_id, " (stealth)" if event.stealth else "")
    log.log(
        logging.INFO if events or skipped else logging.DEBUG,  # a quiet poll is no news: 1,440 lines a day at 60 s
        "poll %d from %s: %d listed, %d skipped, %d events",
        poll_id,
        source,
        len(entries),
        len(skipped),
        len(events),
    )
    return PollResult(poll_id, events, skipped, len(entries), baseline)


def _parse_and_classify(
    raw_entries: Iterable[Any],
) -> tuple[list[CatalogueEntry], list[SkippedEntry], dict[str, StealthVerdict]]:
    """The CPU-heavy part of a poll, run in a thread so a 100,000-model catalogue never stalls the event loop."""
    entries, skipped = parse_entries(raw_entries)
    context = CatalogueContext.of(entries)
    return entries, skipped, {entry.id: classify(entry, context) for entry in entries}


async def poll_gateway(store: Store, client: GatewayClient) -> PollResult:
    """Fetch and record one catalogue. A failed fetch is written down as a failed poll and changes nothing else; so
    is a catalogue the store could not record (a full disk), as far as the store can still write that down."""
    poll_id = await store.catalogue.start_poll(client.base_url)
    try:
        raw_entries = await client.fetch_models()
    except GatewayError as error:
        await store.catalogue.fail_poll(poll_id, str(error))
        raise
    try:
        return await record_catalogue(store, raw_entries, client.base_url, poll_id)
    except StoreError as error:
        with contextlib.suppress(StoreError):
            await store.catalogue.fail_poll(poll_id, str(error))
        raise
