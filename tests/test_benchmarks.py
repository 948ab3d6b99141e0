"""Every benchmark runs in a tiny version, so none of them rots between the runs that feed the README.

These check what each benchmark counts and reports, never how fast anything was: speed is the
benchmarks' business, not the tests'.
"""

from __future__ import annotations

import importlib
import json

import pytest

from bot.benchmarks.catalogue import run_catalogue_benchmark
from bot.benchmarks.end_to_end.announce_latency import format_report as announce_text
from bot.benchmarks.end_to_end.announce_latency import run_announce_benchmark
from bot.benchmarks.end_to_end.first_guess import format_report as first_guess_text
from bot.benchmarks.end_to_end.first_guess import run_first_guess_benchmark
from bot.benchmarks.end_to_end.idle_memory import format_report as idle_text
from bot.benchmarks.end_to_end.idle_memory import run_idle_memory
from bot.benchmarks.end_to_end.vote_storm import format_report as storm_text
from bot.benchmarks.end_to_end.vote_storm import run_vote_storm
from bot.benchmarks.export import format_report as export_text
from bot.benchmarks.export import run_export_benchmark
from bot.cli import build_parser, main
from bot.testing.gateway_server import SNAPSHOT_2026_06_07
from tests.support.scout_process import scout
from tests.support.shared_data import snapshot_or_skip


async def test_announce_latency_times_each_stage_of_one_launch_with_a_real_guess():
    report = await run_announce_benchmark(runs=1, probe_latency=0.0)
    [run] = report["per_run"]
    assert run["poll_detect"] <= run["first_post"] <= run["with_guesses"]
    assert run["first_probe"] <= run["last_probe"] <= run["with_guesses"]
    assert report["probe_requests"] > 1 and report["top_guesses"][0] is not None
    assert report["target_s"] == report["poll_interval_s"] + report["probe_latency_s"] + 1
    assert "edited with guesses" in announce_text(report)


async def test_first_guess_follows_a_fresh_install_from_its_first_card_to_its_first_guess():
    snapshot_or_skip(SNAPSHOT_2026_06_07)
    report = await run_first_guess_benchmark(probe_latency=0.0)
    stages = report["seconds_from_start"]
    assert stages["card_posted"] <= stages["calibrating_line"] <= stages["first_guess"]
    assert report["calibrating_line_said"].startswith("Calibrating: ")
    assert report["reference_models"] > 1 and report["top_guess"] is not None
    assert "first guess on the card" in first_guess_text(report)


async def test_vote_storm_stores_each_members_vote_once():
    report = await run_vote_storm(members=10, window=0.2)
    assert report["acknowledged"] == 10 and report["answers_saying_vote_recorded"] == 10
    assert report["current_votes"] == report["vote_history_rows"] == report["distinct_voters_in_history"] == 10
    assert "p99" in storm_text(report)


async def test_export_benchmark_exports_every_vote_in_both_formats(tmp_path):
    database = tmp_path / "votes.db"
    report = await run_export_benchmark(votes=1000, database=database)
    assert report["votes_cast_now"] == 1000
    assert {fmt: item["rows"] for fmt, item in report["formats"].items()} == {"csv": 1000, "jsonl": 1000}
    assert report["peak_rss_mib"] > 0 and "jsonl" in export_text(report)

    again = await run_export_benchmark(votes=1200, database=database)
    assert again["votes_cast_now"] == 200  # the kept database is topped up, not loaded again


async def test_scout_bench_export_is_a_cli_command(tmp_path):
    """A process of its own, as a user runs it: its peak memory is its own, not the test run's."""
    code, out, err = await scout(tmp_path, "bench", "export", "--votes", "50", "--json")
    assert code == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["benchmark"] == "export" and report["formats"]["csv"]["rows"] == 50


async def test_idle_memory_reads_the_rss_of_a_separate_bot_process():
    report = await run_idle_memory(guild_count=2, settle=0.0, sample_every=0.01)
    assert report["bot_alive_when_sampled"], report["bot_log_tail"]
    assert report["models_listed_by_its_poll"] > 0
    assert report["rss_mib"] > 0 and len(report["rss_samples_mib"]) == 5
    assert "VmRSS" in idle_text(report)


