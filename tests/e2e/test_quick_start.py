"""The README's quick start, followed literally: every command, setting, option and number it names exists and
is what it says, and its steps, run against the fakes, end with a first guess on a card.

Only what cannot run offline is checked instead of run: the Developer Portal and the invite (the invite's
permission integer is recomputed from the permissions docs/discord.md lists), and `pip install` (the start
command must be the README's own set-up command, whose `python -m bot` part is run).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import discord

from bot.cli import build_parser
from bot.settings import Settings
from bot.testing.discord import ChannelArg
from bot.testing.scripted_labs import install_labs
from tests.support.bot_process import bot_environment, running_bot
from tests.support.world import OWL, World, announcements_in, card_lead

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICK_START_LINES = 20
INVITE_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files", "read_message_history")


def section(title: str) -> str:
    """The README's section under `## title`, up to the next `## ` heading."""
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None].rstrip("\n")


QUICK_START = section("Quick start")
SPANS = re.findall(r"`([^`]+)`", QUICK_START)


def setup_commands() -> list[str]:
    """The README's fenced shell commands: the one that runs the bot, the one that runs the tests."""
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_the_quick_start_fits_in_twenty_lines_and_the_readme_in_two_hundred_and_fifty():
    assert len(QUICK_START.splitlines()) <= QUICK_START_LINES
    assert len(README.splitlines()) <= 250
    steps = re.findall(r"^\d\. \*\*(.+?)\*\*", QUICK_START, re.MULTILINE)
    assert [step.split()[0] for step in steps] == ["Create", "Invite", "Configure", "Start", "Choose"]
    assert "**What appears, and when.**" in QUICK_START and "**What it costs.**" in QUICK_START


def test_the_readme_keeps_exactly_the_two_set_up_commands_and_ci_runs_the_tests_one():
    run_bot, run_tests = setup_commands()
    assert run_bot == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m bot"
    assert run_bot in SPANS  # the quick start starts the bot with the same command, not a third one
    assert run_tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert (ROOT / "bot" / "__main__.py").is_file()


def test_the_invite_asks_for_the_scopes_and_exactly_the_permissions_the_bot_needs():
    [invite] = [span for span in SPANS if span.startswith("https://discord.com/oauth2/authorize")]
    assert (
        "client_id=APP_ID" in invite and "`APP_ID`" in QUICK_START
    )  # the one placeholder, said to be replaced and "scope=bot+applications.commands" in invite
    needed = discord.Permissions(**dict.fromkeys(INVITE_PERMISSIONS, True), use_application_commands=True)
    assert f"permissions={needed.value}" in invite
    assert f"`{needed.value}`" in (ROOT / "docs" / "discord.md").read_text(encoding="utf-8")


def test_every_setting_file_command_and_link_it_names_exists():
    assert "cp .env.example .env" in SPANS and (ROOT / ".env.example").is_file()
    example = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for setting in (span for span in SPANS if re.fullmatch(r"[A-Z_]+=", span)):
        assert setting in example and setting[:-1].lower() in Settings.model_fields, setting
    for named in (span for span in SPANS if re.fullmatch(r"[A-Z][A-Z_]+", span) and span != "APP_ID"):
        assert named.lower() in Settings.model_fields and any(line.startswith(f"{named}=") for line in example), named
    for command in (span for span in SPANS if span.startswith("scout ")):
        build_parser().parse_args(command.split()[1:])  # exits (fails the test) on an unknown command or option
    for link in re.findall(r"\]\(([^)]+)\)", README):
        assert link.startswith("https://") or (ROOT / link).is_file(), link


async def test_following_the_quick_start_ends_with_a_first_guess_on_a_card(world: World, tmp_path: Path):
    install_labs(world.gateway)  # the catalogue lists Owl Alpha anonymously, beside four labs' models
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    shutil.copy(ROOT / ".env.example", workdir / ".env")  # step 3: cp .env.example .env, then fill it in
    settings = world.process_environment()
    filled = {"DISCORD_TOKEN": world.fake.token, "OPENROUTER_API_KEY": settings["OPENROUTER_API_KEY"]}
    # where a real install talks to Discord and OpenRouter, this one talks to the fakes and keeps its database here
    filled |= {name: settings[name] for name in ("DISCORD_API_BASE", "DISCORD_GATEWAY_URL", "OPENROUTER_BASE_URL")}
    filled["DATABASE_PATH"] = str(world.database)
    env_file = workdir / ".env"
    lines = [line for line in env_file.read_text(encoding="utf-8").splitlines() if line.split("=")[0] not in filled]
    env_file.write_text("\n".join([*lines, *(f"{name}={value}" for name, value in filled.items())]) + "\n")

    async with running_bot(
        bot_environment(), workdir
    ) as bot:  # no setting in the environment: all from .env  # step 4: `python -m bot`, reading .env
        await bot.wait_for(lambda: world.fake.sync_count() >= 1 and world.fake.connected, what="the bot connected")
        # step 5: /scout setup channel:#model-scout
        interaction = await world.fake.send_interaction(
            world.fake.build_command(
                "scout setup",
                guild_id=world.guild.id,
                channel_id=world.channel.id,
                member=world.admin,
                options={"channel": ChannelArg(world.channel.id)},
            )
        )
        text, _, _ = await world.answer(interaction, timeout=30)
        assert text.startswith(f"Announcements of new stealth models will go to <#{world.channel.id}>")
        card = await world.fake.wait_for_message(
            world.channel.id, lambda m: m in announcements_in(world.fake, world.channel.id), timeout=30
        )
        assert OWL["id"] in card_lead(card) or "Owl Alpha" in card.embeds[0]["title"]
        await world.fake.wait_until(lambda: card_lead(card).startswith("Most likely **"), timeout=60, what="a guess")
        shown = [version["embeds"][0].get("description", "") for version in card.history if version["embeds"]]
        assert any(lead.startswith(("**Probing…**", "**Calibrating:**")) for lead in shown)
