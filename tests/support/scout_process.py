"""Run `scout` as a user does: a real process, a clean environment, a database in the test's folder."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.settings import Settings

SCOUT = str(Path(sys.executable).parent / "scout")
SETTING_VARIABLES = {name.upper() for name in Settings.model_fields}
CLEAN_ENV = {key: value for key, value in os.environ.items() if key.upper() not in SETTING_VARIABLES}
PROBE_JSON_KEYS = (
    "model_id",
    "run_id",
    "suite_version",
    "requests",
    "failures",
    "status",
    "reason",
    "ranking",
    "confidence",
    "not_sure",
    "evidence",
)


async def scout(folder: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `scout ARGS` run in `folder` with only `env` set."""
    process = await asyncio.create_subprocess_exec(
        SCOUT,
        *args,
        cwd=folder,
        env={**CLEAN_ENV, "DATABASE_PATH": str(folder / "scout.db"), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
