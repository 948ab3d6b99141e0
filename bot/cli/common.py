"""What every `scout` sub-command shares: exit codes, the one-line error, JSON lines, secrets."""

from __future__ import annotations

import argparse
import json

from pydantic import SecretStr

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit code 1."""


def print_json(record: object) -> None:
    print(json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def reveal(secret: SecretStr | None) -> str | None:
    """The secret's value, for handing to a client that puts it in a header; never print the result."""
    return secret.get_secret_value() if secret is not None else None


def positive_int(text: str) -> int:
    """An argparse type for counts that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
