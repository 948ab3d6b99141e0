"""The bot calibrates itself: with an API key and no references for the current suite, it probes the
newest model of each product line of each major lab in the catalogue as references (flagship, small,
reasoning, open-weight, coder: `bot.catalogue.lines`), in the background, from the first poll on.

The plan (which models, and how each went) is kept in the store, so a calibration killed halfway
resumes where it stopped, and `/scout status` and the cards can say how far it got (N/M). A week of
calibration is bounded by CALIBRATION_REQUEST_BUDGET; every lab's flagship comes before any lab's second
line, cheapest first within a round (see `calibration_plan`). A newer member of a line takes the older
one's place in the plan and is probed too, but at most once a week per lab, so a busy catalogue cannot
drain the budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.catalogue.vendors import display_name, vendor_for_model_id
from bot.jobs.key_health import KeyRefused
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.references import CALIBRATION_PARALLEL_MODELS, choose_calibration_models, probe_reference
from bot.jobs.retry import RetryPolicy
from bot.jobs.spend import MIN_PROBES_WORTH_A_RUN, SpendRefused
from bot.probes.cost import ListingPrices, plan_cost, plan_within
from bot.probes.suite import SUITE_VERSION, plan_probes
from bot.settings import Settings
from bot.store import Store
from bot.store.calibration import PENDING, CalibrationProgress, CalibrationTarget

log = logging.getLogger(__name__)

REFRESH_AFTER_DAYS = 7.0


def _age_days(timestamp: str, now: datetime) -> float:
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    return max(0.0, (now - moment).total_seconds() / 86_400)


def self_calibration_enabled(settings: Settings) -> bool:
    """Only with a key (probes are paid chat requests) and a budget above zero."""
    return settings.openrouter_api_key is not None and settings.calibration_request_budget > 0


async def plan_self_calibration(store: Store, settings: Settings, requests_per_model: int) -> int:
    """Add to the plan the models still worth probing as references; returns how many were added.

    A model already referenced or planned for this suite is never planned twice; a lab planned less
    than a week ago waits; what was planned in the last week (spent, or the most a pending model can
    spend) counts against CALIBRATION_REQUEST_BUDGET, and planning stops where it would run out.
    """
    plan = plan_probes(settings.probe_max_requests, settings.probe_max_tokens)
    chosen = settings.calibration_model_ids or choose_calibration_models(
        await store.catalogue.models(), settings.calibration_models_per_vendor, plan
    )
    referenced = await store.references.model_ids(SUITE_VERSION)
    targets = await store.calibration.targets(SUITE_VERSION)
    planned = {target.model_id for target in targets}
    now = datetime.now(UTC)
    this_week = [t for t in targets if _age_days(t.planned_at, now) < REFRESH_AFTER_DAYS]
    recently = {t.vendor for t in this_week}
    committed = sum(requests_per_model if t.state == PENDING else t.requests for t in this_week)
    wanted = []
    for model_id in chosen:
        vendor = vendor_for_model_id(model_id)
        if vendor is None or model_id in referenced or model_id in planned or vendor.key in recently:
            continue
        wanted.append((model_id, vendor.key))
    affordable = max(0, settings.calibration_request_budget - committed) // max(1, requests_per_model)
    added = await store.calibration.plan(SUITE_VERSION, wanted[:affordable])
    if added:
        progress = await store.calibration.progress(SUITE_VERSION)
        log.info(
            "calibration planned %d more reference model(s) (%d/%d done, at most %d requests each)",
            added,
            progress.finished,
            progress.planned,
            requests_per_model,
        )
    return added


async def run_pending_calibration(
    store: Store, make_runner: Callable[[], ProbeRunner], retry: RetryPolicy
) -> CalibrationProgress:
    """Probe every planned model that is due (never probed, or failed and due for its retry), a few at once; each
    outcome is stored as soon as it is known.

    A failed target is tried again after `retry`'s backoff: a run lost to an outage (every probe failed for the
    gateway's, the network's or the account's reasons) never counts against it, one that failed for the model's own
    reasons does, up to `retry.max_attempts`. A run refused before it started (the key, the spend limit) leaves the
    target as it was, due again when the refusal says.
    """
    due = await store.calibration.due(SUITE_VERSION)
    gate = asyncio.Semaphore(CALIBRATION_PARALLEL_MODELS)

    async def one(target: CalibrationTarget) -> None:
        try:
            async with gate:
                step = await probe_reference(store, make_runner(), target.model_id, target.vendor)
        except (SpendRefused, KeyRefused) as refused:
            await store.calibration.postpone(
                target.model_id, SUITE_VERSION, retry_in=refused.retry_in, detail=str(refused)
            )
            log.info("calibration of %s put off: %s", target.model_id, refused)
            return
        ok = step.status == "done"
        attempts = target.attempts + (not ok and not step.outage)
        retry_in = None if ok or attempts >= retry.max_attempts else retry.delay(attempts + target.outages + 1)
        await store.calibration.finish(
            target.model_id,
            SUITE_VERSION,
            ok=ok,
            requests=step.requests,
            detail=step.detail,
            retry_in=retry_in,
            outage=step.outage,
        )
        progress = await store.calibration.progress(SUITE_VERSION)
        again = f"; tried again in {retry_in:.0f}s" if retry_in is not None else ""
        log.info("calibration %d/%d: %s%s", progress.finished, progress.planned, step.describe(), again)

    await asyncio.gather(*(one(target) for target in due))
    return await store.calibration.progress(SUITE_VERSION)


def seconds_to_finish(progress: CalibrationProgress, now: datetime) -> float | None:
    """How long the current round should still take at its pace so far (a few models are probed at once, so the
    pace is measured, not added up); None before any model of the round finished, or when nothing is pending."""
    if progress.complete or not progress.round_finished or progress.round_started_at is None:
        return None
    elapsed = max(0.0, (now - datetime.fromisoformat(progress.round_started_at)).total_seconds())
    return elapsed / progress.round_finished * (progress.planned - progress.finished)


@dataclass(frozen=True)
class RoundCost:
    """What the current calibration round may cost: its reference models and the most their runs cost, each run
    kept within PROBE_MAX_USD_PER_RUN as the spend guard keeps it (a run that cannot fit is not made)."""

    models: int
    usd: float


async def calibration_round_cost(store: Store, settings: Settings) -> RoundCost:
    """The most the models planned as references in the last week cost to probe, at their listings' prices."""
    now = datetime.now(UTC)
    plan = plan_probes(settings.probe_max_requests, settings.probe_max_tokens)
    models, total = 0, 0.0
    for target in await store.calibration.targets(SUITE_VERSION):
        record = await store.catalogue.model(target.model_id)
        prices = ListingPrices.of(record.entry) if record is not None and record.entry is not None else None
        if _age_days(target.planned_at, now) >= REFRESH_AFTER_DAYS or prices is None:
            continue
        allowed = plan_within(
            plan.max_requests,
            plan.max_completion_tokens,
            prices,
            settings.probe_max_usd_per_run,
            minimum_probes=MIN_PROBES_WORTH_A_RUN,
        )
        models += 1
        total += plan_cost(allowed, prices) if allowed is not None else 0.0
    return RoundCost(models, total)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@dataclass(frozen=True)
