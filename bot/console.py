"""What a command reads from its arguments and writes to standard output, for the CLI and the benchmarks alike."""

from __future__ import annotations

import argparse
import json


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
