"""`scout restore` of a backup taken before cards were posted: the models are announced again, and a member who
uses a card posted before the restore must never have the vote stored on another model.

The bot runs against the fakes; backup and restore run as `scout` processes, as an admin would run them.
"""

from __future__ import annotations

from pathlib import Path

from bot.testing.discord import StoredMessage
from bot.testing.gateway_server import ScriptedModel, constant_reply
from cogs._actions import OUT_OF_DATE_CARD, UNKNOWN_CARD
from tests.support.bot_process import bot_environment, read_rows, run_scout
from tests.support.world import ORDINARY_MODELS, OWL, World, announcements_in, eventually, footer

ZETA = {**OWL, "id": "openrouter/zeta-alpha", "name": "Zeta Alpha"}
AARDVARK = {**OWL, "id": "openrouter/aardvark-alpha", "name": "Aardvark Alpha"}


def _list(world: World, *stealth: dict) -> None:
    world.gateway.set_catalogue([*ORDINARY_MODELS, *stealth])
    for model in stealth:
        world.gateway.add_model(ScriptedModel(model["id"], respond=constant_reply("I am Claude, made by Anthropic.")))


async def _scout(world: World, tmp_path: Path, *args: str) -> None:
    run = await run_scout(*args, environment=bot_environment(database_path=world.database), workdir=tmp_path / "cli")
    assert run.returncode == 0, run.stderr


def _card_of(world: World, name: str) -> StoredMessage:
    [card] = [m for m in announcements_in(world.fake, world.channel.id) if m.embeds[0]["title"].endswith(name)]
    return card


def _vote_select(card: StoredMessage) -> str:
    [custom_id] = [cid for cid in card.custom_ids() if cid.startswith("scout:vote:")]
    return custom_id


async def test_a_card_posted_before_a_restore_never_votes_on_another_model(world: World, tmp_path: Path):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await _scout(world, tmp_path, "backup", str(tmp_path / "before-the-cards.db"))
        _list(world, ZETA)
        await bot.pipeline.poll_once()
        _list(world, ZETA, AARDVARK)
        await bot.pipeline.poll_once()
        await world.fake.wait_until(lambda: len(announcements_in(world.fake, world.channel.id)) == 2, what="2 cards")
        await bot.pipeline.wait_idle()
    old_zeta = _card_of(world, "Zeta Alpha")
    old_footers = {footer(card) for card in announcements_in(world.fake, world.channel.id)}

    await _scout(world, tmp_path, "restore", str(tmp_path / "before-the-cards.db"))
    _list(world, AARDVARK, ZETA)  # listed in the other order: a re-used id would now name the other model
    async with world.run_bot() as bot:
        await world.fake.wait_until(lambda: len(announcements_in(world.fake, world.channel.id)) == 4, what="2 more")
        new_footers = {footer(card) for card in announcements_in(world.fake, world.channel.id)} - old_footers
        assert len(new_footers) == 2, "the new cards carry announcement ids never used before"
        assert old_zeta.embeds[0]["title"].endswith("Zeta Alpha"), "an old card is never rewritten as another model"

        click = world.fake.build_component(old_zeta.id, _vote_select(old_zeta), member=world.member, values=["openai"])
        text, _, _ = await world.answer(await world.fake.send_interaction(click))
        assert text in (UNKNOWN_CARD, OUT_OF_DATE_CARD), text
        assert await bot.store.votes.current(world.guild.id, AARDVARK["id"], world.member.id) is None
        assert await bot.store.votes.current(world.guild.id, ZETA["id"], world.member.id) is None


async def test_a_component_is_refused_on_any_message_but_its_own_card(world: World):
    """The custom id names a row; the row names its message. A click arriving on another message (a card the
    row no longer owns) is refused, whatever the id says."""
    async with world.run_bot() as bot:
        card = await world.announce_owl(bot)

        async def posted():  # type: ignore[no-untyped-def]
            row = await bot.store.outbox.for_model(world.guild.id, OWL["id"])
            return row if row is not None and row.message_id == card.id else None

        row = await eventually(posted, what="the card's message id recorded")
        await bot.store.db.execute("UPDATE announcements SET message_id = message_id + 1 WHERE id = ?", (row.id,))
        click = world.fake.build_component(card.id, _vote_select(card), member=world.member, values=["openai"])
        text, _, _ = await world.answer(await world.fake.send_interaction(click))
        assert text == OUT_OF_DATE_CARD, text
        assert await bot.store.votes.current(world.guild.id, OWL["id"], world.member.id) is None
    assert read_rows(world.database, "SELECT COUNT(*) AS n FROM vote_history")[0]["n"] == 0
