"""Product lines: which of a lab's listings to probe as references, so each kind of model it makes has one.

A stealth model is usually the next member of one of a lab's lines: its flagship, its small fast model
(mini, nano, flash, lite, haiku, air...), its reasoning model (o-series, R1, "thinking"), its open-weight
release (gpt-oss, Gemma), or its coding model (Codex, Coder, Devstral). Style is learnt per line: a
reasoning model reads like its lab's other reasoning models far more than like its chat flagship. So the
references are the newest listing of each line a lab lists (3 to 5 per major lab), not its newest two.

The rule reads names, dates, prices and whether weights are published, nothing else, so it is pure and
checked on both catalogue snapshots (`tests/catalogue/test_lines.py`):

- a listing's line is the first that fits, in the order coder, reasoning, open-weight, small, flagship
  (`line_of`); open-weight is its own line only for a lab whose listings are mostly closed (for Qwen or
  DeepSeek every line is open-weight);
- a premium variant is never a reference: a deep-research, multi-agent, search or custom-tools product,
  or a listing whose probe run costs more than `PREMIUM_FACTOR` times the median of its lab's listings of
  the same line and more than `PREMIUM_MIN_RUN_COST` (gpt-5.2-pro, o3-pro, o1-pro, claude-opus-4.7-fast):
  it would take much of the calibration budget for one more model of a line, where Gemini's or
  DeepSeek's "pro", priced like the rest of their line, stays;
- a model built on another lab's (a name that says "distill" or names another lab's family, like
  deepseek-r1-distill-llama-70b) writes like that lab and is left out;
- within a line the newest listing wins (a newer member takes the older one's place; listings of one day
  are one release), then the cheaper, then the shorter id (`o4-mini` over its alias `o4-mini-high`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.vendors import known_vendor_names, vendor_for_model_id

FLAGSHIP, SMALL, REASONING, OPEN_WEIGHT, CODER = "flagship", "small", "reasoning", "open-weight", "coder"
LINES = (FLAGSHIP, SMALL, REASONING, OPEN_WEIGHT, CODER)
"""Every line, in the order a lab's references are planned: the flagship first."""
LINE_NAMES = {
    FLAGSHIP: "flagship chat model",
    SMALL: "small model",
    REASONING: "reasoning model",
    OPEN_WEIGHT: "open-weight model",
    CODER: "coding model",
}
"""How people say each line, for the evidence and the plan."""

PREMIUM_FACTOR = 4.0
PREMIUM_MIN_RUN_COST = 0.10
MAX_PER_LAB = len(LINES)

_CODER = re.compile(r"cod(?:e|er|ex|estral)\b|codex|devstral")
_REASONING = re.compile(r"think|reason|(?:^|-)r1(?:-|$)|^o\d(?:-|$)|qwq|magistral|(?:^|-)z1(?:-|$)")
_SMALL_WORDS = frozenset({"mini", "nano", "flash", "lite", "small", "haiku", "air", "micro", "tiny", "fast"})
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z])")
_SMALL_BILLIONS = 15.0
_NOT_A_CHAT_PRODUCT = re.compile(r"deep-?research|multi-agent|customtools|search|audio|realtime|image")
_DERIVATIVE = re.compile(r"distill")
_FAMILY = re.compile(r"^[a-z]+(?:-[a-z]+)*")
_DAY = 86_400


def line_of(model_id: str, *, open_weight_line: bool = False) -> str:
    """The line of one listing from its id (`open_weight_line` when its lab lists open weights as a line)."""
    slug = model_id.lower().rsplit("/", 1)[-1]
    if _CODER.search(slug):
        return CODER
    if _REASONING.search(slug):
        return REASONING
    if open_weight_line:
        return OPEN_WEIGHT
    sizes = [float(size) for size in _SIZE.findall(slug)]
    if _SMALL_WORDS & set(slug.split("-")) or (sizes and max(sizes) <= _SMALL_BILLIONS):
        return SMALL
    return FLAGSHIP


def is_derivative(entry: CatalogueEntry) -> bool:
    """A model built on another lab's model (a distill, a Llama or Qwen underneath): it writes like that lab."""
    own = vendor_for_model_id(entry.id)
    words = " ".join(re.findall(r"[a-z]+", entry.slug.lower()))
    return bool(_DERIVATIVE.search(words) or [vendor for vendor in known_vendor_names(words) if vendor != own])


