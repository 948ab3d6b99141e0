"""Per-guild alerts: which catalogue events each guild asked to hear about, grouped into one message each.

A guild opts in per kind: every new model (with filters: free only, namespaces or vendors,
modalities), price drops and rises or context changes of the models and vendors it watches, and
removals. New stealth models are announced with their own card (the announcements outbox), not here.
One poll gives at most one alert per guild and kind, however many models it touched: a burst of 50
repriced models is one message listing them, never 50 messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.catalogue.diff import CatalogueEvent, compared_prices, same_price
from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import vendor_for_label, vendor_for_model_id

ALERT_KINDS = ("new", "price", "context", "removed")
ALERT_TITLES = {
    "new": "New models",
    "price": "Price changes",
    "context": "Context length changes",
    "removed": "Removed from the catalogue",
}
LINES_SHOWN = 20
MAX_FILTER_ITEMS = 25
MAX_FILTER_ITEM_LENGTH = 100


@dataclass(frozen=True)
class AlertPreferences:
    """What one guild wants to hear about; the defaults are what a guild that never chose gets."""

    guild_id: int
    channel_id: int | None = None
    paused: bool = False
    stealth: bool = True
    new_models: bool = False
    free_only: bool = False
    namespaces: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    prices: bool = False
    context: bool = False
    watched: tuple[str, ...] = ()
    removals: bool = False
    role_id: int | None = None

    @property
    def delivers(self) -> bool:
        """Whether anything can reach this guild: a channel, and announcements not turned off."""
        return self.channel_id is not None and not self.paused


@dataclass(frozen=True)
class PlannedAlert:
    """One message to post in one guild: a kind and a line per model (already in reading order)."""

    guild_id: int
    channel_id: int
    kind: str
    lines: tuple[str, ...] = field(default_factory=tuple)


def parse_list(text: str | None) -> tuple[str, ...]:
    """A member's comma- or space-separated list, lower-cased, without repeats; raises ValueError when too long."""
    items = [item.strip().lower() for item in (text or "").replace(",", " ").split()]
    items = list(dict.fromkeys(item for item in items if item))
    if len(items) > MAX_FILTER_ITEMS:
        raise ValueError(f"at most {MAX_FILTER_ITEMS} items, got {len(items)}")
    if any(len(item) > MAX_FILTER_ITEM_LENGTH for item in items):
        raise ValueError(f"an item longer than {MAX_FILTER_ITEM_LENGTH} characters")
    return tuple(items)


def matches_target(model_id: str, targets: Iterable[str]) -> bool:
    """Whether a model is one of `targets`: its exact id, its namespace, or its vendor by any alias."""
    model = model_id.lower()
    namespace = model.split("/", 1)[0].lstrip("~") if "/" in model else ""
    vendor = vendor_for_model_id(model_id)
    for target in targets:
        if target in (model, namespace) or model.split(":", 1)[0] == target:
            return True
        if vendor is not None and "/" not in target and vendor_for_label(target) == vendor:
            return True
    return False


def _is_free(entry: CatalogueEntry) -> bool:
    return entry.price("prompt") == 0 and entry.price("completion") == 0


def wants_new_model(preferences: AlertPreferences, entry: CatalogueEntry) -> bool:
    """The guild's filters on new models: free only, namespaces or vendors, modalities (in or out)."""
    if preferences.free_only and not _is_free(entry):
        return False
    if preferences.namespaces and not matches_target(entry.id, preferences.namespaces):
        return False
    modalities = {item.lower() for item in (*entry.input_modalities, *entry.output_modalities)}
    return not preferences.modalities or bool(modalities & set(preferences.modalities))


def per_million(price: object) -> str:
    """A per-token price as people quote it: dollars per million tokens."""
    try:
        value = float(str(price)) * 1_000_000
    except ValueError:
        return str(price)
    return "free" if value == 0 else f"${value:,.2f}/M"


