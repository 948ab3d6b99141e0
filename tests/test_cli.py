"""What every `scout` command shares: `--version`, `--database`, `-v`, help for every argument, quiet logs."""

from __future__ import annotations

import argparse
import logging
from importlib.metadata import version

from bot.catalogue.entry import load_catalogue_file
from bot.cli import build_parser
from bot.jobs.polling import record_catalogue
from tests.support.scout_process import json_lines, scout


async def test_version_prints_the_installed_version(tmp_path):
    code, out, err = await scout(tmp_path, "--version")
    assert (code, out.strip(), err) == (0, f"scout {version('model-scout')}", "")


async def test_database_option_wins_over_the_setting_before_or_after_the_command(tmp_path, catalogue_june):
    code, _, err = await scout(tmp_path, "--database", "chosen.db", "scan", "--catalogue", str(catalogue_june))
    assert code == 0, err
    assert (tmp_path / "chosen.db").is_file() and not (tmp_path / "scout.db").exists()
    code, out, _ = await scout(tmp_path, "models", "--stealth", "--json", "--database", "chosen.db")
    assert code == 0 and [m["model_id"] for m in json_lines(out)] == ["openrouter/owl-alpha"]


async def test_read_only_commands_on_a_missing_database_say_so_and_create_nothing(tmp_path):
    expected = (
        f"error: no database at {tmp_path / 'scout.db'}: run `scout scan` or start the bot first, or pass --database\n"
    )
    for args in (("models",), ("export", "--guild", "1"), ("backup", "copy.db")):
        code, out, err = await scout(tmp_path, *args)
        assert (code, out, err) == (1, "", expected)
    assert list(tmp_path.iterdir()) == []


async def test_commands_log_warnings_only_unless_verbose(tmp_path, catalogue_june):
    code, _, quiet = await scout(tmp_path, "scan", "--catalogue", str(catalogue_june))
    assert code == 0 and " INFO " not in quiet
    code, _, verbose = await scout(tmp_path, "-v", "scan", "--catalogue", str(catalogue_june), "--database", "b.db")
    assert code == 0 and " INFO bot.jobs.polling: poll 1 " in verbose


async def test_a_quiet_poll_logs_nothing_at_info(store, catalogue_june, caplog):
    """The bot logs at INFO; one line per uneventful poll would be 1,440 lines a day at 60 s."""
    entries = list(load_catalogue_file(catalogue_june))
    caplog.set_level(logging.INFO)
    await record_catalogue(store, entries, "first")
    assert any("poll 1 from first" in record.message for record in caplog.records)
    caplog.clear()
    await record_catalogue(store, entries, "second")
    assert [r.message for r in caplog.records if r.levelno >= logging.INFO] == []


def _arguments(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.extend(_arguments(child, f"{path} {name}"))
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            found.append((path, action))
    return found


def test_every_argument_of_every_command_has_help():
    arguments = _arguments(build_parser(), "scout")
    assert len(arguments) > 30
    missing = [
        f"{path} {action.option_strings or action.metavar or action.dest}"
        for path, action in arguments
        if not action.help
    ]
    assert missing == []
    sub_commands = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    assert all(choice.help for choice in sub_commands._choices_actions)
