"""`/scout alerts` on the real client against the fake Discord: grouped alerts, the role ping, pausing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.polling import record_catalogue
from bot.store import Store
from bot.testing.discord import ChannelArg, FakeDiscord, RoleArg, RoleSpec, StoredMessage, new_snowflake
from bot.testing.gateway_server import FakeGateway
from tests.support.world import API_KEY, ORDINARY_MODELS, OWL, World, announcements_in, eventually, footer, make_guild

SCOUTS = RoleSpec("scouts")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """The usual two guilds, the main one with a `scouts` role to ping."""
    guild, channel, member, admin = make_guild("Main Guild", "alice")
    guild.roles.append(SCOUTS)
    other_guild, other_channel, _, other_admin = make_guild("Other Guild", "mallory")
    async with FakeGateway(api_key=API_KEY) as gateway, FakeDiscord(guilds=[guild, other_guild]) as fake:
        gateway.set_catalogue(ORDINARY_MODELS)
        yield World(
            fake, gateway, tmp_path / "scout.db", guild, channel, member, admin, other_guild, other_channel, other_admin
        )


def alerts_in(world: World, channel_id: int) -> list[StoredMessage]:
    return [message for message in world.fake.channel_messages(channel_id) if "· alert #" in footer(message)]


async def alerts_command(world: World, bot, name: str, **options) -> str:  # type: ignore[no-untyped-def]
    text, _, _ = await world.answer(await world.command(bot, f"scout alerts {name}", world.admin, **options))
    return text


def openai_models(count: int, prompt: str) -> list[dict]:
    return [
        {
            "id": f"openai/model-{index}",
            "name": f"OpenAI: Model {index}",
            "context_length": 128000,
            "pricing": {"prompt": prompt, "completion": prompt},
        }
        for index in range(count)
    ]


async def test_the_role_ping_names_only_that_role_and_only_on_stealth_models(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await world.set_up_channel(bot, other_guild=True)
        assert "Saved." in await alerts_command(world, bot, "role", role=RoleArg(SCOUTS.id))
        refused = await alerts_command(world, bot, "role", role=RoleArg(world.guild.id))
        assert refused == "Pick a role members can hold: not @everyone and not a bot's own role."
        await world.owl_appears(bot)
        [card] = await world.fake.wait_until(lambda: announcements_in(world.fake, world.channel.id), timeout=10)
        [other_card] = await world.fake.wait_until(lambda: announcements_in(world.fake, world.other_channel.id))

    assert card.content == f"<@&{SCOUTS.id}>"
    allowed = dict(card.allowed_mentions or {})
    assert [int(role) for role in allowed.pop("roles")] == [SCOUTS.id]
    assert allowed.pop("parse") == [] and not allowed.pop("replied_user", False) and allowed == {}
    assert card.mentioned_role_ids == [SCOUTS.id] and not card.mentioned_user_ids and not card.mention_everyone
    assert other_card.content == "" and other_card.allowed_mentions == {"parse": []}
    assert not other_card.mentioned_role_ids


async def test_a_named_model_is_announced_without_the_ping(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        setup = await world.command(
            bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), all_models=True
        )
        await world.answer(setup)
        await alerts_command(world, bot, "role", role=RoleArg(SCOUTS.id))
        named = {**ORDINARY_MODELS[0], "id": "openai/gpt-6", "name": "OpenAI: GPT-6"}
        world.gateway.set_catalogue([*ORDINARY_MODELS, named])
        await bot.pipeline.poll_once()
        [card] = await world.fake.wait_until(lambda: announcements_in(world.fake, world.channel.id), timeout=10)
    assert card.content == "" and card.allowed_mentions == {"parse": []} and not card.mentioned_role_ids


async def test_fifty_repriced_models_are_one_alert_message(world: World):
    world.gateway.set_catalogue(openai_models(50, "0.000001"))
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        text = await alerts_command(world, bot, "watch", targets="openai", prices=True)
        assert "Price drops and rises of watched: on" in text and "`openai`" in text
        world.gateway.set_catalogue(openai_models(50, "0.000002"))
        assert len((await bot.pipeline.poll_once()).events) == 50
        [alert] = await world.fake.wait_until(lambda: alerts_in(world, world.channel.id), timeout=10)
        await eventually(lambda: _alerts_posted(bot), what="the alert recorded as posted")
    assert alert.embeds[0]["title"] == "Price changes: 50 models"
    assert alert.embeds[0]["description"].count("\n") == 20 and "… and 30 more" in alert.embeds[0]["description"]
    assert alert.allowed_mentions == {"parse": []}
    assert len(alerts_in(world, world.channel.id)) == 1


async def _alerts_posted(bot) -> bool:  # type: ignore[no-untyped-def]
    return not await bot.store.alerts.pending()


async def test_every_alert_kind_once_per_poll_and_not_again_after_a_restart(world: World):
    first = [*ORDINARY_MODELS, *openai_models(3, "0.000001")]
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await alerts_command(world, bot, "new-models", enabled=True, namespaces="mistral")
        await alerts_command(world, bot, "watch", targets="openai/model-0, openai/model-1", prices=True, context=True)
        await alerts_command(world, bot, "removals", enabled=True)
        world.gateway.set_catalogue(first)
        await bot.pipeline.poll_once()
        repriced, longer, _ = openai_models(3, "0.000001")
        changed = [
            {**repriced, "pricing": {"prompt": "0.0000005", "completion": "0.0000005"}},
            {**longer, "context_length": 1_000_000},
            {"id": "mistralai/new", "name": "Mistral: New", "pricing": {"prompt": "0", "completion": "0"}},
            {"id": "qwen/new", "name": "Qwen: New"},
        ]
        world.gateway.set_catalogue([*ORDINARY_MODELS, *changed])
        await bot.pipeline.poll_once()
        await bot.pipeline.poll_once()  # openai/model-2's removal is confirmed by the second poll without it
        await world.fake.wait_until(lambda: len(alerts_in(world, world.channel.id)) == 4, timeout=10)
        await eventually(lambda: _alerts_posted(bot), what="every alert recorded as posted")
    async with world.run_bot() as bot:
        await bot.pipeline.poll_once()
        await eventually(lambda: _alerts_posted(bot), what="nothing left to post")
    titles = [message.embeds[0]["title"] for message in alerts_in(world, world.channel.id)]
    assert titles == [
        "New models: 1 model",
        "Price changes: 1 model",
        "Context length changes: 1 model",
        "Removed from the catalogue: 1 model",
    ]
    descriptions = [message.embeds[0]["description"] for message in alerts_in(world, world.channel.id)]
    assert "mistralai/new" in descriptions[0] and "qwen/new" not in descriptions[0]
    assert "▼ openai/model-0" in descriptions[1] and "$1.00/M → $0.50/M" in descriptions[1]
    assert "128,000 → 1,000,000 tokens" in descriptions[2] and "openai/model-2" in descriptions[3]


async def test_pause_stops_announcements_keeps_settings_and_resume_brings_them_back(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await alerts_command(world, bot, "role", role=RoleArg(SCOUTS.id))
        assert "**paused**" in await alerts_command(world, bot, "pause")
        await world.owl_appears(bot)
        assert await bot.store.outbox.for_model(world.guild.id, OWL["id"]) is None
        resumed = await alerts_command(world, bot, "resume")
        assert "Announcements: on" in resumed and f"<@&{SCOUTS.id}>" in resumed
        shown = await alerts_command(world, bot, "show")
        assert "New stealth models: on" in shown and f"<#{world.channel.id}>" in shown


async def test_members_cannot_change_alerts(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        interaction = await world.command(bot, "scout alerts removals", world.member, enabled=True)
        callback = await world.fake.wait_for_interaction_response(interaction)
        assert callback.content == "You need the Manage Server permission to do that."
        assert not (await bot.store.alerts.preferences(world.guild.id)).removals


async def test_a_list_too_long_is_one_sentence_and_changes_nothing(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        text = await alerts_command(world, bot, "watch", targets=" ".join(f"lab{index}" for index in range(30)))
        assert text == "`targets`: at most 25 items, got 30."
        assert (await bot.store.alerts.preferences(world.guild.id)).watched == ()


async def test_moving_the_channel_keeps_every_other_setting(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        setup = await world.command(
            bot, "scout setup", world.admin, channel=ChannelArg(world.channel.id), all_models=True
        )
        await world.answer(setup)
        await alerts_command(world, bot, "removals", enabled=True)
        await alerts_command(world, bot, "role", role=RoleArg(SCOUTS.id))
        [general] = [channel for channel in world.guild.channels if channel.name == "general"]
        moved, _, _ = await world.answer(
            await world.command(bot, "scout setup", world.admin, channel=ChannelArg(general.id))
        )
        assert "every new model" in moved
        settings = await bot.store.guilds.get(world.guild.id)
        preferences = await bot.store.alerts.preferences(world.guild.id)
    assert settings is not None and settings.all_models and settings.channel_id == general.id
    assert preferences.removals and preferences.role_id == SCOUTS.id and preferences.channel_id == general.id


async def _alert_left_posting_after_reaching_discord(world: World) -> int:
    """A previous run queued a removal alert, marked it `posting`, and died after Discord stored the message."""
    async with await Store.open(world.database) as store:
        await store.guilds.configure(world.guild.id, world.channel.id, all_models=False)
        await store.alerts.update(world.guild.id, removals=True)
        for source in ("before", "missing once", "missing twice"):
            await record_catalogue(store, ORDINARY_MODELS if source == "before" else ORDINARY_MODELS[1:], source)
        [alert] = await store.alerts.pending()
        await store.alerts.mark_posting(alert.id)
    embed = {
        "type": "rich",
        "title": "Removed from the catalogue: 1 model",
        "footer": {"text": f"Model Scout · alert #{alert.id}"},
    }
    stored = StoredMessage(new_snowflake(), world.channel.id, world.guild.id, world.fake.bot_user, embeds=[embed])
    world.fake.messages[stored.id] = stored
    return stored.id


async def test_an_alert_interrupted_mid_post_is_adopted_not_posted_twice(world: World):
    stored_id = await _alert_left_posting_after_reaching_discord(world)
    world.gateway.set_catalogue(ORDINARY_MODELS[1:])
    async with world.run_bot() as bot:
        await eventually(lambda: _alerts_posted(bot), what="the interrupted alert settled")
        [alert] = await bot.store.alerts.for_guild(world.guild.id)
    assert (alert.state, alert.message_id) == ("posted", stored_id)
    assert [message.id for message in alerts_in(world, world.channel.id)] == [stored_id]


async def test_an_alert_for_a_deleted_channel_fails_and_says_why(world: World):
    async with world.run_bot() as bot:
        await eventually(bot.store.catalogue.last_successful_poll, what="the baseline poll")
        await world.set_up_channel(bot)
        await alerts_command(world, bot, "removals", enabled=True)
        await world.fake.delete_channel(world.channel.id)
        world.gateway.set_catalogue(ORDINARY_MODELS[1:])
        await bot.pipeline.poll_once()
        await bot.pipeline.poll_once()
        await eventually(lambda: _alerts_posted(bot), what="the alert given up")
        [alert] = await bot.store.alerts.for_guild(world.guild.id)
        settings = await bot.store.guilds.get(world.guild.id)
        shown = await alerts_command(world, bot, "show", in_channel=world.guild.channels[1])
    assert alert.state == "failed" and alert.last_error
    assert f"Last alert: Removed from the catalogue: 1 model, failed ({alert.last_error})" in shown
    assert settings is not None and settings.last_error == alert.last_error
