"""Admin commands from members who hold many powers but not Manage Server: refused in one sentence, with no
side effect at all (no settings, no reveal, no probe spent, no cooldown started). The fake does not apply
`default_permissions`, so this is the check inside the callback alone. Administrator implies Manage Server."""

from __future__ import annotations

from bot.testing.discord import DEFAULT_EVERYONE_PERMISSIONS, ChannelArg, MemberSpec, Permission
from tests.support.world import OWL, World

NOT_QUITE_ADMIN = int(
    DEFAULT_EVERYONE_PERMISSIONS
    | Permission.MANAGE_CHANNELS
    | Permission.MANAGE_MESSAGES
    | Permission.MANAGE_ROLES
    | Permission.MENTION_EVERYONE
    | Permission.KICK_MEMBERS
    | Permission.BAN_MEMBERS
)
REFUSAL = "You need the Manage Server permission to do that."


async def test_admin_commands_refuse_every_power_but_manage_server_and_leave_no_trace(world: World):
    moderator = MemberSpec("moderator", permissions=NOT_QUITE_ADMIN)
    administrator = MemberSpec(
        "administrator", permissions=int(DEFAULT_EVERYONE_PERMISSIONS | Permission.ADMINISTRATOR)
    )
    async with world.run_bot() as bot:
        await world.owl_appears(bot)
        await bot.pipeline.wait_idle()
        chats_before = len(world.gateway.requests_to("chat"))

        for path, options in [
            ("scout setup", {"channel": ChannelArg(world.channel.id), "all_models": True}),
            ("scout reveal", {"model": OWL["id"], "vendor": "openai", "true_model": "openai/gpt-5.1"}),
            ("scout probe", {"model": OWL["id"]}),
        ]:
            text, _, answer = await world.answer(await world.command(bot, path, moderator, **options))
            assert answer.ephemeral and text == REFUSAL, path

        assert await bot.store.guilds.get(world.guild.id) is None
        assert await bot.store.reveals.reveal_for(world.guild.id, OWL["id"]) is None
        assert len(world.gateway.requests_to("chat")) == chats_before  # no probe was spent
        assert (
            "Vote recorded"
            in (
                await world.answer(await world.command(bot, "scout vote", moderator, model=OWL["id"], vendor="openai"))
            )[0]
        )

        probed, _, _ = await world.answer(
            await world.command(bot, "scout probe", administrator, model=OWL["id"]), timeout=30
        )
        assert probed != REFUSAL and "again" in probed  # the refused attempt did not start the server's cooldown
        assert len(world.gateway.requests_to("chat")) > chats_before
        set_up, _, _ = await world.answer(
            await world.command(bot, "scout setup", administrator, channel=ChannelArg(world.channel.id))
        )
        assert "will go to" in set_up
