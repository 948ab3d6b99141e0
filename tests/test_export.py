"""The vote-log writers: CSV and JSON Lines, streaming, gzip and split over a size limit."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import string
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from bot.export import EXPORT_COLUMNS, ExportError, export_to_directory, parse_since, write_rows
from bot.store.votes import ExportRow

GUILD = 111


def _row(number: int, *, note: str | None = None, name: str = "alice") -> ExportRow:
    if note is not None:
        return ExportRow(
            f"2026-06-07T12:00:{number % 60:02d}.000Z",
            GUILD,
            "openrouter/owl-alpha",
            number,
            name,
            "note",
            None,
            note,
            None,
            None,
        )
    return ExportRow(
        f"2026-06-07T12:00:{number % 60:02d}.000Z",
        GUILD,
        "openrouter/owl-alpha",
        number,
        name,
        "vote",
        "openai",
        None,
        number % 2 == 0,
        None,
    )


async def _rows(rows: list[ExportRow]) -> AsyncIterator[ExportRow]:
    for row in rows:
        yield row


async def _generated(count: int, text_size: int = 0) -> AsyncIterator[ExportRow]:
    """Rows made on the fly, so the writer is the only thing that could hold them."""
    noise = random.Random(7)
    for number in range(count):
        if text_size:
            yield _row(number, note="".join(noise.choices(string.ascii_letters + " ", k=text_size)))
        else:
            yield _row(number)


async def test_csv_has_the_columns_and_one_row_per_vote_or_note_with_newlines_kept(tmp_path):
    rows = [_row(1), _row(2, note='line one\nline "two", with comma')]
    result = await export_to_directory(_rows(rows), "csv", tmp_path, "log.csv")

    assert result.rows == 2 and not result.compressed and not result.split
    with result.paths[0].open(newline="", encoding="utf-8") as stream:
        records = list(csv.DictReader(stream))
    assert tuple(records[0].keys()) == EXPORT_COLUMNS
    assert records[0]["kind"] == "vote" and records[0]["vendor"] == "openai" and records[0]["current_vote"] == "false"
    assert records[1]["note"] == 'line one\nline "two", with comma' and records[1]["current_vote"] == ""


async def test_jsonl_is_one_object_per_line_with_typed_values(tmp_path):
    rows = [_row(2), _row(3, note="@everyone hi")]
    result = await export_to_directory(_rows(rows), "jsonl", tmp_path, "log.jsonl")

    lines = result.paths[0].read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [tuple(record) for record in records] == [EXPORT_COLUMNS, EXPORT_COLUMNS]
    assert records[0]["current_vote"] is True and records[0]["member_id"] == 2
    assert records[1]["note"] == "@everyone hi" and records[1]["vendor"] is None


async def test_csv_cells_that_a_spreadsheet_would_run_are_defused():
    stream = io.StringIO()
    await write_rows(_rows([_row(1, note='=HYPERLINK("http://x")', name="@admin")]), "csv", stream)
    record = next(csv.DictReader(io.StringIO(stream.getvalue())))
    assert record["note"].startswith("'=") and record["member_name"] == "'@admin"


async def test_an_unknown_format_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="unknown format"):
        await export_to_directory(_rows([]), "xml", tmp_path, "log.xml")


async def test_a_file_over_the_limit_is_gzipped_when_that_is_enough(tmp_path):
    result = await export_to_directory(_generated(5000), "csv", tmp_path, "log.csv", size_limit=100_000)

    assert result.compressed and not result.split and len(result.paths) == 1
    path = result.paths[0]
    assert path.name == "log.csv.gz" and path.stat().st_size <= 100_000
    assert "gzipped" in result.summary()
    with gzip.open(path, "rt", newline="", encoding="utf-8") as stream:
        assert sum(1 for _ in csv.DictReader(stream)) == 5000
    assert not (tmp_path / "log.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_a_file_gzip_cannot_fit_is_split_into_parts_that_each_fit_and_hold_every_row(tmp_path, fmt):
    limit = 60_000
    result = await export_to_directory(_generated(3000, text_size=200), fmt, tmp_path, f"log.{fmt}", size_limit=limit)

    assert result.compressed and result.split and len(result.paths) > 1
    assert "split into" in result.summary()
    notes = []
    for number, path in enumerate(result.paths, start=1):
        assert path.name == f"log.part{number}of{len(result.paths)}.{fmt}.gz"
        assert path.stat().st_size <= limit
        with gzip.open(path, "rt", newline="", encoding="utf-8") as stream:
            if fmt == "csv":
                notes += [record["note"] for record in csv.DictReader(stream)]
            else:
                notes += [json.loads(line)["note"] for line in stream]
    assert len(notes) == 3000 and len(set(notes)) == 3000


async def test_writing_streams_rows_without_holding_them(tmp_path):
    """50,000 rows pass through the writer while the traced Python memory stays small."""
    tracemalloc.start()
    try:
        result = await export_to_directory(_generated(50_000), "jsonl", tmp_path, "big.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.rows == 50_000
    assert peak < 5 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_since_accepts_dates_and_times_and_refuses_anything_else():
    assert parse_since("2026-06-07") == "2026-06-07T00:00:00.000Z"
    assert parse_since("2026-06-07T14:30+02:00") == "2026-06-07T12:30:00.000Z"
    assert parse_since("2026-06-07T12:00:00Z") == "2026-06-07T12:00:00.000Z"
    with pytest.raises(ExportError, match="ISO-8601"):
        parse_since("yesterday'; DROP TABLE votes; --")
