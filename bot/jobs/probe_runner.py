"""Run the probe suite on one model: concurrently, under the shared rate limiter, within budget.

Every probe is sent at once (the limiter decides when each may start), so a run takes about as long
as its slowest request, not the sum of them. Each request has its own timeout; the gateway client is
told not to retry, because retries spend the request budget and are decided here: a 429, a 5xx, a
timeout or a network error is retried only from the plan's spare requests, so the number of requests
the gateway sees for a run never exceeds `max_requests`. Each outcome is stored the moment it
arrives; a probe that fails is recorded with its kind and the run goes on without it.

A runner made by `from_settings` also minds the money and the key: the run is admitted (perhaps trimmed) by
the `SpendGuard` before anything is sent and each answer's cost is booked; while the key is unproven the
first request goes alone, and a 401/402 stops the run at once (`KeyRefused`): probes not yet sent are not sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.gateway import ChatCompletion, GatewayClient, GatewayError
from bot.jobs.key_health import KeyHealth, KeyProblem, KeyRefused, refuses_the_key
from bot.jobs.rate_limit import RateLimiter
from bot.jobs.spend import Admission, SpendGuard
from bot.probes.response import ProbeResponse
from bot.probes.suite import PROBES, SUITE_VERSION, Probe, ProbePlan, plan_probes
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

RETRYABLE_KINDS = frozenset({"rate_limited", "server_error", "timeout", "network"})
RATE_LIMIT_DEFAULT_WAIT_S = 10.0
RETRY_DELAY_S = 2.0
RETRY_AFTER_CAP_S = 60.0
PROBE_TEMPERATURE = 0.0
KEY_VERDICT_WAIT_S = 0.5
"""A refusal of the key comes back at once (the gateway checks the key before any model); a first answer slower than
this is a model taking its time, and the rest of the run goes ahead without waiting for it."""
HTTP_NOT_FOUND = 404
HTTP_FORBIDDEN = 403
NOT_FOUND_KIND = "not_found"
"""A 404 is recorded as its own kind: "this model does not exist" ends a run's story differently from "try later"."""
FORBIDDEN_KIND = "forbidden"
"""A 403: the gateway will not serve this model to this account now (a region, a provider's policy)."""
KEY_REFUSED_KIND = "key_refused"
"""A 401, or a probe not sent because the key was refused: the account, not the model, is the problem (a 402 keeps
the gateway's own kind, `payment_required`)."""
OUTAGE_KINDS = frozenset(
    {"network", "timeout", "server_error", "rate_limited", "payment_required", FORBIDDEN_KIND, KEY_REFUSED_KIND}
)
"""Failures that say nothing about the model: a run lost to them is retried without counting against it."""


@dataclass(frozen=True)
class RunReport:
    """What one run produced; the same data is in the store under `run_id`."""

    run_id: int
    model_id: str
    suite_version: str
    purpose: str
    responses: tuple[ProbeResponse, ...]
    requests: int
    wall_s: float
    planned: tuple[str, ...] = ()
    trimmed: bool = False

    @property
    def outage(self) -> bool:
        """Every probe failed, and only for reasons outside the model (the gateway, the network, the account)."""
        failures = self.failures
        return (
            bool(failures)
            and len(failures) == len(self.responses)
            and all(f.error_kind in OUTAGE_KINDS for f in failures)
        )

    @property
    def failures(self) -> tuple[ProbeResponse, ...]:
        """The probes that brought nothing back; a card counts them by kind."""
        return tuple(response for response in self.responses if not response.ok)

    @property
    def texts(self) -> dict[str, str]:
        """Answers to the probes that ask for text, by probe id."""
        return {r.probe_id: r.content for r in self.responses if r.ok and r.content and r.kind != "tokenizer"}

    @property
    def token_counts(self) -> dict[str, int]:
        """`usage.prompt_tokens` per probe, including probes whose answer was unusable but whose usage came back."""
        return {r.probe_id: r.prompt_tokens for r in self.responses if r.prompt_tokens is not None}

    @property
    def providers(self) -> dict[str, str]:
        """Who served each probe, where the gateway said: the tokenizer signal aligns counts per provider."""
        return {r.probe_id: r.provider for r in self.responses if r.provider is not None}


