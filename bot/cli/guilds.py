"""`scout purge-guild ID`: delete everything the store holds of one Discord server, at once."""

from __future__ import annotations

import argparse

from bot.cli.common import discord_id_argument
from bot.errors import EXIT_OK
from bot.settings import Settings
from bot.store import Store


async def cmd_purge_guild(settings: Settings, args: argparse.Namespace) -> int:
    """Purge a server's members' names, votes, notes, reveals, cards and settings; safe while the bot runs (the
    bot's data for that server is simply gone; it keeps working for every other server)."""
    async with await Store.from_settings(settings, create=False) as store:
        deleted = await store.guilds.purge(args.guild)
    rows = sum(deleted.values())
    detail = ", ".join(f"{count} {table}" for table, count in deleted.items() if count) or "nothing was stored"
    print(f"purged server {args.guild}: {rows} rows ({detail})")
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout purge-guild`."""
    purge = commands.add_parser(
        "purge-guild", help="delete everything stored about one Discord server (its members' votes, notes and names)"
    )
    purge.add_argument("guild", metavar="ID", type=discord_id_argument, help="the server's id")
    purge.set_defaults(handler=cmd_purge_guild)
