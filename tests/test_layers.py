"""The core's rooms stay honest: each rule is checked on the import statements and calls in the source itself."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _importing(paths: Iterator[Path], package: str) -> list[str]:
    return [
        str(path.relative_to(ROOT))
        for path in paths
        if any(name == package or name.startswith(f"{package}.") for name in _imports(path))
    ]


# The floors, lowest first (docs/architecture.md). A module imports only from its own floor and the ones below.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("bot/settings.py", "bot/errors.py", "bot/untrusted_json.py", "bot/console.py"),
    ("bot/catalogue", "bot/probes", "bot/attribution", "bot/alerts.py", "bot/scoring.py"),
    ("bot/store", "bot/gateway.py", "bot/export.py", "bot/discord_endpoints.py"),
    ("bot/jobs",),
    ("bot/cli", "bot/client.py", "bot/__main__.py", "bot/benchmarks", "bot/testing", "cogs"),
)
PURE = FLOORS[1]
# What only the outside world and the jobs may touch: a pure module knows no clock, network, database or loop.
IMPURE_MODULES = ("asyncio", "aiohttp", "aiosqlite", "sqlite3", "discord", "time", "socket")
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _floor_of(module: str) -> int | None:
    for level, rooms in enumerate(FLOORS):
        if any(module == _module_name(room) or module.startswith(_module_name(room) + ".") for room in rooms):
            return level
    return None


def test_every_module_of_the_core_stands_on_a_floor():
    unplaced = [
        str(path.relative_to(ROOT))
        for path in _modules("bot", "cogs")
        if path.name != "__init__.py" and _floor_of(_module_name(str(path.relative_to(ROOT)))) is None
    ]
    assert unplaced == []


def test_no_module_imports_from_a_floor_above_its_own():
    upward = []
    for path in _modules("bot", "cogs"):
        relative = str(path.relative_to(ROOT))
        own = _floor_of(_module_name(relative))
        for name in _imports(path):
            floor = _floor_of(name)
            if own is not None and floor is not None and floor > own:
                upward.append(f"{relative} -> {name}")
    assert upward == []


def test_the_pure_packages_know_no_clock_network_database_or_event_loop():
    found = []
    for path in _modules(*PURE):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(ROOT)}: import {name}" for name in _imports(path) if name in IMPURE_MODULES]
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.func.attr}()")
    assert found == []


def test_only_the_cli_and_the_python_m_entry_point_import_the_cli():
    outside = [path for path in _modules("bot", "cogs") if "cli" not in path.relative_to(ROOT).parts]
    assert _importing(iter(outside), "bot.cli") == ["bot/__main__.py"]


def test_listings_are_parsed_only_by_the_poll_and_the_store():
    calls = []
    for path in _modules("bot", "cogs"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"parse_entry", "parse_entries"}:
                calls.append(f"{path.relative_to(ROOT)}:{node.func.id}")  # type: ignore[attr-defined]
    assert sorted(calls) == [
        "bot/catalogue/entry.py:parse_entry",
        "bot/jobs/polling.py:parse_entries",
        "bot/store/catalogue.py:parse_entry",
    ]
