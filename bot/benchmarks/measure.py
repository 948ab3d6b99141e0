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
