"""References: known models' fingerprints, from probing them (`scout calibrate`) or from a corpus file
(`scout references import`), and the combiner fitted on them.

A reference probed with the suite carries everything a live run yields (answers and token counts of
every probe); one imported from an AlpacaEval-format corpus carries answers to the style probes only,
which still lets the style and identity signals compare against labs nobody probed, plus the gateway's
prompt-token counts and providers where the corpus recorded them (the tokenizer signal compares those). The combiner is
refitted whenever the references change and cached in the store, so a guess never waits for it twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.attribution.combiner import CombinerModel, Fingerprint, fit_combiner, leave_one_out_cases
from bot.attribution.corpus import CorpusError, load_corpus
from bot.catalogue.chat import is_chat_model
from bot.catalogue.entry import CatalogueEntry
from bot.catalogue.lines import PlannedReference, RunCost, plan_references
from bot.catalogue.vendors import COMMON_VENDOR_KEYS, canonical_vendor, vendor_for_model_id
from bot.jobs.key_health import KeyRefused
from bot.jobs.probe_runner import ProbeRunner, RunReport, request_extra_for
from bot.jobs.spend import SpendRefused
from bot.probes.cost import ListingPrices, plan_cost
from bot.probes.suite import PROBES_BY_ID, SUITE_VERSION, ProbePlan
from bot.store import Store
from bot.store.catalogue import ModelRecord
from bot.store.references import CORPUS_SUITE_VERSION, Reference, ReferenceAnswer

log = logging.getLogger(__name__)

PROBE_SOURCE = "probe"
COMBINER_STATE_KEY = "attribution.combiner"
CALIBRATION_PARALLEL_MODELS = 3


def _is_text_probe(probe_id: str) -> bool:
    """Corpus prompts are all text; of the suite's probes, only tokenizer strings are not."""
    probe = PROBES_BY_ID.get(probe_id)
    return probe is None or probe.kind != "tokenizer"


def fingerprint_of(reference: Reference, listing: CatalogueEntry | None = None) -> Fingerprint:
    """A stored reference as the combiner compares it; a tokenizer probe carries only its token count."""
    texts = {
        probe_id: answer.content
        for probe_id, answer in reference.answers.items()
        if answer.content and answer.content.strip() and _is_text_probe(probe_id)
    }
    counts = {
        probe_id: answer.prompt_tokens
        for probe_id, answer in reference.answers.items()
        if answer.prompt_tokens is not None
    }
    providers = {probe_id: answer.provider for probe_id, answer in reference.answers.items() if answer.provider}
    return Fingerprint(reference.model_id, reference.vendor, texts, counts, listing, providers=providers)


def reference_from_run(report: RunReport, vendor: str) -> Reference | None:
    """A run's usable answers and token counts as a reference, or None when nothing usable came back."""
    answers = {}
    for response in report.responses:
        content = response.content if response.ok and response.kind != "tokenizer" else None
        if content or response.prompt_tokens is not None:
            answers[response.probe_id] = ReferenceAnswer(
                content, response.prompt_tokens, response.completion_tokens, response.provider
            )
    if not answers:
        return None
    return Reference(report.model_id, vendor, PROBE_SOURCE, report.suite_version, answers, report.run_id)


async def catalogue_listings(store: Store) -> list[CatalogueEntry]:
    """The store's non-stealth listings, parsed; the metadata signal compares against them."""
    return [record.entry for record in await store.catalogue.models() if not record.stealth and record.entry]


async def load_fingerprints(store: Store, listings: Sequence[CatalogueEntry]) -> list[Fingerprint]:
    """Every reference comparable with the current suite, with its catalogue listing when it has one."""
    by_id = {listing.id: listing for listing in listings}
    references = await store.references.load(SUITE_VERSION, probe_ids=PROBES_BY_ID.keys())
    return [fingerprint_of(reference, by_id.get(reference.model_id)) for reference in references]