class _SpareRequests:
    """The requests a run may spend on retries; shared by its probes, first come first served."""

    def __init__(self, count: int) -> None:
        self.left = max(0, count)

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def request_extra_for(supported_parameters: tuple[str, ...]) -> dict[str, Any]:
    """Ask reasoning models to think briefly, so short probes do not spend their whole `max_tokens` thinking."""
    return {"reasoning": {"effort": "low"}} if "reasoning" in supported_parameters else {}


class ProbeRunner:
    """Runs the suite on models through one gateway client and one limiter (share both across runs)."""

    def __init__(
        self,
        store: Store,
        gateway: GatewayClient,
        limiter: RateLimiter,
        *,
        max_requests: int,
        max_completion_tokens: int,
        timeout_s: float,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        retry_delay_s: float = RETRY_DELAY_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        probes: tuple[Probe, ...] = PROBES,
        spend: SpendGuard | None = None,
        key: KeyHealth | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._limiter = limiter
        self._spend = spend
        self._key = key
        self.plan = plan_probes(max_requests, max_completion_tokens, probes)
        self._timeout_s = timeout_s
        self._retry_after_cap_s = retry_after_cap_s
        self._retry_delay_s = retry_delay_s
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls,
        store: Store,
        gateway: GatewayClient,
        settings: Settings,
        limiter: RateLimiter | None = None,
        *,
        spend: SpendGuard | None = None,
        key: KeyHealth | None = None,
    ) -> ProbeRunner:
        """A runner with the settings' rate limit, budget, timeout and spend limits; a caller may hand in a limiter,
        a spend guard and a key health to share them between runners (one process, one of each)."""
        limiter = limiter or RateLimiter(settings.probe_requests_per_minute, settings.probe_concurrency)
        return cls(
            store,
            gateway,
            limiter,
            max_requests=settings.probe_max_requests,
            max_completion_tokens=settings.probe_max_tokens,
            timeout_s=settings.probe_timeout_seconds,
            spend=spend or SpendGuard(store, settings),
            key=key or KeyHealth(store, settings.probe_retry_base_seconds),
        )

    async def run(self, model_id: str, *, purpose: str, request_extra: Mapping[str, Any] | None = None) -> RunReport:
        """Probe `model_id` once; answers of an interrupted run of the same suite are reused, not asked again.

        Raises `SpendRefused` (nothing sent) when the run would cost too much, and `KeyRefused` when the gateway
        refuses the key (before the run, or at its first refusal: the run is then abandoned, its answers kept for
        the next one)."""
        if self._key is not None:
            await self._key.raise_if_paused()
        admission = Admission(self.plan, 0.0, None, trimmed=False)
        if self._spend is not None:
            record = await self._store.catalogue.model(model_id)
            admission = await self._spend.admit(model_id, self.plan, record.entry if record else None)
        try:
            return await self._run(model_id, purpose, admission, dict(request_extra or {}))
        finally:
            if self._spend is not None:
                self._spend.release(admission)

    async def _run(self, model_id: str, purpose: str, admission: Admission, extra: dict[str, Any]) -> RunReport:
        started = time.monotonic()
        plan = admission.plan
        reusable = await self._store.probes.reusable_answers(model_id, SUITE_VERSION)
        run_id = await self._store.probes.start_run(model_id, SUITE_VERSION, purpose)
        carried = await self._carry_over(run_id, reusable, plan) if reusable is not None else []
        done = {response.probe_id for response in carried}
        to_send = [probe for probe in plan.probes if probe.probe_id not in done]
        run = _Run(run_id, model_id, purpose, admission, _SpareRequests(plan.spare_requests), extra)
        try:
            fresh = await self._ask_all(run, to_send)
        except KeyRefused:  # refused while it waited for another run's first request: nothing was sent
            await self._store.probes.abandon_run(run_id)
            raise
        if run.key_problem is not None:
            await self._store.probes.abandon_run(run_id)
            raise KeyRefused(run.key_problem)
        await self._store.probes.finish_run(run_id)
        responses = tuple(carried) + tuple(fresh)
        requests = sum(response.attempts for response in fresh)
        report = RunReport(
            run_id,
            model_id,
            SUITE_VERSION,
            purpose,
            responses,
            requests,
            time.monotonic() - started,
            tuple(probe.probe_id for probe in plan.probes),
            admission.trimmed,
        )
        log.info(
            "probe run %d of %s: %d requests, %d of %d probes failed, %.1fs",
            run_id,
            model_id,
            requests,
            len(report.failures),
            len(responses),
            report.wall_s,
        )
        return report

    async def _ask_all(self, run: _Run, to_send: list[Probe]) -> list[ProbeResponse]:
        """Send every probe; while the key is unproven the first goes alone, and the others wait for its verdict
        (one refusal is enough to know) for at most KEY_VERDICT_WAIT_S: a refusal comes back at once, an answer that
        takes longer is a slow model, no reason to hold the rest."""
        tasks: list[asyncio.Future[ProbeResponse]] = []
        try:
            if to_send and self._key is not None and not self._key.trusted:
                async with self._key.first_request():
                    if not self._key.trusted:
                        tasks.append(asyncio.ensure_future(self._ask(run, to_send[0])))
                        to_send = to_send[1:]
                        await asyncio.wait(tasks, timeout=KEY_VERDICT_WAIT_S)
            tasks += [asyncio.ensure_future(self._ask(run, probe)) for probe in to_send]
            return list(await asyncio.gather(*tasks))
        except BaseException:
            # A store failure or a cancellation stops the whole run: no probe keeps spending requests on its own.
            for task in tasks:
                task.cancel()
            raise

    async def _carry_over(
        self, run_id: int, reusable: tuple[int, list[ProbeResponse]], plan: ProbePlan
    ) -> list[ProbeResponse]:
        """Copy the planned probes' answers of an interrupted run into this one, marked with where they came from."""
        old_run, old_responses = reusable
        planned = {probe.probe_id for probe in plan.probes}
        carried = [_carried(response, old_run) for response in old_responses if response.probe_id in planned]
        for response in carried:
            await self._store.probes.record_response(run_id, response)
        return carried

    async def _send(self, run: _Run, probe: Probe) -> ChatCompletion | GatewayError | None:
        """One HTTP request inside a limiter slot; a gateway failure is returned, not raised. None when the run was
        stopped (a refused key) while this probe waited for its slot: it is not sent."""
        async with self._limiter.slot():
            if run.key_problem is not None:
                return None
            try:
                return await self._gateway.chat(
                    run.model_id,
                    probe.messages(),
                    max_tokens=probe.max_tokens,
                    temperature=PROBE_TEMPERATURE,
                    timeout_s=self._timeout_s,
                    max_attempts=1,
                    extra=run.extra or None,
                )
            except GatewayError as error:
                return error

    async def _ask(self, run: _Run, probe: Probe) -> ProbeResponse:
        """Send one probe, retrying from the spare requests when that can help, and store the outcome."""
        request = {
            "messages": probe.messages(),
            "max_tokens": probe.max_tokens,
            "temperature": PROBE_TEMPERATURE,
            **run.extra,
        }
        earlier: list[str] = []
        attempts = 0
        while True:
            outcome = await self._send(run, probe)
            if outcome is None:  # another probe of this run met a refused key: send nothing more
                response = ProbeResponse(
                    probe.probe_id,
                    probe.kind,
                    False,
                    request,
                    error_kind=KEY_REFUSED_KIND,
                    error="not sent: the gateway refused the API key",
                    attempts=attempts,
                    earlier_failures=tuple(earlier),
                )
                break
            attempts += 1
            if isinstance(outcome, ChatCompletion):
                if self._key is not None:
                    await self._key.worked()
                if self._spend is not None:
                    await self._spend.book(outcome, probe, run.admission, purpose=run.purpose, run_id=run.run_id)
                response = _judge(probe, request, outcome, attempts, tuple(earlier))
                break
            if refuses_the_key(outcome) and self._key is not None:
                run.key_problem = run.key_problem or await self._key.refused(outcome)
            wait = self._retry_wait(outcome)
            if wait is None or run.key_problem is not None or not run.spare.take():
                response = ProbeResponse(
                    probe.probe_id,
                    probe.kind,
                    False,
                    request,
                    error_kind=_failure_kind(outcome),
                    error=str(outcome),
                    attempts=attempts,
                    earlier_failures=tuple(earlier),
                )
                break
            earlier.append(f"{outcome.kind}: {outcome}")
            if outcome.kind == "rate_limited":
                self._limiter.pause_for(wait)
            await self._sleep(wait)
        await self._store.probes.record_response(run.run_id, response)
        return response

    def _retry_wait(self, error: GatewayError) -> float | None:
        """Seconds to wait before retrying, or None when retrying is pointless or the server wants too long."""
        if error.kind not in RETRYABLE_KINDS:
            return None
        if error.kind != "rate_limited":
            return self._retry_delay_s
        wait = error.retry_after if error.retry_after is not None else RATE_LIMIT_DEFAULT_WAIT_S
        return wait if wait <= self._retry_after_cap_s else None


