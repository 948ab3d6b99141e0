"""Whether the gateway takes the operator's API key: a revoked key (401) or an account out of credit (402) stops
probing at once, says so once, and is checked again, with backoff, until it works.

A run while the key is unproven (at start, or not used for a while) sends its first request alone: one refused
request is enough to know, and every other run waiting on the key is told without sending anything. The problem
is kept in the store (`bot_state`), so `/scout status` shows it, and a restart keeps the pause but checks soon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from bot.gateway import GatewayError
from bot.store import Store
from bot.store.database import utc_now

log = logging.getLogger(__name__)

KEY_PROBLEM_STATE = "gateway.key_problem"
KEY_REFUSED_STATUSES = frozenset({401, 402})
TRUSTED_FOR_SECONDS = 300.0
"""A key that answered this recently is trusted: a run sends its requests at once rather than one first."""
MAX_CHECK_INTERVAL_SECONDS = 1800.0
WHAT_TO_DO = {
    401: "the key is invalid or revoked: put a working one in OPENROUTER_API_KEY",
    402: "the account is out of credit: add credit at https://openrouter.ai/settings/credits",
}


def refuses_the_key(error: GatewayError) -> bool:
    """A 401 or 402 (also when OpenRouter sends it inside a 200's error body): no request can succeed until the
    operator acts, so sending more only adds refusals."""
    return error.status in KEY_REFUSED_STATUSES or error.kind == "payment_required"


class KeyRefused(Exception):
    """A run was not started, or was stopped, because the gateway refuses the key; `retry_in` says when to check."""

    def __init__(self, problem: KeyProblem) -> None:
        super().__init__(problem.short())
        self.problem = problem

    @property
    def retry_in(self) -> float:
        """Seconds until the key is checked again."""
        return self.problem.seconds_to_check()


@dataclass(frozen=True)
class KeyProblem:
    """The gateway refused the key: since when, why, and when it is checked next."""

    status: int
    detail: str
    since: str
    next_check_at: str
    checks: int

    def short(self) -> str:
        """A line for a card or a command's answer."""
        return f"OpenRouter refused the API key (HTTP {self.status}); probes resume when it works again"

    def describe(self) -> str:
        """The line `/scout status` shows: what happened, since when, what to do, when the bot looks again."""
        since = self.since[:16].replace("T", " ")
        todo = WHAT_TO_DO.get(self.status, "check OPENROUTER_API_KEY and the account")
        when = self.next_check_at[11:16]
        return (
            f"OpenRouter refused the API key (HTTP {self.status}: {self.detail}) since {since} UTC; {todo}. "
            f"Probes and calibration are paused; the bot checks again at {when} UTC."
        )

    def seconds_to_check(self) -> float:
        """Seconds until the next check (0 when it is due)."""
        moment = datetime.fromisoformat(self.next_check_at.replace("Z", "+00:00"))
        return max(0.0, (moment - datetime.now(UTC)).total_seconds())


async def stored_problem(store: Store) -> KeyProblem | None:
    """The refusal on record, if any: what `/scout status` reads, in whichever process."""
    raw = await store.state.get(KEY_PROBLEM_STATE)
    if not raw:
        return None
    try:
        return KeyProblem(**json.loads(raw))
    except (TypeError, ValueError):
        return None


class KeyHealth:
    """One per process, shared by every probe run: the pause, the single first request, and the checks."""

    def __init__(self, store: Store, check_base_seconds: float) -> None:
        self._store = store
        self._check_base_s = check_base_seconds
        self._trusted_until = 0.0
        self._first_request = asyncio.Lock()

    @property
    def trusted(self) -> bool:
        """Whether the key answered recently enough for a run to send everything at once."""
        return time.monotonic() < self._trusted_until

    async def raise_if_paused(self) -> None:
        """Refuse to start a run while a refusal is on record and its next check is not due yet."""
        problem = await stored_problem(self._store)
        if problem is not None and problem.seconds_to_check() > 0:
            raise KeyRefused(problem)

    @contextlib.asynccontextmanager
    async def first_request(self) -> AsyncIterator[None]:
        """Held while an unproven key is tried with one request: runs arriving meanwhile wait for the verdict."""
        async with self._first_request:
            if not self.trusted:
                await self.raise_if_paused()
            yield

    async def worked(self) -> None:
        """A request was answered: trust the key, and if a refusal was on record, clear it and say so."""
        self._trusted_until = time.monotonic() + TRUSTED_FOR_SECONDS
        if await stored_problem(self._store) is not None:
            await self._store.state.set(KEY_PROBLEM_STATE, "")
            log.warning("the OpenRouter API key works again: probes and calibration resume")

    async def refused(self, error: GatewayError) -> KeyProblem:
        """The gateway refused the key: record it (said once at WARNING), and when to check again."""
        self._trusted_until = 0.0
        before = await stored_problem(self._store)
        checks = before.checks + 1 if before else 1
        wait = min(self._check_base_s * 2 ** min(checks - 1, 20), MAX_CHECK_INTERVAL_SECONDS)
        next_check = datetime.now(UTC) + timedelta(seconds=wait)
        problem = KeyProblem(
            status=error.status or 402,
            detail=error.detail[:200],
            since=before.since if before else utc_now(),
            next_check_at=next_check.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            checks=checks,
        )
        await self._store.state.set(KEY_PROBLEM_STATE, json.dumps(asdict(problem)))
        if before is None:
            log.warning("%s", problem.describe())
        else:
            log.info("the OpenRouter API key is still refused (HTTP %d); next check in %.0fs", problem.status, wait)
        return problem
