"""What every `scout` sub-command shares: one-line usage errors and Discord id arguments.

Exit codes and error types are in `bot.errors`, JSON lines and count arguments in `bot.console`: the bot and
the benchmarks use them too.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from bot.errors import EXIT_USAGE
from bot.settings import discord_id


class ScoutArgumentParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the usage itself is one `--help` away); exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print the error on one line and exit 2, instead of argparse's usage block."""
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def discord_id_argument(text: str) -> int:
    """An argparse type for a Discord server or channel id, held to the same rule as the settings."""
    try:
        return discord_id(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError("must be a Discord id: a positive number below 2^63") from None
