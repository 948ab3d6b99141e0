"""One poll of the catalogue: parse, classify, diff against the store, persist events."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.catalogue.diff import CatalogueEvent, diff_catalogue
from bot.catalogue.entry import SkippedEntry, parse_entries
from bot.catalogue.stealth import CatalogueContext, classify
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
    store: Store, raw_entries: Sequence[Any], source: str, poll_id: int | None = None
) -> PollResult:
    """Diff a fetched catalogue against the store and persist the outcome (one transaction)."""
    if poll_id is None:
        poll_id = await store.catalogue.start_poll(source)
    entries, skipped = parse_entries(raw_entries)
    context = CatalogueContext.of(entries)
    verdicts = {entry.id: classify(entry, context) for entry in entries}
    known = await store.catalogue.known_models()
    active = sum(not model.removed for model in known.values())
    still_listed = sum(1 for entry in entries if entry.id in known and not known[entry.id].removed)
    if active >= MIN_MODELS_FOR_SHRINK_CHECK and still_listed < active * MIN_SHARE_STILL_LISTED:
        error = SuspiciousCatalogue(
            f"catalogue from {source} lists only {still_listed} of {active} known models; not trusted, nothing marked removed"
        )
        await store.catalogue.fail_poll(poll_id, str(error))
        raise error
    events = diff_catalogue(entries, verdicts, known)
    await store.catalogue.record_poll(poll_id, entries, verdicts, events, skipped=len(skipped), baseline=not known)
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
    return PollResult(poll_id, events, skipped, len(entries), baseline=not known)


async def poll_gateway(store: Store, client: GatewayClient) -> PollResult:
    """Fetch and record one catalogue. A failed fetch is written down as a failed poll and changes nothing else."""
    poll_id = await store.catalogue.start_poll(client.base_url)
    try:
        raw_entries = await client.fetch_models()
    except GatewayError as error:
        await store.catalogue.fail_poll(poll_id, str(error))
        raise
    return await record_catalogue(store, raw_entries, client.base_url, poll_id)