async def combiner_model(
    store: Store,
    references: Sequence[Fingerprint],
    listings: Sequence[CatalogueEntry],
    query_probe_ids: Collection[str],
) -> CombinerModel:
    """The combiner fitted on these references for queries asking `query_probe_ids`; cached until they change."""
    key = await _combiner_key(store, query_probe_ids)
    cached = await store.state.get(COMBINER_STATE_KEY)
    if cached:
        try:
            record = json.loads(cached)
            if record.get("key") == key:
                return CombinerModel.from_json(record["model"])
        except (ValueError, KeyError, TypeError):
            log.warning("cached combiner fit is unreadable; fitting again")
    return await refit_combiner(store, references, listings, query_probe_ids)


async def refit_combiner(
    store: Store,
    references: Sequence[Fingerprint],
    listings: Sequence[CatalogueEntry],
    query_probe_ids: Collection[str],
) -> CombinerModel:
    """Fit the combiner by leave-one-reference-out (CPU work, off the event loop) and cache it."""
    key = await _combiner_key(store, query_probe_ids)
    wanted = frozenset(query_probe_ids)

    def fit() -> CombinerModel:
        return fit_combiner(leave_one_out_cases(references, listings, wanted))

    model = await asyncio.to_thread(fit)
    await store.state.set(COMBINER_STATE_KEY, json.dumps({"key": key, "model": model.to_json()}))
    log.info("%s", model.describe())
    return model


async def _combiner_key(store: Store, query_probe_ids: Collection[str]) -> str:
    probes = hashlib.sha1(",".join(sorted(query_probe_ids)).encode()).hexdigest()[:12]
    return f"{await store.references.fingerprint(SUITE_VERSION)}:{probes}"


# --- corpus import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    """What a corpus import brought in, for the one line `scout references import` prints."""

    source: str
    models: int
    vendors: int
    answers: int
    lines_skipped: int
    models_skipped: tuple[str, ...]
    texts_cut: int = 0
    counted: int = 0  # answers that came with the gateway's prompt-token count


async def import_corpus(store: Store, path: Path) -> ImportSummary:
    """Load a corpus file as references (replacing an earlier import of the same file name)."""
    corpus = await asyncio.to_thread(load_corpus, path)
    if not corpus.models:
        stats = corpus.stats
        why = f"; {stats.first_skip}" if stats.first_skip else ""
        raise CorpusError(f"no valid line in {path.name}: nothing imported ({stats.lines_skipped} skipped{why})")
    source = f"corpus:{path.name}"
    references = [
        Reference(
            answers.model,
            canonical_vendor(answers.vendor),
            source,
            CORPUS_SUITE_VERSION,
            {
                prompt_id: ReferenceAnswer(
                    text,
                    answers.prompt_tokens.get(prompt_id),
                    answers.completion_tokens.get(prompt_id),
                    answers.providers.get(prompt_id),
                )
                for prompt_id, text in answers.answers.items()
            },
        )
        for answers in corpus.models.values()
    ]
    await store.references.save(references)
    return ImportSummary(
        source,
        len(references),
        len({r.vendor for r in references}),
        sum(len(r.answers) for r in references),
        corpus.stats.lines_skipped,
        corpus.stats.models_skipped,
        corpus.stats.texts_cut,
        sum(1 for r in references for answer in r.answers.values() if answer.prompt_tokens is not None),
    )


# --- calibration -----------------------------------------------------------------------------------


def is_reference_candidate(record: ModelRecord) -> CatalogueEntry | None:
    """The record's listing when it can serve as a reference: a known lab's own chat model (`is_chat_model`).

    Stealth and removed listings are not (their maker is unknown or their answers can no longer be had),
    nor listings with a negative (router-style) price.
    """
    if record.stealth or record.removed_at or ":" in record.id:
        return None
    entry = record.entry
    if entry is None or not is_chat_model(entry):
        return None
    if any(price is not None and price < 0 for price in (entry.price("prompt"), entry.price("completion"))):
        return None
    return entry


