"""`scout run` / `python -m bot`: a sharded start, a start log without noise, and INFO kept for the service."""

from __future__ import annotations

from pathlib import Path

from bot.client import ScoutBot
from bot.gateway import GatewayClient
from bot.jobs.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store
from bot.testing.discord import FakeDiscord
from bot.testing.discord.server import connected_client
from bot.testing.discord.specs import new_snowflake
from bot.testing.gateway_server import FakeGateway
from tests.support.bot_process import bot_environment, running_bot
from tests.support.world import API_KEY, ORDINARY_MODELS, OWL, make_guild


def _guilds_on_both_shards() -> list:
    """Two guilds whose ids put them on shard 0 and shard 1 of two: Discord routes a guild to (id >> 22) % shards."""
    base = new_snowflake()
    guilds = []
    for shard, name in ((0, "Even Guild"), (1, "Odd Guild")):
        guild, *_ = make_guild(name, f"member-{shard}")
        guild.id = (base & ~(1 << 22)) | (shard << 22)
        guilds.append(guild)
    return guilds


async def test_shard_count_splits_the_guilds_over_that_many_gateway_connections(tmp_path: Path):
    guilds = _guilds_on_both_shards()
    async with FakeGateway(api_key=API_KEY) as gateway, FakeDiscord(guilds=guilds) as fake:
        gateway.set_catalogue(ORDINARY_MODELS)
        settings = Settings(
            _env_file=None,
            discord_token=fake.token,
            openrouter_api_key=API_KEY,
            openrouter_base_url=gateway.base_url,
            database_path=tmp_path / "scout.db",
            poll_interval_seconds=3600,
            shard_count=2,
        )
        async with await Store.open(settings.database_path) as store:
            client = GatewayClient(gateway.base_url, API_KEY)
            bot = ScoutBot(settings, store, Pipeline(store, client, settings), guild_ready_timeout=0.05)
            try:
                async with connected_client(bot, fake):
                    assert bot.shard_count == 2 and fake.identify_count == 2
                    assert {(guild.id, guild.shard_id) for guild in bot.guilds} == {
                        (g.id, g.id >> 22 & 1) for g in guilds
                    }
            finally:
                await client.close()


async def test_the_bot_starts_without_voice_warnings_asks_discord_for_shards_and_logs_info(tmp_path: Path):
    guild, channel, *_ = make_guild("Main Guild", "alice")
    async with FakeGateway(api_key=API_KEY) as gateway, FakeDiscord(guilds=[guild]) as fake:
        gateway.set_catalogue([*ORDINARY_MODELS, OWL])
        environment = bot_environment(
            discord_token=fake.token,
            openrouter_api_key=API_KEY,
            openrouter_base_url=gateway.base_url,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            database_path=tmp_path / "scout.db",
            announce_channel_id=channel.id,
            poll_interval_seconds=3600,
        )
        async with running_bot(environment, tmp_path / "run") as bot:
            await bot.wait_for(lambda: fake.channel_messages(channel.id), what="the stealth model's announcement")
            log = bot.log()
    assert fake.requests_to("GET /gateway/bot") and fake.identify_count == 1  # Discord's recommendation: one shard
    assert "voice will NOT be supported" not in log and "PyNaCl" not in log and "davey" not in log
    assert " INFO bot.jobs.polling: poll 1 " in log
    assert "Traceback" not in log
