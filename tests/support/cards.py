"""Cards for rendering tests: a listing, guesses and votes in the shapes the store hands them out."""

from __future__ import annotations

from typing import Any

from bot.attribution.findings import Finding
from bot.attribution.guess import GUESS_RANKED, Guess, NotSure, RankedVendor
from bot.catalogue.vendors import display_name
from bot.store.catalogue import ModelRecord
from bot.store.reveals import Reveal
from bot.store.votes import Tally, VendorVotes
from cogs._card import Card

OWL_RAW: dict[str, Any] = {
    "id": "openrouter/owl-alpha",
    "name": "Owl Alpha",
    "created": 1780790400,
    "description": "This is a cloaked model provided to gather feedback. Prompts and completions may be logged.",
    "context_length": 1_048_576,
    "pricing": {"prompt": "0", "completion": "0"},
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
}
GPT4_RAW: dict[str, Any] = {
    "id": "openai/gpt-4",
    "name": "OpenAI: GPT-4",
    "created": 1685232000,
    "description": "OpenAI's flagship model, GPT-4 is a large-scale multimodal language model.",
    "context_length": 8191,
    "pricing": {"prompt": "0.00003", "completion": "0.00006"},
    "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
}
STEALTH_REASONS = (
    "cloaked-model wording in the description (+0.6)",
    "free to use while listed (+0.2)",
    "no lab named in the id (+0.2)",
)
EVIDENCE = (
    "token counts match GLM-4.6 exactly (12 of 12 prompts)",
    "writes like GLM: nearest reference z-ai/glm-4.6",
    "calls itself ChatGPT, which models of many labs do",
    "refusal wording like Zhipu's references",
)


def model(
    raw: dict[str, Any] = OWL_RAW, *, stealth: bool = True, removed_at: str | None = None, **extra: Any
) -> ModelRecord:
    return ModelRecord(
        id=raw["id"],
        name=raw["name"],
        vendor=extra.get("vendor"),
        created=raw.get("created"),
        first_seen="2026-06-07T10:00:00.000Z",
        last_seen="2026-06-07T10:00:00.000Z",
        removed_at=removed_at,
        stealth=stealth,
        stealth_score=0.9 if stealth else 0.0,
        stealth_reasons=extra.get("reasons", STEALTH_REASONS if stealth else ()),
        raw=raw,
    )


def guess(
    *ranking: tuple[str, float],
    evidence: tuple[str, ...] = EVIDENCE,
    findings: tuple[Finding, ...] = (),
    status: str = GUESS_RANKED,
    reason: str | None = None,
    not_sure: NotSure | None = None,
) -> Guess:
    return Guess(
        model_id=OWL_RAW["id"],
        ranking=tuple(RankedVendor(vendor, vendor, probability) for vendor, probability in ranking),
        confidence=ranking[0][1] if ranking else 0.0,
        evidence=evidence,
        status=status,
        reason=reason,
        findings=findings,
        not_sure=not_sure,
    )


def card(
    record: ModelRecord | None = None,
    *,
    guessed: Guess | None = None,
    tally: list[tuple[str, int]] | None = None,
    hidden: bool = True,
    reveal: Reveal | None = None,
    called_by: list[str] | None = None,
) -> Card:
    counted = tally or []
    total = sum(votes for _, votes in counted)
    if hidden and reveal is None and total:
        shown = Tally(total, (), hidden=True)
    else:
        shown = Tally(total, tuple(VendorVotes(key, display_name(key), votes) for key, votes in counted), hidden=False)
    return Card(model=record or model(), guess=guessed, tally=shown, reveal=reveal, called_by=called_by or [])


def reveal(vendor: str = "zhipu", true_model: str | None = "z-ai/glm-5") -> Reveal:
    return Reveal(1, OWL_RAW["id"], vendor, display_name(vendor), true_model, 5, "2026-06-09T12:00:00.000Z")
