"""The REST API's handlers (users, application, commands, channels, messages, guilds, attachments) and the
middleware every API request passes: recording, injected faults, auth, Discord's errors, rate-limit headers."""

from __future__ import annotations

import copy
import hashlib
import logging
import mimetypes
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import BodyPartReader, web

from bot.testing.discord.faults import FaultInjection
from bot.testing.discord.guild import _Guild
from bot.testing.discord.payloads import _user_payload, json_response
from bot.testing.discord.records import CommandSync, RecordedRequest, StoredAttachment, StoredMessage
from bot.testing.discord.specs import (
    _MESSAGE_TYPE_REPLY,
    _SENDABLE_MESSAGE_FLAGS,
    _TEXT_CHANNEL_TYPES,
    API_PREFIX,
    ChannelSpec,
    ChannelType,
    ErrorCode,
    Intent,
    MemberSpec,
    Permission,
    _iso,
    _now,
    new_snowflake,
)
from bot.testing.discord.validation import (
    DiscordError,
    _command_errors,
    _message_errors,
    _missing_permissions,
    _parse_json,
    _raise_form_errors,
    _unknown,
)

_log = logging.getLogger(__name__)
_RECORD = web.RequestKey("record", RecordedRequest)


class RestApi(FaultInjection):
    """The REST side of the fake; `FakeDiscord._add_routes` maps each route to a handler here."""

    @web.middleware
    async def _api_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        await self._until_answering()
        path = request.path[len(API_PREFIX) :]
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else ""
        template = canonical[len(API_PREFIX) :] if canonical.startswith(API_PREFIX) else None
        record = RecordedRequest(request.method, path, dict(request.query), template, time.perf_counter())
        self.requests.append(record)
        request[_RECORD] = record
        try:
            response: web.StreamResponse | None = self._injected_fault(
                request.method, path
            ) or self._refuse_unauthorised(request, path)
            if response is None:
                response = await handler(request)
        except DiscordError as error:
            response = error.response()
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            _log.exception("fake Discord failed on %s %s", request.method, path)
            response = json_response({"message": "500: Internal Server Error (fake)", "code": 0}, status=500)
        record.status = response.status
        if response.status != 429:
            self._add_rate_limit_headers(response, request.method, template or path)
        self._notify()
        return response

    def _refuse_unauthorised(self, request: web.Request, path: str) -> web.Response | None:
        if path.startswith(("/interactions/", "/webhooks/")) or path == "/gateway":
            return None
        if request.headers.get("Authorization") == f"Bot {self.token}":
            return None
        return json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    @staticmethod
    def _add_rate_limit_headers(response: web.StreamResponse, method: str, route: str) -> None:
        bucket = hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]
        response.headers.update(
            {
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "49",
                "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                "X-RateLimit-Reset-After": "1.000",
            }
        )

    async def _unknown_route(self, request: web.Request) -> web.Response:
        if _RECORD not in request:  # outside the API prefix (a wrong API version, say): keep its full path
            query = dict(request.query)
            self.requests.append(RecordedRequest(request.method, request.path, query, None, time.perf_counter(), 404))
            self._notify()
        return json_response({"message": "404: Not Found", "code": 0}, status=404)

    # -- helpers for handlers ----------------------------------------------------------------------

    def _require_bot_permission(self, guild: _Guild, channel: ChannelSpec, needed: int) -> int:
        granted = guild.permissions_in(channel, guild.bot_member)
        if not granted & Permission.VIEW_CHANNEL:
            raise DiscordError(403, ErrorCode.MISSING_ACCESS, "Missing Access")
        if granted & needed != needed:
            raise _missing_permissions()
        return granted

    async def _read_payload(self, request: web.Request) -> tuple[Any, list[tuple[int, StoredAttachment]]]:
        """A JSON body, or multipart `payload_json` + `files[n]`; files come back with their index n."""
        files: list[tuple[int, StoredAttachment]] = []
        if request.content_type == "multipart/form-data":
            payload: Any = {}
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, BodyPartReader), "discord.py never nests multipart bodies"
                if part.name == "payload_json":
                    payload = _parse_json(await part.read())
                elif part.filename is not None:
                    index = int(re.sub(r"\D", "", part.name or "") or len(files))
                    guessed = mimetypes.guess_type(part.filename)[0] or "application/octet-stream"
                    attachment = StoredAttachment(new_snowflake(), part.filename, bytes(await part.read()), guessed)
                    files.append((index, attachment))
        else:
            raw = await request.read()
            payload = _parse_json(raw) if raw else {}
        record = request[_RECORD]
        record.body = payload
        record.file_names = [a.filename for _, a in files]
        return payload, files

    async def _read_object(self, request: web.Request) -> tuple[dict[str, Any], list[tuple[int, StoredAttachment]]]:
        payload, files = await self._read_payload(request)
        if not isinstance(payload, dict):
            _raise_form_errors({"_root": "Must be a JSON object."})
        return payload, files

    # -- REST: users, application, gateway ---------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.bot_user, "verified": True, "mfa_enabled": True, "locale": "en-US", "email": None})

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        for guild in self.guilds.values():
            if user_id in guild.members:
                return json_response(_user_payload(guild.members[user_id]))
        raise _unknown(ErrorCode.UNKNOWN_USER, "User")

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": False,
                "bot_require_code_grant": False,
                "bot": self.bot_user,
                "owner": _user_payload(MemberSpec("fake-owner", id=self.application_id - 1)),
                "team": None,
                "verify_key": hashlib.sha256(str(self.application_id).encode()).hexdigest(),
                "flags": self.application_flags,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # -- REST: application commands ----------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != self.application_id:
            raise _unknown(ErrorCode.UNKNOWN_APPLICATION, "Application")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        return self._guild(int(guild_id)).id

    async def _get_commands(self, request: web.Request) -> web.Response:
        return json_response(self._commands.get(self._command_scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        payload, _ = await self._read_payload(request)
        _raise_form_errors(_command_errors(payload))
        stored = []
        for command in payload:
            kind = int(command.get("type", 1))
            key = (scope, command["name"], kind)
            command_id = self._command_ids.setdefault(key, new_snowflake())
            stored.append(
                {
                    "default_member_permissions": None,
                    "contexts": None,
                    "integration_types": None,
                    "nsfw": False,
                    "options": [],
                    "description": "",
                    **command,
                    "type": kind,
                    "id": str(command_id),
                    "application_id": str(self.application_id),
                    "version": str(new_snowflake()),
                    **({"guild_id": str(scope)} if scope is not None else {}),
                }
            )
        self._commands[scope] = stored
        self.command_syncs.append(CommandSync(scope, copy.deepcopy(payload), time.perf_counter()))
        return json_response(stored)

    # -- REST: channels and messages ---------------------------------------------------------------

    async def _get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        return json_response(guild.channel_payload(channel))

    async def _post_typing(self, request: web.Request) -> web.Response:
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        self._require_bot_permission(guild, channel, Permission.SEND_MESSAGES)
        return web.Response(status=204)

    async def _get_messages(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._guild_channel(channel_id)
        self._require_bot_permission(guild, channel, Permission.READ_MESSAGE_HISTORY)
        limit = min(100, max(1, int(request.query.get("limit", 50))))
        messages = self.channel_messages(channel_id)
        if "before" in request.query:
            messages = [m for m in messages if m.id < int(request.query["before"])]
        if "after" in request.query:
            messages = [m for m in messages if m.id > int(request.query["after"])][:limit]
        newest_first = list(reversed(messages))[:limit]
        return json_response([self._message_payload(m) for m in newest_first])

    async def _start_thread(self, request: web.Request) -> web.Response:
        """A public thread on a message (Create Public Threads); the message records it in `thread_id`."""
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        self._require_bot_permission(guild, channel, Permission.CREATE_PUBLIC_THREADS)
        message = self._channel_message(channel.id, int(request.match_info["message_id"]))
        payload, _ = await self._read_object(request)
        name = payload.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            _raise_form_errors({"name": "Must be between 1 and 100 in length."})
        if message.thread_id is not None:
            raise DiscordError(
                400, ErrorCode.THREAD_ALREADY_CREATED, "A thread has already been created for this message"
            )
        thread = ChannelSpec(str(name), type=ChannelType.PUBLIC_THREAD, parent_id=channel.id)
        guild.spec.channels.append(thread)
        message.thread_id = thread.id
        self._notify()
        return json_response(
            {
                **guild.channel_payload(thread),
                "owner_id": self.bot_user["id"],
                "message_count": 0,
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": int(payload.get("auto_archive_duration") or 4320),
                    "archive_timestamp": _iso(_now()),
                    "locked": False,
                },
            }
        )

    async def _post_message(self, request: web.Request) -> web.Response:
        guild, channel = self._guild_channel(int(request.match_info["channel_id"]))
        if channel.type not in _TEXT_CHANNEL_TYPES:
            raise DiscordError(400, ErrorCode.NON_TEXT_CHANNEL, "Cannot send messages in a non-text channel")
        granted = self._require_bot_permission(guild, channel, Permission.SEND_MESSAGES)
        payload, files = await self._read_object(request)
        if files and not granted & Permission.ATTACH_FILES:
            raise _missing_permissions()
        _raise_form_errors(_message_errors(payload))
        if not any(payload.get(k) for k in ("content", "embeds", "components", "sticker_ids", "poll")) and not files:
            raise DiscordError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")
        repeat = self._enforced_nonce_repeat(payload, channel.id)
        if repeat is not None:
            return json_response(self._message_payload(repeat))
        reference = self._checked_reference(payload.get("message_reference"), channel.id, guild.id)
        message = self._new_message(
            payload,
            self._attachments_for(payload, files),
            channel_id=channel.id,
            guild_id=guild.id,
            flags_allowed=_SENDABLE_MESSAGE_FLAGS,
        )
        if not granted & Permission.EMBED_LINKS:
            message.embeds = []
        if reference is not None:
            message.message_reference = reference
            message.type = _MESSAGE_TYPE_REPLY
        self._mentions(message, guild)
        self.messages[message.id] = message
        await self._announce_message("MESSAGE_CREATE", message)
        return json_response(self._message_payload(message))

    def _enforced_nonce_repeat(self, payload: Mapping[str, Any], channel_id: int) -> StoredMessage | None:
        """Discord answers a repeated post with `enforce_nonce` with the message it already created."""
        nonce = payload.get("nonce")
        if nonce is None or not payload.get("enforce_nonce"):
            return None
        return next(
            (
                message
                for message in self.messages.values()
                if message.channel_id == channel_id
                and message.nonce == nonce
                and not message.deleted
                and int(message.author["id"]) == self.bot.id
            ),
            None,
        )

    def _checked_reference(
        self, reference: Mapping[str, Any] | None, channel_id: int, guild_id: int
    ) -> dict[str, Any] | None:
        if not reference:
            return None
        message_id = int(reference["message_id"])
        target = self.messages.get(message_id)
        if target is None or target.deleted or target.channel_id != int(reference.get("channel_id") or channel_id):
            if reference.get("fail_if_not_exists", True):
                raise DiscordError(
                    400,
                    ErrorCode.INVALID_FORM_BODY,
                    "Invalid Form Body",
                    {"message_reference": "Unknown message"},
                )
            return None
        return {
            "type": 0,
            "message_id": str(message_id),
            "channel_id": str(target.channel_id),
            "guild_id": str(guild_id),
        }

    async def _get_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._guild_channel(channel_id)
        self._require_bot_permission(guild, channel, Permission.READ_MESSAGE_HISTORY)
        message = self._channel_message(channel_id, int(request.match_info["message_id"]))
        return json_response(self._message_payload(message))

    async def _patch_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        message = self._channel_message(channel_id, int(request.match_info["message_id"]))
        payload, files = await self._read_object(request)
        if message.author_id != self.bot.id or message.webhook_id is not None:
            raise DiscordError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit another user's message")
        _raise_form_errors(_message_errors(payload))
        self._apply_edit(message, payload, files)
        await self._announce_message("MESSAGE_UPDATE", message)
        return json_response(self._message_payload(message))

    async def _delete_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        guild, channel = self._guild_channel(channel_id)
        message = self._channel_message(channel_id, int(request.match_info["message_id"]))
        if message.author_id != self.bot.id:
            self._require_bot_permission(guild, channel, Permission.MANAGE_MESSAGES)
        message.deleted = True
        event = {"id": str(message.id), "channel_id": str(channel_id), "guild_id": str(guild.id)}
        await self._dispatch_guild_event(guild.id, "MESSAGE_DELETE", event, Intent.GUILD_MESSAGES)
        return web.Response(status=204)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        attachment_id = int(request.match_info["attachment_id"])
        for message in self.messages.values():
            for attachment in message.attachments:
                if attachment.id == attachment_id:
                    return web.Response(body=attachment.data, headers={"Content-Type": attachment.content_type})
        return web.Response(status=404)

    # -- REST: guilds ------------------------------------------------------------------------------

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(int(request.match_info["guild_id"]))
        payload = guild.payload()
        if request.query.get("with_counts") in ("true", "1", "True"):
            payload.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(int(request.match_info["guild_id"]))
        return json_response([guild.channel_payload(c) for c in guild.channels])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(int(request.match_info["guild_id"]))
        member = guild.members.get(int(request.match_info["user_id"]))
        if member is None:
            raise _unknown(ErrorCode.UNKNOWN_MEMBER, "Member")
        return json_response(guild.member_payload(member))
