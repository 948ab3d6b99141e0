"""The fake Discord exercised by the real discord.py client, so the payloads it sends are ones discord.py
accepts and the replies it records are the ones discord.py really makes."""

from __future__ import annotations

import asyncio
import gc
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands
from discord.ext import commands

from bot.discord_endpoints import point_discord_at
from bot.testing.discord import (
    CallbackType,
    ChannelArg,
    ChannelSpec,
    FakeDiscord,
    GuildSpec,
    MemberSpec,
    OverwriteSpec,
    Permission,
    connected_client,
)

CSV = b"model,vendor,votes\nstealth-1,anthropic,3\n"
MODELS = ["claude-stealth", "clover", "gpt-mystery"]


# -- a small bot using every kind of interaction the real bot uses -------------------------------


class VoteView(discord.ui.View):
    """Persistent: registered with `add_view` at start, so it answers clicks on any message."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Up", custom_id="scout:vote:up", style=discord.ButtonStyle.success)
    async def up(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"up by {interaction.user.name}")

    @discord.ui.select(
        custom_id="scout:vote:vendor",
        options=[
            discord.SelectOption(label="Anthropic", value="anthropic"),
            discord.SelectOption(label="OpenAI", value="openai"),
        ],
    )
    async def vendor(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {select.values[0]}", ephemeral=True)


class ModelButton(discord.ui.DynamicItem[discord.ui.Button], template=r"scout:model:(?P<model_id>\d+)"):
    def __init__(self, model_id: int) -> None:
        super().__init__(discord.ui.Button(label="Details", custom_id=f"scout:model:{model_id}"))
        self.model_id = model_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any) -> ModelButton:
        return cls(int(match["model_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"model {self.model_id}", ephemeral=True)


class NoteModal(discord.ui.Modal, title="Note on a model"):
    note = discord.ui.TextInput(label="Your note", custom_id="scout:note:text", max_length=200)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


class ScoutCommands(app_commands.Group):
    def __init__(self) -> None:
        super().__init__(name="scout", description="Model Scout")

    @app_commands.command(description="Latest stealth models")
    async def latest(self, interaction: discord.Interaction, limit: int = 3) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"{limit} latest")

    @app_commands.command(description="Is the bot alive")
    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @app_commands.command(description="Leave a note")
    async def note(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NoteModal())

    @app_commands.command(description="Export votes")
    async def export(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send(file=discord.File(io.BytesIO(CSV), "votes.csv"), ephemeral=True)

    @app_commands.command(description="Where to announce")
    async def channel(self, interaction: discord.Interaction, target: discord.TextChannel) -> None:
        await interaction.response.send_message(f"announcing in {target.name}", ephemeral=True)

    @app_commands.command(description="Answer, revise, follow up, retract")
    async def review(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("v1")
        await interaction.edit_original_response(content="v2")
        followup = await interaction.followup.send("f1", wait=True)
        await followup.edit(content="f2")
        await interaction.delete_original_response()

    @app_commands.command(description="Managers only")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def purge(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("purged", ephemeral=True)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await interaction.response.send_message(f"denied: {type(error).__name__}", ephemeral=True)

    @app_commands.command(description="Look up a model")
    async def model(self, interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(name)

    @model.autocomplete("name")
    async def model_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in MODELS if n.startswith(current)]


class ScoutTestBot(commands.Bot):
    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", discord.Intents.default())
        super().__init__(command_prefix="!", guild_ready_timeout=0.05, help_command=None, **options)

    async def setup_hook(self) -> None:
        self.tree.add_command(ScoutCommands())
        self.add_view(VoteView())
        self.add_dynamic_items(ModelButton)


# -- fixtures ------------------------------------------------------------------------------------

ALICE = MemberSpec("alice", permissions=int(Permission.MANAGE_GUILD))
BOB = MemberSpec("bob")


@pytest.fixture
def guild() -> GuildSpec:
    spec = GuildSpec(name="Scouts", channels=[ChannelSpec("scout"), ChannelSpec("announcements")], members=[ALICE, BOB])
    spec.channels[1].overwrites.append(OverwriteSpec(spec.id, "role", deny=int(Permission.SEND_MESSAGES)))
    return spec


@pytest.fixture
async def fake(guild: GuildSpec) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guilds=[guild]) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[ScoutTestBot]:
    async with connected_client(ScoutTestBot(), fake) as client:
        yield client


@pytest.fixture
async def loop_complaints() -> AsyncIterator[list[str]]:
    """What the event loop reports to its exception handler, e.g. aiohttp's 'Unclosed client session'."""
    loop = asyncio.get_running_loop()
    complaints: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: complaints.append(context["message"]))
    yield complaints
    loop.set_exception_handler(previous)


