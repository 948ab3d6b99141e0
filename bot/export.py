"""Streaming vote-log writers: CSV or JSON Lines, gzipped or split when the file is too big to upload.

Rows come from `MemberStore.export_rows` one at a time and go straight to a file, so memory stays flat
however long the log is. Fitting a file under a size limit (Discord's per-guild upload limit) works
from the file on disk, in a thread, never from a list of rows.

The files must open anywhere without losing data:
- Discord ids are 19-digit numbers, beyond the 53 bits a JSON reader such as jq 1.6 keeps and the 15 digits
  a spreadsheet keeps, so they are strings in JSON Lines and quoted cells in CSV (every CSV cell is quoted, so
  "format quoted fields as text" on import keeps all digits; a quote mark or `="…"` in the cell would change
  the data for every other reader).
- Times are ISO-8601 in UTC (`2026-06-07T12:00:00.000Z`).
- The Excel flavour of CSV starts with a UTF-8 byte order mark and ends lines with CRLF: without the mark,
  Excel on Windows reads UTF-8 as the local code page and "Zoë 🦉 山田" comes out garbled.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import re
import shutil
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.store.members import ExportRow

FORMATS = ("csv", "jsonl")
EXPORT_COLUMNS = (
    "time",
    "guild_id",
    "model_id",
    "member_id",
    "member_name",
    "kind",
    "vendor",
    "vendor_name",
    "confidence",
    "note",
    "current_vote",
    "correct",
)
BYTE_ORDER_MARK = "\ufeff"
PART_SIZE_MARGIN = 0.8
MIN_PART_BYTES = 4096
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


class ExportError(Exception):
    """The export could not be written or fitted; the message says why in one line."""


@dataclass(frozen=True)
class ExportFiles:
    """The files an export produced, and how they were fitted under the limit."""

    paths: list[Path]
    rows: int
    compressed: bool
    split: bool

    def summary(self) -> str:
        """One sentence for the person who asked, saying whether the file was gzipped or split."""
        rows = f"{self.rows} row{'s' if self.rows != 1 else ''}"
        if self.split:
            return f"{rows}; the log was too big for one upload, so it is split into {len(self.paths)} gzipped parts."
        if self.compressed:
            return f"{rows}; the log was too big to upload as is, so it is gzipped."
        return f"{rows}."


def parse_since(text: str) -> str:
    """An ISO-8601 date or time (UTC when no zone is given) in the store's timestamp format."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(
            f"'{text[:40]}' is not an ISO-8601 date or time, such as 2026-06-07 or 2026-06-07T12:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def row_record(row: ExportRow) -> dict[str, Any]:
    """The row as an ordered mapping of the export's columns; ids as text, so no reader rounds them."""
    return {
        "time": row.at,
        "guild_id": str(row.guild_id),
        "model_id": row.model_id,
        "member_id": str(row.member_id),
        "member_name": row.member_name,
        "kind": row.kind,
        "vendor": row.vendor,
        "vendor_name": row.vendor_name,
        "confidence": row.confidence,
        "note": row.note,
        "current_vote": row.current_vote,
        "correct": row.correct,
    }


def _csv_cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with a quote mark."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def check_format(fmt: str, *, excel: bool) -> None:
    """Refuse a format, or an Excel flavour, that the writers do not produce, before anything is written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}': use csv or jsonl")
    if excel and fmt != "csv":
        raise ExportError("the Excel option is for CSV only (its byte order mark would break jq)")


def _csv_writer(stream: TextIO, *, excel: bool) -> Any:
    return csv.writer(stream, lineterminator="\r\n" if excel else "\n", quoting=csv.QUOTE_ALL)


async def write_rows(rows: AsyncIterable[ExportRow], fmt: str, stream: TextIO, *, excel: bool = False) -> int:
    """Write every row to `stream` as it arrives; returns how many rows were written."""
    check_format(fmt, excel=excel)
    count = 0
    if fmt == "csv":
        if excel:
            stream.write(BYTE_ORDER_MARK)
        writer = _csv_writer(stream, excel=excel)
        writer.writerow(EXPORT_COLUMNS)
        async for row in rows:
            writer.writerow([_csv_cell(value) for value in row_record(row).values()])
            count += 1
    else:
        async for row in rows:
            stream.write(json.dumps(row_record(row), ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def export_basename(
    guild_id: int, model_id: str | None, fmt: str, now: datetime | None = None, *, member_id: int | None = None
) -> str:
    """A file name that says whose log it is, of what, and when it was taken, so downloads never collide."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%MZ")
    scope = f"-member-{member_id}" if member_id is not None else ""
    scope += f"-{_SLUG.sub('_', model_id)[:60]}" if model_id else ""
    return f"scout-votes-{guild_id}{scope}-{stamp}.{fmt}"


