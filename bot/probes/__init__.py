"""Probing a model: the versioned suite of questions, the runner that asks them, the shared rate limiter."""

from bot.probes.ratelimit import RateLimiter
from bot.probes.runner import ProbeRunner, RunReport
from bot.probes.suite import PROBES, SUITE_VERSION, Probe, ProbePlan, plan_probes

__all__ = ["PROBES", "SUITE_VERSION", "Probe", "ProbePlan", "ProbeRunner", "RateLimiter", "RunReport", "plan_probes"]
