"""`scout bench` commands that run the real bot, or the real probe runner, against the fakes of `bot.testing`.

Their options live here and their code in the modules beside this one, imported only when one of them runs:
every `scout` command lists the benchmarks to build its parser, and importing these modules (the fakes,
discord.py, the bot) would cost each command about 0.3 s.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Awaitable, Callable

from bot.console import non_negative_int, positive_int
from bot.settings import MIN_POLL_INTERVAL_SECONDS, Settings

DEFAULT_FOLDS = 5
DEFAULT_MAX_REQUESTS = Settings.model_fields["probe_max_requests"].default

Handler = Callable[[Settings, argparse.Namespace], Awaitable[int]]


def _imported_when_run(module: str) -> Handler:
    """The `run_command` of one module here, imported only once its command runs."""

    async def run_command(settings: Settings, args: argparse.Namespace) -> int:
        loaded = importlib.import_module(f"{__name__}.{module}")
        exit_code: int = await loaded.run_command(settings, args)
        return exit_code

    return run_command


def _benchmark(names: argparse._SubParsersAction, module: str, help_text: str) -> argparse.ArgumentParser:
    bench = names.add_parser(module.replace("_", "-"), help=help_text)
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=_imported_when_run(module))
    return bench


def _engine_argument(bench: argparse.ArgumentParser) -> None:
    bench.add_argument(
        "--engine",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the store: a SQLite file (default), or a PostgreSQL server started for the run",
    )


def register(names: argparse._SubParsersAction) -> None:
    """Add the end-to-end benchmarks to `scout bench`: announce-latency, first-guess, vote-storm, ack-under-lock,
    ack-during-poll, idle-memory and whole-guess."""
    bench = _benchmark(
        names, "announce_latency", "time from a stealth model's appearance to its announcement with guesses"
    )
    bench.add_argument("--runs", type=int, default=3, help="launches to time (default 3)")
    bench.add_argument(
        "--poll-interval",
        type=float,
        default=MIN_POLL_INTERVAL_SECONDS,
        help="seconds between catalogue polls (default: the lowest the settings allow)",
    )
    bench.add_argument(
        "--probe-latency", type=float, default=2.0, help="seconds every probe takes at the fake gateway (default 2)"
    )

    bench = _benchmark(names, "first_guess", "a fresh install: start to first card, calibration line and first guess")
    bench.add_argument(
        "--probe-latency", type=float, default=2.0, help="seconds every request takes at the fake gateway (default 2)"
    )

    bench = _benchmark(names, "vote_storm", "members vote at once in a card: acknowledgement latency and votes stored")
    bench.add_argument("--members", type=int, default=500, help="members who vote (default 500)")
    bench.add_argument("--window", type=float, default=5.0, help="seconds over which the clicks are spread")
    _engine_argument(bench)
    bench.add_argument(
        "--processes", type=int, default=1, help="bot processes, one shard and one guild each (PostgreSQL only)"
    )

    bench = _benchmark(
        names, "ack_under_lock", "acknowledgements and votes while another process holds the database's write lock"
    )
    bench.add_argument("--hold", type=float, default=20.0, help="seconds the other process holds the write lock")
    bench.add_argument("--interactions", type=int, default=80, help="interactions sent during the hold (default 80)")
    _engine_argument(bench)

    bench = _benchmark(
        names,
        "ack_during_poll",
        "acknowledgements, votes and peak memory while the bot polls a 100,000-model catalogue",
    )
    bench.add_argument("--models", type=positive_int, default=100_000, help="models in the large catalogue")
    bench.add_argument(
        "--changes", type=non_negative_int, default=300, help="edits between the large catalogue and its successor"
    )
    bench.add_argument("--polls", type=positive_int, default=2, help="large polls to click through (default 2)")
    bench.add_argument("--every", type=float, default=0.25, help="seconds between interactions (default 0.25)")

    bench = _benchmark(names, "idle_memory", "resident memory of a separate bot process idle in many guilds")
    bench.add_argument("--guilds", type=int, default=50, help="guilds the bot is in (default 50)")
    bench.add_argument("--settle", type=float, default=10.0, help="seconds idle after the first poll before sampling")

    bench = _benchmark(names, "whole_guess", "the whole guess on a corpus: top-1/top-3, ECE, open-set AUROC")
    bench.add_argument(
        "--corpus", required=True, metavar="FILE", help="JSONL(.gz) of {model, vendor, prompt_id, prompt, response}"
    )
    bench.add_argument(
        "--corpus-prompts",
        type=int,
        default=0,
        metavar="K",
        help="replace the suite's style probes by K corpus prompts (default: the suite's own)",
    )
    bench.add_argument(
        "--folds", type=int, default=DEFAULT_FOLDS, help=f"cross-fitting folds (default {DEFAULT_FOLDS})"
    )
    bench.add_argument(
        "--max-requests",
        type=int,
        default=DEFAULT_MAX_REQUESTS,
        metavar="N",
        help=f"probe requests per model (default {DEFAULT_MAX_REQUESTS})",
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the corpus prompts' draw (default 0)")
    bench.add_argument("--no-tokenizers", action="store_true", help="leave token counts out even when available")
    bench.add_argument("--outcomes", action="store_true", help="include every query's outcome in the JSON")
