"""JSON from outside (the gateway, catalogue files, corpora), decoded and cleaned so it can always be stored.

A broken or hostile peer can send numbers SQLite cannot hold (2^63 and up, `1e400` which Python reads as
infinity), NaN, text UTF-8 cannot encode (a lone surrogate such as `\\ud800`), or nesting deep enough to
exhaust Python's recursion limit. Decoding here never raises `RecursionError`; a list is decoded item by
item so one poisoned item is reported alone; and `clean` returns a value that `json.dumps`, UTF-8 and
SQLite all accept, with one short line per part it dropped or repaired.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

SQLITE_INT_MIN = -(2**63)
SQLITE_INT_MAX = 2**63 - 1
# Real catalogue entries and completions nest four or five levels; anything deeper is dropped when cleaned.
MAX_DEPTH = 32
# Python refuses to read integers of more than 4,300 digits (a ValueError that would sink the whole document);
# longer literals are read as an infinity of their sign, which `clean` then drops like any other.
MAX_INT_DIGITS = 4_000
# Keys named in an error line are cut to this: a hostile reply's key can be megabytes long.
MAX_KEY_SHOWN = 40
SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BRACKET_OR_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_DROPPED = object()


class UntrustedJsonError(ValueError):
    """The text is not JSON of the expected shape; the message says how, in one line."""


@dataclass(frozen=True)
class Undecodable:
    """A list item that could not be decoded on its own (nested too deeply); its neighbours could."""

    position: int
    reason: str


def _number(literal: str) -> int | float:
    if len(literal.lstrip("-")) <= MAX_INT_DIGITS:
        return int(literal)
    return -math.inf if literal.startswith("-") else math.inf


_DECODER = json.JSONDecoder(parse_int=_number)


def loads(text: str | bytes | bytearray) -> Any:
    """Decode one JSON document; too deep a nesting is an `UntrustedJsonError`, never a `RecursionError`."""
    try:
        return _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8"))
    except RecursionError:
        raise UntrustedJsonError("JSON nested too deeply to decode") from None


class JsonItems:
    """The items of a JSON list, checked whole when found but decoded one at a time when read.

    A catalogue of 100,000 entries decoded at once is millions of Python objects: hundreds of MB, and
    garbage-collector passes long enough to stall the event loop. Here only the text and an array of
    offsets are held; an item that was nested too deeply to decode reads as an `Undecodable`. The items
    are read once: the text is let go after the last one, while a poll goes on to verdicts and the diff.
    `scrub`, when set, is applied to the text of each item that holds `\\u` escapes, once decoded: an echo
    of a secret spelt in escapes is invisible to a scrub of the raw text.
    """

    def __init__(
        self, text: str, starts: array[int], too_deep: frozenset[int], scrub: Callable[[str], str] | None = None
    ) -> None:
        self._text: str | None = text
        self._starts = starts
        self._too_deep = too_deep
        self._scrub = scrub

    def __len__(self) -> int:
        return len(self._starts)

    def __iter__(self) -> Iterator[Any]:
        if self._text is None:
            raise RuntimeError("these JSON items were read already")
        yield from (self._item(index) for index in range(len(self._starts)))
        self._text = None

    def _item(self, index: int) -> Any:
        if index in self._too_deep:
            return Undecodable(index, "nested too deeply to decode")
        assert self._text is not None
        start = self._starts[index]
        item, end = _DECODER.raw_decode(self._text, start)
        if self._scrub is None or self._text.find("\\u", start, end) < 0:
            return item
        spelt_out = json.dumps(item, ensure_ascii=False)
        scrubbed = self._scrub(spelt_out)
        return item if scrubbed == spelt_out else _DECODER.decode(scrubbed)

    def objects(self) -> tuple[JsonItems, list[int]]:
        """Only the items that are JSON objects, and the positions of the others (told apart without decoding)."""
        assert self._text is not None
        keep = [index for index in range(len(self._starts)) if self._text[self._starts[index]] == "{"]
        others = sorted(set(range(len(self._starts))) - set(keep))
        kept_deep = frozenset(position for position, index in enumerate(keep) if index in self._too_deep)
        starts = array("q", (self._starts[index] for index in keep))
        return JsonItems(self._text, starts, kept_deep, self._scrub), others


def decode_list_field(text: str, key: str, scrub: Callable[[str], str] | None = None) -> JsonItems:
    """The items of the `key` list of a top-level object, each decodable on its own.

    An item nested too deeply reads as an `Undecodable`, so the rest survive. Raises `UntrustedJsonError`
    when the text is not an object with a `key` list, or not JSON at all. See `JsonItems` for `scrub`.
    """
    try:
        items = _list_field(text, key, scrub)
    except (ValueError, IndexError):
        items = None
    if items is None:
        raise UntrustedJsonError(f"expected an object with a '{key}' list, got {_describe(text, key)}")
    return items


def _describe(text: str, key: str) -> str:
    try:
        payload = loads(text)
    except ValueError:
        return "text that is not valid JSON"
    if isinstance(payload, dict) and key in payload:
        return f"'{key}' as {describe_shape(payload[key])}"
    return describe_shape(payload)


def describe_shape(value: Any) -> str:
    """A few words on what a value is, for an error line that must not echo the value itself."""
    if isinstance(value, dict):
        keys = ", ".join(key[:MAX_KEY_SHOWN] for key in sorted(map(str, value))[:5])
        return f"an object with keys [{keys}]"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__


def _skip_space(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


def _list_field(text: str, key: str, scrub: Callable[[str], str] | None) -> JsonItems | None:
    position = _skip_space(text, 0)
    if text[position] != "{":
        return None
    position = _skip_space(text, position + 1)
    found: JsonItems | None = None
    while text[position] != "}":
        name, position = _DECODER.raw_decode(text, position)
        position = _skip_space(text, position)
        if not isinstance(name, str) or text[position] != ":":
            raise UntrustedJsonError("malformed object")
        position = _skip_space(text, position + 1)
        if name == key and text[position] == "[":
            found, position = _items(text, position, scrub)
        else:
            position = _skip_value(text, position)
        position = _after_member(text, position, "}")
    if _skip_space(text, position + 1) != len(text):
        raise UntrustedJsonError("text after the JSON object")
    return found


def _after_member(text: str, position: int, closing: str) -> int:
    """Past the comma after an object member or list item; at the closing bracket when it was the last."""
    position = _skip_space(text, position)
    if text[position] == ",":
        position = _skip_space(text, position + 1)
        if text[position] != closing:
            return position
    elif text[position] == closing:
        return position
    raise UntrustedJsonError("malformed object or list")


def _items(text: str, position: int, scrub: Callable[[str], str] | None) -> tuple[JsonItems, int]:
    """Check every item of the list starting at `position` by decoding it, keeping only where it lies."""
    starts, too_deep = array("q"), set()
    position = _skip_space(text, position + 1)
    while text[position] != "]":
        starts.append(position)
        try:
            position = _DECODER.raw_decode(text, position)[1]
        except RecursionError:
            too_deep.add(len(starts) - 1)
            position = _end_of_nesting(text, position)
        position = _after_member(text, position, "]")
    return JsonItems(text, starts, frozenset(too_deep), scrub), position + 1


def _skip_value(text: str, position: int) -> int:
    try:
        return _DECODER.raw_decode(text, position)[1]
    except RecursionError:
        return _end_of_nesting(text, position)


def _end_of_nesting(text: str, position: int) -> int:
    """Where the object or list starting at `position` ends, found by counting brackets outside strings."""
    depth = 0
    for match in _BRACKET_OR_STRING.finditer(text, position):
        token = match.group()
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
            if depth == 0:
                return match.end()
    raise UntrustedJsonError("unterminated JSON value")


def clean_text(text: str) -> str:
    """Text UTF-8 can encode: lone surrogates become U+FFFD."""
    return SURROGATE.sub("\ufffd", text)


def fits_sqlite(number: int) -> bool:
    """SQLite integers are signed 64-bit; Python's are unbounded."""
    return SQLITE_INT_MIN <= number <= SQLITE_INT_MAX


