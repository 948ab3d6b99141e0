"""The failures a person can act on, and the exit codes they map to, shared by every command-line entry point.

They live outside `bot/cli/` because the bot (`run_bot`) and the benchmarks raise them too, and the
core never imports the CLI.
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit code 1."""


class UsageError(CommandError):
    """An argument the command cannot use; printed as one line, exit code 2, like argparse's own errors."""
