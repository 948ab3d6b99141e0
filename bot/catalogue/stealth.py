"""The stealth verdict: is a listing an anonymous model whose maker is hidden?

No single sign is reliable. Stealth models have appeared under the gateway's own namespace and under
others, their descriptions are often cut short, and the gateway's own namespace also holds routers
(some priced at zero). So each sign adds or removes weight, the verdict is the sum against a
threshold, and every sign that counted is written out as a reason a person can check.

Listings reach us in many shapes (archives drop fields, some sources put the id in `name`), so a sign
that reads a field counts only when that field is present: a missing field is not evidence either way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import known_vendor_names, vendor_for_label, vendor_for_model_id

# Words that mark a listing as anonymous, as a namespace (`stealth/`, used since Aug 2026) or a name prefix.
STEALTH_MARKERS = frozenset({"stealth", "cloaked", "anonymous"})
# The gateway's own namespace and the stealth ones: a lab's model is never published there.
GATEWAY_NAMESPACES = frozenset({"openrouter"}) | STEALTH_MARKERS
# Words before a ":" in a name that credit no maker: the gateway itself and stealth markers.
UNCREDITED_NAME_PREFIXES = frozenset({"openrouter"}) | STEALTH_MARKERS
# Words the gateway uses for its own features and variants ("openrouter/free", ":nitro"): never a code name.
GATEWAY_FEATURE_WORDS = frozenset(
    {"auto", "free", "nitro", "floor", "online", "exacto", "thinking", "extended", "latest"}
)
STEALTH_THRESHOLD = 2.5
FAR_FUTURE_YEARS = 25
LARGE_CONTEXT_TOKENS = 1_000_000

CODENAME = re.compile(r"^[A-Z][A-Za-z]+(?:[ -][A-Z][A-Za-z]+)?[ -](?:Alpha|Beta|Gamma|Delta|Preview|Exp|Experimental)$")
SINGLE_WORD_CODENAME = re.compile(r"^[A-Z][a-z]{2,}$")
# A version or a size in a name ("GLM 4.6", "Cinematika 7B", "Magnum v4"): stealth code names carry neither.
VERSION_OR_SIZE = re.compile(r"(?<![A-Za-z0-9])(?:v\d+|\d+(?:\.\d+)*(?:[bmk]|x\d+b)?)(?![A-Za-z0-9])", re.IGNORECASE)
TRIAL_SUFFIX = re.compile(r"\s*\((?:free|stealth|cloaked)\)$", re.IGNORECASE)
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
# Cheap substring tests that every match of the patterns above and below contains: most listings skip the regex.
ROUTER_HINTS = ("rout", "meta-model", "select")
CREATOR_HINTS = (" by", "'s ")
CREATOR_PHRASE = re.compile(
    r"\b(?:developed|built|trained|released|created|made) by\b|'s (?:latest|newest|flagship|most)", re.IGNORECASE
)


@dataclass(frozen=True)
class StealthVerdict:
    """The outcome and every sign behind it, so a member can check the bot's reasoning."""

    stealth: bool
    score: float
    reasons: tuple[str, ...]
    kind: str  # "stealth", "router", "variant", "named" or "unclear"


@dataclass(frozen=True)
class ListingName:
    """A listing's name as a person would read it, with what its form says about the maker."""

    shown: str
    credited_maker: str | None
    stealth_marker: str | None


def _id_forms(entry: CatalogueEntry) -> set[str]:
    """The id, with and without its namespace and variant, lower-cased: what a name made of the id looks like.

    Not the namespace alone: "NewLab: NewLab 1" under `newlab/` does credit a maker.
    """
    model_id = entry.id.lower()
    slug = model_id.partition("/")[2]
    return {model_id, model_id.split(":", 1)[0], slug, slug.split(":", 1)[0]} - {""}


def _name_from_slug(entry: CatalogueEntry) -> str:
    """`openrouter/owl-alpha` read as the display name "Owl Alpha", for sources that put the id in `name`."""
    words = re.split(r"[-_\s]+", entry.base_id.split("/", 1)[-1])
    return " ".join(word[:1].upper() + word[1:] for word in words if word)


