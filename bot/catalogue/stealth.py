"""The stealth verdict: is a listing an anonymous model whose maker is hidden?

No single sign is reliable. Stealth models have appeared under the gateway's own namespace and under
others, their descriptions are often cut short, and the gateway's own namespace also holds routers
(some priced at zero). So each sign adds or removes weight, the verdict is the sum against a
threshold, and every sign that counted is written out as a reason a person can check.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import known_vendor_names, vendor_for_model_id

GATEWAY_NAMESPACES = frozenset({"openrouter"})
STEALTH_THRESHOLD = 2.5

CODENAME = re.compile(
    r"^[A-Z][A-Za-z]+(?:[ -][A-Z][A-Za-z]+)?[ -](?:Alpha|Beta|Gamma|Delta|Preview|Exp|Experimental)"
    r"(?: \((?:free|stealth|cloaked)\))?$"
)
STEALTH_PHRASES = (
    "cloaked",
    "stealth",
    "anonymous model",
    "undisclosed",
    "to gather feedback",
    "logged by the provider",
    "prompts and completions",
    "unnamed",
    "mystery model",
)
ROUTER_WORDS = re.compile(r"\b(router|routes?|routed|routing|meta-model|selects? (?:free )?models)\b", re.IGNORECASE)
CREATOR_PHRASE = re.compile(
    r"\b(?:developed|built|trained|released|created|made) by\b|'s (?:latest|newest|flagship|most)", re.IGNORECASE
)


@dataclass(frozen=True)
class StealthVerdict:
    stealth: bool
    score: float
    reasons: tuple[str, ...]
    kind: str  # "stealth", "router", "variant", "named" or "unclear"


@dataclass(frozen=True)
class CatalogueContext:
    """What the rest of the same catalogue tells about one entry: which ids exist and who publishes what."""

    ids: frozenset[str]
    named_listings_by_author: Counter[str]

    @classmethod
    def of(cls, entries: Iterable[CatalogueEntry]) -> CatalogueContext:
        entries = list(entries)
        named = Counter(entry.author for entry in entries if not CODENAME.match(entry.name))
        return cls(frozenset(entry.id for entry in entries), named)


def _is_router(entry: CatalogueEntry) -> str | None:
    if (entry.tokenizer or "").lower() == "router":
        return "the gateway reports its tokenizer as 'Router'"
    if entry.price("prompt") is not None and entry.price("prompt") < 0:
        return "priced at -1 (variable), as routers are"
    if ROUTER_WORDS.search(entry.name) or ROUTER_WORDS.search(entry.slug.replace("-", " ")):
        return f"its name '{entry.name}' says it routes requests to other models"
    if not CODENAME.match(entry.name) and ROUTER_WORDS.search(entry.description[:300]):
        return "its description says it routes requests to other models"
    return None


def classify(entry: CatalogueEntry, context: CatalogueContext) -> StealthVerdict:
    router = _is_router(entry)
    if router:
        return StealthVerdict(False, 0.0, (f"router, not a model: {router}",), "router")
    if entry.variant and entry.base_id in context.ids:
        return StealthVerdict(False, 0.0, (f"variant ':{entry.variant}' of listed model {entry.base_id}",), "variant")

    score = 0.0
    reasons: list[str] = []

    def sign(weight: float, reason: str) -> None:
        nonlocal score
        score += weight
        reasons.append(f"{reason} ({weight:+g})")

    vendor = vendor_for_model_id(entry.id)
    if entry.author in GATEWAY_NAMESPACES:
        sign(2.0, f"listed under the gateway's own namespace '{entry.author}/', not a lab's")
    elif vendor:
        sign(-3.0, f"published under {vendor.name}'s namespace '{entry.author}/'")
    elif context.named_listings_by_author[entry.author] > 1:
        sign(-1.0, f"'{entry.author}/' also publishes other named models")
    else:
        sign(1.0, f"unknown namespace '{entry.author}/'")

    if CODENAME.match(entry.name):
        sign(1.0, f"code name '{entry.name}' with no vendor or version")
    elif ":" in entry.name:
        sign(-1.0, f"name '{entry.name}' credits a maker")

    description = entry.description.lower()
    phrases = [phrase for phrase in STEALTH_PHRASES if phrase in description]
    if phrases:
        sign(2.0, "description says " + ", ".join(f"'{phrase}'" for phrase in phrases))
    named = known_vendor_names(entry.description) if CREATOR_PHRASE.search(entry.description) else []
    if named:
        sign(-1.0, "description credits " + ", ".join(vendor.name for vendor in named[:3]))

    if entry.author in GATEWAY_NAMESPACES and not entry.supported_parameters:
        sign(-1.0, "accepts no sampling parameters, like the gateway's own tools")
    if entry.hugging_face_id:
        sign(-2.0, f"open weights published as {entry.hugging_face_id}")
    else:
        sign(0.5, "no public weights named")
    prompt_price, completion_price = entry.price("prompt"), entry.price("completion")
    if prompt_price == 0 and completion_price == 0 and entry.variant is None:
        sign(0.5, "free of charge without a ':free' variant, as stealth trials are")

    stealth = score >= STEALTH_THRESHOLD
    kind = "stealth" if stealth else ("named" if score < 0 else "unclear")
    return StealthVerdict(stealth, round(score, 2), tuple(reasons), kind)
