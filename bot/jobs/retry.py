"""How work that failed is tried again: after base, 2×base, 4×base… seconds, capped, at most a number of times."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings

MAX_RETRY_DELAY_S = 6 * 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    """Failed probe runs and calibration targets: retried after base, 2×base, 4×base… seconds (capped); given up
    after `max_attempts` runs that failed for the model's own reasons (runs lost to an outage do not count)."""

    base_s: float
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """PROBE_RETRY_BASE_SECONDS and PROBE_RETRY_MAX_ATTEMPTS."""
        return cls(settings.probe_retry_base_seconds, settings.probe_retry_max_attempts)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed run: doubling spreads retries out over an outage."""
        return min(self.base_s * 2 ** max(0, min(attempts - 1, 30)), MAX_RETRY_DELAY_S)
