"""`python -m bot` starts the Discord bot, like `scout run`."""

import sys

from bot.cli import main

sys.exit(main(["run"]))
