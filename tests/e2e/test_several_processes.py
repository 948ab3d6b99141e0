"""Three real bot processes (`python -m bot`) on one PostgreSQL database, one shard each, against the fakes.

Exactly one process polls, probes and calibrates (it holds the poller lease); each card is delivered by the
process whose shard holds its guild. The poller is SIGKILLed: another process takes the lease over within one
poll interval, the next stealth model is still announced once per guild (the killed process's guild gets its
card when a process for that shard runs again, as a supervisor restarts it), votes cast through every
process all land, and nothing is doubled: one card per guild and model, one finished probe run per model.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import ChannelSpec, FakeDiscord, GuildSpec, MemberSpec, StoredMessage
from bot.testing.gateway_server import FakeGateway, ScriptedModel, constant_reply
from bot.testing.postgres import PostgresServer
from tests.support.bot_process import BotProcess, bot_environment, running_bot
from tests.support.world import API_KEY, ORDINARY_MODELS, OWL, OWL_SAYS, announcements_in, make_guild

SHARD_COUNT = 3
POLL_INTERVAL_S = 5.0
PONY = {**OWL, "id": "openrouter/pony-alpha", "name": "Pony Alpha"}
LEASE_LINE = "holds the poller lease"


def _guilds_one_per_shard() -> list[tuple[GuildSpec, ChannelSpec, MemberSpec]]:
    """A guild on each shard (Discord's rule: shard = (guild id >> 22) % shard count), in shard order."""
    by_shard: dict[int, tuple[GuildSpec, ChannelSpec, MemberSpec]] = {}
    while len(by_shard) < SHARD_COUNT:
        guild, channel, member, _ = make_guild(f"Guild {len(by_shard)}", f"member{len(by_shard)}")
        by_shard.setdefault((guild.id >> 22) % SHARD_COUNT, (guild, channel, member))
        time.sleep(0.002)
    return [by_shard[shard] for shard in range(SHARD_COUNT)]


def _cards(fake: FakeDiscord, channel: ChannelSpec, model: dict[str, object]) -> list[StoredMessage]:
    return [m for m in announcements_in(fake, channel.id) if str(model["name"]) in (m.embeds[0].get("title") or "")]


def _vote_select(card: StoredMessage) -> str:
    [custom_id] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
    return custom_id


class Cluster:
    """The processes, by shard; one may be killed and another started for its shard."""

    def __init__(self, stack: contextlib.AsyncExitStack, environment: dict[str, str], workdir: Path) -> None:
        self._stack = stack
        self._environment = environment
        self._workdir = workdir
        self.by_shard: dict[int, BotProcess] = {}
        self._starts = 0

    async def start(self, shard: int) -> BotProcess:
        self._starts += 1
        environment = {**self._environment, "SHARD_IDS": str(shard)}
        process = await self._stack.enter_async_context(
            running_bot(environment, self._workdir, name=f"shard{shard}-start{self._starts}")
        )
        self.by_shard[shard] = process
        return process

    def poller(self) -> int | None:
        """The shard whose live process holds the lease now (the last to log taking it)."""
        holders = [shard for shard, process in self.by_shard.items() if process.running and LEASE_LINE in process.log()]
        return holders[0] if len(holders) == 1 else None


@contextlib.asynccontextmanager
async def _cluster(environment: dict[str, str], workdir: Path) -> AsyncIterator[Cluster]:
    async with contextlib.AsyncExitStack() as stack:
        cluster = Cluster(stack, environment, workdir)
        for shard in range(SHARD_COUNT):
            await cluster.start(shard)
        yield cluster


async def _wait(check, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """Wait for `check()` (sync or async) to give something other than None, False or an empty list (a shard
    number 0 is an answer)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (
        (result := await check() if asyncio.iscoroutinefunction(check) else check()) is None
        or result is False
        or (isinstance(result, list) and not result)
    ):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
    return result


async def test_three_processes_share_the_work_and_survive_the_poller_being_killed(
    postgres_server: PostgresServer, tmp_path: Path
):
    url = await postgres_server.create_database()
    guilds = _guilds_one_per_shard()
    async with (
        FakeGateway(api_key=API_KEY) as gateway,
        FakeDiscord(guilds=[guild for guild, _, _ in guilds]) as fake,
        await Store.open(url) as store,
    ):
        gateway.set_catalogue(ORDINARY_MODELS)
        for guild, channel, _ in guilds:
            await store.guilds.configure(guild.id, channel.id, all_models=False, hide_votes=False)
        await record_catalogue(store, ORDINARY_MODELS, "before the first start")
        gateway.set_catalogue([*ORDINARY_MODELS, OWL])
        gateway.add_model(ScriptedModel(OWL["id"], respond=constant_reply(OWL_SAYS)))
        environment = bot_environment(
            discord_token=fake.token,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            openrouter_api_key=API_KEY,
            openrouter_base_url=gateway.base_url,
            database_url=url,
            poll_interval_seconds=POLL_INTERVAL_S,
            shard_count=SHARD_COUNT,
            log_level="DEBUG",
            probe_requests_per_minute=6000,
            probe_timeout_seconds=10,
            calibration_request_budget=0,
        )

        async with _cluster(environment, tmp_path / "run") as cluster:
            # A stealth model appears: exactly one card per guild, each posted by its own shard's process.
            await _wait(lambda: all(_cards(fake, channel, OWL) for _, channel, _ in guilds), "Owl Alpha's cards")
            poller = await _wait(cluster.poller, "one process holding the poller lease")
            for _, channel, _ in guilds:
                assert len(_cards(fake, channel, OWL)) == 1
            await _wait(
                lambda: all(
                    f"announced {OWL['id']} in guild {guild.id}" in cluster.by_shard[shard].log()
                    for shard, (guild, _, _) in enumerate(guilds)
                ),
                "each process logging the card of its own shard's guild",
                timeout=10,
            )

            async def owl_guessed() -> bool:
                return (await store.guesses.latest(OWL["id"])) is not None

            await _wait(owl_guessed, "the guess for Owl Alpha")

            # The poller is killed; another process takes the lease within one poll interval.
            killed_at = asyncio.get_running_loop().time()
            await cluster.by_shard[poller].kill()
            gateway.set_catalogue([*ORDINARY_MODELS, OWL, PONY])
            gateway.add_model(ScriptedModel(PONY["id"], respond=constant_reply(OWL_SAYS)))
            successor = await _wait(cluster.poller, "another process taking the lease", timeout=POLL_INTERVAL_S)
            assert successor != poller
            survivors = [shard for shard in range(SHARD_COUNT) if shard != poller]
            await _wait(
                lambda: all(_cards(fake, guilds[shard][1], PONY) for shard in survivors),
                "Pony Alpha announced by the surviving processes",
                timeout=POLL_INTERVAL_S * 3,
            )
            took = asyncio.get_running_loop().time() - killed_at
            assert took <= POLL_INTERVAL_S * 2, f"the next model reached the cards {took:.1f}s after the kill"

            # The killed shard's process comes back (a supervisor restarts it): its guild gets its card once.
            await cluster.start(poller)
            await _wait(lambda: _cards(fake, guilds[poller][1], PONY), "Pony Alpha in the restarted shard's guild")

            # Votes through every process all land.
            for shard, (_, channel, member) in enumerate(guilds):
                [card] = _cards(fake, channel, OWL)
                click = fake.build_component(card.id, _vote_select(card), member=member, values=["openai"])
                interaction = await fake.send_interaction(click)
                callback = await fake.wait_for_interaction_response(interaction, timeout=20)
                text = callback.content or ""
                if callback.deferred:
                    text = (await fake.wait_for_followups(interaction, timeout=20))[-1].content
                assert text.startswith("Vote recorded"), f"shard {shard}: {text}"

            async def every_tally_shows_its_vote() -> bool:
                return all(
                    "1 vote" in str(_cards(fake, channel, OWL)[0].embeds[0].get("fields")) for _, channel, _ in guilds
                )

            await _wait(every_tally_shows_its_vote, "every card edited with its vote")
            await asyncio.sleep(1.0)  # anything doubled would have had time to show
            logs = [process.log() for process in cluster.by_shard.values()]
            assert all(postgres_server.password not in log for log in logs)  # DATABASE_URL is a secret

        # Nothing doubled.
        for _, channel, _ in guilds:
            assert len(_cards(fake, channel, OWL)) == 1 and len(_cards(fake, channel, PONY)) == 1
        votes = await store.db.fetchall("SELECT guild_id, member_id, vendor FROM votes ORDER BY guild_id")
        assert [(row[0], row[2]) for row in votes] == sorted((guild.id, "openai") for guild, _, _ in guilds)
        history = await store.db.fetchone("SELECT COUNT(*) FROM vote_history")
        assert history is not None and history[0] == SHARD_COUNT
        runs = await store.db.fetchall(
            "SELECT model_id, COUNT(*) FROM probe_runs WHERE state = 'finished' GROUP BY model_id ORDER BY model_id"
        )
        assert [(row[0], row[1]) for row in runs] == [(OWL["id"], 1), (PONY["id"], 1)]
        cards = await store.db.fetchall("SELECT COUNT(*) FROM announcements GROUP BY guild_id, model_id")
        assert {row[0] for row in cards} == {1}
    await postgres_server.drop_database(url)
