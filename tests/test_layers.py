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


# The test tree mirrors the package: the tests of bot/x/y.py are in tests/x/test_y.py (a second file on the same
# module adds an aspect: tests/x/test_y_aspect.py), those of cogs/y.py or cogs/_y.py in tests/cogs/test_y.py, and
# those of a package as a whole (its __init__.py) in tests/x/test_package.py. Scenarios that cross the whole bot
# have folders of their own, and shared helpers live in tests/support.
SCENARIO_FOLDERS = ("e2e", "faults", "abuse", "support")
NOT_A_MIRROR = {"tests/test_layers.py": "the rules of the whole house, over every module"}


def _mirrored_module(test: Path) -> Path | None:
    """The module or package a test file is about, or None when its name matches nothing in the package."""
    folder = test.parent.relative_to(ROOT / "tests")
    base = ROOT / folder if folder.parts[:1] == ("cogs",) else ROOT / "bot" / folder
    subject = test.stem.removeprefix("test_")
    for candidate in sorted(base.glob("*"), key=lambda path: -len(path.name)):
        name = candidate.stem.lstrip("_") if candidate.suffix == ".py" else candidate.name
        is_module = candidate.suffix == ".py" or (candidate / "__init__.py").is_file()
        if is_module and name != "__init__" and (subject == name or subject.startswith(f"{name}_")):
            return candidate
    return None


def test_the_tests_of_each_module_are_where_its_path_says():
    astray = []
    for test in _modules("tests"):
        relative = str(test.relative_to(ROOT))
        folder = test.relative_to(ROOT / "tests").parts[0]
        if not test.name.startswith("test_") or folder in SCENARIO_FOLDERS or relative in NOT_A_MIRROR:
            continue
        if _mirrored_module(test) is None:
            astray.append(relative)
    assert astray == []


def _declares_only_fixtures(conftest: Path) -> bool:
    for node in ast.parse(conftest.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import | ast.ImportFrom) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            continue
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not any(
            "fixture" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            return False
    return True


def test_helpers_live_in_tests_support_and_conftest_files_declare_fixtures_only():
    loose = [
        str(path.relative_to(ROOT))
        for path in _modules("tests")
        if path.relative_to(ROOT / "tests").parts[0] != "support"
        and not path.name.startswith("test_")
        and not (path.name == "conftest.py" and _declares_only_fixtures(path))
    ]
    borrowed = [
        f"{path.relative_to(ROOT)} -> {name}"
        for path in _modules("tests")
        for name in _imports(path)
        if name.startswith("tests.") and not name.startswith("tests.support")
    ]
    assert (loose, borrowed) == ([], [])
