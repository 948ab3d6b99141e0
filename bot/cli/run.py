"""`scout run`: start the Discord bot."""

from __future__ import annotations

import argparse
import sys

from bot.errors import EXIT_OK, EXIT_USAGE
from bot.settings import Settings


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Start the bot; without a token there is nothing to log in with, a settings error."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        print(
            "DISCORD_TOKEN is not set: put the bot token in the environment or .env to start the bot", file=sys.stderr
        )
        return EXIT_USAGE
    from bot.client import run_bot

    await run_bot(settings)
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout run`, the one long-running command: it logs at LOG_LEVEL."""
    run = commands.add_parser("run", help="start the Discord bot (same as python -m bot)")
    run.set_defaults(handler=cmd_run, service=True)
