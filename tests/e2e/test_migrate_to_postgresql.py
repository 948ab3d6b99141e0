"""A team moves from SQLite to PostgreSQL: `scout migrate --to`, then the bot on PostgreSQL. Cards posted before
the move keep working (their vote menus carry announcement ids, which the copy keeps), the leaderboard is the
same, and nothing is announced again."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from bot.testing.discord import MemberSpec, StoredMessage
from bot.testing.gateway_server import ScriptedModel, constant_reply
from bot.testing.postgres import PostgresServer
from tests.support.bot_process import run_scout
from tests.support.world import ORDINARY_MODELS, OWL, OWL_SAYS, World, announcements_in, fields

PONY = {**OWL, "id": "openrouter/pony-alpha", "name": "Pony Alpha"}


def _vote_select(card: StoredMessage) -> str:
    [custom_id] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
    return custom_id


async def _vote(world: World, card: StoredMessage, member: MemberSpec, vendor: str) -> str:
    click = world.fake.build_component(card.id, _vote_select(card), member=member, values=[vendor])
    text, _, _ = await world.answer(await world.fake.send_interaction(click))
    return text


async def test_migrated_votes_cards_and_leaderboard_work_on_postgresql(
    world: World, postgres_server: PostgresServer, tmp_path: Path
):
    bob = MemberSpec("bob")
    async with world.run_bot(edit_interval=0.05) as bot:
        owl_card = await world.announce_owl(bot)
        assert (await _vote(world, owl_card, world.member, "zhipu")).startswith("Vote recorded")
        assert (await _vote(world, owl_card, bob, "openai")).startswith("Vote recorded")
        await world.answer(await world.command(bot, "scout reveal", world.admin, model=OWL["id"], vendor="zhipu"))
        _, board_before, _ = await world.answer(await world.command(bot, "scout leaderboard"))

        world.gateway.set_catalogue([*ORDINARY_MODELS, OWL, PONY])
        world.gateway.add_model(ScriptedModel(PONY["id"], respond=constant_reply(OWL_SAYS)))
        await bot.pipeline.poll_once()
        pony_card = await world.fake.wait_for_message(
            world.channel.id, lambda m: PONY["name"] in ((m.embeds or [{}])[0].get("title") or ""), timeout=10
        )
        assert (await _vote(world, pony_card, world.member, "google")).startswith("Vote recorded")
        await bot.pipeline.wait_idle()
    cards_before = len(announcements_in(world.fake, world.channel.id))

    url = await postgres_server.create_database()
    moved = await run_scout("migrate", "--to", url, environment=world.process_environment(), workdir=tmp_path / "cli")
    assert moved.returncode == 0, moved.stderr
    assert "every count matches" in moved.stderr and postgres_server.password not in moved.stderr

    sqlite_file = world.database
    world.database = url
    async with world.run_bot(edit_interval=0.05) as bot:
        _, board_after, _ = await world.answer(await world.command(bot, "scout leaderboard"))
        assert board_after == board_before
        assert (await _vote(world, pony_card, bob, "openai")).startswith("Vote recorded")  # a card from before
        await world.fake.wait_until(lambda: fields(pony_card)["Votes here"].startswith("2 votes"), what="the edit")
        assert (await bot.store.votes.current(world.guild.id, PONY["id"], bob.id)).vendor == "openai"
    assert len(announcements_in(world.fake, world.channel.id)) == cards_before  # nothing announced again

    async with await Store.open(sqlite_file) as old, await Store.open(url) as new:
        for table in ("votes", "vote_history", "reveals", "announcements", "probe_runs", "guesses", "models"):
            before = await old.db.fetchone(f"SELECT COUNT(*) FROM {table}")
            after = await new.db.fetchone(f"SELECT COUNT(*) FROM {table}")
            assert before is not None and after is not None
            assert after[0] == before[0] + (1 if table in ("votes", "vote_history") else 0), table


async def test_migrate_refuses_a_database_that_is_not_empty(world: World, postgres_server: PostgresServer, tmp_path):
    async with await Store.open(world.database) as store:
        await store.state.set("k", "v")
    url = await postgres_server.create_database()
    async with await Store.open(url) as store:
        await store.state.set("already", "here")
    moved = await run_scout("migrate", "--to", url, environment=world.process_environment(), workdir=tmp_path / "cli")
    assert moved.returncode == 1
    assert moved.stderr.strip().splitlines() == [
        f"error: {url.replace(postgres_server.password, '***')} is not empty (bot_state has 1 rows): "
        "migrate into a new database"
    ]
