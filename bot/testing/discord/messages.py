"""Messages as the fake stores them: created, edited, their mentions and attachments, their JSON shape,
and the guild events (MESSAGE_*, CHANNEL_DELETE) sent to the sessions whose intents and shard ask for them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.testing.discord.guild import _Guild
from bot.testing.discord.payloads import _user_payload
from bot.testing.discord.records import StoredAttachment, StoredMessage
from bot.testing.discord.specs import (
    _SENDABLE_MESSAGE_FLAGS,
    COMPONENTS_V2_FLAG,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    Intent,
    MemberSpec,
    _iso,
    _now,
    new_snowflake,
)
from bot.testing.discord.state import FakeState

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


class MessageStore(FakeState):
    """Creating, editing, shaping and announcing messages, for the REST handlers and for tests."""

    async def post_user_message(self, channel_id: int, member: MemberSpec, content: str) -> StoredMessage:
        """A member writes in a channel: stored, and MESSAGE_CREATE goes to the bot (content only with
        the MESSAGE_CONTENT intent or when the bot is mentioned, as on Discord)."""
        guild, channel = self._guild_channel(channel_id)
        guild.add_member(member)
        message = StoredMessage(
            id=new_snowflake(), channel_id=channel.id, guild_id=guild.id, author=_user_payload(member), content=content
        )
        self._mentions(message, guild)
        self.messages[message.id] = message
        await self._announce_message("MESSAGE_CREATE", message)
        self._notify()
        return message

    @staticmethod
    def _attachments_for(
        payload: Mapping[str, Any], files: list[tuple[int, StoredAttachment]], existing: Sequence[StoredAttachment] = ()
    ) -> list[StoredAttachment]:
        """Kept attachments (listed by id) plus uploads, described by `attachments[]` entries with their index."""
        described = {str(a.get("id")): a for a in payload.get("attachments") or []}
        for index, attachment in files:
            meta = described.get(str(index), {})
            attachment.description = meta.get("description")
            attachment.filename = meta.get("filename") or attachment.filename
        uploads = [a for _, a in files]
        if "attachments" not in payload:
            return [*existing, *uploads]
        kept = [a for a in existing if str(a.id) in described]
        return [*kept, *uploads]

    def _mentions(self, message: StoredMessage, guild: _Guild | None) -> None:
        """Who the message actually pings, applying `allowed_mentions` the way Discord does."""
        allowed = message.allowed_mentions
        parse = set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
        allowed_users = {int(u) for u in (allowed or {}).get("users", [])}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles", [])}
        users = [int(u) for u in _USER_MENTION.findall(message.content)]
        message.mentioned_user_ids = list(dict.fromkeys(u for u in users if "users" in parse or u in allowed_users))
        roles = [int(r) for r in _ROLE_MENTION.findall(message.content)]
        message.mentioned_role_ids = list(dict.fromkeys(r for r in roles if "roles" in parse or r in allowed_roles))
        message.mention_everyone = bool(_EVERYONE_MENTION.search(message.content)) and "everyone" in parse
        reference = message.message_reference
        if reference and (allowed is None or allowed.get("replied_user")):
            replied = self.messages.get(int(reference["message_id"]))
            if replied is not None and replied.author_id not in message.mentioned_user_ids:
                message.mentioned_user_ids.append(replied.author_id)

    def _message_payload(self, message: StoredMessage, *, for_gateway: bool = False, depth: int = 0) -> dict[str, Any]:
        guild = self.guilds.get(message.guild_id) if message.guild_id else None
        mentions = []
        for user_id in message.mentioned_user_ids:
            member = guild.members.get(user_id) if guild else None
            if guild is not None and member is not None:
                mentions.append({**_user_payload(member), "member": guild.member_payload(member, with_user=False)})
        payload: dict[str, Any] = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": message.type,
            "content": message.content,
            "author": message.author,
            "timestamp": _iso(message.created_at),
            "edited_timestamp": _iso(message.edited_at),
            "tts": message.tts,
            "mention_everyone": message.mention_everyone,
            "mentions": mentions,
            "mention_roles": [str(r) for r in message.mentioned_role_ids],
            "attachments": [self._attachment_payload(a) for a in message.attachments],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": False,
            "flags": message.flags,
        }
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(self.application_id)
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        if message.message_reference is not None:
            payload["message_reference"] = message.message_reference
            referenced = self.messages.get(int(message.message_reference["message_id"]))
            shown = referenced is not None and not referenced.deleted and depth == 0
            payload["referenced_message"] = (
                self._message_payload(referenced, depth=1) if shown and referenced is not None else None
            )
        if for_gateway and guild is not None and message.webhook_id is None:
            author = guild.members.get(message.author_id)
            if author is not None:
                payload["member"] = guild.member_payload(author, with_user=False)
        return payload

    def _attachment_payload(self, attachment: StoredAttachment) -> dict[str, Any]:
        url = f"{self.base_url}/attachments/{attachment.id}/{attachment.filename}"
        payload = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": len(attachment.data),
            "url": url,
            "proxy_url": url,
            "content_type": attachment.content_type,
        }
        if attachment.description:
            payload["description"] = attachment.description
        return payload

    async def _dispatch_guild_event(self, guild_id: int | None, event: str, data: Any, intent: int) -> None:
        for session in list(self._sessions.values()):
            if session.live and session.intents & intent and session.covers(guild_id):
                await session.dispatch(event, data)

    async def _announce_message(self, event: str, message: StoredMessage) -> None:
        """MESSAGE_CREATE/UPDATE to sessions with GUILD_MESSAGES; content stripped without MESSAGE_CONTENT."""
        if message.ephemeral:
            return
        payload = self._message_payload(message, for_gateway=True)
        bot_id = int(self.bot_user["id"])
        keeps_content = message.author_id == bot_id or bot_id in message.mentioned_user_ids
        for session in list(self._sessions.values()):
            if not (session.live and session.intents & Intent.GUILD_MESSAGES and session.covers(message.guild_id)):
                continue
            data = payload
            if not keeps_content and not session.intents & Intent.MESSAGE_CONTENT:
                data = {**payload, "content": "", "embeds": [], "attachments": [], "components": []}
            await session.dispatch(event, data)

    def _new_message(
        self,
        payload: Mapping[str, Any],
        attachments: list[StoredAttachment],
        *,
        channel_id: int,
        guild_id: int | None,
        flags_allowed: int,
    ) -> StoredMessage:
        message = StoredMessage(
            id=new_snowflake(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=self.bot_user,
            content=payload.get("content") or "",
            embeds=[{"type": "rich", **e} for e in payload.get("embeds") or []],
            components=list(payload.get("components") or []),
            attachments=attachments,
            allowed_mentions=payload.get("allowed_mentions"),
            flags=int(payload.get("flags") or 0) & flags_allowed,
            tts=bool(payload.get("tts", False)),
            nonce=payload.get("nonce"),
        )
        return message

    def _apply_edit(
        self, message: StoredMessage, payload: Mapping[str, Any], files: list[tuple[int, StoredAttachment]]
    ) -> None:
        message.history.append(message.snapshot())
        if "content" in payload:
            message.content = payload["content"] or ""
        if "embeds" in payload:
            message.embeds = [{"type": "rich", **e} for e in payload["embeds"] or []]
        if "components" in payload:
            message.components = list(payload["components"] or [])
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload["allowed_mentions"]
        if "flags" in payload and payload["flags"] is not None:
            fixed = message.flags & (EPHEMERAL_FLAG | COMPONENTS_V2_FLAG)
            message.flags = fixed | (int(payload["flags"]) & _SENDABLE_MESSAGE_FLAGS)
        if "attachments" in payload or files:
            message.attachments = self._attachments_for(payload, files, message.attachments)
        message.flags &= ~LOADING_FLAG
        message.edited_at = _now()
