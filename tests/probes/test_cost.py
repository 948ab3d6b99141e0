"""What a probe run may cost, from a listing's prices: the most, never less than what the run can be charged."""

from __future__ import annotations

import math

import pytest

from bot.catalogue.entry import parse_entry
from bot.probes.cost import ListingPrices, most_prompt_tokens, plan_cost, plan_within, probe_cost
from bot.probes.suite import plan_probes


def _listing(**pricing: str) -> ListingPrices | None:
    return ListingPrices.of(parse_entry({"id": "acme/model", "name": "Acme", "pricing": pricing}))


def test_prices_read_per_token_per_request_and_thinking_at_the_dearer_output_price():
    prices = _listing(prompt="0.000001", completion="0.000004", internal_reasoning="0.00001", request="0.5")
    assert prices == ListingPrices(prompt=0.000001, completion=0.00001, request=0.5)
    assert _listing(prompt="0", completion="0") == ListingPrices(0.0, 0.0, 0.0)
    assert _listing(prompt="0", completion="0").free and not prices.free


@pytest.mark.parametrize(
    "pricing",
    [
        {},
        {"prompt": "0"},
        {"prompt": "-1", "completion": "-1"},
        {"prompt": "0", "completion": "inf"},
        {"prompt": "0", "completion": "0", "request": "nan"},
        {"prompt": "x", "completion": "0"},
    ],
    ids=["none", "no completion", "router", "infinite", "nan request", "not a number"],
)
def test_a_listing_without_a_usable_price_has_none(pricing):
    assert _listing(**pricing) is None


def test_a_run_costs_at_most_its_probes_at_their_caps_plus_its_spare_requests_on_the_dearest():
    prices = ListingPrices(prompt=0.000002, completion=0.00001, request=0.001)
    plan = plan_probes(12, 4000)
    costs = [probe_cost(probe, prices) for probe in plan.probes]
    assert plan_cost(plan, prices) == pytest.approx(sum(costs) + plan.spare_requests * max(costs))
    for probe in plan.probes:
        assert most_prompt_tokens(probe) >= len(probe.prompt.encode("utf-8"))  # never fewer than one per byte
        assert probe_cost(probe, prices) >= 0.001 + probe.max_tokens * 0.00001


def test_a_dear_listing_is_trimmed_in_drop_order_and_refused_when_too_few_probes_would_be_left():
    dear = ListingPrices(prompt=0.00015, completion=0.0006, request=0.0)  # $150 and $600 per million tokens
    trimmed = plan_within(12, 4000, dear, 0.5, minimum_probes=3)
    assert trimmed is not None and 3 <= len(trimmed.probes) < len(plan_probes(12, 4000).probes)
    assert plan_cost(trimmed, dear) <= 0.5
    assert trimmed == plan_probes(trimmed.max_requests, 4000)  # the suite's own plan for fewer requests
    per_request = ListingPrices(prompt=0.0, completion=0.002, request=5.0)
    assert plan_within(12, 4000, per_request, 0.5, minimum_probes=3) is None
    free = ListingPrices(0.0, 0.0, 0.0)
    assert plan_within(12, 4000, free, 0.0, minimum_probes=3) == plan_probes(12, 4000)
    assert math.isclose(plan_cost(plan_probes(12, 4000), free), 0.0)