async def settle() -> None:
    """Let finished tasks be reaped and garbage-collect, so leaked sessions report themselves."""
    await asyncio.sleep(0)
    gc.collect()
    await asyncio.sleep(0)


def scout_channel(bot: commands.Bot, guild: GuildSpec) -> discord.TextChannel:
    channel = bot.get_channel(guild.channels[0].id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def run_command(fake: FakeDiscord, guild: GuildSpec, command: str, **options: Any) -> int:
    channel_id = guild.channels[0].id
    payload = fake.build_command(command, guild_id=guild.id, channel_id=channel_id, member=ALICE, options=options)
    return await fake.send_interaction(payload)


# -- connecting ------------------------------------------------------------------------------------


async def test_client_is_ready_with_the_guild_its_channels_and_its_own_member(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    cached = bot.get_guild(guild.id)

    assert cached is not None and cached.name == "Scouts"
    assert [c.name for c in cached.text_channels] == ["scout", "announcements"]
    assert cached.me is not None and cached.me.id == fake.bot.id
    assert cached.owner_id == ALICE.id
    assert cached.text_channels[0].permissions_for(cached.me).send_messages
    assert not cached.text_channels[1].permissions_for(cached.me).send_messages
    assert bot.application_id == fake.application_id
    assert fake.identify_count == 1 and not fake.unknown_requests


def test_point_discord_at_sets_both_addresses_and_refuses_a_bad_url() -> None:
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        point_discord_at("http://127.0.0.1:1/api/v10/", "ws://127.0.0.1:1")
        assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:1/api/v10/users/@me"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:1"
        point_discord_at(None, None)
        assert discord.http.Route.BASE == "http://127.0.0.1:1/api/v10"
        with pytest.raises(ValueError, match="gateway"):
            point_discord_at(None, "http://127.0.0.1:1")
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


async def test_wrong_token_fails_login_cleanly(fake: FakeDiscord, loop_complaints: list[str]) -> None:
    with pytest.raises(discord.LoginFailure):
        async with connected_client(ScoutTestBot(), fake, token="not-the-token"):
            pass
    await settle()

    assert fake.requests[-1].path == "/users/@me" and fake.requests[-1].status == 401
    assert loop_complaints == []


async def test_identify_with_a_token_revoked_after_login_closes_with_4004(fake: FakeDiscord) -> None:
    class RevokedAfterLogin(ScoutTestBot):
        async def setup_hook(self) -> None:
            fake.token = "revoked"

    with pytest.raises(discord.ConnectionClosed) as closed:
        async with connected_client(RevokedAfterLogin(), fake):
            pass

    assert closed.value.code == 4004 and fake.identify_count == 0


async def test_privileged_intents_are_refused_when_not_enabled(guild: GuildSpec) -> None:
    async with FakeDiscord(guilds=[guild], privileged_intents=False) as server:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with connected_client(ScoutTestBot(intents=discord.Intents.all()), server):
                pass


async def test_reconnect_requests_and_dropped_connections_are_resumed_without_losing_events(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    await fake.request_reconnect()
    await fake.wait_until(lambda: fake.resume_count == 1 and fake.connected, what="resume after op 7")
    await fake.drop_connections(4000)
    await fake.wait_until(lambda: fake.resume_count == 2 and fake.connected, what="resume after a drop")

    callback = await fake.wait_for_interaction_response(await run_command(fake, guild, "scout ping"))

    assert callback.content == "pong" and fake.identify_count == 1


# -- messages --------------------------------------------------------------------------------------


async def test_message_with_embed_and_view_is_stored_and_its_edits_are_kept(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    channel = scout_channel(bot, guild)
    sent = await channel.send("new model", embed=discord.Embed(title="stealth-1"), view=VoteView())
    await sent.edit(content="new model (updated)")

    stored = await fake.wait_for_message(channel.id, lambda m: m.id == sent.id)
    fetched = await channel.fetch_message(sent.id)

    assert stored.content == "new model (updated)" and stored.edit_count == 1
    assert stored.history[0]["content"] == "new model"
    assert stored.embeds[0]["title"] == "stealth-1"
    assert stored.custom_ids() == ["scout:vote:up", "scout:vote:vendor"]
    assert fetched.content == "new model (updated)" and fetched.edited_at is not None
    assert abs(discord.utils.snowflake_time(sent.id) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_reply_references_its_message_and_an_unknown_reference_is_refused(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    channel = scout_channel(bot, guild)
    first = await channel.send("first")
    reply = await first.reply("second", mention_author=False)

    assert reply.reference is not None and reply.reference.message_id == first.id
    assert fake.message(reply.id).type == 19
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send("x", reference=discord.MessageReference(message_id=1, channel_id=channel.id))
    assert refused.value.code == 50035


async def test_allowed_mentions_decide_who_is_pinged(bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec) -> None:
    channel = scout_channel(bot, guild)
    quiet = await channel.send(f"<@{BOB.id}> @everyone", allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(f"<@{BOB.id}>")

    assert fake.message(quiet.id).mentioned_user_ids == [] and not fake.message(quiet.id).mention_everyone
    assert fake.message(loud.id).mentioned_user_ids == [BOB.id]


async def test_member_messages_reach_the_bot_with_content_only_when_it_is_mentioned(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    received = asyncio.create_task(bot.wait_for("message", check=lambda m: m.author.id == BOB.id, timeout=5))
    await asyncio.sleep(0)
    await fake.post_user_message(guild.channels[0].id, BOB, "hello")
    plain = await received
    received = asyncio.create_task(bot.wait_for("message", check=lambda m: m.author.id == BOB.id, timeout=5))
    await asyncio.sleep(0)
    await fake.post_user_message(guild.channels[0].id, BOB, f"<@{fake.bot.id}> hello")
    mentioning = await received

    assert plain.content == "" and mentioning.content == f"<@{fake.bot.id}> hello"


async def test_file_upload_is_stored_and_readable_through_its_url(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    sent = await scout_channel(bot, guild).send("export", file=discord.File(io.BytesIO(CSV), "votes.csv"))

    stored = fake.message(sent.id).attachments[0]

    assert stored.filename == "votes.csv" and stored.data == CSV and stored.content_type == "text/csv"
    assert await sent.attachments[0].read() == CSV


async def test_a_429_is_retried_by_discord_py_and_the_message_exists_once(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    fake.rate_limit("POST /channels/*/messages", retry_after=0.01)

    await scout_channel(bot, guild).send("after a rate limit")

    assert [r.status for r in fake.requests_to("POST /channels/*/messages")] == [429, 200]
    assert [m.content for m in fake.channel_messages(guild.channels[0].id)] == ["after a rate limit"]


async def test_injected_403_and_404_and_a_deleted_channel_surface_as_discord_errors(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    channel = scout_channel(bot, guild)
    fake.forbid("POST /channels/*/messages")
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("a")
    fake.unknown_channel("POST /channels/*/messages")
    with pytest.raises(discord.NotFound) as missing:
        await channel.send("b")
    fake.server_error("POST /channels/*/messages", status=503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("b")
    await fake.delete_channel(channel.id)
    with pytest.raises(discord.NotFound) as deleted:
        await channel.send("c")
    await fake.wait_until(lambda: bot.get_channel(channel.id) is None, what="CHANNEL_DELETE processed")

    assert (forbidden.value.code, missing.value.code, deleted.value.code) == (50013, 10003, 10003)


async def test_channel_overwrites_and_discord_limits_are_enforced(bot: ScoutTestBot, guild: GuildSpec) -> None:
    locked = bot.get_channel(guild.channels[1].id)
    assert isinstance(locked, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as forbidden:
        await locked.send("nope")
    with pytest.raises(discord.HTTPException) as too_long:
        await scout_channel(bot, guild).send("x" * 2001)

    assert forbidden.value.code == 50013
    assert too_long.value.code == 50035 and "content" in str(too_long.value)


async def test_unknown_routes_answer_404_and_are_recorded(bot: ScoutTestBot, fake: FakeDiscord) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/voice/regions"))

    assert [(r.method, r.path) for r in fake.unknown_requests] == [("GET", "/voice/regions")]


async def test_json_replies_have_exactly_the_json_content_type(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{fake.api_base}/gateway") as response:
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["url"] == fake.gateway_url


# -- application commands and interactions ---------------------------------------------------------


async def test_tree_sync_is_recorded_and_typed_options_are_checked_against_it(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    target = discord.Object(guild.id)
    bot.tree.copy_global_to(guild=target)
    synced = await bot.tree.sync(guild=target)

    assert fake.sync_count(guild.id) == 1 and fake.sync_count() == 0
    assert [c.name for c in synced] == ["scout"] and fake.commands(guild.id)[0]["id"] == str(synced[0].id)
    with pytest.raises(ValueError, match="type 4"):
        fake.build_command(
            "scout latest", guild_id=guild.id, channel_id=guild.channels[0].id, member=ALICE, options={"limit": "3"}
        )
    callback = await fake.wait_for_interaction_response(await run_command(fake, guild, "scout latest", limit=5))
    assert callback.type == CallbackType.DEFERRED_CHANNEL_MESSAGE


async def test_slash_command_deferred_then_followed_up(bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec) -> None:
    interaction_id = await run_command(fake, guild, "scout latest", limit=5)

    callback = await fake.wait_for_interaction_response(interaction_id)
    followups = await fake.wait_for_followups(interaction_id)

    assert callback.type == CallbackType.DEFERRED_CHANNEL_MESSAGE and not callback.ephemeral
    assert callback.latency >= 0
    assert [m.content for m in followups] == ["5 latest"]
    assert fake.original_response(interaction_id) is not None


async def test_slash_command_answered_at_once_and_ephemerally(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    interaction_id = await run_command(fake, guild, "scout ping")

    callback = await fake.wait_for_interaction_response(interaction_id)

    assert callback.type == CallbackType.CHANNEL_MESSAGE and callback.ephemeral and callback.content == "pong"
    assert fake.channel_messages(guild.channels[0].id) == []
    assert [m.content for m in fake.channel_messages(guild.channels[0].id, include_ephemeral=True)] == ["pong"]


async def test_original_response_and_followup_are_edited_and_deleted_through_the_webhook(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    interaction_id = await run_command(fake, guild, "scout review")

    [followup] = await fake.wait_for_followups(interaction_id)
    original = await fake.wait_until(lambda: fake.original_response(interaction_id), what="original response")
    await fake.wait_until(lambda: original.deleted, what="original response deleted")

    assert [v["content"] for v in original.history] == ["v1"] and original.content == "v2"
    assert followup.content == "f2" and followup.edit_count == 1


async def test_member_permissions_from_the_builder_reach_app_command_checks(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    allowed = await fake.send_interaction(
        fake.build_command("scout purge", guild_id=guild.id, channel_id=guild.channels[0].id, member=ALICE)
    )
    refused = await fake.send_interaction(
        fake.build_command("scout purge", guild_id=guild.id, channel_id=guild.channels[0].id, member=BOB)
    )

    assert (await fake.wait_for_interaction_response(allowed)).content == "purged"
    assert (await fake.wait_for_interaction_response(refused)).content == "denied: MissingPermissions"


async def test_channel_option_is_resolved_for_the_command(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    callback = await fake.wait_for_interaction_response(
        await run_command(fake, guild, "scout channel", target=ChannelArg(guild.channels[1].id))
    )

    assert callback.content == "announcing in announcements"


async def test_ephemeral_file_followup_carries_the_export(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    interaction_id = await run_command(fake, guild, "scout export")

    [followup] = await fake.wait_for_followups(interaction_id)

    assert followup.ephemeral and followup.attachments[0].text == CSV.decode()


async def test_autocomplete_returns_choices(bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec) -> None:
    payload = fake.build_autocomplete(
        "scout model", focused="name", value="cl", guild_id=guild.id, channel_id=guild.channels[0].id, member=BOB
    )

    callback = await fake.wait_for_interaction_response(await fake.send_interaction(payload))

    assert callback.type == CallbackType.AUTOCOMPLETE_RESULT
    assert [c["value"] for c in callback.choices] == ["claude-stealth", "clover"]


async def test_modal_is_opened_and_its_submission_reaches_on_submit(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    opened = await fake.wait_for_interaction_response(await run_command(fake, guild, "scout note"))
    assert opened.type == CallbackType.MODAL

    with pytest.raises(ValueError, match="no inputs"):
        fake.build_modal_submit(opened.data["custom_id"], {"wrong": "x"})
    submitted = fake.build_modal_submit(opened.data["custom_id"], {"scout:note:text": "smells like claude"})
    callback = await fake.wait_for_interaction_response(await fake.send_interaction(submitted))

    assert callback.content == "noted: smells like claude" and callback.ephemeral


async def test_components_reach_a_persistent_view_even_after_a_restart(fake: FakeDiscord, guild: GuildSpec) -> None:
    async with connected_client(ScoutTestBot(), fake) as first:
        posted = await scout_channel(first, guild).send("vote here", view=VoteView())

    async with connected_client(ScoutTestBot(), fake):
        clicked = await fake.send_interaction(fake.build_component(posted.id, "scout:vote:up", member=BOB))
        picked = await fake.send_interaction(
            fake.build_component(posted.id, "scout:vote:vendor", member=BOB, values=["openai"])
        )
        click = await fake.wait_for_interaction_response(clicked)
        pick = await fake.wait_for_interaction_response(picked)

    assert click.type == CallbackType.UPDATE_MESSAGE and fake.message(posted.id).content == "up by bob"
    assert pick.content == "picked openai" and pick.ephemeral
    with pytest.raises(ValueError, match="offers"):
        fake.build_component(posted.id, "scout:vote:vendor", member=BOB, values=["mistral"])


async def test_component_reaches_a_dynamic_item(bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec) -> None:
    view = discord.ui.View(timeout=None).add_item(ModelButton(42))
    posted = await scout_channel(bot, guild).send("model 42", view=view)
    view.stop()

    callback = await fake.wait_for_interaction_response(
        await fake.send_interaction(fake.build_component(posted.id, "scout:model:42", member=ALICE))
    )

    assert callback.content == "model 42"


async def test_a_second_callback_is_refused_as_already_acknowledged(
    bot: ScoutTestBot, fake: FakeDiscord, guild: GuildSpec
) -> None:
    interaction_id = await run_command(fake, guild, "scout ping")
    await fake.wait_for_interaction_response(interaction_id)
    token = fake.interaction(interaction_id).token

    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_base}/interactions/{interaction_id}/{token}/callback"
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as response:
            body = await response.json()

    assert response.status == 400 and body["code"] == 40060


# -- shutting down ---------------------------------------------------------------------------------


async def test_closing_leaves_no_tasks_and_no_unclosed_sessions(guild: GuildSpec, loop_complaints: list[str]) -> None:
    async with FakeDiscord(guilds=[guild]) as server:
        async with connected_client(ScoutTestBot(), server) as client:
            await scout_channel(client, guild).send("bye")
    await settle()

    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    assert loop_complaints == []
