"""Diff a fresh catalogue against what the store knows, turning the difference into events.

Pure functions: the store loads the known state, this module decides, the store writes. That keeps the
rules (baseline, idempotence, what counts as a change, when a model counts as removed, reveal
candidates) testable without a database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.catalogue.entry import TRACKED_FIELDS, CatalogueEntry
from bot.catalogue.stealth import StealthVerdict

# A model missing from this many successful polls in a row is removed; one missing poll may be a glitch.
REMOVAL_CONFIRMATION_POLLS = 2
SHOWN_TEXT = 60
MAIN_PRICES = ("prompt", "completion")


@dataclass(frozen=True)
class KnownModel:
    """What the store remembers of a model between polls."""

    id: str
    name: str
    tracked_json: str
    stealth: bool
    stealth_reasons: tuple[str, ...]
    removed: bool
    missing_polls: int = 0
    first_seen: str = ""
    missing_since: str | None = None


@dataclass(frozen=True)
class CatalogueEvent:
    """One thing that happened to one model in one poll, with what a reader needs to act on it."""

    kind: str  # "new", "changed", "removed" or "returned"
    model_id: str
    name: str
    stealth: bool
    stealth_reasons: tuple[str, ...]
    fields: tuple[str, ...] = ()
    reveal_candidates: tuple[str, ...] = ()
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The event as written to the store and printed by `scout scan --json`."""
        record: dict[str, Any] = {
            "event": self.kind,
            "model_id": self.model_id,
            "name": self.name,
            "stealth": self.stealth,
            "stealth_reasons": list(self.stealth_reasons),
        }
        if self.kind == "changed":
            record["fields"] = list(self.fields)
            record["before"] = dict(self.before)
            record["after"] = dict(self.after)
        if self.kind == "removed":
            record["reveal_candidates"] = list(self.reveal_candidates)
        return record

    def change_lines(self) -> list[str]:
        """`field: before → after` for each changed field; maps and lists show only the parts that changed."""
        return [
            line for name in self.fields for line in _change_lines(name, self.before.get(name), self.after.get(name))
        ]


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _charged(pricing: Mapping[str, Any]) -> set[str]:
    return {key for key, value in pricing.items() if _number(value) != 0}


