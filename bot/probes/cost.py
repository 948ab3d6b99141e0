"""What probing a listing costs, in US dollars, from the prices it lists: the one pricing helper.

OpenRouter lists prices per token as decimal strings (`pricing.prompt`, `pricing.completion`, sometimes
`pricing.internal_reasoning` for thinking tokens) and a flat price per request (`pricing.request`). A run's
estimate is the most it can cost: every probe answered up to its `max_tokens`, every prompt counted as one token
per UTF-8 byte (no tokenizer makes more) plus a chat template's tokens, and every spare request spent on the
dearest probe. The run ceiling and the weekly limit compare against this figure, so neither can be passed by a
run that keeps to its plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.catalogue.entry import CatalogueEntry
from bot.probes.suite import PROBES, Probe, ProbePlan, plan_probes

TEMPLATE_TOKENS = 32
"""Tokens a chat template may add around one user message (roles, separators, a default system prompt)."""


@dataclass(frozen=True)
class ListingPrices:
    """A listing's prices in US dollars: per prompt token, per completion (or thinking) token, per request."""

    prompt: float
    completion: float
    request: float

    @classmethod
    def of(cls, entry: CatalogueEntry) -> ListingPrices | None:
        """The listing's prices, or None when it gives no usable one: missing, negative (a router's "it depends")
        or not a finite number. A missing per-request or thinking price is no extra charge."""
        prompt, completion = entry.price("prompt"), entry.price("completion")
        reasoning, request = entry.price("internal_reasoning"), entry.price("request")
        known = [price for price in (prompt, completion, reasoning, request) if price is not None]
        if prompt is None or completion is None or any(not math.isfinite(p) or p < 0 for p in known):
            return None
        return cls(prompt, max(completion, reasoning or 0.0), request or 0.0)

    @property
    def free(self) -> bool:
        """Nothing to pay at all: free stealth models always run, whatever the limits."""
        return self.prompt == self.completion == self.request == 0

    def of_request(self, prompt_tokens: int, completion_tokens: int) -> float:
        """What one request with these token counts costs: the figure used where the gateway reports no cost."""
        return self.request + prompt_tokens * self.prompt + completion_tokens * self.completion


def most_prompt_tokens(probe: Probe) -> int:
    """The most tokens a probe's prompt can count as: one per UTF-8 byte, plus the template's."""
    return len(probe.prompt.encode("utf-8")) + TEMPLATE_TOKENS


def probe_cost(probe: Probe, prices: ListingPrices) -> float:
    """The most one probe's request can cost."""
    return prices.of_request(most_prompt_tokens(probe), probe.max_tokens)


def plan_cost(plan: ProbePlan, prices: ListingPrices) -> float:
    """The most a run of `plan` can cost: every probe at its cap, every spare request on the dearest probe."""
    costs = [probe_cost(probe, prices) for probe in plan.probes]
    return sum(costs) + plan.spare_requests * max(costs, default=0.0)


def plan_within(
    max_requests: int,
    max_completion_tokens: int,
    prices: ListingPrices,
    ceiling: float,
    *,
    minimum_probes: int,
    probes: tuple[Probe, ...] = PROBES,
) -> ProbePlan | None:
    """The largest plan (fewest probes dropped, in the suite's drop order) whose most is within `ceiling`; None when
    fewer than `minimum_probes` would be left, too few to attribute anything from."""
    for requests in range(max_requests, 0, -1):
        plan = plan_probes(requests, max_completion_tokens, probes)
        if plan_cost(plan, prices) <= ceiling:
            return plan if len(plan.probes) >= minimum_probes else None
    return None
