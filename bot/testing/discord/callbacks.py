"""The bot's answers to interactions: `POST /interactions/{id}/{token}/callback` and the webhook routes for
follow-ups and the original response, with Discord's rules for which answer fits which interaction."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.testing.discord.payloads import _opt_str, json_response
from bot.testing.discord.records import InteractionCallback, InteractionRecord, StoredAttachment, StoredMessage
from bot.testing.discord.rest import RestApi
from bot.testing.discord.specs import (
    _MESSAGE_TYPE_CHAT_INPUT,
    _SENDABLE_MESSAGE_FLAGS,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    CallbackType,
    ErrorCode,
    Intent,
    InteractionType,
)
from bot.testing.discord.validation import (
    DiscordError,
    _choice_errors,
    _message_errors,
    _modal_errors,
    _raise_form_errors,
    _unknown,
)


class InteractionCallbacks(RestApi):
    """REST handlers for what the bot sends back to an interaction."""

    def _record_for_token(self, interaction_id: int, token: str) -> InteractionRecord:
        record = self.interactions.get(interaction_id)
        if record is None or record.token != token:
            raise _unknown(ErrorCode.UNKNOWN_INTERACTION, "interaction")
        return record

    def _record_for_webhook(self, request: web.Request) -> InteractionRecord:
        token = request.match_info["token"]
        record = next((r for r in self.interactions.values() if r.token == token), None)
        if int(request.match_info["app_id"]) != self.application_id or record is None:
            raise _unknown(ErrorCode.UNKNOWN_WEBHOOK, "Webhook")
        if record.callback is None:
            raise _unknown(ErrorCode.UNKNOWN_WEBHOOK, "Webhook")
        return record

    def _interaction_message(
        self, record: InteractionRecord, payload: Mapping[str, Any], attachments: list[StoredAttachment]
    ) -> StoredMessage:
        message = self._new_message(
            payload,
            attachments,
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            flags_allowed=_SENDABLE_MESSAGE_FLAGS | EPHEMERAL_FLAG,
        )
        message.webhook_id = self.application_id
        message.interaction_id = record.id
        message.type = _MESSAGE_TYPE_CHAT_INPUT if record.type == InteractionType.APPLICATION_COMMAND else 0
        user = (record.member or {}).get("user") or self.bot_user
        message.interaction_metadata = {
            "id": str(record.id),
            "type": record.type,
            "user": user,
            "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
        }
        guild = self.guilds.get(record.guild_id) if record.guild_id else None
        self._mentions(message, guild)
        self.messages[message.id] = message
        return message

    async def _post_callback(self, request: web.Request) -> web.Response:
        record = self._record_for_token(int(request.match_info["interaction_id"]), request.match_info["token"])
        received_at = time.perf_counter()
        if record.callback is not None:
            raise DiscordError(400, ErrorCode.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        payload, files = await self._read_object(request)
        kind = int(payload.get("type", 0))
        data = payload.get("data") or {}
        message = await self._apply_callback(record, kind, data, files)
        record.callback = InteractionCallback(
            type=kind,
            data=data,
            files=[a for _, a in files],
            received_at=received_at,
            latency=received_at - record.dispatched_at,
            message=message,
        )
        if "with_response" not in request.query or request.query["with_response"] in ("0", "false"):
            return web.Response(status=204)
        body: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_id": _opt_str(message.id if message else None),
                "response_message_loading": kind == CallbackType.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if message is not None:
            body["resource"] = {"type": kind, "message": self._message_payload(message)}
        return json_response(body)

    async def _apply_callback(
        self, record: InteractionRecord, kind: int, data: Mapping[str, Any], files: list[tuple[int, StoredAttachment]]
    ) -> StoredMessage | None:
        """Validate the callback for this interaction type and create or update the message it implies."""
        on_message = "message" in record.payload
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7} if on_message else {4, 5},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.PING: {1},
        }[InteractionType(record.type)]
        if kind not in allowed:
            _raise_form_errors({"type": f"Response type {kind} is invalid for interaction type {record.type}"})
        if kind == CallbackType.CHANNEL_MESSAGE:
            _raise_form_errors(_message_errors(data))
            if not any(data.get(k) for k in ("content", "embeds", "components", "poll")) and not files:
                raise DiscordError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")
            message = self._interaction_message(record, data, self._attachments_for(data, files))
            record.original_message_id = message.id
            await self._announce_message("MESSAGE_CREATE", message)
            return message
        if kind == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            message = self._interaction_message(record, {"flags": int(data.get("flags") or 0) & EPHEMERAL_FLAG}, [])
            message.flags |= LOADING_FLAG
            record.original_message_id = message.id
            await self._announce_message("MESSAGE_CREATE", message)
            return message
        if kind in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            message = self.message(int(record.payload["message"]["id"]))
            record.original_message_id = message.id
            if kind == CallbackType.UPDATE_MESSAGE:
                _raise_form_errors(_message_errors(data))
                self._apply_edit(message, data, files)
                await self._announce_message("MESSAGE_UPDATE", message)
            return message
        if kind == CallbackType.AUTOCOMPLETE_RESULT:
            _raise_form_errors(_choice_errors(data))
        if kind == CallbackType.MODAL:
            _raise_form_errors(_modal_errors(data))
        return None

    async def _post_followup(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        payload, files = await self._read_object(request)
        _raise_form_errors(_message_errors(payload))
        if not any(payload.get(k) for k in ("content", "embeds", "components", "poll")) and not files:
            raise DiscordError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")
        message = self._interaction_message(record, payload, self._attachments_for(payload, files))
        record.followup_ids.append(message.id)
        await self._announce_message("MESSAGE_CREATE", message)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self._message_payload(message))
        return web.Response(status=204)

    def _webhook_message(self, record: InteractionRecord, message_ref: str) -> StoredMessage:
        message_id = record.original_message_id if message_ref == "@original" else int(message_ref)
        ours = message_id is not None and message_id in (record.original_message_id, *record.followup_ids)
        message = self.messages.get(message_id) if ours and message_id is not None else None
        if message is None or message.deleted:
            raise _unknown(ErrorCode.UNKNOWN_MESSAGE, "Message")
        return message

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        return json_response(self._message_payload(self._webhook_message(record, request.match_info["message_id"])))

    async def _patch_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        payload, files = await self._read_object(request)
        _raise_form_errors(_message_errors(payload))
        self._apply_edit(message, payload, files)
        await self._announce_message("MESSAGE_UPDATE", message)
        return json_response(self._message_payload(message))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._record_for_webhook(request)
        message = self._webhook_message(record, request.match_info["message_id"])
        message.deleted = True
        if not message.ephemeral and message.guild_id is not None:
            event = {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(message.guild_id)}
            await self._dispatch_guild_event(message.guild_id, "MESSAGE_DELETE", event, Intent.GUILD_MESSAGES)
        return web.Response(status=204)
