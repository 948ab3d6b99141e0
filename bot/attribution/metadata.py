"""The metadata signal: how much a listing looks like known vendors' listings in the catalogue.

A stealth listing is written by the gateway, not the lab, but parts of it come from the serving
stack: the context length (labs use their own round numbers), the completion limit, the accepted
sampling parameters (an API that takes `top_k` or not), the input modalities, and sometimes the
tokenizer label. None of these names a vendor; together they nudge. The scale is kept small on
purpose: a lab that serves a new model on new infrastructure changes all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import vendor_for_model_id

UNINFORMATIVE_TOKENIZERS = frozenset({"", "other", "router"})
CONTEXT_TOLERANCE = 0.02
SCALE = 1.5  # the score of a perfect look-alike, in nats: about a 4:1 nudge at most

WEIGHT_PARAMETERS = 1.0
WEIGHT_CONTEXT = 1.0
WEIGHT_COMPLETION_LIMIT = 0.5
WEIGHT_MODALITIES = 0.5
WEIGHT_TOKENIZER = 2.0


@dataclass(frozen=True)
class ListingMatch:
    """The listing most like the stealth one for a vendor, and the fields they share (the evidence line)."""

    model_id: str
    vendor: str
    similarity: float
    shared: tuple[str, ...]


@dataclass(frozen=True)
class MetadataVerdict:
    """Vendor scores from the catalogue listing alone, with the nearest listing per vendor."""

    scores: dict[str, float]
    nearest: dict[str, ListingMatch]
    evidence: tuple[str, ...]


def _completion_limit(entry: CatalogueEntry) -> int | None:
    top = entry.raw.get("top_provider")
    value = top.get("max_completion_tokens") if isinstance(top, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _informative_tokenizer(entry: CatalogueEntry) -> str | None:
    label = (entry.tokenizer or "").strip()
    return label if label.lower() not in UNINFORMATIVE_TOKENIZERS else None


def similarity(listing: CatalogueEntry, other: CatalogueEntry) -> tuple[float, tuple[str, ...]]:
    """A weighted share of the features two listings have in common, and what they share, in words."""
    score = weight = 0.0
    shared: list[str] = []
    if listing.supported_parameters and other.supported_parameters:
        mine, theirs = set(listing.supported_parameters), set(other.supported_parameters)
        jaccard = len(mine & theirs) / len(mine | theirs)
        score += WEIGHT_PARAMETERS * jaccard
        weight += WEIGHT_PARAMETERS
        shared.append(f"{len(mine & theirs)}/{len(mine | theirs)} parameters in common")
    if listing.context_length and other.context_length:
        weight += WEIGHT_CONTEXT
        if listing.context_length == other.context_length:
            score += WEIGHT_CONTEXT
            shared.append(f"same context length {listing.context_length:,}")
        elif abs(listing.context_length - other.context_length) <= CONTEXT_TOLERANCE * max(
            listing.context_length, other.context_length
        ):
            score += WEIGHT_CONTEXT / 2
            shared.append(f"context length {listing.context_length:,} close to its {other.context_length:,}")
    mine_limit, their_limit = _completion_limit(listing), _completion_limit(other)
    if mine_limit and their_limit:
        weight += WEIGHT_COMPLETION_LIMIT
        if mine_limit == their_limit:
            score += WEIGHT_COMPLETION_LIMIT
            shared.append(f"same completion limit {mine_limit:,}")
    weight += WEIGHT_MODALITIES
    if set(listing.input_modalities) == set(other.input_modalities) and set(listing.output_modalities) == set(
        other.output_modalities
    ):
        score += WEIGHT_MODALITIES
    label = _informative_tokenizer(listing)
    if label:
        weight += WEIGHT_TOKENIZER
        if label == other.tokenizer:
            score += WEIGHT_TOKENIZER
            shared.append(f"same tokenizer label '{label}'")
    return score / weight, tuple(shared)


def compare_listing(
    listing: CatalogueEntry | None, known: Sequence[CatalogueEntry], candidates: Collection[str] | None = None
) -> MetadataVerdict:
    """Score vendors (all with listings, or only `candidates`) by their listing most like `listing`.

    Listings of the same model (its variants, such as `:free`) are ignored: they would only find itself.
    """
    if listing is None:
        return MetadataVerdict({}, {}, ())
    nearest: dict[str, ListingMatch] = {}
    for other in known:
        vendor = vendor_for_model_id(other.id)
        if (
            vendor is None
            or other.base_id == listing.base_id
            or (candidates is not None and vendor.key not in candidates)
        ):
            continue
        value, shared = similarity(listing, other)
        best = nearest.get(vendor.key)
        if best is None or value > best.similarity:
            nearest[vendor.key] = ListingMatch(other.id, vendor.key, value, shared)
    scores = {vendor: SCALE * match.similarity for vendor, match in nearest.items()}
    evidence: tuple[str, ...] = ()
    if nearest:
        top = max(nearest.values(), key=lambda match: match.similarity)
        details = "; ".join(top.shared) or "few features in common"
        evidence = (f"catalogue: listing closest to {top.model_id} ({details})",)
    return MetadataVerdict(scores, nearest, evidence)
