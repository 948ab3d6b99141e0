"""One poll end to end: catalogue → new stealth models → probes → attribution → guess → announcement edit.

The poll returns as soon as the catalogue is recorded, so the announcement of a new stealth model
goes out at once; probing runs in background tasks that a `Pipeline` tracks, and each finished guess
bumps the model's announcement revision so the announcer edits the message with it.

Use from the bot's loop:

    pipeline = Pipeline(store, gateway, settings)
    await pipeline.start()                  # abandons stale runs, resumes unattributed stealth models
    while running:
        report = await pipeline.poll_once() # never raises for a failed poll: see report.error
        ...
    await pipeline.close()                  # cancels probes; the next start resumes them

and `await pipeline.reprobe(model_id)` for an on-demand probe (it joins a probe already running for
that model). `run_cycle` does one poll and waits for its probes, for the CLI and tests.

Nothing lives only in memory: runs, responses and guesses are in the store as they happen, and a
stealth model without a guess is picked up again by the next `start`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from bot.attribution.combiner import Fingerprint, combine, gather_signals
from bot.attribution.references import catalogue_listings, combiner_model, load_fingerprints
from bot.catalogue.diff import CatalogueEvent
from bot.catalogue.entry import CatalogueEntry, EntryError, parse_entry
from bot.catalogue.watcher import SuspiciousCatalogue, poll_gateway
from bot.gateway import GatewayClient, GatewayError
from bot.probes.runner import ProbeRunner, RunReport, request_extra_for
from bot.settings import Settings
from bot.store import Store
from bot.store.probes import Guess

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeOutcome:
    report: RunReport
    guess: Guess


@dataclass(frozen=True)
class CycleReport:
    """What one poll did. `probing` lists the stealth models whose probes it started (still running
    when `poll_once` returns); `guesses` is filled only by `run_cycle`, which waits for them."""

    ok: bool
    error: str | None
    poll_id: int | None
    events: tuple[CatalogueEvent, ...]
    probing: tuple[str, ...]
    resumed: tuple[str, ...] = ()
    guesses: Mapping[str, Guess] = field(default_factory=dict)


async def _listing(store: Store, model_id: str) -> CatalogueEntry | None:
    record = await store.catalogue.model(model_id)
    if record is None:
        return None
    try:
        return parse_entry(record.raw)
    except EntryError:
        return None


def _failure_line(report: RunReport) -> str | None:
    failures = report.failures
    if not failures:
        return None
    kinds = Counter(failure.error_kind or "error" for failure in failures)
    listed = ", ".join(f"{kind} ×{count}" if count > 1 else kind for kind, count in kinds.most_common())
    return f"probes: {len(failures)} of {len(report.responses)} failed ({listed})"


async def attribute_run(
    store: Store, report: RunReport, listing: CatalogueEntry | None, query_probe_ids: Collection[str]
) -> Guess:
    """Rank vendors for a finished run against the stored references (the heavy part off the event loop)."""
    listings = await catalogue_listings(store)
    references = await load_fingerprints(store, listings)
    model = await combiner_model(store, references, listings, query_probe_ids)
    query = Fingerprint(report.model_id, None, report.texts, report.token_counts, listing)
    others = [reference for reference in references if reference.model_id != report.model_id]
    found = await asyncio.to_thread(gather_signals, query, others, listings)
    guess = combine(report.model_id, found, model)
    failure = _failure_line(report)
    evidence = guess.evidence + ((failure,) if failure else ())
    return replace(guess, evidence=evidence, run_id=report.run_id)


async def probe_and_attribute(store: Store, runner: ProbeRunner, model_id: str, *, purpose: str) -> ProbeOutcome:
    """Probe one model, attribute it, store the guess and ask for its announcements to be edited."""
    listing = await _listing(store, model_id)
    extra = request_extra_for(listing.supported_parameters) if listing else {}
    report = await runner.run(model_id, purpose=purpose, request_extra=extra)
    guess = await attribute_run(store, report, listing, {probe.probe_id for probe in runner.plan.probes})
    saved = await store.guesses.save(guess)
    await store.outbox.bump_revision(model_id)
    log.info(
        "guess for %s: %s at %.0f%%",
        model_id,
        saved.top_vendor or "nobody",
        100 * saved.confidence,
    )
    return ProbeOutcome(report, saved)


class Pipeline:
    """Polls the catalogue and keeps one background probe task per stealth model being attributed."""

    def __init__(
        self, store: Store, gateway: GatewayClient, settings: Settings, *, runner: ProbeRunner | None = None
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._runner = runner or ProbeRunner.from_settings(store, gateway, settings)
        self._tasks: dict[str, asyncio.Task[ProbeOutcome]] = {}
        self._started = False
        self._resumed: tuple[str, ...] = ()

    @property
    def probing(self) -> tuple[str, ...]:
        """Models whose probes are running now."""
        return tuple(model_id for model_id, task in self._tasks.items() if not task.done())

    async def start(self) -> tuple[str, ...]:
        """Recover from a crash: mark stale runs abandoned and resume every stealth model without a guess.

        Idempotent; `poll_once` calls it on first use. Returns the resumed model ids.
        """
        if self._started:
            return ()
        self._started = True
        stale = await self._store.probes.abandon_running()
        if stale:
            log.info("marked %d interrupted probe run(s) abandoned", len(stale))
        pending = await self._store.guesses.stealth_models_without_guess()
        for model_id in pending:
            self._schedule(model_id, "stealth")
        self._resumed = tuple(pending)
        return self._resumed

    async def poll_once(self) -> CycleReport:
        """Record one catalogue poll and start probing its new stealth models; returns before they finish."""
        resumed = await self.start()
        try:
            result = await poll_gateway(self._store, self._gateway)
        except (GatewayError, SuspiciousCatalogue) as error:
            log.warning("poll failed: %s", error)
            return CycleReport(False, str(error), None, (), (), resumed)
        started = []
        for event in result.events:
            if not event.stealth or event.kind not in ("new", "returned"):
                continue
            if event.kind == "returned" and await self._store.guesses.latest(event.model_id) is not None:
                continue
            self._schedule(event.model_id, "stealth")
            started.append(event.model_id)
        return CycleReport(True, None, result.poll_id, tuple(result.events), tuple(started), resumed)

    async def reprobe(self, model_id: str) -> ProbeOutcome:
        """Probe `model_id` now and wait for the guess; joins a probe of it already under way.

        The probe is shielded: a caller that gives up (a Discord interaction timing out) does not
        cancel it, and its guess is still stored and announced.
        """
        task = self._tasks.get(model_id)
        if task is None or task.done():
            task = self._schedule(model_id, "manual")
        return await asyncio.shield(task)

    async def wait_idle(self) -> None:
        """Wait until no probe is running (including ones started while waiting)."""
        while running := [task for task in self._tasks.values() if not task.done()]:
            await asyncio.wait(running)

    async def close(self) -> None:
        """Cancel running probes and wait for them to stop; their runs are resumed by the next `start`."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _schedule(self, model_id: str, purpose: str) -> asyncio.Task[ProbeOutcome]:
        running = self._tasks.get(model_id)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(
            probe_and_attribute(self._store, self._runner, model_id, purpose=purpose), name=f"probe {model_id}"
        )
        task.add_done_callback(_log_failure)
        self._tasks[model_id] = task
        return task


def _log_failure(task: asyncio.Task[ProbeOutcome]) -> None:
    """Background probes must never fail silently (and their exceptions must be retrieved)."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("%s failed: %s", task.get_name(), error, exc_info=error)


async def run_cycle(store: Store, gateway: GatewayClient, settings: Settings) -> CycleReport:
    """One poll end to end, waiting for its probes: for `scout`-style one-shot use and tests."""
    pipeline = Pipeline(store, gateway, settings)
    try:
        report = await pipeline.poll_once()
        await pipeline.wait_idle()
        guesses = {}
        for model_id in dict.fromkeys(report.resumed + report.probing):
            guess = await store.guesses.latest(model_id)
            if guess is not None:
                guesses[model_id] = guess
        return replace(report, guesses=guesses)
    finally:
        await pipeline.close()