def price_direction(before: object, after: object) -> str:
    """ "drop", "rise" or "change" (one price up, another down) across the prompt and completion prices."""
    old, new = compared_prices(before, after)
    moves = set()
    for key in ("prompt", "completion"):
        try:
            difference = float(new[key]) - float(old[key])
        except ValueError:
            return "change"
        if difference:
            moves.add("rise" if difference > 0 else "drop")
    return moves.pop() if len(moves) == 1 else "change"


def price_line(event: CatalogueEvent) -> str:
    """▼ for a drop, ▲ for a rise, ◆ when one price went up and the other down; per million tokens."""
    old, new = compared_prices(event.before.get("pricing"), event.after.get("pricing"))
    moved = [
        f"{key} {per_million(old[key])} → {per_million(new[key])}" for key in old if not same_price(old[key], new[key])
    ]
    arrow = {"drop": "▼", "rise": "▲"}.get(price_direction(old, new), "◆")
    return f"{arrow} {event.model_id} ({event.name}): {', '.join(moved)}"


def context_line(event: CatalogueEvent) -> str:
    """The context length before and after, with the direction."""
    before, after = event.before.get("context_length"), event.after.get("context_length")
    grown = isinstance(before, int) and isinstance(after, int) and after > before
    arrow = "▲" if grown else "▼"
    shown = [f"{value:,}" if isinstance(value, int) else "unknown" for value in (before, after)]
    return f"{arrow} {event.model_id} ({event.name}): {shown[0]} → {shown[1]} tokens"


def new_model_line(entry: CatalogueEntry) -> str:
    """What a member needs to decide whether to try a new model: its price and context."""
    price = "free" if _is_free(entry) else f"{per_million(entry.pricing.get('prompt', '?'))} in"
    context = f"{entry.context_length:,} tokens" if entry.context_length else "context unknown"
    return f"{entry.id} ({entry.name}): {price}, {context}"


def _watched_changes(
    preferences: AlertPreferences, events: Sequence[CatalogueEvent], tracked: str
) -> list[CatalogueEvent]:
    return [
        event
        for event in events
        if event.kind == "changed" and tracked in event.fields and matches_target(event.model_id, preferences.watched)
    ]


def _lines_for(
    kind: str, preferences: AlertPreferences, events: Sequence[CatalogueEvent], entries: Mapping[str, CatalogueEntry]
) -> list[str]:
    """The lines of one kind of alert for one guild; nothing when the guild did not ask for that kind."""
    if kind == "new" and preferences.new_models:
        fresh = [entries[event.model_id] for event in events if event.kind in ("new", "returned") and not event.stealth]
        return [new_model_line(entry) for entry in fresh if wants_new_model(preferences, entry)]
    if kind == "removed" and preferences.removals:
        return [f"{event.model_id} ({event.name})" for event in events if event.kind == "removed"]
    if kind == "price" and preferences.prices and preferences.watched:
        return [price_line(event) for event in _watched_changes(preferences, events, "pricing")]
    if kind == "context" and preferences.context and preferences.watched:
        return [context_line(event) for event in _watched_changes(preferences, events, "context_length")]
    return []


def plan_alerts(
    events: Sequence[CatalogueEvent], entries: Mapping[str, CatalogueEntry], guilds: Iterable[AlertPreferences]
) -> list[PlannedAlert]:
    """The alerts one poll causes: per guild that can be reached, at most one per kind, listing every model."""
    planned = []
    for preferences in guilds:
        if not preferences.delivers or preferences.channel_id is None:
            continue
        for kind in ALERT_KINDS:
            lines = _lines_for(kind, preferences, events, entries)
            if lines:
                planned.append(PlannedAlert(preferences.guild_id, preferences.channel_id, kind, tuple(lines)))
    return planned


def alert_text(kind: str, lines: Sequence[str]) -> tuple[str, list[str]]:
    """A title and the lines to show, the list cut at `LINES_SHOWN` with a count of the rest."""
    count = len(lines)
    title = f"{ALERT_TITLES.get(kind, kind)}: {count} model{'s' if count != 1 else ''}"
    shown = list(lines[:LINES_SHOWN])
    if count > LINES_SHOWN:
        shown.append(f"… and {count - LINES_SHOWN} more (`scout models` or /scout model shows each)")
    return title, shown
