"""Interactions a test sends to the bot: builders for slash commands, autocomplete, component clicks and
modal submissions (checked against what the bot registered or sent), dispatch, and waits for the answer."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.testing.discord.guild import _Guild
from bot.testing.discord.messages import MessageStore
from bot.testing.discord.payloads import _opt_int, _user_payload
from bot.testing.discord.records import InteractionCallback, InteractionRecord, StoredMessage
from bot.testing.discord.specs import (
    _INPUT_TYPES,
    _SELECT_TYPES,
    CallbackType,
    ChannelArg,
    InteractionType,
    MemberSpec,
    OptionValue,
    RoleArg,
    UserArg,
    new_snowflake,
)
from bot.testing.discord.validation import _walk_components


class Interactions(MessageStore):
    """Building and sending interactions, and waiting for the bot's callback and follow-ups."""

    async def send_interaction(self, payload: dict[str, Any]) -> int:
        """Dispatch INTERACTION_CREATE to the connected bot; return the interaction id."""
        sessions = [s for s in self._sessions.values() if s.live and s.covers(_opt_int(payload.get("guild_id")))]
        if not sessions:
            raise RuntimeError("no bot is connected to the fake gateway")
        if int(payload["id"]) in self.interactions:
            raise ValueError(f"interaction {payload['id']} was already sent; build a new one")
        record = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            type=int(payload["type"]),
            payload=payload,
            dispatched_at=time.perf_counter(),
        )
        self.interactions[record.id] = record
        for session in sessions:
            await session.dispatch("INTERACTION_CREATE", payload)
        return record.id

    def build_command(
        self,
        command: str,
        *,
        guild_id: int,
        channel_id: int,
        member: MemberSpec,
        options: Mapping[str, OptionValue] | None = None,
    ) -> dict[str, Any]:
        """A slash command interaction; `command` is the path as typed, e.g. `"scout latest"`.

        If the command was synced, option types come from its definition and unknown or missing
        required options raise ValueError; otherwise they are inferred from the Python values."""
        return self._command_interaction(
            InteractionType.APPLICATION_COMMAND, command, guild_id, channel_id, member, options or {}, focused=None
        )

    def build_autocomplete(
        self,
        command: str,
        *,
        focused: str,
        value: str,
        guild_id: int,
        channel_id: int,
        member: MemberSpec,
        options: Mapping[str, OptionValue] | None = None,
    ) -> dict[str, Any]:
        """An autocomplete interaction: the user is typing `value` into option `focused`."""
        return self._command_interaction(
            InteractionType.AUTOCOMPLETE,
            command,
            guild_id,
            channel_id,
            member,
            {**(options or {}), focused: value},
            focused=focused,
        )

    def build_component(
        self,
        message_id: int,
        custom_id: str,
        *,
        member: MemberSpec,
        values: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """A click on a button, or a choice in a select (`values`), of a message the bot sent."""
        message = self.message(message_id)
        component = message.find_component(custom_id)
        if component is None:
            raise ValueError(f"message {message_id} has no component {custom_id!r}; it has {message.custom_ids()}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a member cannot use it")
        kind = int(component["type"])
        if kind in _SELECT_TYPES:
            self._check_select_values(component, values)
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is not a select; it takes no values")
        if message.guild_id is None:
            raise ValueError("the fake only builds guild interactions")
        payload = self._base_interaction(
            InteractionType.MESSAGE_COMPONENT, message.guild_id, message.channel_id, member
        )
        payload["message"] = self._message_payload(message)
        payload["data"] = {"custom_id": custom_id, "component_type": kind}
        if values is not None:
            payload["data"]["values"] = list(values)
        return payload

    def build_modal_submit(
        self, custom_id: str, values: Mapping[str, str | Sequence[str]], *, member: MemberSpec | None = None
    ) -> dict[str, Any]:
        """Submit the modal with `custom_id` that the bot opened most recently (callback type 9).

        `values` maps each input's custom_id to its text (or a list of values for a select). The
        submission mirrors the modal's layout (action rows or labels); missing required inputs,
        unknown inputs and over-length text raise ValueError."""
        opener = next((r for r in reversed(self.interactions.values()) if _opened_modal(r) == custom_id), None)
        if opener is None:
            raise ValueError(f"the bot has not opened a modal {custom_id!r}")
        modal = opener.callback.data  # type: ignore[union-attr]
        walked = _walk_components(modal.get("components") or [])
        inputs = {c["custom_id"]: c for c in walked if c.get("type") in _INPUT_TYPES}
        unknown = set(values) - set(inputs)
        if unknown:
            raise ValueError(f"modal {custom_id!r} has no inputs {sorted(unknown)}; it has {sorted(inputs)}")
        for input_id, spec in inputs.items():
            text = values.get(input_id)
            if spec.get("type") == 4:
                if spec.get("required", True) and not text:
                    raise ValueError(f"input {input_id!r} is required")
                low, high = spec.get("min_length", 0), spec.get("max_length", 4000)
                if text and not low <= len(text) <= high:
                    raise ValueError(f"input {input_id!r} must be {low}-{high} characters")
        submitted = [self._submitted_component(c, values) for c in modal.get("components") or []]
        guild_id = opener.guild_id
        if guild_id is None:
            raise ValueError("the fake only builds guild interactions")
        who = member or self.guilds[guild_id].members[int(opener.member["user"]["id"])]  # type: ignore[index]
        payload = self._base_interaction(InteractionType.MODAL_SUBMIT, guild_id, opener.channel_id, who)
        payload["data"] = {"custom_id": custom_id, "components": [c for c in submitted if c is not None]}
        if "message" in opener.payload:
            payload["message"] = self._message_payload(self.message(int(opener.payload["message"]["id"])))
        return payload

    @staticmethod
    def _submitted_component(
        component: dict[str, Any], values: Mapping[str, str | Sequence[str]]
    ) -> dict[str, Any] | None:
        def answer(item: dict[str, Any]) -> dict[str, Any]:
            value = values.get(item["custom_id"])
            if item.get("type") == 4:
                return {"type": 4, "id": item.get("id", 0), "custom_id": item["custom_id"], "value": value or ""}
            chosen = [value] if isinstance(value, str) else list(value or [])
            return {"type": item["type"], "id": item.get("id", 0), "custom_id": item["custom_id"], "values": chosen}

        if component.get("type") == 1:
            return {"type": 1, "components": [answer(c) for c in component.get("components") or [] if "custom_id" in c]}
        if component.get("type") == 18 and "custom_id" in (component.get("component") or {}):
            return {"type": 18, "id": component.get("id", 0), "component": answer(component["component"])}
        return None

    @staticmethod
    def _check_select_values(component: dict[str, Any], values: Sequence[str] | None) -> None:
        custom_id = component.get("custom_id")
        if values is None:
            raise ValueError(f"select {custom_id!r} needs values")
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {custom_id!r} takes {low}-{high} values, got {len(values)}")
        if component.get("type") == 3:
            offered = {o["value"] for o in component.get("options") or []}
            if not set(values) <= offered:
                raise ValueError(f"select {custom_id!r} offers {sorted(offered)}, not {sorted(set(values) - offered)}")

    def _base_interaction(
        self, kind: InteractionType, guild_id: int, channel_id: int, member: MemberSpec
    ) -> dict[str, Any]:
        guild = self._guild(guild_id)
        channel = guild.channel(channel_id)
        if channel is None:
            raise ValueError(f"guild {guild_id} has no channel {channel_id}")
        guild.add_member(member)
        member_payload = guild.member_payload(member)
        member_payload["permissions"] = str(guild.permissions_in(channel, member))
        return {
            "id": str(new_snowflake()),
            "application_id": str(self.application_id),
            "type": int(kind),
            "token": secrets.token_urlsafe(48),
            "version": 1,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": guild.channel_payload(channel),
            "member": member_payload,
            "app_permissions": str(guild.permissions_in(channel, guild.bot_member)),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _command_interaction(
        self,
        kind: InteractionType,
        command: str,
        guild_id: int,
        channel_id: int,
        member: MemberSpec,
        options: Mapping[str, OptionValue],
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        path = command.split()
        if not 1 <= len(path) <= 3:
            raise ValueError(f"command path {command!r} must be 'name [group] [subcommand]'")
        payload = self._base_interaction(kind, guild_id, channel_id, member)
        registered, scope = self._registered_command(guild_id, path[0])
        declared = self._declared_options(registered, path[1:]) if registered else None
        guild = self._guild(guild_id)
        resolved: dict[str, dict[str, Any]] = {}
        leaf = [
            self._option(guild, channel_id, member, name, value, declared, resolved, focused=name == focused)
            for name, value in options.items()
        ]
        if declared is not None:
            missing = [o["name"] for o in declared if o.get("required") and o["name"] not in options]
            if missing and kind == InteractionType.APPLICATION_COMMAND:
                raise ValueError(f"/{command} requires options {missing}")
        nested: list[dict[str, Any]] = leaf
        for depth, name in reversed(list(enumerate(path[1:], start=1))):
            nested = [{"type": 1 if depth == len(path) - 1 else 2, "name": name, "options": nested}]
        data: dict[str, Any] = {
            "id": str(registered["id"]) if registered else str(new_snowflake()),
            "name": path[0],
            "type": 1,
            "options": nested,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        payload["data"] = data
        return payload

    def _registered_command(self, guild_id: int, name: str) -> tuple[dict[str, Any] | None, int | None]:
        for scope in (guild_id, None):
            commands = self._commands.get(scope, [])
            found = next((c for c in commands if c["name"] == name and c.get("type", 1) == 1), None)
            if found:
                return found, scope
        return None, None

    @staticmethod
    def _declared_options(command: dict[str, Any], subpath: Sequence[str]) -> list[dict[str, Any]]:
        options = command.get("options") or []
        for name in subpath:
            group = next((o for o in options if o["name"] == name and o["type"] in (1, 2)), None)
            if group is None:
                raise ValueError(f"/{command['name']} has no subcommand {name!r}")
            options = group.get("options") or []
        if any(o["type"] in (1, 2) for o in options):
            raise ValueError(f"/{command['name']} {' '.join(subpath)} needs a subcommand")
        return options

    def _option(
        self,
        guild: _Guild,
        channel_id: int,
        member: MemberSpec,
        name: str,
        value: OptionValue,
        declared: list[dict[str, Any]] | None,
        resolved: dict[str, dict[str, Any]],
        *,
        focused: bool,
    ) -> dict[str, Any]:
        kind = _infer_option_type(value)
        if declared is not None:
            spec = next((o for o in declared if o["name"] == name), None)
            if spec is None:
                raise ValueError(f"the command has no option {name!r}; it has {[o['name'] for o in declared]}")
            kind = int(spec["type"])
        option: dict[str, Any] = {"type": kind, "name": name}
        if focused:
            option.update(value=str(value), focused=True)
            return option
        if isinstance(value, ChannelArg):
            target = guild.channel(value.id)
            if target is None:
                raise ValueError(f"guild {guild.id} has no channel {value.id}")
            payload = guild.channel_payload(target)
            payload["permissions"] = str(guild.permissions_in(target, member))
            resolved.setdefault("channels", {})[str(value.id)] = payload
        elif isinstance(value, UserArg):
            target_member = guild.members.get(value.id)
            if target_member is None:
                raise ValueError(f"guild {guild.id} has no member {value.id}")
            resolved.setdefault("users", {})[str(value.id)] = _user_payload(target_member)
            member_payload = guild.member_payload(target_member, with_user=False)
            channel = guild.channel(channel_id)
            member_payload["permissions"] = str(guild.permissions_in(channel, target_member)) if channel else "0"
            resolved.setdefault("members", {})[str(value.id)] = member_payload
        elif isinstance(value, RoleArg):
            role = guild.role(value.id)
            if role is None:
                raise ValueError(f"guild {guild.id} has no role {value.id}")
            resolved.setdefault("roles", {})[str(value.id)] = guild.role_payload(role)
        option["value"] = _option_wire_value(kind, value)
        return option

    # -- waiting for the bot's answer --------------------------------------------------------------

    async def wait_for_interaction_response(self, interaction_id: int, *, timeout: float = 5.0) -> InteractionCallback:
        record = self.interaction(interaction_id)
        return await self.wait_until(lambda: record.callback, timeout=timeout, what=f"callback for {interaction_id}")

    async def wait_for_followups(
        self, interaction_id: int, count: int = 1, *, timeout: float = 5.0
    ) -> list[StoredMessage]:
        await self.wait_until(
            lambda: len(self.interaction(interaction_id).followup_ids) >= count,
            timeout=timeout,
            what=f"{count} follow-up(s) to {interaction_id}",
        )
        return self.followups(interaction_id)


def _opened_modal(record: InteractionRecord) -> str | None:
    """The custom_id of the modal the bot opened in answer to this interaction, if it did."""
    callback = record.callback
    return callback.data.get("custom_id") if callback and callback.type == CallbackType.MODAL else None


def _infer_option_type(value: OptionValue) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, ChannelArg):
        return 7
    if isinstance(value, UserArg):
        return 6
    if isinstance(value, RoleArg):
        return 8
    return 3


def _option_wire_value(kind: int, value: OptionValue) -> Any:
    """The option's value as Discord sends it, checked against the declared type."""
    if isinstance(value, (ChannelArg, UserArg, RoleArg)):
        if kind not in (6, 7, 8, 9):
            raise ValueError(f"a {type(value).__name__} cannot fill an option of type {kind}")
        return str(value.id)
    checks: dict[int, Callable[[Any], bool]] = {
        3: lambda v: isinstance(v, str),
        4: lambda v: isinstance(v, int) and not isinstance(v, bool),
        5: lambda v: isinstance(v, bool),
        10: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    }
    if kind not in checks or not checks[kind](value):
        raise ValueError(f"{value!r} cannot fill an option of type {kind}")
    return value
