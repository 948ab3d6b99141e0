"""One poll of the catalogue: parse, classify, diff against the store, persist events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.catalogue.diff import CatalogueEvent, KnownModel, diff_catalogue
from bot.catalogue.entry import CatalogueEntry, SkippedEntry, parse_entries
from bot.catalogue.stealth import CatalogueContext, StealthVerdict, classify
from bot.gateway import GatewayClient, GatewayError
from bot.store import Store

log = logging.getLogger(__name__)

MIN_SHARE_STILL_LISTED = 0.5
MIN_MODELS_FOR_SHRINK_CHECK = 20


class SuspiciousCatalogue(Exception):
    """A catalogue that lost most of its models at once: far likelier a broken reply than a mass removal."""


@dataclass(frozen=True)
class PollResult:
    poll_id: int
    events: list[CatalogueEvent]
    skipped: list[SkippedEntry]
    listed: int
    baseline: bool


async def record_catalogue(
    store: Store, raw_entries: Iterable[Any], source: str, poll_id: int | None = None
) -> PollResult:
    """Diff a fetched catalogue against the store and persist the outcome (one transaction)."""
    if poll_id is None:
        poll_id = await store.catalogue.start_poll(source)
    known = await store.catalogue.known_models()
    entries, skipped, verdicts, events = await asyncio.to_thread(_parse_classify_diff, raw_entries, known)
    active = sum(not model.removed for model in known.values())
    still_listed = sum(1 for entry in entries if entry.id in known and not known[entry.id].removed)
    if active >= MIN_MODELS_FOR_SHRINK_CHECK and still_listed < active * MIN_SHARE_STILL_LISTED:
        error = SuspiciousCatalogue(
            f"catalogue from {source} lists only {still_listed} of {active} known models; not trusted, nothing marked removed"
        )
        await store.catalogue.fail_poll(poll_id, str(error))
        raise error
    await store.catalogue.record_poll(poll_id, entries, verdicts, events, skipped=len(skipped), baseline=not known)
    for event in events:
        log.debug("catalogue %s: %s%s", event.kind, event.model_id, " (stealth)" if event.stealth else "")
    log.info(
        "poll %d from %s: %d listed, %d skipped, %d events", poll_id, source, len(entries), len(skipped), len(events)
    )
    return PollResult(poll_id, events, skipped, len(entries), baseline=not known)


def _parse_classify_diff(
    raw_entries: Iterable[Any], known: dict[str, KnownModel]
) -> tuple[list[CatalogueEntry], list[SkippedEntry], dict[str, StealthVerdict], list[CatalogueEvent]]:
    """The CPU-heavy part of a poll, run in a thread so a 100,000-model catalogue never stalls the event loop."""
    entries, skipped = parse_entries(raw_entries)
    context = CatalogueContext.of(entries)
    verdicts = {entry.id: classify(entry, context) for entry in entries}
    return entries, skipped, verdicts, diff_catalogue(entries, verdicts, known)


async def poll_gateway(store: Store, client: GatewayClient) -> PollResult:
    """Fetch and record one catalogue. A failed fetch is written down as a failed poll and changes nothing else."""
    poll_id = await store.catalogue.start_poll(client.base_url)
    try:
        raw_entries = await client.fetch_models()
    except GatewayError as error:
        await store.catalogue.fail_poll(poll_id, str(error))
        raise
    return await record_catalogue(store, raw_entries, client.base_url, poll_id)
