"""The real bot as a child process (`python -m bot`), and `scout` commands, pointed at the fakes.

What a crash or a leak looks like can only be seen from outside the process: SIGKILL leaves no
`finally` to run, and stderr is every line the logging set-up writes. The child gets a clean
environment (no settings inherited from the developer's shell) and runs in its own working directory,
so no `.env` is read; stderr goes to a file, so a chatty DEBUG log never blocks on a full pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import Settings

START_TIMEOUT_S = 30.0
SETTINGS_VARIABLES = {name.upper() for name in Settings.model_fields}
CLI = "import sys; from bot.cli import main; sys.exit(main())"
LIMIT_FILE_SIZE = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "


def bot_environment(**settings: object) -> dict[str, str]:
    """This process's environment without any Model Scout setting, plus `settings` (names in any case)."""
    environment = {key: value for key, value in os.environ.items() if key.upper() not in SETTINGS_VARIABLES}
    environment.update({key.upper(): str(value) for key, value in settings.items() if value is not None})
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no `finally` — what a crash or an OOM kill does."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.running:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                await self.kill()

    async def wait_for(self, check: Callable[[], Any], *, what: str, timeout: float = START_TIMEOUT_S) -> Any:
        """Wait until `check()` is truthy; fail at once, with the log's tail, if the bot exits first."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = check()
            if result:
                return result
            if not self.running:
                raise AssertionError(f"the bot exited ({self.process.returncode}) before {what}:\n{self.log()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_bot(environment: Mapping[str, str], workdir: Path, *, name: str = "bot") -> AsyncIterator[BotProcess]:
    """Start `python -m bot` in `workdir`; stop it (SIGTERM) on exit if the test did not kill it."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.stderr.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=workdir,
            env=dict(environment),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    bot = BotProcess(process, log_path)
    try:
        yield bot
    finally:
        await bot.stop()


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str


async def run_scout(
    *args: str, environment: Mapping[str, str], workdir: Path, file_size_limit: int | None = None, **options: Any
) -> CliRun:
    """Run `scout ARGS…` as a child process; `options` go to `create_subprocess_exec` (e.g. `stdout`).

    `file_size_limit` (bytes) is RLIMIT_FSIZE for the child: writing past it fails with EFBIG, as a full
    disk fails with ENOSPC, without filling a real disk.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    options.setdefault("stdout", asyncio.subprocess.PIPE)
    code = (LIMIT_FILE_SIZE.format(limit=file_size_limit) if file_size_limit else "") + CLI
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        *args,
        cwd=workdir,
        env=dict(environment),
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        **options,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return CliRun(process.returncode, (stdout or b"").decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


def read_rows(database: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    """Read the bot's database from outside it (read-only; safe while the bot writes, thanks to WAL)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as connection:
        connection.row_factory = sqlite3.Row
        return list(connection.execute(sql, params))
