"""Decoding and cleaning JSON from outside: item by item, never a RecursionError, always storable."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest

from bot.untrusted_json import Undecodable, UntrustedJsonError, clean, decode_list_field, loads

DEEP = "[" * 50_000 + "]" * 50_000


def test_items_are_decoded_on_their_own_and_a_too_deep_one_stands_alone():
    items_text = ", ".join(['{"id": "a"}', '{"deep": ' + DEEP + "}", "7", DEEP, '{"id": "b"}'])
    text = '{"meta": ' + DEEP + ', "data": [' + items_text + '], "more": {"x": [1, 2]}}'
    items = decode_list_field(text, "data")
    read = list(items)
    assert read[0] == {"id": "a"} and read[2] == 7 and read[4] == {"id": "b"}
    assert isinstance(read[1], Undecodable) and isinstance(read[3], Undecodable)
    objects, others = decode_list_field(text, "data").objects()
    assert [type(item).__name__ for item in objects] == ["dict", "Undecodable", "dict"] and others == [2, 3]


def test_items_are_read_once():
    items = decode_list_field('{"data": [1, 2]}', "data")
    assert list(items) == [1, 2] and len(items) == 2
    with pytest.raises(RuntimeError, match="read already"):
        list(items)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"data": 3}', "'data' as int"),
        ('{"models": []}', "an object with keys [models]"),
        ("[1, 2]", "a list of 2"),
        ('{"data": [1,]}', "not valid JSON"),
        ('{"data": [1 2]}', "not valid JSON"),
        ('{"a": 1 "data": []}', "not valid JSON"),
        ('{"data": [1]} trailing', "not valid JSON"),
        ('{"data": [{"id": "cut', "not valid JSON"),
        ("", "not valid JSON"),
        (DEEP, "not valid JSON"),
    ],
)
def test_a_wrong_envelope_is_one_clear_error(text: str, says: str):
    with pytest.raises(UntrustedJsonError, match="expected an object with a 'data' list") as caught:
        decode_list_field(text, "data")
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_loads_never_raises_recursion_error_and_reads_huge_literals():
    with pytest.raises(UntrustedJsonError, match="nested too deeply"):
        loads(DEEP)
    assert loads("[" + "9" * 5_000 + ", -" + "9" * 5_000 + "]") == [math.inf, -math.inf]
    assert loads(b'{"n": 18446744073709551616}') == {"n": 2**64}


def test_clean_makes_every_value_storable_and_says_what_it_changed():
    nested: list = []
    cursor = nested
    for _ in range(40):
        cursor.append([])
        cursor = cursor[0]
    dirty = {
        "big": 2**63,
        "small": -(2**63) - 1,
        "nan": math.nan,
        "inf": [math.inf, 1.5],
        "text": "a\ud800b",
        "k\udc00": 1,
        "deep": nested,
        "fine": {"int": 2**63 - 1, "float": 1e300},
    }
    cleaned, problems = clean(dirty)
    assert cleaned["inf"] == [1.5] and cleaned["text"] == "a\ufffdb" and "k\ufffd" in cleaned
    assert "big" not in cleaned and "small" not in cleaned and "nan" not in cleaned
    assert cleaned["fine"] == {"int": 2**63 - 1, "float": 1e300}
    assert len(problems) == 7 and all("\n" not in line for line in problems)
    with sqlite3.connect(":memory:") as connection:
        connection.execute("CREATE TABLE t (v)")
        connection.execute("INSERT INTO t VALUES (?)", (json.dumps(cleaned, ensure_ascii=False),))
        connection.execute("INSERT INTO t VALUES (?)", (cleaned["fine"]["int"],))


def test_a_clean_value_is_returned_as_it_is_not_copied():
    value = {"a": [1, {"b": "c"}], "d": 2.5}
    cleaned, problems = clean(value)
    assert cleaned is value and problems == []


def test_scrub_applies_to_every_string_and_key():
    cleaned, _ = clean({"SECRET": ["x SECRET y"]}, scrub=lambda text: text.replace("SECRET", "***"))
    assert cleaned == {"***": ["x *** y"]}
