"""A disk that fills up while a vote log is exported: one clear line, exit code 1, no half file, DB intact.

The CLI runs as a child process with RLIMIT_FSIZE (writes past the limit fail with EFBIG, as a full
disk fails with ENOSPC) or writing to a full device (/dev/full answers every write with ENOSPC). The
bot's `/scout export` writes through `export_to_directory`, tested here on a file that is /dev/full.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.export import ExportError, export_to_directory
from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.bot_process import CliRun, bot_environment, read_rows, run_scout
from tests.support.world import OWL

GUILD = 4242
VOTES = 1200
LIMIT_BYTES = 64 * 1024  # above SQLite's 32 KiB shared-memory file, far below the ~100 KB export
FULL_DEVICE = Path("/dev/full")

needs_dev_full = pytest.mark.skipif(not FULL_DEVICE.exists(), reason="/dev/full is not available on this system")


async def _fill(database: Path) -> None:
    async with await Store.open(database) as store:
        await record_catalogue(store, [OWL], "fixture")
        for member in range(1, VOTES + 1):
            await store.votes.cast(GUILD, OWL["id"], member, f"member {member}", "openai")
        await store.notes.add(GUILD, OWL["id"], 1, "member 1", '=HYPERLINK("https://evil.example")')


@pytest.fixture(scope="module")
def filled_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("votes") / "scout.db"
    asyncio.run(_fill(database))
    return database


@pytest.fixture
def database(filled_database: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "db" / "scout.db"
    copy.parent.mkdir()
    shutil.copy(filled_database, copy)
    return copy


def _intact(database: Path) -> None:
    assert [tuple(row) for row in read_rows(database, "PRAGMA integrity_check")] == [("ok",)]
    assert read_rows(database, "SELECT COUNT(*) AS n FROM vote_history")[0]["n"] == VOTES


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


async def _export(database: Path, tmp_path: Path, *args: str, **options: Any) -> CliRun:
    """`scout export --guild GUILD ARGS…` on `database`; `options` go to `run_scout` (a size limit, `stdout`)."""
    return await run_scout(
        "export",
        "--guild",
        str(GUILD),
        *args,
        environment=bot_environment(database_path=database),
        workdir=tmp_path / "cwd",
        **options,
    )


async def _export_under_a_file_size_limit(database: Path, tmp_path: Path) -> tuple[Path, CliRun]:
    out = tmp_path / "out" / "votes.csv"
    out.parent.mkdir()
    run = await _export(database, tmp_path, "--out", str(out), file_size_limit=LIMIT_BYTES)
    return out, run


async def test_an_export_cut_short_by_the_file_size_limit_fails_cleanly(database: Path, tmp_path: Path):
    out, run = await _export_under_a_file_size_limit(database, tmp_path)

    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and str(out) in last and "File too large" in last
    assert list(out.parent.iterdir()) == []  # neither the target nor a `.partial` is left behind
    _intact(database)

    again = await _export(database, tmp_path, "--out", str(out))
    assert again.returncode == 0 and len(out.read_text().splitlines()) == 1 + VOTES + 1  # header, votes, the note


async def test_an_export_cut_short_by_the_file_size_limit_says_so_in_one_line(database: Path, tmp_path: Path):
    out, run = await _export_under_a_file_size_limit(database, tmp_path)
    assert run.returncode == 1 and "File too large" in _one_line(run.stderr)


@needs_dev_full
async def test_an_export_to_a_full_standard_output_is_one_clear_line(database: Path, tmp_path: Path):
    with FULL_DEVICE.open("wb") as full:
        run = await _export(database, tmp_path, stdout=full)
    assert run.returncode == 1
    assert "No space left on device" in _one_line(run.stderr)
    _intact(database)


@needs_dev_full
async def test_an_export_to_a_path_that_is_a_full_device_fails_and_leaves_the_path_alone(
    database: Path, tmp_path: Path
):
    out = tmp_path / "votes.csv"
    out.symlink_to(FULL_DEVICE)
    run = await _export(database, tmp_path, "--out", str(out))
    assert out.is_symlink() and os.readlink(out) == str(FULL_DEVICE) and FULL_DEVICE.is_char_device()
    assert run.returncode == 1
    assert "No space left on device" in run.stderr.strip().splitlines()[-1]


@needs_dev_full
async def test_the_bots_export_on_a_full_disk_is_an_export_error_and_leaves_nothing(database: Path, tmp_path: Path):
    directory = tmp_path / "export"
    directory.mkdir()
    (directory / "votes.csv").symlink_to(FULL_DEVICE)  # every byte written to this name hits a full disk
    async with await Store.open(database) as store:
        with pytest.raises(ExportError, match="No space left on device"):
            await export_to_directory(store.members.export_rows(GUILD), "csv", directory, "votes.csv")
    assert list(directory.iterdir()) == []
    assert FULL_DEVICE.is_char_device()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