def clean(value: Any, scrub: Callable[[str], str] | None = None) -> tuple[Any, list[str]]:
    """A copy of decoded JSON that can always be stored, and a line per part dropped or repaired.

    Numbers out of SQLite's 64-bit range and NaN/infinity are dropped, lone surrogates replaced by U+FFFD,
    and anything nested deeper than `MAX_DEPTH` dropped. A dropped top-level value comes back as None.
    `scrub`, when given, is applied to every string and key (it removes a secret the peer echoed).
    """
    problems: list[str] = []
    cleaned = _Cleaner(problems, scrub or _unchanged).clean(value, "", None, 0)
    return (None if cleaned is _DROPPED else cleaned), problems


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True)
class _Cleaner:
    problems: list[str]
    scrub: Callable[[str], str]

    def text(self, value: str, parent: str, key: str | int | None) -> str:
        if SURROGATE.search(value) is not None:
            self.problems.append(f"{_path(parent, key) or 'text'}: unencodable characters replaced")
            value = clean_text(value)
        return self.scrub(value)

    def clean(self, value: Any, parent: str, key: str | int | None, depth: int) -> Any:
        """Paths are spelt out only for containers and problems: most of a clean tree is plain values."""
        if isinstance(value, str):
            return self.text(value, parent, key)
        if isinstance(value, (dict, list)):
            return self.container(value, _path(parent, key), depth)
        return _scalar(value, parent, key, self.problems)

    def container(self, value: dict[Any, Any] | list[Any], path: str, depth: int) -> Any:
        """The container itself when nothing in it needed cleaning (no copy of a large clean tree), else a copy."""
        if depth >= MAX_DEPTH:
            self.problems.append(f"{path or 'value'}: nested deeper than {MAX_DEPTH} levels, dropped")
            return _DROPPED
        if isinstance(value, list):
            items = [self.clean(item, path, index, depth + 1) for index, item in enumerate(value)]
            if all(kept is item for kept, item in zip(items, value, strict=True)):
                return value
            return [item for item in items if item is not _DROPPED]
        cleaned: dict[str, Any] = {}
        unchanged = True
        for key, item in value.items():
            name = self.text(key, path, None) if isinstance(key, str) else str(key)
            kept = self.clean(item, path, name, depth + 1)
            unchanged = unchanged and kept is item and name is key
            if kept is not _DROPPED:
                cleaned[name] = kept
        return value if unchanged else cleaned


def _path(parent: str, key: str | int | None) -> str:
    if key is None:
        return parent
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _scalar(value: Any, parent: str, key: str | int | None, problems: list[str]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if fits_sqlite(value):
            return value
        problems.append(f"{_path(parent, key) or 'number'}: {_short(value)} is out of range, dropped")
        return _DROPPED
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        problems.append(f"{_path(parent, key) or 'number'}: {value} is not a finite number, dropped")
        return _DROPPED
    problems.append(f"{_path(parent, key) or 'value'}: {type(value).__name__} is not JSON, dropped")
    return _DROPPED


def _short(number: int) -> str:
    return str(number) if abs(number) < 10**30 else f"a {number.bit_length()}-bit integer"