def compared_prices(before: Any, after: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The prices worth comparing: prompt and completion always (absent reads as zero), any other key only
    when both sides charge for it. A key listed at zero is the same as no key, and a key the gateway starts
    (or stops) publishing, such as `web_search`, changes the listing's format, not what the model costs."""
    before = before if isinstance(before, Mapping) else {}
    after = after if isinstance(after, Mapping) else {}
    keys = sorted(set(MAIN_PRICES) | (_charged(before) & _charged(after)))
    return {key: before.get(key, "0") for key in keys}, {key: after.get(key, "0") for key in keys}


def same_price(before: Any, after: Any) -> bool:
    """Prices compared as numbers where they are numbers ("2e-06" is "0.000002")."""
    before_number, after_number = _number(before), _number(after)
    if before_number is None or after_number is None:
        return bool(before == after)
    return before_number == after_number


def _same_prices(before: Any, after: Any) -> bool:
    compared_before, compared_after = compared_prices(before, after)
    return all(same_price(compared_before[key], compared_after[key]) for key in compared_before)


def _field_changed(name: str, before: Any, after: Any) -> bool:
    if name == "pricing":
        return not _same_prices(before, after)
    return bool(before != after)


def changed_fields(before_json: str, after: Mapping[str, Any]) -> tuple[str, ...]:
    """Tracked fields whose value really changed (a price key appearing, or listed at zero, is no change)."""
    before = json.loads(before_json)
    return tuple(name for name in TRACKED_FIELDS if _field_changed(name, before.get(name), after.get(name)))


def _shown(value: Any, start: int = 0) -> str:
    """A value on one short line; long text is shown from `start` (where it first differs) with an ellipsis."""
    if value is None:
        return "none"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    if start > 0:
        text = "…" + text[start:]
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


def _first_difference(before: str, after: str) -> int:
    """Where two texts part, less a little context, so a changed description shows the words that changed."""
    before, after = " ".join(before.split()), " ".join(after.split())
    same = next((index for index, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), None)
    if same is None:
        same = min(len(before), len(after))
    return max(same - SHOWN_TEXT // 4, 0)


def _change_lines(name: str, before: Any, after: Any) -> list[str]:
    if name == "pricing":
        before, after = compared_prices(before, after)
        return [
            f"pricing.{key}: {_shown(before[key])} → {_shown(after[key])}"
            for key in before
            if not same_price(before[key], after[key])
        ]
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        keys = sorted(set(before) | set(after))
        return [
            f"{name}.{key}: {_shown(before.get(key))} → {_shown(after.get(key))}"
            for key in keys
            if before.get(key) != after.get(key)
        ]
    if isinstance(before, list) and isinstance(after, list):
        added = [f"+{item}" for item in after if item not in before]
        dropped = [f"-{item}" for item in before if item not in after]
        return [f"{name}: {' '.join(added + dropped)}"]
    start = _first_difference(before, after) if isinstance(before, str) and isinstance(after, str) else 0
    return [f"{name}: {_shown(before, start)} → {_shown(after, start)}"]


def _changed_event(entry: CatalogueEntry, verdict: StealthVerdict, previous: KnownModel) -> CatalogueEvent | None:
    if entry.tracked_json() == previous.tracked_json and verdict.stealth == previous.stealth:
        return None
    tracked = entry.tracked()
    fields = changed_fields(previous.tracked_json, tracked)
    if verdict.stealth != previous.stealth:
        fields += ("stealth",)
    if not fields:
        return None
    before = json.loads(previous.tracked_json)
    return CatalogueEvent(
        "changed",
        entry.id,
        entry.name,
        verdict.stealth,
        verdict.reasons,
        fields,
        before={name: before.get(name) for name in fields if name in before},
        after={name: tracked[name] for name in fields if name in tracked},
    )


def missing_models(entries: Sequence[CatalogueEntry], known: Mapping[str, KnownModel]) -> list[KnownModel]:
    """Known, not yet removed models that this catalogue does not list."""
    listed = {entry.id for entry in entries}
    return [model for model in known.values() if not model.removed and model.id not in listed]


def diff_catalogue(
    entries: Sequence[CatalogueEntry],
    verdicts: Mapping[str, StealthVerdict],
    known: Mapping[str, KnownModel],
) -> list[CatalogueEvent]:
    """Events for one successful poll. On an empty store the poll is a baseline: only stealth models are new.

    A model is removed only once it has been missing from `REMOVAL_CONFIRMATION_POLLS` polls in a row;
    its reveal candidates are the named models that appeared since it first went missing.
    """
    baseline = not known
    events: list[CatalogueEvent] = []
    for entry in entries:
        verdict = verdicts[entry.id]
        previous = known.get(entry.id)
        if previous is None:
            if not baseline or verdict.stealth:
                events.append(CatalogueEvent("new", entry.id, entry.name, verdict.stealth, verdict.reasons))
        elif previous.removed:
            events.append(CatalogueEvent("returned", entry.id, entry.name, verdict.stealth, verdict.reasons))
        elif changed := _changed_event(entry, verdict, previous):
            events.append(changed)
    newcomers = tuple(event.model_id for event in events if event.kind in ("new", "returned") and not event.stealth)
    for model in missing_models(entries, known):
        if model.missing_polls + 1 < REMOVAL_CONFIRMATION_POLLS:
            continue
        candidates = _reveal_candidates(model, known, newcomers) if model.stealth else ()
        events.append(
            CatalogueEvent(
                "removed", model.id, model.name, model.stealth, model.stealth_reasons, reveal_candidates=candidates
            )
        )
    return events


def _reveal_candidates(
    model: KnownModel, known: Mapping[str, KnownModel], newcomers: tuple[str, ...]
) -> tuple[str, ...]:
    """Named models listed since `model` first went missing: the real name usually appears the same day."""
    since = model.missing_since
    earlier = sorted(other.id for other in known.values() if since and other.first_seen >= since and not other.stealth)
    return tuple(dict.fromkeys([*earlier, *newcomers]))
