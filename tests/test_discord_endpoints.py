"""`point_discord_at` checks its addresses with the settings' own URL rule, naming which address is wrong."""

from __future__ import annotations

import discord.gateway
import discord.http
import pytest

from bot.discord_endpoints import point_discord_at


@pytest.fixture
def saved_addresses():
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.mark.parametrize(
    ("api_base", "gateway_url", "message"),
    [
        ("ftp://127.0.0.1/api/v10", None, "^Discord API base must be a http:// or https:// URL with a host$"),
        ("http://user:secret@127.0.0.1/api/v10", None, "^Discord API base must not carry credentials"),
        (None, "http://127.0.0.1:1", "^Discord gateway URL must be a ws:// or wss:// URL with a host$"),
        (None, "ws://127.0.0.1:99999", "^Discord gateway URL is not a URL"),
    ],
)
def test_a_bad_address_is_refused_in_one_line_and_nothing_changes(saved_addresses, api_base, gateway_url, message):
    before = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with pytest.raises(ValueError, match=message) as refused:
        point_discord_at(api_base, gateway_url)
    assert "secret" not in str(refused.value)
    assert (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == before


def test_good_addresses_lose_their_trailing_slash(saved_addresses):
    point_discord_at("http://127.0.0.1:1/api/v10/", "ws://127.0.0.1:2/")
    assert discord.http.Route.BASE == "http://127.0.0.1:1/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:2"
