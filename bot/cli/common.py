"""What every `scout` sub-command shares: exit codes, the one-line errors, argument types, JSON lines, secrets."""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from pydantic import SecretStr

from bot.settings import discord_id

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit code 1."""


class UsageError(CommandError):
    """An argument the command cannot use; printed as one line, exit code 2, like argparse's own errors."""


class ScoutArgumentParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the usage itself is one `--help` away); exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print the error on one line and exit 2, instead of argparse's usage block."""
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def print_json(record: object) -> None:
    """One compact JSON object per line, non-ASCII kept readable."""
    print(json.dumps(record, ensure_ascii=False, separators=(",", ":")))


def reveal(secret: SecretStr | None) -> str | None:
    """The secret's value, for handing to a client that puts it in a header; never print the result."""
    return secret.get_secret_value() if secret is not None else None


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


def discord_id_argument(text: str) -> int:
    """An argparse type for a Discord server or channel id, held to the same rule as the settings."""
    try:
        return discord_id(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError("must be a Discord id: a positive number below 2^63") from None