async def test_catalogue_benchmark_polls_a_catalogue_served_by_another_process():
    report = await run_catalogue_benchmark(size=200, changes=30, seed=1, description_words=3)
    assert report["catalogue_models"] == 201 and report["store_models"] == 200
    assert report["events"] == {"changed": 10, "new": 11}  # the 10 missing models are confirmed removed a poll later
    assert report["diff_poll_longest_loop_stall_seconds"] >= 0 and report["peak_rss_mib"] > 0


END_TO_END = ("announce-latency", "first-guess", "vote-storm", "ack-under-lock", "idle-memory", "whole-guess")


@pytest.mark.parametrize("name", END_TO_END)
def test_each_end_to_end_benchmark_is_a_scout_bench_command_whose_code_loads(name: str):
    """The options are registered without loading the fakes; the code they run is found when one runs."""
    args = build_parser().parse_args(
        ["bench", name, "--corpus", "x.jsonl"] if name == "whole-guess" else ["bench", name]
    )
    module = importlib.import_module(f"bot.benchmarks.end_to_end.{name.replace('-', '_')}")
    assert callable(module.run_command) and args.json is False


def test_scout_bench_vote_storm_runs_from_the_command_line(capsys):
    code = main(["bench", "vote-storm", "--members", "5", "--window", "0.1", "--json"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and report["acknowledged"] == 5 and report["current_votes"] == 5


async def test_vote_storm_on_postgresql_stores_each_members_vote_once(postgres_server):
    """`postgres_server` only makes the test skip, with the reason, where PostgreSQL cannot run: the benchmark starts
    a server of its own."""
    report = await run_vote_storm(members=10, window=0.2, engine="postgresql")
    assert report["engine"] == "postgresql" and report["acknowledged"] == 10
    assert report["current_votes"] == report["vote_history_rows"] == report["distinct_voters_in_history"] == 10


def test_the_storm_across_three_processes_runs_from_the_command_line(postgres_server, capsys):
    code = main(["bench", "vote-storm", "--engine", "postgresql", "--processes", "3", "--members", "4", "--json"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and report["processes"] == 3 and report["acknowledged"] == 12
    assert report["current_votes_per_guild"] == [4, 4, 4] and report["vote_history_rows"] == 12


def test_several_processes_need_postgresql(capsys):
    assert main(["bench", "vote-storm", "--processes", "3"]) == 2
    assert "--engine postgresql" in capsys.readouterr().err


async def test_scout_bench_catalogue_exits_1_when_a_target_is_missed(tmp_path):
    small = ("bench", "catalogue", "--models", "50", "--changes", "5", "--description-words", "3", "--json")
    code, out, err = await scout(tmp_path, *small)
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and report["targets"]["all_met"], err
    code, out, _ = await scout(tmp_path, *small, "--max-rss-mib", "1")  # no Python process fits in 1 MiB
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 1 and report["targets"]["peak_rss_mib"]["met"] is False


async def test_scout_bench_attribution_exits_1_when_a_target_is_missed(tmp_path):
    """A corpus too small to time 100 references cannot meet that target: the exit code says so."""
    corpus = tmp_path / "tiny.jsonl"
    corpus.write_text(
        "\n".join(
            json.dumps(
                {
                    "model": f"{vendor}-{n}",
                    "vendor": vendor,
                    "prompt_id": f"p{p}",
                    "prompt": f"Question {p}?",
                    "response": f"{opening} answer {p} from {vendor} {n}, " * (2 + p % 3),
                }
            )
            for vendor, opening in (("A", "Sure!"), ("B", "Well,"), ("C", "### Answer"))
            for n in range(3)
            for p in range(10)
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, err = await scout(tmp_path, "bench", "attribution", "--corpus", str(corpus), "--draws", "2", "--json")
    report = json.loads(out.strip().splitlines()[-1])
    assert report["targets"]["seconds_per_query_100_references"] == {
        "value": None,
        "target": "<= 0.5",
        "met": False,
        "source": "issue 15",
    }
    assert code == 1 and not report["targets"]["all_met"], err
    assert set(report["selective"]) == {"threshold", "coverage", "precision"} and "aurc" in report
    assert 0 <= report["naive"]["top1"] <= 1