def run_cost(plan: ProbePlan) -> RunCost:
    """The most a run of `plan` costs on a listing (`plan_cost`: its prices, every probe at its cap, every request);
    nothing for a listing that gives no usable price."""

    def cost(entry: CatalogueEntry) -> float:
        prices = ListingPrices.of(entry)
        return 0.0 if prices is None else plan_cost(plan, prices)

    return cost


def calibration_plan(records: Sequence[ModelRecord], lines_per_lab: int, plan: ProbePlan) -> list[PlannedReference]:
    """The newest listing of each product line of each major lab, in the order to probe them (`plan_references`)."""
    entries = [entry for record in records if (entry := is_reference_candidate(record)) is not None]
    return plan_references(entries, COMMON_VENDOR_KEYS, run_cost(plan), lines_per_lab)


def choose_calibration_models(records: Sequence[ModelRecord], lines_per_lab: int, plan: ProbePlan) -> list[str]:
    """The model ids of `calibration_plan`, in order."""
    return [item.model_id for item in calibration_plan(records, lines_per_lab, plan)]


@dataclass(frozen=True)
class CalibrationStep:
    """One model's outcome, reported as soon as it is known."""

    model_id: str
    status: str  # "done", "failed" or "skipped"
    requests: int = 0
    failures: int = 0
    probes: int = 0
    detail: str = ""
    outage: bool = False

    def describe(self) -> str:
        """One line per reference model, logged as calibration goes, so a run reads as a list of what happened."""
        if self.status == "skipped":
            return f"{self.model_id}: skipped ({self.detail})"
        line = (
            f"{self.model_id}: {self.status}, {self.requests} requests, {self.failures} of {self.probes} probes failed"
        )
        return line + (f" ({self.detail})" if self.detail else "")


async def calibrate(
    store: Store,
    make_runner: Callable[[], ProbeRunner],
    model_ids: Sequence[str],
    *,
    refresh: bool = False,
    on_step: Callable[[CalibrationStep], None] | None = None,
) -> list[CalibrationStep]:
    """Probe each known model with the suite and store its fingerprint with the suite version.

    A few models run at once, each through its own runner (and so its own rate window: known models
    are paid listings with limits far above a free stealth model's). Models that already have a
    reference of this suite are skipped unless `refresh`, so an interrupted calibration resumes.
    """
    existing = set() if refresh else await store.references.model_ids(SUITE_VERSION)
    gate = asyncio.Semaphore(CALIBRATION_PARALLEL_MODELS)

    async def one(model_id: str) -> CalibrationStep:
        vendor = vendor_for_model_id(model_id)
        if vendor is None:
            step = CalibrationStep(model_id, "skipped", detail="its id names no known vendor")
        elif model_id in existing:
            step = CalibrationStep(
                model_id, "skipped", detail=f"reference of suite {SUITE_VERSION} exists; --refresh to probe again"
            )
        else:
            try:
                async with gate:
                    step = await probe_reference(store, make_runner(), model_id, vendor.key)
            except (SpendRefused, KeyRefused) as refused:
                step = CalibrationStep(model_id, "skipped", detail=str(refused))
        if on_step is not None:
            on_step(step)
        return step

    return list(await asyncio.gather(*(one(model_id) for model_id in dict.fromkeys(model_ids))))


async def probe_reference(store: Store, runner: ProbeRunner, model_id: str, vendor: str) -> CalibrationStep:
    """Probe one known model with the suite and store its fingerprint; the step says how it went."""
    record = await store.catalogue.model(model_id)
    listing = record.entry if record else None
    extra = request_extra_for(listing.supported_parameters) if listing else {}
    report = await runner.run(model_id, purpose="reference", request_extra=extra)
    failures = len(report.failures)
    reference = reference_from_run(report, vendor)
    if reference is None or failures == len(report.responses):
        kinds = sorted({f.error_kind or "error" for f in report.failures})
        return CalibrationStep(
            model_id,
            "failed",
            report.requests,
            failures,
            len(report.responses),
            "no usable answer: " + ", ".join(kinds),
            outage=report.outage,
        )
    await store.references.save([reference])
    return CalibrationStep(model_id, "done", report.requests, failures, len(report.responses))
