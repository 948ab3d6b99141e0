"""JSON shapes shared by REST and the gateway: the exact `application/json` reply, users, optional ids."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.testing.discord.specs import MemberSpec


def json_response(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON reply whose Content-Type is exactly `application/json`.

    aiohttp's own `json_response` appends `; charset=utf-8`, and discord.py only parses bodies whose
    content type equals `application/json`, treating anything else as text."""
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    return web.Response(body=json.dumps(body).encode("utf-8"), status=status, headers=all_headers)


def _user_payload(member: MemberSpec) -> dict[str, Any]:
    return {
        "id": str(member.id),
        "username": member.name,
        "discriminator": "0",
        "global_name": member.name,
        "avatar": None,
        "bot": member.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
