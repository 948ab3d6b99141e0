"""One poll end to end: catalogue → stealth models that need probing → probes → attribution → guess → announcement edit.

The poll returns as soon as the catalogue is recorded, so the announcement of a new stealth model
goes out at once; probing runs in background tasks that a `Pipeline` tracks, and each finished guess
bumps the model's announcement revision so the announcer edits the message with it.

What to probe is asked of the store, not taken from this process's poll: a stealth model recorded by
`scout scan` in another process, one whose run a crash interrupted, and one whose probes all failed
(due again after a backoff) are all picked up by the next poll. A run that brings back too little
evidence yields a guess without a ranking whose reason says what was missing; a run that found no
references to compare with is attributed again, from its stored answers, once references exist.

Use from the bot's loop:

    pipeline = Pipeline(store, gateway, settings)
    await pipeline.start()                  # abandons stale runs, schedules what the store says is due
    while running:
        report = await pipeline.poll_once() # never raises for a failed poll: see report.error
        ...
    await pipeline.close()                  # cancels probes; the next start resumes them

and `await pipeline.reprobe(model_id)` for an on-demand probe (it joins a probe already running for
that model).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace

from bot.attribution.combiner import Fingerprint, combine, gather_signals
from bot.attribution.guess import (
    GUESS_NO_REFERENCES,
    GUESS_NOT_FOUND,
    GUESS_NOT_PROBED,
    GUESS_PROBES_FAILED,
    Guess,
)
from bot.catalogue.diff import CatalogueEvent
from bot.catalogue.entry import CatalogueEntry
from bot.gateway import GatewayClient, GatewayError
from bot.jobs.key_health import KeyHealth, KeyRefused
from bot.jobs.polling import SuspiciousCatalogue, poll_gateway
from bot.jobs.probe_runner import (
    FORBIDDEN_KIND,
    KEY_REFUSED_KIND,
    NOT_FOUND_KIND,
    ProbeRunner,
    RunReport,
    request_extra_for,
)
from bot.jobs.references import catalogue_listings, combiner_model, load_fingerprints
from bot.jobs.retry import RetryPolicy
from bot.jobs.self_calibration import (
    plan_self_calibration,
    run_pending_calibration,
    self_calibration_enabled,
)
from bot.jobs.spend import SpendGuard, SpendRefused
from bot.probes.suite import SUITE_VERSION
from bot.settings import Settings
from bot.store import Store, StoreError
from bot.store.calibration import CalibrationProgress
from bot.store.database import utc_now

log = logging.getLogger(__name__)

MIN_USABLE_PROBES = 3
"""Fewer usable probes than this is not a run to rank from: one answer cannot tell tokenizer, claim and style apart."""
RETRIED_STATUSES = frozenset({GUESS_PROBES_FAILED, GUESS_NOT_FOUND})
ProbeRefused = (SpendRefused, KeyRefused)
"""A run that was not started (or was stopped at once): nothing counts against the model, it is due again later."""
CALIBRATION_PLAN_INTERVAL_S = 3600.0
# What each failure kind means to a person reading a card.
FAILURE_WORDS = {
    "rate_limited": "rate limited",
    "server_error": "gateway error",
    "timeout": "timed out",
    "network": "network error",
    "payment_required": "out of credit",
    KEY_REFUSED_KIND: "API key refused",
    FORBIDDEN_KIND: "refused to this account (403)",
    "client_error": "request refused",
    "bad_response": "garbled reply",
    "too_large": "reply too large",
    "empty": "empty answer",
    "reasoning_only": "reasoning but no answer",
    "no_usage": "no token count",
    NOT_FOUND_KIND: "model not found",
}


@dataclass(frozen=True)
class ProbeOutcome:
    """A finished probe with the guess made from it, for `/scout probe` and `scout probe` to report."""

    report: RunReport
    guess: Guess


@dataclass(frozen=True)
class PollFailure:
    """A poll that failed where the store could not record it: when it started and why."""

    started_at: str
    error: str


@dataclass(frozen=True)
class CycleReport:
    """What one poll did. `probing` lists the stealth models whose probes it started (still running
    when `poll_once` returns)."""

    ok: bool
    error: str | None
    poll_id: int | None
    events: tuple[CatalogueEvent, ...]
    probing: tuple[str, ...]
    resumed: tuple[str, ...] = ()


async def _listing(store: Store, model_id: str) -> CatalogueEntry | None:
    record = await store.catalogue.model(model_id)
    return record.entry if record else None


def _failure_kinds(report: RunReport) -> str:
    kinds = Counter(FAILURE_WORDS.get(f.error_kind or "", f.error_kind or "error") for f in report.failures)
    return ", ".join(f"{kind} ×{count}" if count > 1 else kind for kind, count in kinds.most_common())


def _failure_line(report: RunReport) -> str | None:
    failures = report.failures
    if not failures:
        return None
    return f"probes: {len(failures)} of {len(report.responses)} failed ({_failure_kinds(report)})"


def _usable_probes(report: RunReport) -> int:
    return len(set(report.texts) | set(report.token_counts))


def unusable_run(report: RunReport) -> tuple[str, str] | None:
    """(status, reason) when a run brought back too little to attribute, else None."""
    if _usable_probes(report) >= MIN_USABLE_PROBES:
        return None
    if report.failures and all(f.error_kind == NOT_FOUND_KIND for f in report.failures):
        return GUESS_NOT_FOUND, "no guess: the gateway does not know this model (404 on every probe)"
    answered = _usable_probes(report)
    what = f"{answered} of {len(report.responses)} probes answered" if answered else "every probe failed"
    kinds = _failure_kinds(report)
    return GUESS_PROBES_FAILED, f"no guess yet: probes failed — {kinds or 'no answer'} ({what})"


def no_references_reason(progress: CalibrationProgress) -> str:
    """What a card says before any reference exists: when guesses will start, so nobody is told to run a command."""
    if progress.complete and progress.planned and not progress.done:
        return f"no references yet — calibration could probe none of its {progress.planned} reference models"
    done = f"{progress.finished}/{progress.planned}" if progress.planned else "not started"
    return f"no references yet — guesses start when calibration finishes ({done})"


async def attribute_run(
    store: Store, report: RunReport, listing: CatalogueEntry | None, query_probe_ids: Collection[str]
) -> Guess:
    """Rank vendors for a finished run against the stored references (the heavy part off the event loop).

    No ranking is made when the run or the references cannot support one: the guess then says why,
    and that reason comes first wherever the guess is shown.
    """
    failure = _failure_line(report)
    failure_evidence = (failure,) if failure else ()
    unusable = unusable_run(report)
    if unusable is not None:
        status, reason = unusable
        return Guess(report.model_id, (), 0.0, failure_evidence, report.run_id, status=status, reason=reason)
    listings = await catalogue_listings(store)
    references = [r for r in await load_fingerprints(store, listings) if r.model_id != report.model_id]
    if not any(reference.vendor for reference in references):
        reason = no_references_reason(await store.calibration.progress(SUITE_VERSION))
        return Guess(
            report.model_id, (), 0.0, failure_evidence, report.run_id, status=GUESS_NO_REFERENCES, reason=reason
        )
    model = await combiner_model(store, references, listings, query_probe_ids)
    query = Fingerprint(report.model_id, None, report.texts, report.token_counts, listing, providers=report.providers)
    found = await asyncio.to_thread(gather_signals, query, references, listings)
    guess = combine(report.model_id, found, model)
    return replace(guess, evidence=guess.evidence + failure_evidence, run_id=report.run_id)


async def _save_and_announce(store: Store, guess: Guess) -> Guess:
    saved = await store.guesses.save(guess)
    if saved.ranking:
        log.info("guess for %s: %s at %.0f%%", saved.model_id, saved.top_vendor, 100 * saved.confidence)
    else:
        log.info("no guess for %s: %s", saved.model_id, saved.reason)
    return saved


async def probe_and_attribute(
    store: Store, runner: ProbeRunner, model_id: str, *, purpose: str, retry: RetryPolicy
) -> ProbeOutcome:
    """Probe one model, attribute it, store the guess and the attempt, and ask for its announcements to be edited.

    A run that failed is due again after `retry.delay(attempts)`; one that succeeded closes the model
    for this suite, so no process probes it again unasked. The run holds the model's claim: when another
    process (several bots on one PostgreSQL database) is probing the same model, this waits for it and
    takes its result instead of paying for a second run.
    """
    before = await store.guesses.latest(model_id)
    async with store.db.claim(f"probe:{model_id}") as waited:
        joined = await _outcome_since(store, model_id, before) if waited else None
        return joined or await _probe_and_attribute(store, runner, model_id, purpose=purpose, retry=retry)


async def _outcome_since(store: Store, model_id: str, before: Guess | None) -> ProbeOutcome | None:
    """The outcome of the run another process finished while we waited for the model's claim, if it made one."""
    latest = await store.guesses.latest(model_id)
    if latest is None or latest.run_id is None or (before is not None and latest.id == before.id):
        return None
    report = await stored_report(store, latest.run_id)
    return ProbeOutcome(report, latest) if report is not None else None


