"""What every `scout` sub-command shares: exit codes, the one-line error, JSON lines, secrets."""

from __future__ import annotations

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
