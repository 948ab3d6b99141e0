"""One catalogue listing, validated field by field so one broken entry never spoils a poll."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.untrusted_json import SURROGATE, Undecodable, UntrustedJsonError, clean, decode_list_field, loads

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 300
MAX_DESCRIPTION_LENGTH = 20_000

# Control and invisible formatting characters (zero-width, bidi overrides): never useful in a listing,
# often used to disguise text. Newlines and tabs stay.
UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)

COUNT_FIELDS = ("created", "context_length")
TRACKED_FIELDS = ("name", "description", "pricing", "context_length", "modalities", "parameters")


class EntryError(ValueError):
    """An entry that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One model of the listing, typed and bounded once at the edge, so nothing downstream re-parses raw JSON."""

    id: str
    name: str
    description: str
    created: int | None
    context_length: int | None
    pricing: Mapping[str, str]
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    modality: str | None  # the older one-string form ("text+image->text"), shown where the lists are missing
    tokenizer: str | None
    supported_parameters: tuple[str, ...]
    hugging_face_id: str | None
    raw_json: str = field(repr=False, compare=False)
    repairs: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def raw(self) -> dict[str, Any]:
        """The whole listing as cleaned; kept as compact JSON, since a poll holds every entry at once."""
        return dict(json.loads(self.raw_json))

    @property
    def author(self) -> str:
        """The namespace before the slash, without OpenRouter's `~` marker for "latest" aliases."""
        return self.id.split("/", 1)[0].lstrip("~").lower() if "/" in self.id else ""

    @property
    def slug(self) -> str:
        """The name after the namespace: where a lab's naming habits show when the namespace is anonymous."""
        return self.id.split("/", 1)[1] if "/" in self.id else self.id

    @property
    def base_id(self) -> str:
        """The id without a variant suffix such as `:free` or `:exacto`."""
        return self.id.split(":", 1)[0]

    @property
    def variant(self) -> str | None:
        """The suffix after `:` (`free`, `exacto`): a variant of a listed model is that model, not a new one."""
        return self.id.split(":", 1)[1] if ":" in self.id else None

    def price(self, kind: str) -> float | None:
        """The price per token of `kind` (`prompt`, `completion`), or None where the listing gives no number."""
        try:
            return float(self.pricing[kind])
        except (KeyError, TypeError, ValueError):
            return None

    def tracked(self) -> dict[str, Any]:
        """The fields whose changes are reported, in a form that compares equal when nothing changed."""
        return {
            "name": self.name,
            "description": self.description,
            "pricing": dict(sorted(self.pricing.items())),
            "context_length": self.context_length,
            "modalities": {"input": sorted(self.input_modalities), "output": sorted(self.output_modalities)},
            "parameters": sorted(self.supported_parameters),
        }

    def tracked_json(self) -> str:
        """`tracked` as canonical JSON: equal text means nothing worth reporting changed since the last poll."""
        return json.dumps(self.tracked(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(raw: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise EntryError(f"{key} is missing")
        return ""
    if not isinstance(value, str):
        raise EntryError(f"{key} is {type(value).__name__}, not text")
    return UNPRINTABLE.sub("", value[: limit * 2])[:limit]


def _optional_int(raw: Mapping[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EntryError(f"{key} is {type(value).__name__}, not a number")
    return int(value)


def _numbers_in_range(raw: Mapping[str, Any], repairs: list[str]) -> Mapping[str, Any]:
    """The entry without counts or timestamps no column can hold (negative, NaN, 2^63 and up): those are dropped."""
    kept = raw
    for key in COUNT_FIELDS:
        value = kept.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not 0 <= value < 2**63:
            repairs.append(f"{key}: {value!r} is out of range, dropped")
            kept = {name: item for name, item in kept.items() if name != key}
    return kept


def _strings(value: Any, key: str) -> tuple[str, ...]:
    """Modality and parameter names repeat in every listing: interned, a large catalogue holds one copy of each."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EntryError(f"{key} is not a list of strings")
    return tuple(sys.intern(item) for item in value)


def parse_entry(raw: Any) -> CatalogueEntry:
    """Validate one listing; every field is untrusted, and what is kept (`raw` too) can always be stored.

    Values SQLite or UTF-8 cannot hold anywhere in the entry are dropped or repaired first (`repairs` says
    which); a field the bot relies on that is still unusable makes the whole entry an `EntryError`.
    """
    if isinstance(raw, Undecodable):
        raise EntryError(f"entry is {raw.reason}")
    if not isinstance(raw, Mapping):
        raise EntryError(f"entry is {type(raw).__name__}, not an object")
    if isinstance(raw.get("id"), str) and SURROGATE.search(raw["id"]):
        raise EntryError("id contains text that cannot be encoded")
    cleaned, repairs = clean(raw)
    raw = _numbers_in_range(cleaned, repairs)
    model_id = _text(raw, "id", MAX_ID_LENGTH + 1, required=True).strip()
    if not model_id or len(model_id) > MAX_ID_LENGTH or any(ch.isspace() for ch in model_id):
        raise EntryError("id is empty, too long or contains spaces")
    architecture = raw.get("architecture")
    architecture = {} if architecture is None else architecture
    if not isinstance(architecture, Mapping):
        raise EntryError("architecture is not an object")
    pricing = raw.get("pricing")
    pricing = {} if pricing is None else pricing
    if not isinstance(pricing, Mapping):
        raise EntryError("pricing is not an object")
    prices = {
        sys.intern(str(k)): str(v)
        for k, v in pricing.items()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    }
    tokenizer = architecture.get("tokenizer")
    modality = architecture.get("modality")
    hugging_face_id = raw.get("hugging_face_id")
    return CatalogueEntry(
        id=model_id,
        name=_text(raw, "name", MAX_NAME_LENGTH).strip() or model_id,
        description=_text(raw, "description", MAX_DESCRIPTION_LENGTH),
        created=_optional_int(raw, "created"),
        context_length=_optional_int(raw, "context_length"),
        pricing=prices,
        input_modalities=_strings(architecture.get("input_modalities"), "architecture.input_modalities"),
        output_modalities=_strings(architecture.get("output_modalities"), "architecture.output_modalities"),
        modality=modality[:MAX_NAME_LENGTH] if isinstance(modality, str) and modality else None,
        tokenizer=tokenizer if isinstance(tokenizer, str) and tokenizer else None,
        supported_parameters=_strings(raw.get("supported_parameters"), "supported_parameters"),
        hugging_face_id=hugging_face_id if isinstance(hugging_face_id, str) and hugging_face_id else None,
        raw_json=json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        repairs=tuple(repairs),
    )


@dataclass(frozen=True)
class SkippedEntry:
    """A listing entry left out of a poll, kept so the skip can be logged and counted instead of failing the poll."""

    position: int
    model_id: str | None
    reason: str


def parse_entries(raw_entries: Iterable[Any]) -> tuple[list[CatalogueEntry], list[SkippedEntry]]:
    """Parse every entry; broken ones and repeated ids are skipped and logged, never fatal."""
    entries: dict[str, CatalogueEntry] = {}
    skipped: list[SkippedEntry] = []
    for position, raw in enumerate(raw_entries):
        raw_id = raw.get("id") if isinstance(raw, Mapping) else None
        shown_id = raw_id[:MAX_ID_LENGTH] if isinstance(raw_id, str) else None
        try:
            entry = parse_entry(raw)
        except EntryError as error:
            skipped.append(SkippedEntry(position, shown_id, str(error)))
            log.warning("skipped catalogue entry #%d (%r): %s", position, shown_id, error)
            continue
        if entry.repairs:
            log.warning("catalogue entry #%d (%r) repaired: %s", position, entry.id, _summary(entry.repairs))
        if entry.id in entries:
            skipped.append(SkippedEntry(position, entry.id, "duplicate id"))
            log.warning("skipped catalogue entry #%d (%r): duplicate id", position, entry.id)
            continue
        entries[entry.id] = entry
    return list(entries.values()), skipped


def _summary(repairs: tuple[str, ...]) -> str:
    shown = "; ".join(repairs[:3])
    return shown + (f"; and {len(repairs) - 3} more" if len(repairs) > 3 else "")


def load_catalogue_file(path: str) -> Iterable[Any]:
    """Read a saved `GET /models` response (or a bare list of entries) from disk, item by item like a poll."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise EntryError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        return decode_list_field(text, "data")
    except UntrustedJsonError:
        pass
    try:
        payload = loads(text)
    except ValueError as error:
        raise EntryError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(payload, list):
        raise EntryError(f"{path}: expected an object with a `data` list of models")
    return payload
