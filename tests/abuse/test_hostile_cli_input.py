"""Every `scout` sub-command and every setting, given hostile values: one line naming the input, exit code 2
for usage and settings, 1 for runtime failures, no traceback, nothing written. Real processes, as a user runs them."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from bot.store import sqlite as sqlite_module
from tests.support.hostile_settings import HOSTILE_SETTINGS
from tests.support.scout_process import CLEAN_ENV, scout
from tests.support.store import list_owl

DEEP = 100_000
UNWRITABLE = "/sys/scout-test-unwritable"  # sysfs refuses new files, even to root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A database with one vote, and hostile inputs beside it."""

    async def fill() -> None:
        async with await Store.open(tmp_path / "scout.db") as store:
            await store.votes.cast(111, await list_owl(store), 1, "alice", "openai")

    asyncio.run(fill())
    (tmp_path / "deep.json").write_text("[" * DEEP)
    (tmp_path / "deep.jsonl").write_text('{"model": ' + "[" * DEEP + "\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "empty-catalogue.json").write_text('{"data": []}')
    (tmp_path / "no-valid-line.jsonl").write_text("\n\n")
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    (tmp_path / "a-folder").mkdir()
    return tmp_path


def _state(folder: Path) -> dict[str, bytes]:
    return {path.name: b"" if path.is_dir() else path.read_bytes() for path in sorted(folder.iterdir())}


HOSTILE_COMMANDS: list[tuple[tuple[str, ...], int, str]] = [
    (("no-such-command",), 2, "invalid choice"),
    (("--database", "a-folder", "models"), 2, "--database"),
    (("models", "--database", "a-folder"), 2, "--database"),
    (("models", "--database", "absent.db"), 1, "no database at absent.db"),
    (("export", "--guild", "111", "--database", "absent.db"), 1, "no database at absent.db"),
    (("models", "--stealth=yes"), 2, "--stealth"),
    (("export",), 2, "--guild"),
    (("export", "--guild", "99999999999999999999999"), 2, "--guild"),
    (("export", "--guild", "0"), 2, "--guild"),
    (("export", "--guild", "-5"), 2, "--guild"),
    (("export", "--guild", "1e9"), 2, "--guild"),
    (("export", "--guild", "111", "--since", "yesterday"), 2, "--since"),
    (("export", "--guild", "111", "--since", "9" * 5000), 2, "--since"),
    (("export", "--guild", "111", "--format", "xml"), 2, "--format"),
    (("export", "--guild", "111", "--out", f"{UNWRITABLE}.csv"), 1, UNWRITABLE),
    (("export", "--guild", "111", "--out", "a-folder"), 1, "a-folder"),
    (("scan", "--catalogue", "deep.json"), 1, "nested too deeply"),
    (("scan", "--catalogue", "absent.json"), 1, "absent.json"),
    (("scan", "--catalogue", "a-folder"), 1, "a-folder"),
    (("scan", "--catalogue", "deep.json", "--database", f"{UNWRITABLE}.db"), 1, UNWRITABLE),
    (("probe",), 2, "MODEL_ID"),
    (("probe", "x/y", "--json=1"), 2, "--json"),
    (("probe", "openrouter/owl-alpha"), 2, "OPENROUTER_API_KEY"),
    (("calibrate", "--per-vendor", "0"), 2, "--per-vendor"),
    (("calibrate", "--per-vendor", "many"), 2, "--per-vendor"),
    (("references",), 2, "ACTION"),
    (("references", "import"), 2, "FILE"),
    (("references", "import", "absent.jsonl"), 1, "absent.jsonl"),
    (("references", "import", "a-folder"), 1, "a-folder"),
    (("references", "import", "deep.jsonl"), 1, "nested too deeply"),
    (("references", "import", "empty.jsonl"), 1, "no valid line in empty.jsonl"),
    (("references", "import", "no-valid-line.jsonl"), 1, "no valid line in no-valid-line.jsonl"),
    (("bench",), 2, "NAME"),
    (("bench", "attribution", "--probes", "-1"), 2, "--probes"),
    (("bench", "attribution", "--seed", "x"), 2, "--seed"),
    (("bench", "catalogue", "--models", "lots"), 2, "--models"),
    (("bench", "catalogue", "--changes", "-3"), 2, "--changes"),
    (("bench", "export", "--votes", "0"), 2, "--votes"),
    (("run", "--now"), 2, "--now"),
    (("run",), 2, "DISCORD_TOKEN"),
    (("backup",), 2, "PATH"),
    (("backup", "scout.db"), 2, "the database itself"),
    (("backup", f"{UNWRITABLE}.db"), 1, UNWRITABLE),
    (("backup", "copy.db", "--database", "absent.db"), 1, "no database at absent.db"),
    (("restore",), 2, "BACKUP"),
    (("restore", "scout.db"), 2, "the database itself"),
    (("restore", "garbage.db"), 1, "garbage.db"),
    (("restore", "absent.db"), 1, "absent.db"),
]


async def test_every_command_given_hostile_values_is_one_line_and_the_right_exit_code(folder: Path):
    limit = asyncio.Semaphore(4)

    async def run(args: tuple[str, ...]) -> tuple[int, str, str]:
        async with limit:
            return await scout(folder, *args)

    before = _state(folder)
    results = await asyncio.gather(*(run(args) for args, _, _ in HOSTILE_COMMANDS))
    for (args, code, named), (returncode, out, err) in zip(HOSTILE_COMMANDS, results, strict=True):
        lines = err.strip().splitlines()
        assert (returncode, len(lines)) == (code, 1), f"scout {' '.join(args)} -> {returncode}: {err[-2000:]}"
        assert named in lines[0] and len(lines[0]) < 600, f"scout {' '.join(args)}: {lines[0]}"
        assert out == "", f"scout {' '.join(args)} wrote to stdout: {out[:200]}"
    assert _state(folder) == before


async def _python_m_bot(folder: Path, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=folder,
        env={**CLEAN_ENV, "DISCORD_TOKEN": "fake.token", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_every_setting_given_hostile_values_is_one_line_exit_2_from_scout_and_python_m_bot(tmp_path: Path):
    limit = asyncio.Semaphore(4)
    cases = [*HOSTILE_SETTINGS, ("DATABASE_PATH", str(tmp_path))]

    async def run(how: str, variable: str, value: str) -> tuple[int, str, str]:
        async with limit:
            if how == "scout":
                return await scout(tmp_path, "scan", "--catalogue", "absent.json", **{variable: value})
            return await _python_m_bot(tmp_path, **{variable: value})

    runs = [(how, variable, value) for variable, value in cases for how in ("scout", "python -m bot")]
    results = await asyncio.gather(*(run(*case) for case in runs))
    for (how, variable, value), (code, out, err) in zip(runs, results, strict=True):
        lines = err.strip().splitlines()
        assert (code, len(lines)) == (2, 1), f"{how} with {variable}={value} -> {code}: {err[-2000:]}"
        assert lines[0].startswith(f"settings error: {variable}: "), f"{how}: {lines[0]}"
        assert out == "" and "hunter2" not in err
    assert list(tmp_path.iterdir()) == []


async def test_a_database_from_newer_code_or_missing_a_table_is_one_line_and_unchanged(folder: Path):
    newer, damaged = folder / "newer.db", folder / "damaged.db"
    for path, change in ((newer, "PRAGMA user_version = 999"), (damaged, "DROP TABLE votes")):
        async with await Store.open(path):
            pass
        with contextlib.closing(sqlite3.connect(path)) as connection:
            connection.execute(change)
    before = _state(folder)
    for path, expected in ((newer, "newer than this Model Scout knows"), (damaged, "lacks the table(s) votes")):
        for args in (("models",), ("export", "--guild", "111"), ("scan", "--catalogue", "deep.json")):
            code, out, err = await scout(folder, *args, "--database", path.name)
            assert (code, out) == (1, "") and err.count("\n") == 1 and expected in err, f"{args}: {err}"
    assert _state(folder) == before


def test_a_database_locked_for_long_is_one_line_exit_1(folder: Path, monkeypatch, capsys):
    """In-process, to shorten the retries: with SQLite's busy timeout and the store's own retries this takes ~45 s."""
    monkeypatch.setattr(sqlite_module, "BUSY_FIRST_WAIT_S", 0.001)
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 0)
    monkeypatch.chdir(folder)
    blocker = sqlite3.connect(folder / "scout.db", timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        code = main(["scan", "--catalogue", str(folder / "empty-catalogue.json"), "--database", "scout.db"])
    finally:
        blocker.rollback()
        blocker.close()
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: database scout.db is locked") and err.count("\n") == 1


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A real read-only file system (a tmpfs mounted `ro`), where even removing a leftover fails with EROFS."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only file system here (root needed): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


async def test_writing_to_a_read_only_file_system_is_one_line_exit_1(folder: Path, read_only_folder: Path):
    for args in (
        ("export", "--guild", "111", "--out", str(read_only_folder / "votes.csv")),
        ("backup", str(read_only_folder / "copy.db")),
        ("restore", "scout.db", "--database", str(read_only_folder / "restored.db")),
        ("scan", "--catalogue", "empty-catalogue.json", "--database", str(read_only_folder / "new.db")),
    ):
        code, out, err = await scout(folder, *args)
        assert (code, out, err.count("\n")) == (1, "", 1) and str(read_only_folder) in err, f"{args}: {err}"


async def test_python_m_bot_takes_the_global_options_and_refuses_others_in_one_line(folder: Path):
    for args, named in ((("--bogus",), "--bogus"), (("--database", "a-folder"), "--database"), (("run",), "run")):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=folder, env=CLEAN_ENV, stderr=asyncio.subprocess.PIPE
        )
        _, err = await process.communicate()
        lines = err.decode().strip().splitlines()
        assert (process.returncode, len(lines)) == (2, 1) and named in lines[0], f"python -m bot {args}: {lines}"
