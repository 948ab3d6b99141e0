"""`scout bench NAME`: speed and memory figures, measured on this machine and printed for the README."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import bot.benchmarks


def register(commands: argparse._SubParsersAction) -> None:
    """Add `scout bench NAME` for every module of `bot.benchmarks` that registers one."""
    bench = commands.add_parser("bench", help="run a benchmark and print its figures")
    names = bench.add_subparsers(dest="benchmark", required=True, metavar="NAME")
    for info in sorted(pkgutil.iter_modules(bot.benchmarks.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"bot.benchmarks.{info.name}")
        if hasattr(module, "register"):
            module.register(names)
