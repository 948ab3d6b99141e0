"""`python -m bot` starts the Discord bot, like `scout run`, and takes the same options (`--database`, `-v`)."""

import sys

from bot.cli import main

sys.exit(main(["run", *sys.argv[1:]]))
