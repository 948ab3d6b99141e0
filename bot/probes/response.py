"""What one probe brought back: the answer and its cost, or why it failed, and how much of an answer is kept.

The runner makes it, the store keeps it; corpus answers are capped by the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# What one stored answer may hold. Probes ask for a few hundred tokens and the longest answer in the shared
# corpora is about 25,000 characters, so only a runaway or hostile reply is cut; the cut is marked in the text.
MAX_STORED_ANSWER_CHARS = 32_000
CUT_MARKER = "\n[cut by Model Scout: {count:,} more characters not stored]"
_CUT_MARKER_ROOM = len(CUT_MARKER.format(count=10**12))


def cap_answer(text: str) -> tuple[str, bool]:
    """The text as stored: at most `MAX_STORED_ANSWER_CHARS`, ending in a marker saying how much was cut."""
    if len(text) <= MAX_STORED_ANSWER_CHARS:
        return text, False
    kept = MAX_STORED_ANSWER_CHARS - _CUT_MARKER_ROOM
    return text[:kept] + CUT_MARKER.format(count=len(text) - kept), True


@dataclass(frozen=True)
class ProbeResponse:
    """One probe's outcome. `request` is the body sent (without the model); `attempts` counts HTTP requests.

    `earlier_failures` keeps what went wrong on attempts that were retried; `carried_from_run` is set
    when the answer was reused from an abandoned run instead of being asked again.
    """

    probe_id: str
    kind: str
    ok: bool
    request: Mapping[str, Any]
    error_kind: str | None = None
    error: str | None = None
    content: str | None = None
    reasoning: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    attempts: int = 1
    earlier_failures: tuple[str, ...] = ()
    carried_from_run: int | None = None
    raw: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def provider(self) -> str | None:
        """Who served the request, as the gateway's reply names it: a chat template's offset is per provider."""
        provider = self.raw.get("provider") if self.raw else None
        return provider if isinstance(provider, str) and provider else None
