"""`python -m bot` when Discord cannot be used at start: one line saying what to fix, exit code 1, no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from bot.testing.discord import FakeDiscord
from tests.support.bot_process import bot_environment, running_bot
from tests.support.world import make_guild

WRONG_TOKEN = "MTIz.wrong.TOKEN-SENTINEL-9d2e"


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _exit_of(environment: dict[str, str], workdir: Path) -> tuple[int, str]:
    async with running_bot(environment, workdir) as bot:
        await bot.wait_for(lambda: not bot.running, what="the bot to give up")
        return bot.process.returncode or 0, bot.log()


async def test_a_token_discord_refuses_is_one_line_naming_the_setting(tmp_path: Path):
    guild, *_ = make_guild("Main Guild", "alice")
    async with FakeDiscord(guilds=[guild]) as fake:
        environment = bot_environment(
            discord_token=WRONG_TOKEN,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            database_path=tmp_path / "scout.db",
        )
        code, log = await _exit_of(environment, tmp_path / "run")
    assert code == 1 and "Traceback" not in log and WRONG_TOKEN not in log
    assert log.strip().splitlines()[-1].startswith("error: ") and "DISCORD_TOKEN" in log.strip().splitlines()[-1]


async def test_discord_unreachable_at_start_is_one_line_naming_the_address(tmp_path: Path):
    api_base = f"http://127.0.0.1:{_closed_port()}/api/v10"
    environment = bot_environment(
        discord_token=WRONG_TOKEN,
        discord_api_base=api_base,
        discord_gateway_url=api_base.replace("http", "ws"),
        database_path=tmp_path / "scout.db",
    )
    code, log = await _exit_of(environment, tmp_path / "run")
    assert code == 1 and "Traceback" not in log, log[-2000:]
    last = log.strip().splitlines()[-1]
    assert last.startswith("error: ") and api_base.split("/api")[0] in last
