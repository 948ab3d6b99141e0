"""What one probe brought back: the answer and its cost, or why it failed. The runner makes it, the store keeps it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
