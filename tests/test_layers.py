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


def test_the_catalogue_package_is_pure():
    assert _importing(_modules("bot/catalogue"), "bot.store") == []
    assert _importing(_modules("bot/catalogue"), "bot.gateway") == []


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
        "bot/polling.py:parse_entries",
        "bot/store/catalogue.py:parse_entry",
    ]
