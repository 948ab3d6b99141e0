"""Guild state: the configured spec plus the bot's own member and managed role, Discord's permission
arithmetic, and the guild, channel, role and member payloads built from them."""

from __future__ import annotations

import copy
from typing import Any

from bot.testing.discord.payloads import _opt_str, _user_payload
from bot.testing.discord.specs import (
    ALL_PERMISSIONS,
    ChannelSpec,
    GuildSpec,
    Intent,
    MemberSpec,
    Permission,
    RoleSpec,
    _iso,
    _now,
    new_snowflake,
)


class _Guild:
    """One guild as the fake holds it: a private copy of the spec plus the bot's member and managed role."""

    def __init__(self, spec: GuildSpec, bot_user: dict[str, Any]) -> None:
        self.spec = copy.deepcopy(spec)
        self.id = spec.id
        self.joined_at = _now()
        self.owner_id = spec.owner_id or (spec.members[0].id if spec.members else new_snowflake())
        self.bot_user = bot_user
        self.bot_role = RoleSpec(bot_user["username"], permissions=spec.bot_permissions, managed=True)
        self.personal_roles: dict[int, RoleSpec] = {}
        self.members: dict[int, MemberSpec] = {}
        self.bot_member = MemberSpec(bot_user["username"], id=int(bot_user["id"]), bot=True, roles=(self.bot_role.id,))
        self.add_member(self.bot_member)
        for member in self.spec.members:
            self.add_member(member)

    def add_member(self, member: MemberSpec) -> None:
        if member.permissions is not None and member.id not in self.personal_roles:
            self.personal_roles[member.id] = RoleSpec(f"{member.name} permissions", permissions=member.permissions)
        self.members[member.id] = member

    @property
    def channels(self) -> list[ChannelSpec]:
        return self.spec.channels

    def channel(self, channel_id: int) -> ChannelSpec | None:
        return next((c for c in self.spec.channels if c.id == channel_id), None)

    def roles(self) -> list[RoleSpec]:
        everyone = RoleSpec("@everyone", id=self.id, permissions=self.spec.everyone_permissions, position=0)
        return [everyone, *self.spec.roles, self.bot_role, *self.personal_roles.values()]

    def role(self, role_id: int) -> RoleSpec | None:
        return next((r for r in self.roles() if r.id == role_id), None)

    def member_role_ids(self, member: MemberSpec) -> list[int]:
        personal = self.personal_roles.get(member.id)
        return [*member.roles, *([personal.id] if personal else [])]

    def base_permissions(self, member: MemberSpec) -> int:
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        value = self.spec.everyone_permissions
        for role_id in self.member_role_ids(member):
            role = self.role(role_id)
            value |= role.permissions if role else 0
        return ALL_PERMISSIONS if value & Permission.ADMINISTRATOR else value

    def permissions_in(self, channel: ChannelSpec, member: MemberSpec) -> int:
        """Discord's algorithm: base, then @everyone, role and member overwrites; no view means nothing."""
        value = self.base_permissions(member)
        if value == ALL_PERMISSIONS:
            return value
        overwrites = {(o.type, o.id): o for o in channel.overwrites}
        everyone = overwrites.get(("role", self.id))
        if everyone:
            value = (value & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in self.member_role_ids(member):
            overwrite = overwrites.get(("role", role_id))
            if overwrite:
                allow, deny = allow | overwrite.allow, deny | overwrite.deny
        value = (value & ~deny) | allow
        own = overwrites.get(("member", member.id))
        if own:
            value = (value & ~own.deny) | own.allow
        return value if value & Permission.VIEW_CHANNEL else 0

    def channel_payload(self, channel: ChannelSpec) -> dict[str, Any]:
        return {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": str(self.id),
            "name": channel.name,
            "position": channel.position,
            "parent_id": _opt_str(channel.parent_id),
            "topic": channel.topic,
            "nsfw": channel.nsfw,
            "rate_limit_per_user": 0,
            "flags": 0,
            "last_message_id": None,
            "permission_overwrites": [
                {"id": str(o.id), "type": 0 if o.type == "role" else 1, "allow": str(o.allow), "deny": str(o.deny)}
                for o in channel.overwrites
            ],
        }

    def role_payload(self, role: RoleSpec) -> dict[str, Any]:
        return {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": role.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": role.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            **({"tags": {"bot_id": self.bot_user["id"]}} if role is self.bot_role else {}),
        }

    def member_payload(self, member: MemberSpec, *, with_user: bool = True) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.member_role_ids(member)],
            "joined_at": _iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = _user_payload(member)
        return payload

    def payload(self) -> dict[str, Any]:
        """The guild object of `GET /guilds/{id}` (no channels or members)."""
        return {
            "id": str(self.id),
            "name": self.spec.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": _opt_str(self.spec.system_channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [self.role_payload(r) for r in self.roles()],
            "max_members": 500000,
            "max_presences": None,
        }

    def create_event(self, intents: int) -> dict[str, Any]:
        """The GUILD_CREATE payload. Without GUILD_MEMBERS only the bot's own member is sent, like Discord."""
        members = list(self.members.values()) if intents & Intent.GUILD_MEMBERS else [self.bot_member]
        return {
            **self.payload(),
            "unavailable": False,
            "joined_at": _iso(self.joined_at),
            "large": False,
            "lazy": True,
            "member_count": len(self.members),
            "channels": [{k: v for k, v in self.channel_payload(c).items() if k != "guild_id"} for c in self.channels],
            "threads": [],
            "members": [self.member_payload(m) for m in members],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