def read_name(entry: CatalogueEntry) -> ListingName:
    """Strip what says nothing about the maker: a trial suffix, the gateway's or a stealth prefix, the id itself."""
    name = entry.name.strip()
    if name.endswith(")"):
        name = TRIAL_SUFFIX.sub("", name)
    credited: str | None = None
    marker: str | None = None
    if " " in name and ":" not in name:
        return ListingName(name, None, None)  # ids hold no spaces: an ordinary display name
    id_forms = _id_forms(entry)
    if ":" in name and name.lower() not in id_forms:
        prefix, rest = (part.strip() for part in name.split(":", 1))
        if prefix.lower() in STEALTH_MARKERS:
            marker = prefix
        if prefix.lower() in UNCREDITED_NAME_PREFIXES or prefix.lower() in id_forms:
            name = rest
        else:
            credited = prefix
    if name.lower() in id_forms or not name:
        name = _name_from_slug(entry)
    return ListingName(name, credited, marker)


def is_code_name(name: str) -> bool:
    """A name with no maker and no version: "Owl Alpha", "Sonoma Sky Alpha", or a single word such as "Sonic"."""
    if CODENAME.match(name):
        return True
    return (
        bool(SINGLE_WORD_CODENAME.match(name))
        and name.lower() not in GATEWAY_FEATURE_WORDS
        and vendor_for_label(name) is None
    )


@dataclass(frozen=True)
class CatalogueContext:
    """What the rest of the same catalogue tells about one entry: which ids exist and who publishes what."""

    ids: frozenset[str]
    named_listings_by_author: Counter[str]
    names: Mapping[str, ListingName] = field(default_factory=dict)
    # The year of the catalogue's newest listing: what an expiry is measured against when an entry has no
    # `created` of its own (the catalogue dates itself, so judging needs no clock).
    newest_year: int | None = None

    @classmethod
    def of(cls, entries: Iterable[CatalogueEntry]) -> CatalogueContext:
        """Read once per poll, so judging each entry stays linear in the catalogue's size."""
        entries = list(entries)
        names = {entry.id: read_name(entry) for entry in entries}
        named = Counter(entry.author for entry in entries if not is_code_name(names[entry.id].shown))
        years = [year for entry in entries if (year := _created_year(entry))]
        return cls(frozenset(names), named, names, max(years, default=None))


def _says_it_routes(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in ROUTER_HINTS) and bool(ROUTER_WORDS.search(text))


def _is_router(entry: CatalogueEntry, name: str) -> str | None:
    if (entry.tokenizer or "").lower() == "router":
        return "the gateway reports its tokenizer as 'Router'"
    prompt_price = entry.price("prompt")
    if prompt_price is not None and prompt_price < 0:
        return "priced at -1 (variable), as routers are"
    if entry.base_id.split("/", 1)[-1].lower() in GATEWAY_FEATURE_WORDS:
        return f"its id '{entry.id}' names a gateway feature, not a model"
    if _says_it_routes(name) or _says_it_routes(entry.slug.replace("-", " ")):
        return f"its name '{entry.name}' says it routes requests to other models"
    if not CODENAME.match(name) and _says_it_routes(entry.description[:300]):
        return "its description says it routes requests to other models"
    return None


def _present(entry: CatalogueEntry, key: str) -> bool:
    return key in entry.raw


def _created_year(entry: CatalogueEntry) -> int | None:
    """The UTC year of the listing's `created`, when that is a plausible time."""
    if entry.created is None or not 0 < entry.created < 2**40:
        return None
    return datetime.fromtimestamp(entry.created, UTC).year


def _far_future_expiry(entry: CatalogueEntry, context: CatalogueContext) -> str | None:
    """An `expiration_date` decades away: a placeholder the gateway sets on trials, not a real end of life."""
    value = entry.raw.get("expiration_date")
    if not isinstance(value, str):
        return None
    match = re.match(r"^(\d{4})-\d{2}-\d{2}", value.strip())
    if match is None:
        return None
    reference = _created_year(entry) or context.newest_year
    if reference is None:
        return None
    return value.strip()[:10] if int(match.group(1)) - reference >= FAR_FUTURE_YEARS else None


