"""Two overlapping polls (two processes, or two connections) record each event once.

The diff reads the known models inside the poll's write transaction, so a second poll that starts while
the first is between its read and its write waits, then finds the first one's events already stored.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from bot.catalogue.diff import CatalogueEvent, KnownModel, diff_catalogue
from bot.catalogue.entry import load_catalogue_file, parse_entries
from bot.catalogue.stealth import CatalogueContext, classify
from bot.jobs.polling import record_catalogue
from bot.store import Store
from tests.support.scout_process import CLEAN_ENV, SCOUT, json_lines

OWL = "openrouter/owl-alpha"


def holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has the file at `path` open (read from /proc, no cooperation needed)."""
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(folder / fd) == str(path) for fd in os.listdir(folder))
    except OSError:
        return False


async def new_events(store: Store, model_id: str) -> int:
    return sum(1 for event in await store.catalogue.events(model_id=model_id) if event["event"] == "new")


async def test_a_second_process_polling_inside_the_first_polls_transaction_records_nothing_twice(
    tmp_path: Path, catalogue_december: Path, catalogue_june: Path
) -> None:
    database = tmp_path / "scout.db"
    async with await Store.open(database) as store:
        await record_catalogue(store, load_catalogue_file(str(catalogue_december)), "december")
        entries, _ = parse_entries(load_catalogue_file(str(catalogue_june)))
        context = CatalogueContext.of(entries)
        verdicts = {entry.id: classify(entry, context) for entry in entries}
        second: subprocess.Popen[bytes] | None = None

        async def decide_while_a_second_process_polls(
            known: Mapping[str, KnownModel], _peak: int
        ) -> list[CatalogueEvent]:
            """Between this poll's read and its write, start a whole `scout scan` in another process."""
            nonlocal second
            events = diff_catalogue(entries, verdicts, known)
            second = subprocess.Popen(
                [SCOUT, "scan", "--catalogue", str(catalogue_june), "--json"],
                cwd=tmp_path,
                env={**CLEAN_ENV, "DATABASE_PATH": str(database)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 20
            while not holds_open(second.pid, database) and second.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert holds_open(second.pid, database), "the second process never opened the database"
            await asyncio.sleep(0.3)
            assert second.poll() is None, "the second process finished while this poll held its transaction"
            return events

        poll_id = await store.catalogue.start_poll("june, first process")
        events, _ = await store.catalogue.record_poll(
            poll_id, entries, verdicts, decide_while_a_second_process_polls, skipped=0
        )
        assert second is not None
        out, err = await asyncio.to_thread(second.communicate, timeout=60)
        assert second.returncode == 0, err.decode()
        assert [(event.kind, event.model_id) for event in events if event.stealth] == [("new", OWL)]
        assert not [line for line in json_lines(out.decode()) if line["event"] == "new"]
        assert await new_events(store, OWL) == 1
        assert [poll.ok for poll in await store.catalogue.last_polls(3)] == [True, True, True]


async def test_two_connections_polling_at_once_record_each_new_model_once(
    tmp_path: Path, catalogue_december: Path, catalogue_june: Path
) -> None:
    december, june = list(load_catalogue_file(str(catalogue_december))), list(load_catalogue_file(str(catalogue_june)))
    async with await Store.open(tmp_path / "scout.db") as first, await Store.open(tmp_path / "scout.db") as second:
        await record_catalogue(first, december, "december")
        results = await asyncio.gather(*(record_catalogue(store, june, "june") for store in (first, second)))
        assert sorted(len([e for e in result.events if e.kind == "new"]) for result in results)[0] == 0
        new_ids = [e.model_id for result in results for e in result.events if e.kind == "new"]
        assert len(new_ids) == len(set(new_ids)) and OWL in new_ids
        assert await new_events(first, OWL) == 1