async def _probe_and_attribute(
    store: Store, runner: ProbeRunner, model_id: str, *, purpose: str, retry: RetryPolicy
) -> ProbeOutcome:
    listing = await _listing(store, model_id)
    extra = request_extra_for(listing.supported_parameters) if listing else {}
    try:
        report = await runner.run(model_id, purpose=purpose, request_extra=extra)
    except ProbeRefused as refused:
        await store.probe_attempts.postpone(model_id, SUITE_VERSION, retry_in=refused.retry_in, reason=str(refused))
        await _say_why_not_probed(store, model_id, str(refused))
        raise
    guess = await attribute_run(store, report, listing, report.planned)
    failed = guess.status in RETRIED_STATUSES
    attempts = await store.probe_attempts.get(model_id, report.suite_version)
    done_before = attempts.attempts + attempts.outages if attempts else 0
    counted_before = attempts.attempts if attempts else 0
    gives_up = failed and not report.outage and counted_before + 1 >= retry.max_attempts
    recorded = await store.probe_attempts.record(
        model_id,
        report.suite_version,
        run_id=report.run_id,
        succeeded=not failed,
        reason=guess.reason,
        retry_in=None if gives_up else retry.delay(done_before + 1),
        outage=report.outage,
    )
    if gives_up:
        guess = replace(guess, reason=f"{guess.reason}; gave up after {recorded.attempts} runs")
    saved = await _save_and_announce(store, guess)
    return ProbeOutcome(report, saved)


