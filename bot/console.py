"""What a command reads from its arguments and writes to standard output, for the CLI and the benchmarks alike."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def to_a_reader_who_may_leave() -> Iterator[None]:
    """Write to standard output like any Unix filter: when the reader stops early (`scout models | head`), end
    quietly (the command still exits 0), as `cat` does, instead of printing a traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still buffered cannot fail again at
    exit (the way Python's documentation on SIGPIPE recommends)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def print_json(record: object) -> None:
    """One compact JSON object per line, non-ASCII kept readable."""
    print(json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text[:40]!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type for counts that must be at least 1."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type for counts that may be 0."""
    return _whole_number(text, 0)