@dataclass
class _Run:
    """One run under way: what its probes share (the spare requests, the extra request fields, a refused key)."""

    run_id: int
    model_id: str
    purpose: str
    admission: Admission
    spare: _SpareRequests
    extra: dict[str, Any]
    key_problem: KeyProblem | None = None


def _failure_kind(error: GatewayError) -> str:
    """The kind a failed probe is recorded with: the gateway's, made finer where the status says more."""
    if error.kind == "payment_required":
        return error.kind
    if refuses_the_key(error):
        return KEY_REFUSED_KIND
    if error.status == HTTP_NOT_FOUND:
        return NOT_FOUND_KIND
    if error.status == HTTP_FORBIDDEN:
        return FORBIDDEN_KIND
    return error.kind


def _judge(
    probe: Probe, request: dict[str, Any], completion: ChatCompletion, attempts: int, earlier: tuple[str, ...]
) -> ProbeResponse:
    """A 200 is not yet an answer: a text probe needs text, a tokenizer probe needs `usage`."""
    error_kind = error = None
    if probe.wants_text and not completion.content.strip():
        if completion.reasoning and completion.reasoning.strip():
            error_kind, error = "reasoning_only", "the reply holds reasoning but no answer (max_tokens spent thinking)"
        else:
            error_kind, error = "empty", "the reply is empty"
    elif not probe.wants_text and completion.prompt_tokens is None:
        error_kind, error = "no_usage", "the reply reports no usage.prompt_tokens"
    return ProbeResponse(
        probe.probe_id,
        probe.kind,
        error_kind is None,
        request,
        error_kind=error_kind,
        error=error,
        content=completion.content,
        reasoning=completion.reasoning,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_s=completion.latency_s,
        attempts=attempts,
        earlier_failures=earlier,
        raw=completion.raw,
    )


def _carried(response: ProbeResponse, from_run: int) -> ProbeResponse:
    return ProbeResponse(
        response.probe_id,
        response.kind,
        response.ok,
        response.request,
        content=response.content,
        reasoning=response.reasoning,
        prompt_tokens=response.prompt_tokens,
        completion_tokens=response.completion_tokens,
        latency_s=response.latency_s,
        attempts=0,
        carried_from_run=from_run,
        raw=response.raw,
    )
