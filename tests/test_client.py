"""Extension discovery and the `/scout` group: every cog loads, and two commands cannot share a name."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from discord import app_commands
from discord.ext import commands

from bot.client import ScoutBot, discover_extensions
from bot.gateway import GatewayClient
from bot.jobs.pipeline import Pipeline
from bot.settings import Settings
from tests.support.world import SCOUT_SUBCOMMANDS


@pytest.fixture
async def bot(store, tmp_path):
    settings = Settings(_env_file=None, database_path=tmp_path / "scout.db")
    gateway = GatewayClient("http://127.0.0.1:9/api/v1")
    scout = ScoutBot(settings, store, Pipeline(store, gateway, settings))
    scout.tree.add_command(scout.scout_group)
    try:
        yield scout
    finally:
        for name in list(scout.extensions):
            await scout.unload_extension(name)
        await gateway.close()


def test_discovery_finds_every_extension_and_skips_private_helpers():
    found = list(discover_extensions())
    assert found == [
        "cogs.admin",
        "cogs.alerts",
        "cogs.announcements",
        "cogs.errors",
        "cogs.export",
        "cogs.help",
        "cogs.members",
        "cogs.scores",
        "cogs.scouting",
        "cogs.voting",
    ]
    assert "cogs._safety" not in found


async def test_every_extension_loads_and_the_scout_group_holds_every_command(bot):
    for name in discover_extensions():
        await bot.load_extension(name)
    assert sorted(command.name for command in bot.scout_group.commands) == SCOUT_SUBCOMMANDS
    assert [command.name for command in bot.tree.get_commands()] == ["scout"]
    payload = bot.scout_group.to_dict(bot.tree)
    assert payload["contexts"] == [0]  # server only: votes, notes and exports belong to a guild


CLASHING_EXTENSION = """
from discord import app_commands
from discord.ext import commands


async def vote(interaction) -> None:
    pass


class Clash(commands.Cog):
    def __init__(self, bot):
        self.bot = bot

    async def cog_load(self):
        self.bot.add_scout_commands(app_commands.Command(name="vote", description="clash", callback=vote))


async def setup(bot):
    await bot.add_cog(Clash(bot))
"""


async def test_a_second_command_with_the_same_name_is_refused(bot, tmp_path, monkeypatch):
    for name in discover_extensions():
        await bot.load_extension(name)
    (tmp_path / "clashing_extension.py").write_text(CLASHING_EXTENSION)
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(commands.ExtensionFailed) as failure:
        await bot.load_extension("clashing_extension")
    assert isinstance(failure.value.original, app_commands.CommandAlreadyRegistered)
    sys.modules.pop("clashing_extension", None)


def test_no_extension_imports_another_only_the_private_helpers():
    """Extensions share code through `cogs/_*.py`, as pydis's `_cog.py` modules and RoboDanny's `cogs/utils/`."""
    cogs = Path(__file__).resolve().parents[1] / "cogs"
    extensions = {path.stem for path in cogs.glob("*.py") if not path.stem.startswith("_")}
    for path in cogs.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("cogs"):
                continue
            modules = {alias.name for alias in node.names} if node.module == "cogs" else {node.module.split(".")[1]}
            assert not modules & extensions, f"{path.name} imports {node.module}"
