"""Where discord.py sends its traffic: Discord itself, or a stand-in such as the fake on 127.0.0.1.

discord.py 2.7 has exactly two process-wide addresses, both class attributes:

- `discord.http.Route.BASE` prefixes every REST call, including the interaction callbacks and
  webhook follow-ups (`discord/webhook/async_.py` builds its routes with the same `Route`).
- `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` is where `Client.connect` opens the websocket.
  It never asks `GET /gateway/bot` (only `AutoShardedClient` does, and then uses the answer's `url`).
  Resumes go to the `resume_gateway_url` of the READY event; an invalidated session falls back
  to `DEFAULT_GATEWAY`.

So pointing both at another server is all a bot needs to run end to end without discord.com.
"""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl

from bot.settings import HTTP_SCHEMES, WEBSOCKET_SCHEMES, checked_url


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST calls to `api_base` and its gateway websocket to `gateway_url`.

    `api_base` includes the API version, e.g. `http://127.0.0.1:8080/api/v10`. `None` leaves
    that address as it is, so production passes `None, None` and talks to Discord. Call this
    before the client logs in, and after any `discord.http._set_api_version`, which resets
    `Route.BASE`. Both are checked before either is set, so a refused address changes nothing.
    """
    checked_base = _checked(api_base, HTTP_SCHEMES, "Discord API base")
    checked_gateway = _checked(gateway_url, WEBSOCKET_SCHEMES, "Discord gateway URL")
    if checked_base is not None:
        discord.http.Route.BASE = checked_base
    if checked_gateway is not None:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(checked_gateway)


def _checked(url: str | None, schemes: tuple[str, ...], what: str) -> str | None:
    """The settings' URL rule, with the address named: a caller other than the settings (a test's fake) gets the
    same refusal, and it says which of the two addresses is wrong."""
    if url is None:
        return None
    try:
        return checked_url(url, schemes)
    except ValueError as error:
        raise ValueError(f"{what} {error}") from None