class VendorReferenceStatus:
    """One lab the bot can name: how many references it has and how old the newest is."""

    vendor: str
    name: str
    references: int
    age_days: float


@dataclass(frozen=True)
class ReferenceStatus:
    """Which labs the bot can name (they have references), how old those are, and how far calibration got."""

    vendors: tuple[VendorReferenceStatus, ...]
    calibration: CalibrationProgress

    def describe(self) -> str:
        """Lines for `/scout status`: calibration N/M, then one line per lab with references."""
        progress = self.calibration
        if progress.planned:
            done = f"{progress.done} done, {progress.requests} requests"
            head = f"calibration {progress.finished}/{progress.planned}: {done}"
        else:
            head = "calibration not started"
        lines = [head]
        lines.extend(
            f"{status.name}: {_count(status.references, 'reference')}, "
            f"newest {_count(round(status.age_days), 'day')} old"
            for status in self.vendors
        )
        if not self.vendors:
            lines.append("no references yet: no lab can be named")
        return "\n".join(lines)


async def reference_status(store: Store) -> ReferenceStatus:
    """Per-vendor reference counts and ages plus calibration progress N/M, for `/scout status` and the CLI."""
    now = datetime.now(UTC)
    vendors = tuple(
        VendorReferenceStatus(item.vendor, display_name(item.vendor), item.count, _age_days(item.newest_at, now))
        for item in await store.references.by_vendor(SUITE_VERSION)
    )
    return ReferenceStatus(vendors, await store.calibration.progress(SUITE_VERSION))
