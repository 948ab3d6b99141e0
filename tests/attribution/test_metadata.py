"""Comparing a listing with known vendors' listings."""

from __future__ import annotations

from typing import Any

from bot.attribution.metadata import SCALE, compare_listing, similarity
from bot.catalogue.entry import parse_entry


def listing(
    model_id: str,
    *,
    context: int = 128000,
    params: tuple[str, ...] = ("max_tokens", "temperature"),
    tokenizer: str = "Other",
    limit: int | None = 8192,
    inputs: tuple[str, ...] = ("text",),
) -> Any:
    return parse_entry(
        {
            "id": model_id,
            "name": model_id,
            "context_length": context,
            "architecture": {"input_modalities": list(inputs), "output_modalities": ["text"], "tokenizer": tokenizer},
            "top_provider": {"max_completion_tokens": limit},
            "supported_parameters": list(params),
        }
    )


KNOWN = [
    listing(
        "google/gemini-2.5-flash",
        context=1048576,
        params=("max_tokens", "temperature", "top_p", "reasoning"),
        tokenizer="Gemini",
        limit=65535,
        inputs=("text", "image"),
    ),
    listing(
        "anthropic/claude-haiku-4.5",
        context=200000,
        params=("max_tokens", "temperature", "top_k", "stop"),
        tokenizer="Claude",
        limit=64000,
    ),
    listing(
        "openai/gpt-5-mini",
        context=400000,
        params=("max_tokens", "seed", "response_format"),
        tokenizer="GPT",
        limit=128000,
    ),
]


def test_the_closest_vendor_shares_context_limit_and_parameters():
    stealth = listing(
        "openrouter/owl-alpha",
        context=1048576,
        params=("max_tokens", "temperature", "top_p", "reasoning"),
        limit=65535,
        inputs=("text", "image"),
    )
    verdict = compare_listing(stealth, KNOWN)
    assert max(verdict.scores, key=verdict.scores.get) == "google"
    assert verdict.scores["google"] == SCALE  # identical in every compared feature
    assert verdict.evidence == (
        "catalogue: listing closest to google/gemini-2.5-flash (4/4 parameters in common; "
        "same context length 1,048,576; same completion limit 65,535)",
    )


def test_an_informative_tokenizer_label_weighs_most():
    stealth = listing(
        "openrouter/x", context=400000, params=("max_tokens", "temperature", "top_k", "stop"), tokenizer="Claude"
    )
    verdict = compare_listing(stealth, KNOWN)
    assert max(verdict.scores, key=verdict.scores.get) == "anthropic"
    assert "same tokenizer label 'Claude'" in verdict.nearest["anthropic"].shared


def test_variants_of_the_same_model_and_unknown_namespaces_are_ignored():
    own_variant = listing("acme/model:free")
    verdict = compare_listing(listing("acme/model"), [own_variant, listing("nobody-knows/x")])
    assert verdict.scores == {} and verdict.evidence == ()


def test_candidates_limit_the_vendors_scored_and_no_listing_means_no_verdict():
    stealth = listing("openrouter/x")
    assert set(compare_listing(stealth, KNOWN, {"openai"}).scores) == {"openai"}
    assert compare_listing(None, KNOWN).scores == {}


def test_similarity_is_a_share_between_zero_and_one():
    value, shared = similarity(KNOWN[0], KNOWN[1])
    assert 0 <= value < 0.5 and "same context length" not in " ".join(shared)
    assert similarity(KNOWN[0], KNOWN[0])[0] == 1.0