async def _say_why_not_probed(store: Store, model_id: str, why: str) -> None:
    """A guess saying why the model was not probed, so its cards say it; not repeated while the reason stands."""
    reason = f"no guess yet: {why}"
    latest = await store.guesses.latest(model_id)
    if latest is None or latest.status != GUESS_NOT_PROBED or latest.reason != reason:
        await _save_and_announce(store, Guess(model_id, (), 0.0, (), None, status=GUESS_NOT_PROBED, reason=reason))


async def stored_report(store: Store, run_id: int) -> RunReport | None:
    """A finished run rebuilt from the store, to attribute it again without sending a request."""
    run = await store.probes.run(run_id)
    if run is None:
        return None
    responses = tuple(await store.probes.responses(run_id))
    return RunReport(run.id, run.model_id, run.suite_version, run.purpose, responses, run.requests, 0.0)


async def reattribute_waiting(
    store: Store, query_probe_ids: Collection[str], made_since: str | None = None
) -> list[Guess]:
    """Attribute again, from their stored answers, the models whose guess waited for references that now exist,
    and those guessed at or after `made_since` (while a calibration round was adding references)."""
    waiting = {guess.model_id: guess for guess in await store.guesses.waiting_for_references()}
    if made_since is not None:
        waiting.update((guess.model_id, guess) for guess in await store.guesses.made_since(made_since))
    if not waiting or not await store.references.by_vendor(SUITE_VERSION):
        return []
    guesses = []
    for previous in sorted(waiting.values(), key=lambda guess: guess.id or 0):
        assert previous.run_id is not None
        report = await stored_report(store, previous.run_id)
        if report is None:
            continue
        guess = await attribute_run(store, report, await _listing(store, report.model_id), query_probe_ids)
        if guess.status != GUESS_NO_REFERENCES:
            guesses.append(await _save_and_announce(store, guess))
    return guesses


