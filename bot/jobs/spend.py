"""The operator's money: a run's cost is estimated from the listing's prices before it starts, checked against the
per-run ceiling (PROBE_MAX_USD_PER_RUN: a dearer run is trimmed to fewer probes, or refused) and the weekly limit
(SPEND_LIMIT_USD_PER_WEEK, counted from what the gateway reported each request cost), and every answered request's
cost is recorded. Free models cost nothing and always run.

Runs under way in this process hold their estimate as a reservation, so two runs starting together cannot both
pass a limit that has room for one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.catalogue.entry import CatalogueEntry
from bot.gateway import ChatCompletion
from bot.probes.cost import ListingPrices, plan_cost, plan_within
from bot.probes.suite import Probe, ProbePlan
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

MIN_PROBES_WORTH_A_RUN = 3
"""Fewer probes than this cannot be attributed (see the pipeline's MIN_USABLE_PROBES): not worth paying for."""
WEEK_RECHECK_SECONDS = 3600.0
"""A run refused by the weekly limit is tried again this much later, when older spend may have left the week."""
PRICE_RECHECK_SECONDS = 6 * 3600.0
"""A run refused for its listing's prices waits for the next price change (or settings), checked this often."""


class SpendRefused(Exception):
    """A run that was not started because of what it would cost; the message says why, `retry_in` when to look again."""

    def __init__(self, reason: str, retry_in: float) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


@dataclass(frozen=True)
class Admission:
    """A run allowed to start: the plan it may send (perhaps trimmed), its most cost, and the listing's prices."""

    plan: ProbePlan
    estimate: float
    prices: ListingPrices | None
    trimmed: bool


def usd(amount: float) -> str:
    """Dollars as people read them: cents, or more digits below a cent so a small cost is not shown as $0.00."""
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"


class SpendGuard:
    """One per process: admits runs within the ceiling and the week's limit, and books what requests cost."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._ceiling = settings.probe_max_usd_per_run
        self._weekly = settings.spend_limit_usd_per_week
        self._reserved = 0.0

    async def admit(self, model_id: str, plan: ProbePlan, listing: CatalogueEntry | None) -> Admission:
        """The plan a run of `model_id` may send, or `SpendRefused` saying why it may not start."""
        prices = ListingPrices.of(listing) if listing is not None else None
        if prices is None:
            raise SpendRefused(
                f"not probed: the listing of {model_id} gives no usable price, so its cost cannot be bounded",
                PRICE_RECHECK_SECONDS,
            )
        if prices.free:
            return Admission(plan, 0.0, prices, trimmed=False)
        chosen = plan_within(
            plan.max_requests, plan.max_completion_tokens, prices, self._ceiling, minimum_probes=MIN_PROBES_WORTH_A_RUN
        )
        if chosen is None:
            raise SpendRefused(
                f"not probed: a run would cost up to {usd(plan_cost(plan, prices))}, over the "
                f"{usd(self._ceiling)} a run may cost (PROBE_MAX_USD_PER_RUN)",
                PRICE_RECHECK_SECONDS,
            )
        estimate = plan_cost(chosen, prices)
        spent = await self._store.spend.last_week()
        if spent + self._reserved + estimate > self._weekly:
            raise SpendRefused(
                f"not probed yet: {usd(spent)} spent in the last 7 days and a run costing up to {usd(estimate)} "
                f"would pass the {usd(self._weekly)} limit (SPEND_LIMIT_USD_PER_WEEK)",
                WEEK_RECHECK_SECONDS,
            )
        self._reserved += estimate
        trimmed = len(chosen.probes) < len(plan.probes)
        if trimmed:
            log.info(
                "probe run of %s trimmed to %d of %d probes to stay within %s (up to %s)",
                model_id,
                len(chosen.probes),
                len(plan.probes),
                usd(self._ceiling),
                usd(estimate),
            )
        return Admission(chosen, estimate, prices, trimmed)

    def release(self, admission: Admission) -> None:
        """The run ended: its reservation gives way to what its requests were booked at."""
        self._reserved = max(0.0, self._reserved - admission.estimate)

    async def book(
        self,
        completion: ChatCompletion,
        probe: Probe,
        admission: Admission,
        *,
        purpose: str,
        run_id: int,
    ) -> None:
        """Record what an answered request cost: the gateway's figure, else the listing's prices applied to the
        tokens it reported. A reply reporting more completion tokens than were asked is a warning: the provider
        charged past `max_tokens`, which no estimate can bound."""
        completion_tokens = completion.completion_tokens or 0
        if completion_tokens > probe.max_tokens:
            log.warning(
                "%s reported %d completion tokens for probe %s, more than the max_tokens %d asked for (cost %s)",
                completion.model,
                completion_tokens,
                probe.probe_id,
                probe.max_tokens,
                usd(completion.cost_usd) if completion.cost_usd is not None else "not reported",
            )
        if completion.cost_usd is not None:
            cost, reported = completion.cost_usd, True
        elif admission.prices is not None:
            cost, reported = admission.prices.of_request(completion.prompt_tokens or 0, completion_tokens), False
        else:
            return
        await self._store.spend.record(completion.model, usd=cost, reported=reported, purpose=purpose, run_id=run_id)
