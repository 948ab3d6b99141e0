"""The stealth verdict on listing shapes other sources produce, built from the real shared snapshots.

Each shape is the real `openrouter/owl-alpha` listing (or a real router) edited as archives and mirrors
edit catalogues: a field dropped, the id in `name`, a single-word or prefixed name, a move to
`stealth/`, only the `:free` variant listed. The same edits applied to every model of both snapshots
must not produce a single new stealth verdict.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from bot.catalogue.entry import load_catalogue_file, parse_entries
from bot.catalogue.stealth import CatalogueContext, StealthVerdict, classify
from tests.support.shared_data import shared_file

Listing = dict[str, Any]
Edit = Callable[[Listing], Listing]
DROPPABLE = ("supported_parameters", "created", "description", "architecture.tokenizer", "hugging_face_id")
ROUTERS = ("openrouter/auto", "openrouter/free", "openrouter/pareto-code", "openrouter/bodybuilder")


def june() -> list[Listing]:
    return load_catalogue_file(str(shared_file("catalogue/openrouter-models-2026-06-07.json")))


def december() -> list[Listing]:
    return load_catalogue_file(str(shared_file("catalogue/openrouter-models-2025-12-18.json")))


def owl() -> Listing:
    return copy.deepcopy(next(listing for listing in june() if listing["id"] == "openrouter/owl-alpha"))


def without(*fields: str) -> Edit:
    def edit(listing: Listing) -> Listing:
        for field in fields:
            if field == "architecture.tokenizer":
                listing.get("architecture", {}).pop("tokenizer", None)
            else:
                listing.pop(field, None)
        return listing

    return edit


def name_is_id(listing: Listing) -> Listing:
    listing["name"] = listing["id"]
    return listing


def renamed(model_id: str, name: str) -> Edit:
    def edit(listing: Listing) -> Listing:
        listing.update(id=model_id, canonical_slug=model_id, name=name)
        return listing

    return edit


def chain(*edits: Edit) -> Edit:
    def edit(listing: Listing) -> Listing:
        for step in edits:
            listing = step(listing)
        return listing

    return edit


def judged_in_june(listing: Listing, *, instead_of: str = "openrouter/owl-alpha") -> StealthVerdict:
    """The verdict on `listing` inside the real June catalogue, where it replaces the entry `instead_of`."""
    catalogue = [entry for entry in june() if entry["id"] != instead_of] + [listing]
    entries, _ = parse_entries(catalogue)
    context = CatalogueContext.of(entries)
    return next(classify(entry, context) for entry in entries if entry.id == listing["id"])


STEALTH_SHAPES: dict[str, Edit] = {
    **{f"without {field}": without(field) for field in DROPPABLE},
    "without every optional field": without(*DROPPABLE),
    "name is the id": name_is_id,
    "name is the id, optional fields dropped": chain(name_is_id, without(*DROPPABLE)),
    "only the :free variant is listed": renamed("openrouter/owl-alpha:free", "Owl Alpha (free)"),
    "only the :free variant, named by its id": chain(
        renamed("openrouter/owl-alpha:free", "openrouter/owl-alpha:free"), without(*DROPPABLE)
    ),
    "single-word code name": renamed("openrouter/owl", "Owl"),
    "single-word code name, fields dropped": chain(renamed("openrouter/owl", "Owl"), without(*DROPPABLE)),
    "prefixed and moved to stealth/": renamed("stealth/ox-gamma", "Stealth: Ox Gamma"),
    "prefixed, stealth/, fields dropped": chain(renamed("stealth/ox-gamma", "Stealth: Ox Gamma"), without(*DROPPABLE)),
    "gateway's name as prefix": renamed("openrouter/owl-alpha", "OpenRouter: Owl Alpha"),
    "bare code name, no weights, no price, nothing else": chain(
        renamed("openrouter/kestrel", "Kestrel"), without(*DROPPABLE, "pricing")
    ),
}


@pytest.mark.parametrize("shape", list(STEALTH_SHAPES))
def test_each_listing_shape_of_a_stealth_model_is_caught(shape: str) -> None:
    verdict = judged_in_june(STEALTH_SHAPES[shape](owl()))
    assert verdict.stealth and verdict.kind == "stealth", verdict
    assert all(reason.endswith(")") and "(" in reason for reason in verdict.reasons)


def test_an_absent_field_is_not_read_as_an_empty_one() -> None:
    missing = judged_in_june(without("supported_parameters")(owl()))
    empty = judged_in_june({**owl(), "supported_parameters": []})
    assert not any("sampling parameters" in reason for reason in missing.reasons)
    assert any(
        reason.startswith("accepts no sampling parameters") and reason.endswith("(-1)") for reason in empty.reasons
    )
    assert missing.score == empty.score + 1
    assert not any("weights" in reason for reason in judged_in_june(without("hugging_face_id")(owl())).reasons)


def test_a_free_variant_without_its_base_is_judged_as_the_base() -> None:
    base = judged_in_june(owl())
    variant = judged_in_june(renamed("openrouter/owl-alpha:free", "Owl Alpha (free)")(owl()))
    assert variant.kind == "stealth" and variant.score == base.score
    assert not any("variant" in reason for reason in variant.reasons)


def test_a_free_variant_of_a_listed_model_stays_a_variant() -> None:
    variant = renamed("openrouter/owl-alpha:free", "Owl Alpha (free)")(owl())
    verdict = judged_in_june(variant, instead_of="none")
    assert verdict.kind == "variant" and not verdict.stealth


@pytest.mark.parametrize("prefix", ["OpenRouter", "Stealth", "openrouter/owl-alpha"])
def test_a_colon_after_the_gateway_a_marker_or_the_id_credits_no_maker(prefix: str) -> None:
    verdict = judged_in_june(renamed("openrouter/owl-alpha", f"{prefix}: Owl Alpha")(owl()))
    assert verdict.stealth and not any("credits a maker" in reason for reason in verdict.reasons)


def test_a_colon_after_a_lab_still_credits_it() -> None:
    verdict = judged_in_june(renamed("openrouter/owl-alpha", "Acme: Owl Alpha")(owl()))
    assert any("name credits a maker ('Acme:') (-1)" == reason for reason in verdict.reasons)


def weak_listing() -> Listing:
    """Owl Alpha moved to an unknown namespace under a plain name and a price: not enough on its own."""
    listing = renamed("nimbus/nimbus-one", "Nimbus One")(owl())
    listing["pricing"] = {"prompt": "0.000001", "completion": "0.000002"}
    listing["context_length"] = 131072
    return listing


MARKERS: dict[str, Edit] = {
    "far-future expiration sentinel": lambda listing: {**listing, "expiration_date": "2098-12-31"},
    "prompts and completions are logged": lambda listing: {
        **listing,
        "description": listing["description"] + " All prompts and completions are logged.",
    },
    "1M context at price 0": lambda listing: {
        **listing,
        "context_length": 1_048_576,
        "pricing": {"prompt": "0", "completion": "0"},
    },
    "stealth/ namespace": lambda listing: renamed("stealth/nimbus-one", "Nimbus One")(listing),
}


def test_the_weak_listing_alone_is_not_stealth() -> None:
    assert not judged_in_june(weak_listing()).stealth


@pytest.mark.parametrize("marker", list(MARKERS))
def test_each_known_stealth_marker_tips_the_verdict_with_its_reason(marker: str) -> None:
    before = judged_in_june(weak_listing())
    after = judged_in_june(MARKERS[marker](weak_listing()))
    assert after.stealth and after.score > before.score
    assert set(after.reasons) - set(before.reasons)


def test_a_real_near_expiry_date_is_not_a_sentinel() -> None:
    verdict = judged_in_june({**weak_listing(), "expiration_date": "2026-08-10"})
    assert not verdict.stealth and not any("expiration" in reason for reason in verdict.reasons)


@pytest.mark.parametrize("router", ROUTERS)
@pytest.mark.parametrize("shape", ["as listed", "fields dropped", "fields dropped, name is the id"])
def test_routers_stay_excluded_whatever_the_shape(router: str, shape: str) -> None:
    edits: dict[str, Edit] = {
        "as listed": lambda listing: listing,
        "fields dropped": without(*DROPPABLE),
        "fields dropped, name is the id": chain(without(*DROPPABLE), name_is_id),
    }
    listing = copy.deepcopy(next(entry for entry in june() if entry["id"] == router))
    verdict = judged_in_june(edits[shape](listing), instead_of=router)
    assert not verdict.stealth, verdict


CATALOGUE_EDITS: dict[str, Edit] = {
    "as served": lambda listing: listing,
    "name is the id": name_is_id,
    **{f"without {field}": without(field) for field in DROPPABLE},
    "without every optional field, name is the id": chain(without(*DROPPABLE), name_is_id),
}


@pytest.mark.parametrize("edit", list(CATALOGUE_EDITS))
@pytest.mark.parametrize("snapshot", ["december", "june"])
def test_no_false_positive_on_any_model_of_either_snapshot(snapshot: str, edit: str) -> None:
    catalogue = [
        CATALOGUE_EDITS[edit](copy.deepcopy(listing)) for listing in (june() if snapshot == "june" else december())
    ]
    entries, _ = parse_entries(catalogue)
    context = CatalogueContext.of(entries)
    stealth = sorted(entry.id for entry in entries if classify(entry, context).stealth)
    assert stealth == (["openrouter/owl-alpha"] if snapshot == "june" else [])


def test_a_prefix_naming_the_namespace_still_credits_a_maker() -> None:
    verdict = judged_in_june(renamed("acme/acme-one", "Acme: Acme One")(owl()))
    assert "name credits a maker ('Acme:') (-1)" in verdict.reasons


def test_a_versioned_model_under_the_gateway_namespace_is_not_a_code_name() -> None:
    """Listings such as "Cinematika 7B (alpha)" once sat under `openrouter/`: a size or version names a release."""
    listing = {**renamed("openrouter/cinematika-7b", "Cinematika 7B (alpha)")(owl()), "context_length": 8192}
    verdict = judged_in_june(listing)
    assert not verdict.stealth, verdict
    assert "name carries a version or size ('7B'), as released models do (-1)" in verdict.reasons


@pytest.mark.parametrize("namespace", ["stealth", "cloaked", "anonymous"])
def test_a_namespace_that_is_a_stealth_marker_counts_like_the_gateways(namespace: str) -> None:
    listing = chain(renamed(f"{namespace}/nebula-alpha", "Nebula Alpha"), without(*DROPPABLE))(owl())
    listing["pricing"] = {"prompt": "0.000001", "completion": "0.000002"}
    verdict = judged_in_june(listing)
    assert (
        verdict.stealth
        and f"listed under the gateway's own or stealth namespace '{namespace}/', not a lab's (+2)" in verdict.reasons
    )
