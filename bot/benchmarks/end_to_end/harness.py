"""What the benchmarks of the whole bot share: the real bot wired to the fakes, a calibrated store, the report.

The bot is the one `scout run` starts (`ScoutBot` + `Pipeline` on a real SQLite file); only discord.py's
addresses point at `FakeDiscord` and the gateway URL at `FakeGateway` (`bot.testing`), both on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.client import ScoutBot
from bot.errors import CommandError
from bot.gateway import GatewayClient
from bot.jobs.pipeline import Pipeline
from bot.jobs.polling import record_catalogue
from bot.jobs.probe_runner import ProbeRunner
from bot.jobs.rate_limit import RateLimiter
from bot.jobs.references import calibrate, catalogue_listings, load_fingerprints, refit_combiner
from bot.probes.suite import plan_probes
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.testing.discord import (
    ChannelSpec,
    FakeDiscord,
    GuildSpec,
    InteractionRecord,
    MemberSpec,
    StoredMessage,
    connected_client,
)
from bot.testing.gateway_server import FakeGateway
from bot.testing.postgres import PostgresUnavailable, start_server
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ENTRY, STEALTH_ID, catalogue, install_labs

API_KEY = "sk-or-bench-not-a-secret"
GUILD_READY_TIMEOUT_S = 0.05
STOP_TIMEOUT_S = 15.0
VENDORS = ("openai", "zhipu", "alibaba", "deepseek")


def known_catalogue() -> list[dict[str, Any]]:
    """The scripted labs' catalogue before the stealth model appears."""
    return [entry for entry in catalogue() if entry["id"] != STEALTH_ID]


def bench_settings(fake: FakeDiscord, gateway: FakeGateway, database: Path | str, **overrides: Any) -> Settings:
    """Deployment defaults, pointed at the fakes; `.env` is ignored so the machine's own settings never leak in.
    `database` is a SQLite file or a postgresql:// URL."""
    values: dict[str, Any] = {
        "discord_token": fake.token,
        "openrouter_api_key": API_KEY,
        "openrouter_base_url": gateway.base_url,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        **({"database_url": database} if isinstance(database, str) else {"database_path": database}),
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_settings(_env_file=None, **values)


async def calibrate_references(store: Store, settings: Settings) -> None:
    """Record the known models and probe them as references, then fit the combiner, as `scout scan` and
    `scout calibrate` would before a launch; so the stealth model's guesses are real ones."""
    await record_catalogue(store, known_catalogue(), "bench: before the launch")
    async with GatewayClient.from_settings(settings) as client:
        await calibrate(
            store,
            lambda: ProbeRunner.from_settings(store, client, settings, RateLimiter(6000, 12)),
            [model_id for model_id, _, _ in KNOWN_MODELS],
        )
    listings = await catalogue_listings(store)
    references = await load_fingerprints(store, listings)
    query_probes = {
        probe.probe_id for probe in plan_probes(settings.probe_max_requests, settings.probe_max_tokens).probes
    }
    await refit_combiner(store, references, listings, query_probes)


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, fake: FakeDiscord, store: Store) -> AsyncIterator[ScoutBot]:
    """The real bot on `store`, logged in to `fake` and ready (its watcher's first poll starts now)."""
    gateway = GatewayClient.from_settings(settings)
    try:
        bot = ScoutBot(settings, store, Pipeline(store, gateway, settings), guild_ready_timeout=GUILD_READY_TIMEOUT_S)
        async with connected_client(bot, fake, ready_timeout=30.0):
            yield bot
    finally:
        await gateway.close()


def announces_stealth(message: StoredMessage) -> bool:
    """Whether `message` is the card announcing the stealth model (probing may still be under way)."""
    fields = {field["name"]: field["value"] for field in (message.embeds or [{}])[0].get("fields", [])}
    return fields.get("Listing", "").startswith(f"`{STEALTH_ID}`")


@dataclass(frozen=True)
class AnnouncedBot:
    """The running bot once the stealth model is announced, with what a benchmark drives and reads."""

    fake: FakeDiscord
    store: Store
    bot: ScoutBot
    guild: GuildSpec
    database: Path | str
    announcement: StoredMessage


