"""A damaged database file: every process that opens it exits promptly with one line saying so, instead of
printing an error and hanging on a database thread a supervisor can never restart."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.bot_process import CLI, bot_environment
from tests.support.damage import damage_schema_names
from tests.support.world import ORDINARY_MODELS, OWL

PROMPTLY_S = 20.0
GUILD = 4242


@pytest.fixture
async def damaged(tmp_path: Path) -> Path:
    database = tmp_path / "damaged.db"
    async with await Store.open(tmp_path / "good.db") as store:
        await record_catalogue(store, [*ORDINARY_MODELS, OWL], "fixture")
        await store.votes.cast(GUILD, OWL["id"], 1, "member 1", "openai")
        await store.db.backup_to(database)
    damage_schema_names(database)
    return database


async def _exit_of(*command: str, environment: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Exit code and stderr of `command`; fails (and kills it) if it has not exited within PROMPTLY_S."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), PROMPTLY_S)
    except TimeoutError:
        process.kill()
        _, stderr = await process.communicate()
        raise AssertionError(f"{command[-3:]} still running after {PROMPTLY_S}s: {stderr.decode()[-500:]}") from None
    assert process.returncode is not None
    return process.returncode, stderr.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "args",
    [["models"], ["export", "--guild", str(GUILD)], ["restore", "{damaged}"], ["run"]],
    ids=["scout models", "scout export", "scout restore", "python -m bot"],
)
async def test_every_process_exits_at_once_with_one_line(damaged: Path, tmp_path: Path, args: list[str]):
    if args == ["run"]:
        command = [sys.executable, "-m", "bot"]
        environment = bot_environment(database_path=damaged, discord_token="never.used.token")
    else:
        live = damaged if args[0] != "restore" else tmp_path / "good.db"
        command = [sys.executable, "-c", CLI, *(arg.format(damaged=damaged) for arg in args)]
        environment = bot_environment(database_path=live)
    code, stderr = await _exit_of(*command, environment=environment, cwd=tmp_path)
    lines = stderr.strip().splitlines()
    assert code == 1 and "Traceback" not in stderr, stderr
    assert lines[-1].startswith("error: ") and "damaged" in lines[-1] and "restore a backup" in lines[-1], lines