def is_premium(cost: float, line_median: float) -> bool:
    """A premium variant: priced far above the rest of its line, at a price that would weigh on the budget."""
    return cost > PREMIUM_FACTOR * line_median and cost > PREMIUM_MIN_RUN_COST


def family_of_listing(entry: CatalogueEntry) -> str:
    """The name before the first version number (`gemma` of gemma-3-27b-it, `gpt-oss` of gpt-oss-120b)."""
    found = _FAMILY.match(entry.slug.lower())
    return found.group(0) if found else entry.slug.lower()


@dataclass(frozen=True)
class PlannedReference:
    """One listing chosen as a reference: its lab, its line, and what probing it costs at most."""

    model_id: str
    vendor: str
    line: str
    cost: float
    created: int


def _open_weight_families(entries: Sequence[CatalogueEntry]) -> set[str]:
    """Families with published weights: a listing with a Hugging Face id makes its whole family open."""
    return {family_of_listing(e) for e in entries if e.hugging_face_id is not None}


def _lines(entries: Sequence[CatalogueEntry]) -> dict[str, list[CatalogueEntry]]:
    """A lab's listings by line; open weights are a line of their own only when most of its listings are closed."""
    open_families = _open_weight_families(entries)
    is_open = [family_of_listing(e) in open_families for e in entries]
    open_weight_line = sum(is_open) * 2 < len(entries)
    lines: dict[str, list[CatalogueEntry]] = {}
    for entry, open_weights in zip(entries, is_open, strict=True):
        lines.setdefault(line_of(entry.id, open_weight_line=open_weight_line and open_weights), []).append(entry)
    return lines


RunCost = Callable[[CatalogueEntry], float]
"""The most one probe run costs on a listing, in US dollars (`bot.probes.cost.plan_cost` of the suite's plan)."""


def _lab_plan(vendor: str, entries: Sequence[CatalogueEntry], cost: RunCost) -> list[PlannedReference]:
    """The newest listing of each line one lab lists, premium variants and derivatives left out."""
    usable = [e for e in entries if not _NOT_A_CHAT_PRODUCT.search(e.slug.lower()) and not is_derivative(e)]
    best: dict[str, CatalogueEntry] = {}
    for line, listed in _lines(usable).items():
        median = statistics.median(cost(e) for e in listed)
        affordable = [e for e in listed if not is_premium(cost(e), median)]
        if affordable:
            best[line] = min(affordable, key=lambda e: _recency(e, cost))
    return [
        PlannedReference(best[line].id, vendor, line, cost(best[line]), best[line].created or 0)
        for line in LINES
        if line in best
    ][:MAX_PER_LAB]


def _recency(entry: CatalogueEntry, cost: RunCost) -> tuple[int, float, int, str]:
    """Newest day first (aliases listed seconds apart are one release), then the cheaper, then the shorter id."""
    return (-((entry.created or 0) // _DAY), cost(entry), len(entry.id), entry.id)


def plan_references(
    entries: Iterable[CatalogueEntry], labs: Sequence[str], cost: RunCost, lines_per_lab: int = MAX_PER_LAB
) -> list[PlannedReference]:
    """The references to probe, in order: every lab's flagship first, then every lab's next line, and so on.

    A budget that runs out still covers the most labs; within a round the cheapest go first. `entries`
    are the listings that may serve as references at all (chat models of a known lab, see `is_chat_model`);
    each lab gets at most `lines_per_lab` lines, in the order of `LINES`.
    """
    by_lab: dict[str, list[CatalogueEntry]] = {}
    for entry in entries:
        vendor = vendor_for_model_id(entry.id)
        if vendor is not None and vendor.key in labs:
            by_lab.setdefault(vendor.key, []).append(entry)
    plans = [_lab_plan(vendor, listed, cost) for vendor, listed in sorted(by_lab.items())]
    rounds = [[plan[i] for plan in plans if i < len(plan)] for i in range(min(lines_per_lab, MAX_PER_LAB))]
    return [item for round_ in rounds for item in sorted(round_, key=lambda item: (item.cost, item.model_id))]
