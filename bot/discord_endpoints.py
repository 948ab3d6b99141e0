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

from urllib.parse import urlsplit

import discord.gateway
import discord.http
import yarl

_API_SCHEMES = ("http", "https")
_GATEWAY_SCHEMES = ("ws", "wss")


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST calls to `api_base` and its gateway websocket to `gateway_url`.

    `api_base` includes the API version, e.g. `http://127.0.0.1:8080/api/v10`. `None` leaves
    that address as it is, so production passes `None, None` and talks to Discord. Call this
    before the client logs in, and after any `discord.http._set_api_version`, which resets
    `Route.BASE`.
    """
    if api_base is not None:
        discord.http.Route.BASE = _checked_url(api_base, _API_SCHEMES, "Discord API base")
    if gateway_url is not None:
        checked = _checked_url(gateway_url, _GATEWAY_SCHEMES, "Discord gateway URL")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(checked)


def _checked_url(url: str, schemes: tuple[str, ...], what: str) -> str:
    """Refuse a URL the client could not use, naming the setting rather than failing mid-login."""
    parts = urlsplit(url.strip())
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"{what} must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
    return url.strip().rstrip("/")
