"""Shared measuring tools for benchmarks: wall time, peak resident memory, the machine they ran on."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime


def _status_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_rss_mib() -> float:
    """This program's resident high-water mark so far.

    Read from `VmHWM`, not `ru_maxrss`: Linux carries `ru_maxrss` across fork and exec, so a benchmark
    started by a large parent (a test run) would report the parent's peak as its own.
    """
    return _status_mib("VmHWM")


def current_rss_mib() -> float:
    """This process's resident memory now, in MiB."""
    return _status_mib("VmRSS")


def machine() -> str:
    """CPU, cores, memory, Python and date: printed beside every figure, since figures mean nothing without them."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = sys.version.split()[0]
    return f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Python {python}, {datetime.now(UTC):%Y-%m-%d}"


@dataclass
class Stopwatch:
    """Wall time of a `with` block, kept after it ends."""

    started: float = 0.0
    seconds: float = 0.0

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self.started


@dataclass(frozen=True)
class Target:
    """One stated target of a benchmark: a figure, the bound it must keep, and where the bound comes from."""

    name: str
    value: float | None
    bound: float
    at_most: bool
    source: str

    @property
    def met(self) -> bool:
        """A figure that could not be measured misses its target."""
        if self.value is None:
            return False
        return self.value <= self.bound if self.at_most else self.value >= self.bound

    def to_json(self) -> dict[str, object]:
        """The target as a benchmark's JSON reports it."""
        return {
            "value": None if self.value is None else round(self.value, 4),
            "target": f"{'<=' if self.at_most else '>='} {self.bound:g}",
            "met": self.met,
            "source": self.source,
        }

    def line(self) -> str:
        """One line for a person: the figure, the bound, met or MISSED."""
        shown = "n/a" if self.value is None else f"{self.value:.3f}"
        verdict = "met" if self.met else "MISSED"
        bound = f"{'<=' if self.at_most else '>='} {self.bound:g}"
        return f"  {self.name}: {shown} (target {bound}, {self.source}): {verdict}"


def targets_json(targets: list[Target]) -> dict[str, object]:
    """Every target by name, and whether all were met: the benchmark's exit code follows `all_met`."""
    return {"all_met": all(t.met for t in targets), **{t.name: t.to_json() for t in targets}}
