"""The Discord token and the OpenRouter API key never leave the process except in their own headers.

Both secrets are recognisable strings, and every server that sees them tries to make the bot repeat
them: the fake gateway's errors quote the key, the fake Discord's errors quote the token. Then the
real bot (a child process at DEBUG), the CLI and the core in-process go through failures — rate limits,
refusals, failing probes, a failing poll, exports — and nothing a person or a file can read holds either
value: stderr, captured logs, exception texts, exports, `/scout status`, the SQLite files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.gateway import GatewayClient, GatewayError
from bot.jobs.pipeline import Pipeline
from bot.jobs.polling import record_catalogue
from bot.settings import Settings, SettingsError, load_settings
from bot.store import Store
from bot.testing.discord import FakeDiscord
from bot.testing.gateway_server import FakeGateway, Fault
from tests.support.bot_process import bot_environment, read_rows, run_scout, running_bot
from tests.support.world import ORDINARY_MODELS, OWL, make_guild

DISCORD_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Gx7Yq2.DISCORD-TOKEN-SENTINEL-5f1c9a"
API_KEY = "sk-or-v1-OPENROUTER-KEY-SENTINEL-0b7e4d2c"
SECRETS = (DISCORD_TOKEN, API_KEY)


def assert_no_secret(where: str, text: str | bytes) -> None:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    for secret in SECRETS:
        for form in (secret, secret.split(".")[-1]):  # the whole value, and its distinctive tail alone
            assert form.encode() not in data, f"{form[:12]}… appears in {where}"


def assert_database_clean(database: Path) -> None:
    files = [path for path in database.parent.iterdir() if path.name.startswith(database.name)]
    assert files
    for path in files:
        assert_no_secret(path.name, path.read_bytes())


async def test_the_running_bot_never_shows_its_token_or_key(tmp_path: Path):
    guild, channel, member, admin = make_guild("Main Guild", "alice")
    other_guild, other_channel, _, other_admin = make_guild("Other Guild", "mallory")
    database = tmp_path / "db" / "scout.db"
    async with await Store.open(database) as store:
        await store.guilds.configure(guild.id, channel.id, all_models=False)
        await store.guilds.configure(other_guild.id, other_channel.id, all_models=False)
        await record_catalogue(store, ORDINARY_MODELS, "baseline")

    async with (
        FakeGateway(api_key=API_KEY) as gateway,
        FakeDiscord(guilds=[guild, other_guild], token=DISCORD_TOKEN) as fake,
    ):
        gateway.set_catalogue([*ORDINARY_MODELS, OWL])
        gateway.inject("models", Fault.http(500, message=f"upstream rejected Authorization: Bearer {API_KEY}"))
        gateway.set_fault("chat", Fault.http(502, message=f"provider refused key {API_KEY}"))
        fake.inject_fault(
            f"POST /channels/{channel.id}/messages",
            429,
            {"message": f"You are being rate limited, Bot {DISCORD_TOKEN}", "retry_after": 0.05, "global": False},
            headers={"Retry-After": "1", "X-RateLimit-Scope": "user", "Via": "1.1 google"},
        )
        fake.inject_fault(
            f"POST /channels/{other_channel.id}/messages",
            403,
            {"message": f"Missing Permissions for Bot {DISCORD_TOKEN}", "code": 50013},
            times=None,
        )
        environment = bot_environment(
            discord_token=DISCORD_TOKEN,
            openrouter_api_key=API_KEY,
            openrouter_base_url=gateway.base_url,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            database_path=database,
            poll_interval_seconds=3600,
            log_level="DEBUG",
            probe_requests_per_minute=6000,
            probe_timeout_seconds=5,
        )
        async with running_bot(environment, tmp_path / "run") as bot:

            def delivered() -> bool:
                posted = [m for m in fake.channel_messages(channel.id) if m.embeds]
                refused = [
                    r for r in fake.requests_to(f"POST /channels/{other_channel.id}/messages") if r.status == 403
                ]
                return bool(posted and refused)

            await bot.wait_for(delivered, what="one announcement posted and one refused")
            await bot.wait_for(
                lambda: read_rows(database, "SELECT COUNT(*) AS n FROM probe_responses WHERE ok = 0")[0]["n"],
                what="probes failing with the key in the gateway's error",
            )
            await bot.wait_for(
                lambda: read_rows(database, "SELECT COUNT(*) AS n FROM guesses")[0]["n"], what="the guess after them"
            )
            answers = []
            for who, where, here, command, options in [
                (member, guild, channel, "scout vote", {"model": OWL["id"], "vendor": "openai"}),
                (admin, guild, channel, "scout status", {}),
                (other_admin, other_guild, other_guild.channels[1], "scout status", {}),
                (admin, guild, channel, "scout export", {}),
            ]:
                interaction = await fake.send_interaction(
                    fake.build_command(command, guild_id=where.id, channel_id=here.id, member=who, options=options)
                )
                callback = await fake.wait_for_interaction_response(interaction, timeout=20)
                if callback.deferred:
                    await fake.wait_for_followups(interaction, timeout=20)
                answers.append((command, interaction))
            await bot.stop()

        log = bot.log()
        assert "Missing Permissions" in log or "missing permission" in log  # the failures did happen, and were logged
        assert_no_secret("the bot's stderr", log)
        for command, interaction in answers:
            record = fake.interaction(interaction)
            assert_no_secret(f"the answer to /{command}", repr(record.callback.data))
            for message in fake.followups(interaction):
                assert_no_secret(f"the follow-up to /{command}", repr(message.content) + repr(message.embeds))
                for attachment in message.attachments:
                    assert_no_secret(f"the file {attachment.filename}", attachment.data)
        exported = [a for _, i in answers for m in fake.followups(i) for a in m.attachments]
        assert exported and "openai" in exported[0].text
        for message in fake.messages.values():
            assert_no_secret("a message the bot sent", repr(message.embeds) + message.content)
    assert_database_clean(database)


async def test_cli_failures_and_exports_never_show_the_key_or_token(tmp_path: Path):
    database = tmp_path / "db" / "scout.db"
    async with await Store.open(database) as store:
        await record_catalogue(store, [*ORDINARY_MODELS, OWL], "seed")
        await store.votes.cast(7, OWL["id"], 1, "alice", "openai")
        await store.notes.add(7, OWL["id"], 1, "alice", "sounds like GPT")
    async with FakeGateway(api_key=API_KEY) as gateway:
        gateway.set_fault("models", Fault.http(500, message=f"upstream rejected Authorization: Bearer {API_KEY}"))
        environment = bot_environment(
            discord_token=DISCORD_TOKEN,
            openrouter_api_key=API_KEY,
            database_path=database,
            openrouter_base_url=gateway.base_url,
            log_level="DEBUG",
        )
        scan = await run_scout("scan", "--json", environment=environment, workdir=tmp_path / "cwd")
        out = tmp_path / "votes.jsonl"
        export = await run_scout(
            "export",
            "--guild",
            "7",
            "--format",
            "jsonl",
            "--out",
            str(out),
            environment=environment,
            workdir=tmp_path / "cwd",
        )
        bad = await run_scout(
            "scan", environment={**environment, "POLL_INTERVAL_SECONDS": "1"}, workdir=tmp_path / "cwd"
        )
    assert scan.returncode == 1 and gateway.base_url in scan.stderr  # the failing poll named the URL…
    assert export.returncode == 0 and "sounds like GPT" in out.read_text()
    assert bad.returncode == 2 and "POLL_INTERVAL_SECONDS" in bad.stderr
    for name, run in [("scout scan", scan), ("scout export", export), ("scout scan with a bad setting", bad)]:
        assert_no_secret(f"{name} output", run.stdout + run.stderr)  # …but not the key it sent
    assert_no_secret("the export", out.read_bytes())
    assert_database_clean(database)


async def test_core_errors_and_logs_never_carry_the_key(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    settings = Settings(
        _env_file=None, discord_token=DISCORD_TOKEN, openrouter_api_key=API_KEY, database_path=tmp_path / "s.db"
    )
    errors: list[BaseException] = []
    async with FakeGateway(api_key=API_KEY) as gateway, await Store.open(settings.database_path) as store:
        settings = settings.model_copy(update={"openrouter_base_url": gateway.base_url})
        gateway.set_fault("models", Fault.http(503, message=f"bad key {API_KEY}"))
        gateway.set_fault("chat", Fault.http(401, message=f"key {API_KEY} is not valid"))
        client = GatewayClient(gateway.base_url, API_KEY, backoff_base_s=0.01, backoff_cap_s=0.02)
        pipeline = Pipeline(store, client, settings)
        try:
            report = await pipeline.poll_once()
            assert not report.ok and report.error
            for call in (
                client.fetch_models(),
                client.chat(OWL["id"], [{"role": "user", "content": "hi"}], max_tokens=5),
            ):
                with pytest.raises(GatewayError) as caught:
                    await call
                errors.append(caught.value)
            logging.getLogger("tests.secrets").error("probe failed", exc_info=errors[-1])
        finally:
            await pipeline.close()
            await client.close()
        polls = await store.catalogue.last_polls(5)
    with pytest.raises(SettingsError) as bad_setting:
        load_settings(_env_file=None, discord_token=DISCORD_TOKEN, openrouter_api_key=API_KEY, poll_interval_seconds=1)

    assert_no_secret("the poll report", report.error or "")
    assert_no_secret("the stored polls", repr(polls))
    for error in [*errors, bad_setting.value]:
        assert_no_secret("an exception", f"{error!s} {error!r} {error.args!r}")
    assert_no_secret("the settings", f"{settings!r} {settings!s} {settings.model_dump()!r}")
    assert_no_secret("the gateway client", repr(client))
    assert_no_secret("the captured log", caplog.text)
    assert_database_clean(settings.database_path)
