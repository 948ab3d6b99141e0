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
from datetime import datetime, timedelta

import pytest

from bot.export import BYTE_ORDER_MARK, EXPORT_COLUMNS, ExportError, export_to_directory, parse_since, write_rows
from bot.store.members import ExportRow

GUILD = 111


def _row(
    number: int, *, note: str | None = None, name: str = "alice", guild: int = GUILD, member: int | None = None
) -> ExportRow:
    at, member_id = f"2026-06-07T12:00:{number % 60:02d}.000Z", number if member is None else member
    if note is not None:
        return ExportRow(at, guild, "openrouter/owl-alpha", member_id, name, "note", None, None, None, note, None, None)
    return ExportRow(
        at,
        guild,
        "openrouter/owl-alpha",
        member_id,
        name,
        "vote",
        "openai",
        "OpenAI",
        0.75,
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
    assert records[0]["current_vote"] is True and records[0]["member_id"] == "2" and records[0]["confidence"] == 0.75
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


SNOWFLAKE_GUILD, SNOWFLAKE_MEMBER = 1234567890123456789, 987654321098765432  # beyond 2**53 and beyond 15 digits
WORLD_NAME = "Zoë 🦉 山田"


async def test_jsonl_carries_discord_ids_as_strings_that_a_53_bit_reader_cannot_round():
    stream = io.StringIO()
    row = _row(1, name=WORLD_NAME, guild=SNOWFLAKE_GUILD, member=SNOWFLAKE_MEMBER)
    await write_rows(_rows([row]), "jsonl", stream)

    as_jq_reads_it = json.loads(stream.getvalue(), parse_int=float)  # jq 1.6 holds every number as a double
    assert as_jq_reads_it["guild_id"] == "1234567890123456789" and as_jq_reads_it["member_id"] == "987654321098765432"
    assert float(SNOWFLAKE_GUILD) != SNOWFLAKE_GUILD  # a number would have lost its last digits
    assert as_jq_reads_it["member_name"] == WORLD_NAME


async def test_csv_quotes_every_cell_so_ids_import_as_text_and_times_are_iso_utc():
    stream = io.StringIO()
    await write_rows(_rows([_row(1, guild=SNOWFLAKE_GUILD), _row(2, note="hi")]), "csv", stream)
    lines = stream.getvalue().splitlines()

    assert lines[1].startswith(f'"2026-06-07T12:00:01.000Z","{SNOWFLAKE_GUILD}","openrouter/owl-alpha","1",')
    assert all(cell.startswith('"') and cell.endswith('"') for cell in lines[2].split(","))
    record = next(csv.DictReader(io.StringIO(stream.getvalue())))
    assert record["guild_id"] == str(SNOWFLAKE_GUILD)
    moment = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
    assert moment.utcoffset() == timedelta(0)


async def test_the_excel_flavour_has_a_byte_order_mark_and_crlf_and_keeps_every_character(tmp_path):
    rows = [_row(1, name=WORLD_NAME), _row(2, note="line one\nline two", name=WORLD_NAME)]
    result = await export_to_directory(_rows(rows), "csv", tmp_path, "log.csv", excel=True)

    data = result.paths[0].read_bytes()
    assert data.startswith(BYTE_ORDER_MARK.encode("utf-8")) and data.count(BYTE_ORDER_MARK.encode("utf-8")) == 1
    assert data.count(b"\r\n") == 3 and b"\n" not in data.replace(b"\r\n", b"").replace(b"line one\nline", b"")
    with result.paths[0].open(encoding="utf-8-sig", newline="") as stream:
        records = list(csv.DictReader(stream))
    assert [r["member_name"] for r in records] == [WORLD_NAME, WORLD_NAME]
    assert records[1]["note"] == "line one\nline two"


async def test_excel_parts_of_a_split_export_each_open_in_excel(tmp_path):
    result = await export_to_directory(
        _generated(3000, text_size=200), "csv", tmp_path, "log.csv", size_limit=60_000, excel=True
    )
    assert result.split
    for path in result.paths:
        with gzip.open(path, "rb") as stream:
            data = stream.read()
        assert data.startswith(BYTE_ORDER_MARK.encode("utf-8") + b'"time","guild_id"') and b"\r\n" in data


async def test_the_excel_option_is_refused_for_json_lines(tmp_path):
    with pytest.raises(ExportError, match="Excel option is for CSV"):
        await export_to_directory(_rows([_row(1)]), "jsonl", tmp_path, "log.jsonl", excel=True)
    assert list(tmp_path.iterdir()) == []
