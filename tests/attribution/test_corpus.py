"""Loading answer corpora: plain and gzip, bad lines skipped, unreadable files refused."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from bot.attribution.corpus import CorpusError, load_corpus


def _record(model: str, vendor: str, prompt_id: str, response: str = "An answer.") -> str:
    record = {"model": model, "vendor": vendor, "prompt_id": prompt_id, "prompt": f"Question {prompt_id}?"}
    return json.dumps(record | {"response": response})


def test_plain_file_groups_answers_by_model(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        "\n".join([_record("m1", "V", "p1", "one"), _record("m1", "V", "p2", "two"), _record("m2", "W", "p1", "three")])
        + "\n",
        encoding="utf-8",
    )
    corpus = load_corpus(path)
    assert set(corpus.models) == {"m1", "m2"}
    assert corpus.models["m1"].vendor == "V"
    assert corpus.models["m1"].answers == {"p1": "one", "p2": "two"}
    assert corpus.models["m1"].prompts["p2"] == "Question p2?"
    assert corpus.stats.lines_read == 3 and corpus.stats.lines_skipped == 0


@pytest.mark.parametrize("name", ["corpus.jsonl.gz", "corpus.data"])
def test_gzip_is_recognised_by_suffix_or_magic_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(_record("m1", "V", "p1", "zipped") + "\n")
    assert load_corpus(path).models["m1"].answers == {"p1": "zipped"}


def test_bad_lines_are_skipped_counted_and_logged_with_their_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        _record("m1", "V", "p1"),
        "{not json",
        json.dumps({"model": "m1", "vendor": "V", "prompt_id": "p2", "prompt": "?"}),  # no response
        json.dumps({"model": "m1", "vendor": "V", "prompt_id": 3, "prompt": "?", "response": "x"}),
        json.dumps(["a", "list"]),
        "",
        _record("m1", "V", "p4"),
    ]
    path = tmp_path / "dirty.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="bot.attribution.corpus"):
        corpus = load_corpus(path)
    assert corpus.models["m1"].answers.keys() == {"p1", "p4"}
    assert corpus.stats.lines_skipped == 4
    assert corpus.stats.lines_read == 6  # the blank line is not a record
    messages = "\n".join(caplog.messages)
    for number in (2, 3, 4, 5):
        assert f"line {number} skipped" in messages
    assert "missing response" in messages
    assert "not a string: prompt_id" in messages


def test_model_with_conflicting_vendor_labels_is_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "conflict.jsonl"
    path.write_text(
        "\n".join([_record("m1", "V", "p1"), _record("m1", "W", "p2"), _record("m2", "W", "p1")]) + "\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="bot.attribution.corpus"):
        corpus = load_corpus(path)
    assert set(corpus.models) == {"m2"}
    assert corpus.stats.models_skipped == ("m1",)
    assert any("'m1'" in message and "skipped" in message for message in caplog.messages)


def test_missing_file_raises_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="cannot read corpus"):
        load_corpus(tmp_path / "absent.jsonl")


def test_corrupt_gzip_raises_corpus_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(b"\x1f\x8b" + b"definitely not deflate data" * 10)
    with pytest.raises(CorpusError):
        load_corpus(path)


def test_binary_garbage_raises_corpus_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"\xff\xfe\x00\x81" * 100)
    with pytest.raises(CorpusError):
        load_corpus(path)


def test_gateway_counts_and_provider_are_kept_per_answer(tmp_path: Path) -> None:
    rows = [
        json.loads(_record("m1", "V", "p1")) | {"prompt_tokens": 21, "completion_tokens": 300, "provider": "Novita"},
        json.loads(_record("m1", "V", "p2")) | {"prompt_tokens": 0, "completion_tokens": 0},
        json.loads(_record("m1", "V", "p3")) | {"prompt_tokens": "12", "provider": 7},
        json.loads(_record("m1", "V", "p4")) | {"prompt_tokens": True, "completion_tokens": -3, "provider": ""},
    ]
    path = tmp_path / "counted.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    model = load_corpus(path).models["m1"]
    assert model.answers.keys() == {"p1", "p2", "p3", "p4"}, "a bad count never costs the answer"
    assert model.prompt_tokens == {"p1": 21}, "0 is the gateway's 'not reported'; text and booleans are not counts"
    assert model.completion_tokens == {"p1": 300, "p2": 0}
    assert model.providers == {"p1": "Novita"}
