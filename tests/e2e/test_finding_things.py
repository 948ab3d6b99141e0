"""Finding things: `/scout help` and the welcome on joining a server list every command and who may use it;
model autocomplete puts stealth and recent models first; a model's name typed in full works like its id."""

from __future__ import annotations

from bot.testing.discord import ChannelSpec, GuildSpec, Permission
from tests.support.world import ORDINARY_MODELS, OWL, World, eventually

ADMIN_COMMANDS = {"forget-member", "probe", "reveal", "setup"}


def _commands_in(value: str) -> set[str]:
    return {line.split("`")[1].removeprefix("/scout ") for line in value.splitlines()}


async def test_help_lists_every_command_once_with_who_may_use_it(world: World):
    async with world.run_bot() as bot:
        text, embeds, message = await world.answer(await world.command(bot, "scout help"))
        shown = {field["name"]: field["value"] for field in embeds[0]["fields"]}

        everyone = _commands_in(shown["For everyone"])
        admins = _commands_in(shown["For admins (Manage Server)"])
        assert admins == ADMIN_COMMANDS
        assert everyone | admins == {command.name for command in bot.scout_group.commands}
        assert not everyone & admins and {"vote", "help", "status"} <= everyone
        assert "`/scout vote`: Vote for who you think made a model" in shown["For everyone"]
        assert message.ephemeral


async def test_joining_a_server_says_hello_in_its_system_channel_only_where_allowed(world: World):
    welcome = ChannelSpec("welcome")
    muted = ChannelSpec("announcements")
    open_guild = GuildSpec(name="New Guild", channels=[welcome], system_channel_id=welcome.id)
    muted_guild = GuildSpec(
        name="Muted Guild",
        channels=[muted],
        system_channel_id=muted.id,
        everyone_permissions=int(Permission.VIEW_CHANNEL),
        bot_permissions=int(Permission.VIEW_CHANNEL),
    )
    quiet_guild = GuildSpec(name="No System Channel", channels=[ChannelSpec("general")])
    async with world.run_bot() as bot:
        for guild in (muted_guild, quiet_guild, open_guild):
            await world.fake.join_guild(guild)
        await eventually(lambda: _async(bot.get_guild(open_guild.id) is not None), what="the joined guild")

        hello = await world.fake.wait_for_message(welcome.id, lambda message: True)
        assert "`/scout setup`" in hello.content and hello.allowed_mentions == {"parse": []}
        assert [field["name"] for field in hello.embeds[0]["fields"]] == ["For everyone", "For admins (Manage Server)"]
        await eventually(lambda: _async(bot.get_guild(muted_guild.id) is not None), what="the muted guild")
    assert world.fake.channel_messages(muted.id) == []
    assert world.fake.channel_messages(quiet_guild.channels[0].id) == []


async def _async(value: bool) -> bool:
    return value


async def test_an_empty_model_box_lists_stealth_then_newest_models_first(world: World):
    async with world.run_bot() as bot:
        await world.owl_appears(bot)
        typing = world.fake.build_autocomplete(
            "scout model",
            focused="model",
            value="",
            guild_id=world.guild.id,
            channel_id=world.channel.id,
            member=world.member,
        )
        choices = (await world.fake.wait_for_interaction_response(await world.fake.send_interaction(typing))).choices

        newest_first = sorted(ORDINARY_MODELS, key=lambda entry: entry["created"], reverse=True)
        assert [choice["value"] for choice in choices] == [OWL["id"], *(entry["id"] for entry in newest_first)]


async def test_a_models_name_typed_in_full_and_entered_works_like_its_id(world: World):
    async with world.run_bot() as bot:
        await world.owl_appears(bot)
        text, _, _ = await world.answer(await world.command(bot, "scout vote", model="owl alpha", vendor="zhipu"))
        assert text.startswith("Vote recorded: you think `openrouter/owl-alpha` is by **Zhipu (GLM)**")

        _, embeds, _ = await world.answer(await world.command(bot, "scout model", model="Claude Sonnet 4"))
        assert embeds[0]["title"] == "Model: Anthropic: Claude Sonnet 4"

        text, _, _ = await world.answer(await world.command(bot, "scout model", model="Owl"))
        assert text == "I don't know that model; pick one from the suggestions."  # a fragment is not a name