@contextlib.asynccontextmanager
async def fresh_database(engine: str) -> AsyncIterator[Path | str]:
    """An empty database for one run: a SQLite file in a scratch folder, or a database on a PostgreSQL server
    started for the run from the machine's binaries (the server and its data go afterwards)."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            yield Path(scratch) / "bench.db"
        return
    try:
        server = await asyncio.to_thread(start_server)
    except PostgresUnavailable as error:
        raise CommandError(f"--engine postgresql: {error}") from None
    try:
        yield await server.create_database("bench")
    finally:
        await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def stealth_announced(
    guild_name: str, announced: Callable[[StoredMessage], bool], *, engine: str = "sqlite"
) -> AsyncIterator[AnnouncedBot]:
    """The real bot in a fresh guild of one announcement channel, on a fresh database of `engine`, after its
    first poll saw the stealth model appear and posted the card `announced` accepts; so each benchmark starts
    from the same launch."""
    channel = ChannelSpec("model-scout")
    guild = GuildSpec(name=guild_name, channels=[channel])
    async with fresh_database(engine) as database:
        async with FakeGateway(api_key=None) as gateway, FakeDiscord(guilds=[guild]) as fake:
            install_labs(gateway)
            gateway.set_catalogue(known_catalogue())
            settings = bench_settings(
                fake, gateway, database, poll_interval_seconds=3600, announce_channel_id=channel.id
            )
            async with await Store.from_settings(settings) as store, running_bot(settings, fake, store) as bot:
                while await store.catalogue.last_successful_poll() is None:
                    await asyncio.sleep(0.01)
                gateway.set_catalogue([*known_catalogue(), STEALTH_ENTRY])
                await bot.pipeline.poll_once()
                announcement = await fake.wait_for_message(channel.id, announced, timeout=60)
                yield AnnouncedBot(fake, store, bot, guild, database, announcement)


def member_interaction(
    fake: FakeDiscord, kind: str, index: int, announcement: StoredMessage, guild: GuildSpec, member: MemberSpec
) -> dict[str, Any]:
    """The `index`-th interaction of a benchmark's mix: a vote in the select, the Votes button, or the slash
    command `/scout KIND` (`/scout model` asks about the stealth model)."""
    [select_id] = [cid for cid in announcement.custom_ids() if cid.startswith("scout:vote:")]
    [votes_id] = [cid for cid in announcement.custom_ids() if cid.startswith("scout:votes:")]
    channel_id = guild.channels[0].id
    if kind == "vote":
        return fake.build_component(announcement.id, select_id, member=member, values=[VENDORS[index % len(VENDORS)]])
    if kind == "votes-button":
        return fake.build_component(announcement.id, votes_id, member=member)
    options = {"model": STEALTH_ID} if kind == "model" else {}
    return fake.build_command(f"scout {kind}", guild_id=guild.id, channel_id=channel_id, member=member, options=options)


async def every_vote_confirmed(fake: FakeDiscord, votes: Sequence[InteractionRecord], timeout: float) -> None:
    """Wait until each voter was told "Vote recorded": the proof a vote was stored, whatever held it up."""
    await fake.wait_until(
        lambda: all(any("Vote recorded" in fake.message(m).content for m in r.followup_ids) for r in votes),
        timeout=timeout,
        what="every vote confirmed",
    )


async def wait_for_bot(check: Callable[[], Any], timeout: float, what: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until `check()` (awaited when it returns a coroutine) is true, failing at once if the bot died."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited with code {process.returncode} before {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:g} s")
        await asyncio.sleep(0.1)


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the bot's process, as a deployment stops it; kill it only if it does not stop in time."""
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ack_latency_figures(latencies: Sequence[float]) -> dict[str, float]:
    """The acknowledgement latencies as every ack benchmark reports them, in seconds."""
    return {
        "p50": round(percentile(latencies, 0.50), 3),
        "p99": round(percentile(latencies, 0.99), 3),
        "max": round(max(latencies), 3),
    }


def ack_summary(report: dict[str, Any], total: int) -> str:
    """How many of `total` interactions were acknowledged and how fast, as each ack benchmark prints it."""
    ack = report["ack_latency_s"]
    return (
        f"acknowledged {report['acknowledged']}/{total}: "
        f"p50 {ack['p50']:.3f} s, p99 {ack['p99']:.3f} s, max {ack['max']:.3f} s"
    )


def finish(report: dict[str, Any], text: str, as_json: bool) -> int:
    """Print the report (one JSON object, or the text) and return the exit code: 1 when the target was missed."""
    print(json.dumps(report, ensure_ascii=False) if as_json else text)
    sys.stdout.flush()
    return 0 if report["met"] else 1