class _Tally:
    """The running score and the reasons behind it, each written with its weight."""

    def __init__(self) -> None:
        self.score = 0.0
        self.reasons: list[str] = []

    def sign(self, weight: float, reason: str) -> None:
        self.score += weight
        self.reasons.append(f"{reason} ({weight:+g})")


def _namespace_signs(tally: _Tally, entry: CatalogueEntry, context: CatalogueContext) -> None:
    vendor = vendor_for_model_id(entry.id)
    if entry.author in GATEWAY_NAMESPACES:
        tally.sign(2.0, f"listed under the gateway's own or stealth namespace '{entry.author}/', not a lab's")
    elif vendor:
        tally.sign(-3.0, f"published under {vendor.name}'s namespace '{entry.author}/'")
    elif context.named_listings_by_author[entry.author] > 1:
        tally.sign(-1.0, f"'{entry.author}/' also publishes other named models")
    else:
        tally.sign(1.0, f"unknown namespace '{entry.author}/'")


def _name_signs(tally: _Tally, name: ListingName) -> None:
    if name.stealth_marker:
        tally.sign(1.0, f"name is marked '{name.stealth_marker}:'")
    if name.credited_maker:
        tally.sign(-1.0, f"name credits a maker ('{name.credited_maker}:')")
    elif is_code_name(name.shown):
        tally.sign(1.0, f"code name '{name.shown}' with no vendor or version")
    elif version := VERSION_OR_SIZE.search(name.shown):
        tally.sign(-1.0, f"name carries a version or size ('{version.group(0)}'), as released models do")


def _description_signs(tally: _Tally, entry: CatalogueEntry) -> None:
    description = entry.description.lower()
    phrases = [phrase for phrase in STEALTH_PHRASES if phrase in description]
    if phrases:
        tally.sign(2.0, "description says " + ", ".join(f"'{phrase}'" for phrase in phrases))
    credits = any(hint in description for hint in CREATOR_HINTS) and CREATOR_PHRASE.search(entry.description)
    named = known_vendor_names(entry.description) if credits else []
    if named:
        tally.sign(-1.0, "description credits " + ", ".join(vendor.name for vendor in named[:3]))


def _listing_signs(tally: _Tally, entry: CatalogueEntry, context: CatalogueContext) -> None:
    if (
        entry.author in GATEWAY_NAMESPACES
        and _present(entry, "supported_parameters")
        and not entry.supported_parameters
    ):
        tally.sign(-1.0, "accepts no sampling parameters, like the gateway's own tools")
    if entry.hugging_face_id:
        tally.sign(-2.0, f"open weights published as {entry.hugging_face_id}")
    elif _present(entry, "hugging_face_id"):
        tally.sign(0.5, "no public weights named")
    free = entry.price("prompt") == 0 and entry.price("completion") == 0
    if free:
        tally.sign(0.5, "free of charge, as stealth trials are")
    if free and (entry.context_length or 0) >= LARGE_CONTEXT_TOKENS:
        tally.sign(0.5, f"a {entry.context_length:,}-token context at no charge")
    expiry = _far_future_expiry(entry, context)
    if expiry:
        tally.sign(1.5, f"expiration date {expiry} is a far-future placeholder")


def classify(entry: CatalogueEntry, context: CatalogueContext) -> StealthVerdict:
    """Judge one listing; a variant (`:free`) whose base is not listed is judged as its base would be."""
    name = context.names.get(entry.id) or read_name(entry)
    router = _is_router(entry, name.shown)
    if router:
        return StealthVerdict(False, 0.0, (f"router, not a model: {router}",), "router")
    if entry.variant and entry.base_id in context.ids:
        return StealthVerdict(False, 0.0, (f"variant ':{entry.variant}' of listed model {entry.base_id}",), "variant")
    tally = _Tally()
    _namespace_signs(tally, entry, context)
    _name_signs(tally, name)
    _description_signs(tally, entry)
    _listing_signs(tally, entry, context)
    stealth = tally.score >= STEALTH_THRESHOLD
    kind = "stealth" if stealth else ("named" if tally.score < 0 else "unclear")
    return StealthVerdict(stealth, round(tally.score, 2), tuple(tally.reasons), kind)
