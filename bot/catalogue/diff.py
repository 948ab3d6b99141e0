"""Diff a fresh catalogue against what the store knows, turning the difference into events.

Pure functions: the store loads the known state, this module decides, the store writes. That keeps the
rules (baseline, idempotence, reveal candidates) testable without a database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.catalogue.entry import TRACKED_FIELDS, CatalogueEntry
from bot.catalogue.stealth import StealthVerdict


@dataclass(frozen=True)
class KnownModel:
    """What the store remembers of a model between polls."""

    id: str
    name: str
    tracked_json: str
    stealth: bool
    stealth_reasons: tuple[str, ...]
    removed: bool


@dataclass(frozen=True)
class CatalogueEvent:
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


def changed_fields(before_json: str, after: Mapping[str, Any]) -> tuple[str, ...]:
    before = json.loads(before_json)
    return tuple(name for name in TRACKED_FIELDS if before.get(name) != after.get(name))


def diff_catalogue(
    entries: Sequence[CatalogueEntry],
    verdicts: Mapping[str, StealthVerdict],
    known: Mapping[str, KnownModel],
) -> list[CatalogueEvent]:
    """Events for one successful poll. On an empty store the poll is a baseline: only stealth models are new."""
    baseline = not known
    events: list[CatalogueEvent] = []
    listed: set[str] = set()
    for entry in entries:
        listed.add(entry.id)
        verdict = verdicts[entry.id]
        previous = known.get(entry.id)
        if previous is None:
            if not baseline or verdict.stealth:
                events.append(CatalogueEvent("new", entry.id, entry.name, verdict.stealth, verdict.reasons))
            continue
        if previous.removed:
            events.append(CatalogueEvent("returned", entry.id, entry.name, verdict.stealth, verdict.reasons))
            continue
        tracked = entry.tracked()
        if entry.tracked_json() == previous.tracked_json and verdict.stealth == previous.stealth:
            continue
        fields = changed_fields(previous.tracked_json, tracked)
        if verdict.stealth != previous.stealth:
            fields += ("stealth",)
        before = json.loads(previous.tracked_json)
        events.append(
            CatalogueEvent(
                "changed",
                entry.id,
                entry.name,
                verdict.stealth,
                verdict.reasons,
                fields,
                before={name: before.get(name) for name in fields if name in before},
                after={name: tracked[name] for name in fields if name in tracked},
            )
        )
    newcomers = tuple(event.model_id for event in events if event.kind in ("new", "returned") and not event.stealth)
    for model in known.values():
        if model.removed or model.id in listed:
            continue
        candidates = newcomers if model.stealth else ()
        events.append(
            CatalogueEvent(
                "removed", model.id, model.name, model.stealth, model.stealth_reasons, reveal_candidates=candidates
            )
        )
    return events
