"""What the benchmarks of the whole bot share: the real bot wired to the fakes, a calibrated store, the report.

The bot is the one `scout run` starts (`ScoutBot` + `Pipeline` on a real SQLite file); only discord.py's
addresses point at `FakeDiscord` and the gateway URL at `FakeGateway` (`bot.testing`), both on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bot.attribution.references import calibrate, catalogue_listings, load_fingerprints, refit_combiner
from bot.client import ScoutBot
from bot.gateway import GatewayClient
from bot.pipeline import Pipeline
from bot.polling import record_catalogue
from bot.probes.ratelimit import RateLimiter
from bot.probes.runner import ProbeRunner
from bot.probes.suite import plan_probes
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.testing.discord import FakeDiscord, connected_client
from bot.testing.gateway_server import FakeGateway
from bot.testing.scripted_labs import KNOWN_MODELS, STEALTH_ID, catalogue

API_KEY = "sk-or-bench-not-a-secret"
GUILD_READY_TIMEOUT_S = 0.05


def known_catalogue() -> list[dict[str, Any]]:
    """The scripted labs' catalogue before the stealth model appears."""
    return [entry for entry in catalogue() if entry["id"] != STEALTH_ID]


def bench_settings(fake: FakeDiscord, gateway: FakeGateway, database: Path, **overrides: Any) -> Settings:
    """Deployment defaults, pointed at the fakes; `.env` is ignored so the machine's own settings never leak in."""
    values: dict[str, Any] = {
        "discord_token": fake.token,
        "openrouter_api_key": API_KEY,
        "openrouter_base_url": gateway.base_url,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "database_path": database,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_settings(_env_file=None, **values)


async def calibrate_references(store: Store, gateway: FakeGateway, settings: Settings) -> None:
    """Record the known models and probe them as references, then fit the combiner, as `scout scan` and
    `scout calibrate` would before a launch; so the stealth model's guesses are real ones."""
    await record_catalogue(store, known_catalogue(), "bench: before the launch")
    async with GatewayClient(gateway.base_url, API_KEY) as client:
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
    gateway = GatewayClient(settings.openrouter_base_url, API_KEY)
    try:
        bot = ScoutBot(settings, store, Pipeline(store, gateway, settings), guild_ready_timeout=GUILD_READY_TIMEOUT_S)
        async with connected_client(bot, fake, ready_timeout=30.0):
            yield bot
    finally:
        await gateway.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def finish(report: dict[str, Any], text: str, as_json: bool) -> int:
    """Print the report (one JSON object, or the text) and return the exit code: 1 when the target was missed."""
    print(json.dumps(report, ensure_ascii=False) if as_json else text)
    sys.stdout.flush()
    return 0 if report["met"] else 1