async def export_to_directory(
    rows: AsyncIterable[ExportRow],
    fmt: str,
    directory: Path,
    filename: str,
    size_limit: int | None = None,
    *,
    excel: bool = False,
) -> ExportFiles:
    """Stream the rows into `directory/filename`; over `size_limit` bytes, gzip it, and split it if that is not
    enough."""
    check_format(fmt, excel=excel)
    path = directory / filename
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            count = await write_rows(rows, fmt, stream, excel=excel)
    except OSError as error:
        path.unlink(missing_ok=True)
        raise ExportError(f"cannot write the export: {error.strerror or error}") from None
    if size_limit is None or path.stat().st_size <= size_limit:
        return ExportFiles([path], count, compressed=False, split=False)
    try:
        paths, split = await asyncio.to_thread(_fit_under, path, fmt, size_limit, excel)
    except OSError as error:
        raise ExportError(f"cannot compress the export: {error.strerror or error}") from None
    return ExportFiles(paths, count, compressed=True, split=split)


def _fit_under(path: Path, fmt: str, limit: int, excel: bool) -> tuple[list[Path], bool]:
    """Gzip the file; if that is still too big, split its records into gzipped parts that each fit."""
    gzipped = path.with_name(path.name + ".gz")
    with path.open("rb") as source, gzip.open(gzipped, "wb") as target:
        shutil.copyfileobj(source, target)
    plain_size, packed_size = path.stat().st_size, gzipped.stat().st_size
    if packed_size <= limit:
        path.unlink()
        return [gzipped], False
    gzipped.unlink()
    part_bytes = int(limit * plain_size / packed_size * PART_SIZE_MARGIN)
    while part_bytes >= MIN_PART_BYTES:
        parts = _split(path, fmt, part_bytes, excel)
        if all(part.stat().st_size <= limit for part in parts):
            path.unlink()
            return _number_parts(parts), True
        for part in parts:
            part.unlink()
        part_bytes //= 2
    raise ExportError("the upload limit is too small for even one part of the export")


def _records(stream: TextIO, fmt: str, excel: bool) -> tuple[str, Iterator[str]]:
    """The header each part starts with (CSV only, with the byte order mark for Excel) and the file's records,
    each as the text that was written for it."""
    if fmt == "jsonl":
        return "", iter(stream)
    reader = csv.reader(stream)
    header = (BYTE_ORDER_MARK if excel else "") + _csv_line(next(reader, []), excel)
    return header, (_csv_line(record, excel) for record in reader)


def _csv_line(record: list[str], excel: bool) -> str:
    buffer = io.StringIO()
    _csv_writer(buffer, excel=excel).writerow(record)
    return buffer.getvalue()


def _split(path: Path, fmt: str, part_bytes: int, excel: bool) -> list[Path]:
    """Cut the file at record boundaries into gzipped parts of about `part_bytes` uncompressed bytes each."""
    parts: list[Path] = []
    target: TextIO | None = None
    written = 0
    with path.open("r", encoding="utf-8-sig", newline="") as stream:
        header, records = _records(stream, fmt, excel)
        header_bytes = len(header.encode("utf-8"))
        try:
            for record in records:
                size = len(record.encode("utf-8"))
                if target is None or (written + size > part_bytes and written > header_bytes):
                    if target is not None:
                        target.close()
                    parts.append(path.with_name(f"{path.name}.part{len(parts) + 1}.gz"))
                    target = gzip.open(parts[-1], "wt", encoding="utf-8", newline="")
                    target.write(header)
                    written = header_bytes
                target.write(record)
                written += size
        finally:
            if target is not None:
                target.close()
    return parts


def _number_parts(parts: list[Path]) -> list[Path]:
    """Rename `x.csv.partN.gz` to `x.partNofM.csv.gz`, so each file says where it belongs."""
    renamed = []
    for number, part in enumerate(parts, start=1):
        stem, fmt = part.name.split(".part", 1)[0].rsplit(".", 1)
        target = part.with_name(f"{stem}.part{number}of{len(parts)}.{fmt}.gz")
        part.rename(target)
        renamed.append(target)
    return renamed