class Pipeline:
    """Polls the catalogue and keeps one background probe task per stealth model being attributed."""

    def __init__(
        self, store: Store, gateway: GatewayClient, settings: Settings, *, runner: ProbeRunner | None = None
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._settings = settings
        self.spend = SpendGuard(store, settings)
        self.key = KeyHealth(store, settings.probe_retry_base_seconds)
        self._runner = runner or self._new_runner()
        self._retry = RetryPolicy.from_settings(settings)
        self._calibration_wanted = asyncio.Event()
        self._calibration_planned_at: float | None = None
        self._tasks: dict[str, asyncio.Task[ProbeOutcome]] = {}
        self._started = False
        self._resumed: tuple[str, ...] = ()
        self.polling_since: str | None = None
        self.unstored_poll_failure: PollFailure | None = None

    def _new_runner(self) -> ProbeRunner:
        """A runner sharing this pipeline's spend guard and key health: one process, one of each."""
        return ProbeRunner.from_settings(self._store, self._gateway, self._settings, spend=self.spend, key=self.key)

    @property
    def probing(self) -> tuple[str, ...]:
        """Models whose probes are running now."""
        return tuple(model_id for model_id, task in self._tasks.items() if not task.done())

    async def start(self) -> tuple[str, ...]:
        """Recover from a crash: mark stale runs abandoned and schedule every stealth model the store says is due.

        Idempotent; `poll_once` calls it on first use. Returns the resumed model ids.
        """
        if self._started:
            return ()
        self._started = True
        stale = await self._store.probes.abandon_running()
        if stale:
            log.info("marked %d interrupted probe run(s) abandoned", len(stale))
        if (
            self_calibration_enabled(self._settings)
            and not (await self._store.calibration.progress(SUITE_VERSION)).complete
        ):
            self._calibration_wanted.set()  # a calibration a crash interrupted
        self._resumed = await self.schedule_due()
        return self._resumed

    async def plan_calibration(self) -> None:
        """Plan self-calibration from the recorded catalogue (at most hourly) and wake the calibration task.

        Called after each good poll and before its probes start, so a first guess made before any
        reference exists can already say how far calibration has to go.
        """
        if not self_calibration_enabled(self._settings):
            return
        now = time.monotonic()
        if (
            self._calibration_planned_at is not None
            and now - self._calibration_planned_at < CALIBRATION_PLAN_INTERVAL_S
        ):
            return
        self._calibration_planned_at = now
        await plan_self_calibration(self._store, self._settings, self._runner.plan.max_requests)
        if not (await self._store.calibration.progress(SUITE_VERSION)).complete:
            self._calibration_wanted.set()

    async def calibrate_forever(self) -> None:
        """The bot's background calibration: probe planned references whenever there are some, then re-attribute.

        Runs until cancelled; a failure is logged and the next plan tries again.
        """
        while True:
            await self._calibration_wanted.wait()
            self._calibration_wanted.clear()
            try:
                started = (await self._store.calibration.progress(SUITE_VERSION)).round_started_at
                progress = await run_pending_calibration(self._store, self._new_runner, self._retry)
                log.info(
                    "calibration finished a round: %d/%d, %d done", progress.finished, progress.planned, progress.done
                )
                await self.reattribute_waiting(made_since=started)
            except Exception as error:  # the calibration loop must outlive any single failure
                log.warning("calibration round failed: %s", error, exc_info=_traceback_of(error))

    async def schedule_due(self) -> tuple[str, ...]:
        """Start probing every stealth model that still needs it (not yet probed, or due for a retry).

        Returns the models started now; ones already being probed are not started twice.
        """
        due = await self._store.probe_attempts.due(SUITE_VERSION, self._retry.max_attempts)
        started = []
        for model_id in due:
            running = self._tasks.get(model_id)
            if running is None or running.done():
                self._schedule(model_id, "stealth")
                started.append(model_id)
        return tuple(started)

    async def reattribute_waiting(self, made_since: str | None = None) -> list[Guess]:
        """Guesses that waited for references (or were made from a round's first ones), made again now that the
        references exist (see `reattribute_waiting`)."""
        return await reattribute_waiting(
            self._store, {probe.probe_id for probe in self._runner.plan.probes}, made_since
        )

    async def poll_once(self) -> CycleReport:
        """Record one catalogue poll and start probing what the store says is due; returns before probes finish.

        A poll the store could not record (a full disk) is a failed poll too: it is kept here, in memory, since the
        store could not take it, so `/scout status` still shows it rather than the last poll that was stored."""
        began = self.polling_since = utc_now()
        resumed: tuple[str, ...] = ()
        try:
            resumed = await self.start()
            result = await poll_gateway(self._store, self._gateway)
        except (GatewayError, SuspiciousCatalogue) as error:
            log.warning("poll failed: %s", error)
            return CycleReport(False, str(error), None, (), await self.schedule_due(), resumed)
        except StoreError as error:
            log.error("poll failed: %s", error)
            self.unstored_poll_failure = PollFailure(began, str(error))
            return CycleReport(False, str(error), None, (), (), resumed)
        finally:
            self.polling_since = None
        self.unstored_poll_failure = None
        await self.plan_calibration()
        await self._wake_calibration_when_due()
        started = await self.schedule_due()
        await self.reattribute_waiting()
        return CycleReport(True, None, result.poll_id, tuple(result.events), started, resumed)

    async def _wake_calibration_when_due(self) -> None:
        """Failed or put-off calibration targets whose retry fell due are probed now, not at the next plan."""
        if self_calibration_enabled(self._settings) and await self._store.calibration.due(SUITE_VERSION):
            self._calibration_wanted.set()

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
        """Cancel running probes and wait for them to stop; their runs are resumed by the next `start` (here, once
        this process holds the poller lease again, or in the process that takes it over)."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._started = False

    def _schedule(self, model_id: str, purpose: str) -> asyncio.Task[ProbeOutcome]:
        running = self._tasks.get(model_id)
        if running is not None and not running.done():
            return running
        task = asyncio.create_task(
            probe_and_attribute(self._store, self._runner, model_id, purpose=purpose, retry=self._retry),
            name=f"probe {model_id}",
        )
        task.add_done_callback(_log_failure)
        self._tasks[model_id] = task
        return task


def _log_failure(task: asyncio.Task[ProbeOutcome]) -> None:
    """Background probes must never fail silently (and their exceptions must be retrieved); a run that was not
    started for its cost or a refused key is no error: it was postponed and its cards say why."""
    if task.cancelled():
        return
    error = task.exception()
    if isinstance(error, ProbeRefused):
        log.info("%s postponed: %s", task.get_name(), error)
    elif error is not None:
        log.error("%s failed: %s", task.get_name(), error, exc_info=_traceback_of(error))


def _traceback_of(error: BaseException) -> BaseException | None:
    """A store's failure (a full disk, a database file gone) is one line meant for people; anything else is a bug
    whose traceback belongs in the log."""
    return None if isinstance(error, StoreError) else error
