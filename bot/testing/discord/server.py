"""`FakeDiscord`, the REST API and gateway tied into one aiohttp app on 127.0.0.1, and `connected_client`,
which runs a real discord.py client against it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import discord
import discord.gateway
import discord.http
from aiohttp import web

from bot.discord_endpoints import point_discord_at
from bot.testing.discord.callbacks import InteractionCallbacks
from bot.testing.discord.gateway import GatewayServer
from bot.testing.discord.interactions import Interactions
from bot.testing.discord.specs import API_PREFIX


class FakeDiscord(GatewayServer, InteractionCallbacks, Interactions):
    """Discord's REST API and gateway on 127.0.0.1, for the real discord.py client.

    Use as `async with FakeDiscord(guilds=[...]) as fake:`; then `fake.api_base`, `fake.gateway_url`
    and `fake.token` are what the client needs. Everything it records is plain attributes and methods
    documented below; everything a test drives is `build_*`, `send_interaction`, `wait_*` and `inject_fault`.

    The parts live in the modules of this package, each a layer on `state.FakeState`: `messages`,
    `faults`, `rest`, `callbacks`, `interactions` and `gateway`; this class adds the app's lifecycle
    and the route table that joins them.
    """

    # -- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._api_middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
        if self.internal_errors and exc_info[0] is None:
            raise RuntimeError("the fake Discord failed internally:\n" + "\n".join(self.internal_errors))

    async def close(self) -> None:
        self._answering.set()  # let whatever hangs on a silent fake end, so the server can shut down
        for connection in list(self._connections):
            if isinstance(connection.transport, asyncio.ReadTransport) and not connection.transport.is_closing():
                connection.transport.resume_reading()
            await connection.close(1001, "fake Discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- routing -----------------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        """Ids must be digits (anything else falls through to the recorded 404), as snowflakes are."""
        webhook_message = r"/webhooks/{app_id:\d+}/{token}/messages/{message_id:(?:\d+|@original)}"
        api: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", r"/users/{user_id:\d+}", self._get_user),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", r"/applications/{app_id:\d+}/commands", self._get_commands),
            ("PUT", r"/applications/{app_id:\d+}/commands", self._put_commands),
            ("GET", r"/applications/{app_id:\d+}/guilds/{guild_id:\d+}/commands", self._get_commands),
            ("PUT", r"/applications/{app_id:\d+}/guilds/{guild_id:\d+}/commands", self._put_commands),
            ("GET", r"/channels/{channel_id:\d+}", self._get_channel),
            ("POST", r"/channels/{channel_id:\d+}/typing", self._post_typing),
            ("GET", r"/channels/{channel_id:\d+}/messages", self._get_messages),
            ("POST", r"/channels/{channel_id:\d+}/messages", self._post_message),
            ("GET", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._get_message),
            ("PATCH", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._patch_message),
            ("DELETE", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}", self._delete_message),
            ("POST", r"/channels/{channel_id:\d+}/messages/{message_id:\d+}/threads", self._start_thread),
            ("GET", r"/guilds/{guild_id:\d+}", self._get_guild),
            ("GET", r"/guilds/{guild_id:\d+}/channels", self._get_guild_channels),
            ("GET", r"/guilds/{guild_id:\d+}/members/{user_id:\d+}", self._get_member),
            ("POST", r"/interactions/{interaction_id:\d+}/{token}/callback", self._post_callback),
            ("POST", r"/webhooks/{app_id:\d+}/{token}", self._post_followup),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._patch_webhook_message),
            ("DELETE", webhook_message, self._delete_webhook_message),
        ]
        for method, path, handler in api:
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_get(r"/attachments/{attachment_id:\d+}/{filename}", self._get_attachment)
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)


# --------------------------------------------------------------------------------------------------
# Running a real client against the fake.
# --------------------------------------------------------------------------------------------------

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def connected_client(
    client: ClientT, fake: FakeDiscord, *, token: str | None = None, ready_timeout: float = 10.0
) -> AsyncIterator[ClientT]:
    """Point discord.py at `fake`, log `client` in, run its gateway loop and yield once on_ready fired;
    close it on exit (re-raising anything its gateway loop raised) and restore discord.py's addresses.

    Give the client a short `guild_ready_timeout` (e.g. 0.05): discord.py waits that long after the
    last GUILD_CREATE before on_ready. `token` overrides `fake.token`, to test a wrong one."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(fake.api_base, fake.gateway_url)
    try:
        try:
            await client.login(fake.token if token is None else token)
        except BaseException:
            await client.close()
            raise
        runner = asyncio.create_task(client.connect(reconnect=True), name="discord-client-gateway")
        ready = asyncio.create_task(client.wait_until_ready(), name="discord-client-ready")
        try:
            done, _ = await asyncio.wait({runner, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
            if ready not in done:
                ready.cancel()
                if runner in done:
                    runner.result()
                raise TimeoutError(f"the client was not ready within {ready_timeout}s")
            yield client
        finally:
            ready.cancel()
            await client.close()
            await runner
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
