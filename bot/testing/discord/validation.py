"""Payload validation: the limits Discord enforces, so a bot that exceeds them fails here too, and the
Discord-shaped errors (`{"message", "code", "errors"}`) the fake answers with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.testing.discord.payloads import json_response
from bot.testing.discord.specs import _SELECT_TYPES, COMPONENTS_V2_FLAG, ErrorCode


class DiscordError(Exception):
    """An error reply in Discord's shape: `{"message": ..., "code": ...[, "errors": ...]}`."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = _error_tree(self.errors)
        return json_response(body, status=self.status)


def _error_tree(errors: Mapping[str, str]) -> dict[str, Any]:
    """`{"embeds.0.title": "..."}` -> Discord's nested `{"embeds": {"0": {"title": {"_errors": [...]}}}}`."""
    tree: dict[str, Any] = {}
    for dotted, message in errors.items():
        node = tree
        for part in dotted.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
    return tree


def _unknown(code: ErrorCode, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def _missing_permissions() -> DiscordError:
    return DiscordError(403, ErrorCode.MISSING_PERMISSIONS, "Missing Permissions")


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def _walk_components(components: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield from _walk_components([component["accessory"]])


def _check_length(errors: dict[str, str], path: str, value: Any, limit: int, *, required: bool = False) -> int:
    text = "" if value is None else str(value)
    if required and not text:
        errors[path] = "This field is required"
    elif len(text) > limit:
        errors[path] = f"Must be {limit} or fewer in length."
    return len(text)


def _embed_errors(embeds: Sequence[dict[str, Any]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(embeds) > 10:
        errors["embeds"] = "Must be 10 or fewer in length."
    total = 0
    for index, embed in enumerate(embeds):
        where = f"embeds.{index}"
        total += _check_length(errors, f"{where}.title", embed.get("title"), 256)
        total += _check_length(errors, f"{where}.description", embed.get("description"), 4096)
        total += _check_length(errors, f"{where}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
        total += _check_length(errors, f"{where}.author.name", (embed.get("author") or {}).get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors[f"{where}.fields"] = "Must be 25 or fewer in length."
        for number, embed_field in enumerate(fields):
            total += _check_length(errors, f"{where}.fields.{number}.name", embed_field.get("name"), 256, required=True)
            value = embed_field.get("value")
            total += _check_length(errors, f"{where}.fields.{number}.value", value, 1024, required=True)
    if total > 6000:
        errors["embeds"] = "Embed size exceeds maximum size of 6000"
    return errors


def _component_errors(components: Sequence[dict[str, Any]], *, v2: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not v2:
        if len(components) > 5:
            errors["components"] = "Must be 5 or fewer in length."
        for row_index, row in enumerate(components):
            children = row.get("components") or []
            if row.get("type") != 1:
                errors[f"components.{row_index}.type"] = "Top-level components must be action rows"
            elif not 1 <= len(children) <= 5:
                errors[f"components.{row_index}.components"] = "Must be between 1 and 5 in length."
            elif any(child.get("type") in _SELECT_TYPES for child in children) and len(children) > 1:
                errors[f"components.{row_index}.components"] = "A select menu must be alone in its row"
    seen: set[str] = set()
    for index, component in enumerate(_walk_components(components)):
        where = f"components.{index}"
        custom_id = component.get("custom_id")
        if custom_id is not None:
            _check_length(errors, f"{where}.custom_id", custom_id, 100, required=True)
            if custom_id in seen:
                errors[f"{where}.custom_id"] = "Component custom id cannot be duplicated"
            seen.add(custom_id)
        if component.get("type") == 2:
            _check_length(errors, f"{where}.label", component.get("label"), 80)
        if component.get("type") == 3:
            options = component.get("options") or []
            if not 1 <= len(options) <= 25:
                errors[f"{where}.options"] = "Must be between 1 and 25 in length."
            for number, option in enumerate(options):
                _check_length(errors, f"{where}.options.{number}.label", option.get("label"), 100, required=True)
                _check_length(errors, f"{where}.options.{number}.value", option.get("value"), 100, required=True)
                _check_length(errors, f"{where}.options.{number}.description", option.get("description"), 100)
        if component.get("type") in _SELECT_TYPES:
            _check_length(errors, f"{where}.placeholder", component.get("placeholder"), 150)
    return errors


def _message_errors(payload: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors["content"] = "Must be a string."
    else:
        _check_length(errors, "content", content, 2000)
    errors.update(_embed_errors(payload.get("embeds") or []))
    v2 = bool(int(payload.get("flags") or 0) & COMPONENTS_V2_FLAG)
    errors.update(_component_errors(payload.get("components") or [], v2=v2))
    return errors


def _modal_errors(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    _check_length(errors, "data.title", data.get("title"), 45, required=True)
    _check_length(errors, "data.custom_id", data.get("custom_id"), 100, required=True)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors["data.components"] = "Must be between 1 and 5 in length."
    for index, component in enumerate(_walk_components(components)):
        if component.get("type") == 4:
            _check_length(errors, f"data.components.{index}.value", component.get("value"), 4000)
        if component.get("type") in (1, 18) and component.get("label") is not None:
            _check_length(errors, f"data.components.{index}.label", component.get("label"), 45)
    return errors


def _choice_errors(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    choices = data.get("choices") or []
    if len(choices) > 25:
        errors["data.choices"] = "Must be 25 or fewer in length."
    for index, choice in enumerate(choices):
        _check_length(errors, f"data.choices.{index}.name", choice.get("name"), 100, required=True)
    return errors


def _option_errors(options: Sequence[dict[str, Any]], where: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(options) > 25:
        errors[where] = "Must be 25 or fewer in length."
    for index, option in enumerate(options):
        name = str(option.get("name", ""))
        if not _COMMAND_NAME.match(name) or name != name.lower():
            errors[f"{where}.{index}.name"] = "Command name is invalid"
        _check_length(errors, f"{where}.{index}.description", option.get("description"), 100, required=True)
        if len(option.get("choices") or []) > 25:
            errors[f"{where}.{index}.choices"] = "Must be 25 or fewer in length."
        errors.update(_option_errors(option.get("options") or [], f"{where}.{index}.options"))
    return errors


def _command_errors(commands: Any) -> dict[str, str]:
    if not isinstance(commands, list):
        return {"_root": "Must be an array of application commands."}
    errors: dict[str, str] = {}
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        kind = int(command.get("type", 1))
        name = str(command.get("name", ""))
        if kind == 1:
            if not _COMMAND_NAME.match(name) or name != name.lower():
                errors[f"{index}.name"] = "Command name is invalid"
            _check_length(errors, f"{index}.description", command.get("description"), 100, required=True)
        else:
            _check_length(errors, f"{index}.name", name, 32, required=True)
        if (name, kind) in seen:
            errors[f"{index}.name"] = "Application command names must be unique"
        seen.add((name, kind))
        errors.update(_option_errors(command.get("options") or [], f"{index}.options"))
    if sum(1 for c in commands if int(c.get("type", 1)) == 1) > 100:
        errors["_root"] = "Must be 100 or fewer chat input commands."
    return errors


def _raise_form_errors(errors: dict[str, str]) -> None:
    if errors:
        raise DiscordError(400, ErrorCode.INVALID_FORM_BODY, "Invalid Form Body", errors)


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordError(400, ErrorCode.INVALID_JSON, "The request body contains invalid JSON.") from None
