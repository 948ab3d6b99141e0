"""Reference fingerprints: known models' answers and token counts per probe, what a stealth model is compared with."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.probes.response import cap_answer
from bot.store.database import Database, utc_now

CORPUS_SUITE_VERSION = "corpus"
"""The suite version of references imported from a corpus: their prompt ids are content hashes, valid for any suite."""
REFERENCES_REVISION_KEY = "references.revision"


@dataclass(frozen=True)
class ReferenceAnswer:
    """A reference model's answer to one probe; the prompt token count is what the tokenizer signal compares.

    `provider` is who served the request: a chat template adds a constant per model and provider, so counts
    are compared within each provider's share.
    """

    content: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    provider: str | None = None


@dataclass(frozen=True)
class Reference:
    """A known model's fingerprint: its answers and token counts per probe id."""

    model_id: str
    vendor: str
    source: str
    suite_version: str
    answers: Mapping[str, ReferenceAnswer]
    run_id: int | None = None
    created_at: str = ""


def _stored_answer(content: str | None) -> str | None:
    return cap_answer(content)[0] if content is not None else None


class ReferenceStore:
    """Reference fingerprints, each save bumping a revision so fits cached on the old set are dropped."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, references: Iterable[Reference]) -> int:
        """Store fingerprints, each replacing an earlier one of the same model, source and suite; one transaction."""
        now = utc_now()
        saved = 0
        async with self._db.transaction() as tx:
            for reference in references:
                await tx.execute(
                    "DELETE FROM reference_models WHERE model_id = ? AND source = ? AND suite_version = ?",
                    (reference.model_id, reference.source, reference.suite_version),
                )
                inserted = await tx.fetchone(
                    "INSERT INTO reference_models (model_id, vendor, source, suite_version, run_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        reference.model_id,
                        reference.vendor,
                        reference.source,
                        reference.suite_version,
                        reference.run_id,
                        now,
                    ),
                )
                assert inserted is not None
                await tx.executemany(
                    "INSERT INTO reference_answers (reference_id, probe_id, content, prompt_tokens, "
                    "completion_tokens, provider) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            inserted["id"],
                            probe_id,
                            _stored_answer(answer.content),
                            answer.prompt_tokens,
                            answer.completion_tokens,
                            answer.provider,
                        )
                        for probe_id, answer in reference.answers.items()
                    ],
                )
                saved += 1
            await tx.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, '1') "
                "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(bot_state.value AS INTEGER) + 1 AS TEXT)",
                (REFERENCES_REVISION_KEY,),
            )
        return saved

    async def load(self, suite_version: str, probe_ids: Collection[str] | None = None) -> list[Reference]:
        """References comparable with a run of `suite_version`: probed with it, or imported from a corpus.

        `probe_ids` limits the answers loaded to those a query can use, so a large imported corpus
        costs only the few prompts the suite asks.
        """
        answers_sql = (
            "SELECT reference_id, probe_id, content, prompt_tokens, completion_tokens, provider FROM reference_answers"
        )
        params: list[Any] = []
        if probe_ids is not None:
            wanted = sorted(set(probe_ids))
            if not wanted:
                return []
            answers_sql += f" WHERE probe_id IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        models = await self._db.fetchall(
            "SELECT * FROM reference_models WHERE suite_version IN (?, ?) ORDER BY id",
            (suite_version, CORPUS_SUITE_VERSION),
        )
        by_reference: dict[int, dict[str, ReferenceAnswer]] = {row["id"]: {} for row in models}
        async for row in self._db.iterate(answers_sql, params):
            answers = by_reference.get(row["reference_id"])
            if answers is not None:
                answers[row["probe_id"]] = ReferenceAnswer(
                    row["content"], row["prompt_tokens"], row["completion_tokens"], row["provider"]
                )
        return [
            Reference(
                row["model_id"],
                row["vendor"],
                row["source"],
                row["suite_version"],
                by_reference[row["id"]],
                row["run_id"],
                row["created_at"],
            )
            for row in models
        ]

    async def model_ids(self, suite_version: str) -> set[str]:
        """Models already probed as references with this suite, so calibration does not pay for them twice."""
        rows = await self._db.fetchall(
            "SELECT model_id FROM reference_models WHERE suite_version = ?", (suite_version,)
        )
        return {row["model_id"] for row in rows}

    async def fingerprint(self, suite_version: str) -> str:
        """Changes whenever references are saved: the key under which fits made on them are cached.

        A revision counter rather than row ids, because SQLite reuses the id of a replaced last row.
        """
        row = await self._db.fetchone("SELECT value FROM bot_state WHERE key = ?", (REFERENCES_REVISION_KEY,))
        return f"{suite_version}:{row['value'] if row else 0}"

    async def counts(self) -> dict[str, int]:
        """References per source (probed, or the corpus they came from), for a status line."""
        rows = await self._db.fetchall("SELECT source, COUNT(*) AS n FROM reference_models GROUP BY source")
        return {row["source"]: row["n"] for row in rows}

    async def by_vendor(self, suite_version: str) -> list[VendorReferences]:
        """How many references of each vendor a run of `suite_version` is compared with, and the newest one's time."""
        rows = await self._db.fetchall(
            "SELECT vendor, COUNT(*) AS n, MAX(created_at) AS newest FROM reference_models "
            "WHERE suite_version IN (?, ?) GROUP BY vendor ORDER BY vendor",
            (suite_version, CORPUS_SUITE_VERSION),
        )
        return [VendorReferences(row["vendor"], row["n"], row["newest"]) for row in rows]


@dataclass(frozen=True)
class VendorReferences:
    """One vendor's references for a suite: how many, and when the newest was stored (its age on `/scout status`)."""

    vendor: str
    count: int
    newest_at: str
