"""References: importing a corpus, probing known models, choosing them, and the cached combiner fit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bot.attribution.combiner import CombinerModel
from bot.catalogue.entry import load_catalogue_file
from bot.catalogue.vendors import COMMON_VENDOR_KEYS, vendor_for_model_id
from bot.gateway import GatewayClient
from bot.jobs.polling import poll_gateway, record_catalogue
from bot.jobs.probe_runner import ProbeRunner, RunReport
from bot.jobs.rate_limit import RateLimiter
from bot.jobs.references import (
    COMBINER_STATE_KEY,
    calibrate,
    calibration_plan,
    catalogue_listings,
    combiner_model,
    fingerprint_of,
    import_corpus,
    load_fingerprints,
    reference_from_run,
)
from bot.probes.response import ProbeResponse
from bot.probes.suite import PROBES, SUITE_VERSION, plan_probes
from bot.store import Store
from bot.store.references import CORPUS_SUITE_VERSION, Reference, ReferenceAnswer
from bot.testing.gateway_server import FakeGateway, Fault
from bot.testing.scripted_labs import KNOWN_MODELS
from tests.support.shared_data import shared_file

STYLE_ID = PROBES[0].probe_id


def write_corpus(path: Path, lines: list[object]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def row(model: str, vendor: str, prompt_id: str, response: str) -> dict[str, str]:
    return {"model": model, "vendor": vendor, "prompt_id": prompt_id, "prompt": "p", "response": response}


async def test_a_corpus_import_stores_canonical_vendors_independent_of_the_suite(store: Store, tmp_path):
    corpus = write_corpus(
        tmp_path / "mini.jsonl.gz",
        [
            row("Qwen-7B", "Alibaba/Qwen", STYLE_ID, "Qwen answer"),
            row("Qwen-7B", "Alibaba/Qwen", "aaaaaaaaaaaa", "other"),
            row("chatglm2", "Zhipu/GLM", STYLE_ID, "GLM answer"),
            "{not json",
        ],
    )
    summary = await import_corpus(store, corpus)
    assert (summary.models, summary.vendors, summary.answers, summary.lines_skipped) == (2, 2, 3, 1)
    assert summary.source == "corpus:mini.jsonl.gz"
    loaded = await store.references.load(SUITE_VERSION)
    assert {(r.model_id, r.vendor, r.suite_version) for r in loaded} == {
        ("Qwen-7B", "alibaba", CORPUS_SUITE_VERSION),
        ("chatglm2", "zhipu", CORPUS_SUITE_VERSION),
    }
    again = await import_corpus(store, corpus)
    assert again.models == 2 and len(await store.references.load(SUITE_VERSION)) == 2


async def test_the_shared_corpus_answers_the_suites_style_probes(store: Store):
    path = shared_file("corpora/alpaca_eval_dev.jsonl.gz")
    summary = await import_corpus(store, path)
    assert (summary.models, summary.vendors) == (44, 16)
    fingerprints = await load_fingerprints(store, [])
    alpaca_probes = {
        p.probe_id for p in PROBES if p.kind in ("style", "identity") and len(p.probe_id) == 12 and p.probe_id.isalnum()
    }
    assert len(alpaca_probes) >= 4
    for fingerprint in fingerprints:
        assert alpaca_probes <= set(fingerprint.texts), fingerprint.model_id
        assert set(fingerprint.texts) <= {p.probe_id for p in PROBES} and not fingerprint.token_counts


def test_a_fingerprint_keeps_text_answers_and_every_token_count():
    reference = Reference(
        "z-ai/glm-4.6",
        "zhipu",
        "probe",
        SUITE_VERSION,
        {
            "identity": ReferenceAnswer("I am GLM.", 20),
            "tok-baseline": ReferenceAnswer("O", 5),
            "refusal": ReferenceAnswer(None, 9),
        },
    )
    fingerprint = fingerprint_of(reference)
    assert fingerprint.texts == {"identity": "I am GLM."}
    assert fingerprint.token_counts == {"identity": 20, "tok-baseline": 5, "refusal": 9}


def test_a_run_becomes_a_reference_of_its_usable_answers():
    def response(probe_id: str, kind: str, ok: bool, content: str | None, tokens: int | None) -> ProbeResponse:
        return ProbeResponse(probe_id, kind, ok, {}, content=content, prompt_tokens=tokens)

    report = RunReport(
        7,
        "z-ai/glm-4.6",
        SUITE_VERSION,
        "reference",
        (
            response("identity", "identity", True, "I am GLM.", 20),
            response("tok-baseline", "tokenizer", True, "O", 5),
            response("refusal", "refusal", False, "", 9),
            response("cutoff", "cutoff", False, None, None),
        ),
        4,
        0.1,
    )
    reference = reference_from_run(report, "zhipu")
    assert reference is not None and (reference.run_id, reference.source, reference.vendor) == (7, "probe", "zhipu")
    assert dict(reference.answers) == {
        "identity": ReferenceAnswer("I am GLM.", 20),
        "tok-baseline": ReferenceAnswer(None, 5),
        "refusal": ReferenceAnswer(None, 9),
    }
    assert reference_from_run(RunReport(8, "x/y", SUITE_VERSION, "reference", (), 0, 0.0), "x") is None


async def test_default_calibration_models_are_the_newest_of_each_line_of_major_labs(store: Store, catalogue_june):
    await record_catalogue(store, load_catalogue_file(str(catalogue_june)), "june")
    records = await store.catalogue.models()
    plan = calibration_plan(records, 5, plan_probes(20, 6000))
    chosen = [item.model_id for item in plan]
    assert chosen and len(chosen) == len(set(chosen))
    by_id = {record.id: record for record in records}
    for model_id in chosen:
        assert ":" not in model_id and not by_id[model_id].stealth
        assert vendor_for_model_id(model_id).key in COMMON_VENDOR_KEYS
        assert by_id[model_id].raw["architecture"]["output_modalities"] == ["text"]
    per_vendor: dict[str, list[str]] = {}
    for model_id in chosen:
        per_vendor.setdefault(vendor_for_model_id(model_id).key, []).append(model_id)
    assert all(len(ids) <= 5 for ids in per_vendor.values()) and len(per_vendor) >= 10
    two_lines = calibration_plan(records, 2, plan_probes(20, 6000))
    assert (
        all(item in plan for item in two_lines)
        and max(sum(item.vendor == vendor for item in two_lines) for vendor in per_vendor) == 2
    )
    assert {item.line for item in plan if item.vendor == "openai"} == {
        "flagship",
        "small",
        "reasoning",
        "open-weight",
        "coder",
    }


async def test_calibrate_probes_known_models_and_resumes_where_it_stopped(store: Store, gw: FakeGateway):
    async with GatewayClient(gw.base_url, "sk-test") as client:
        await poll_gateway(store, client)

        def make_runner() -> ProbeRunner:
            return ProbeRunner(
                store, client, RateLimiter(1000, 12), max_requests=12, max_completion_tokens=4000, timeout_s=5
            )

        gw.set_fault("chat", Fault.payment_required(), model="openai/gpt-5")
        seen = []
        steps = await calibrate(
            store, make_runner, ["z-ai/glm-4.6", "openai/gpt-5", "nobody/x", "z-ai/glm-4.6"], on_step=seen.append
        )
        assert seen and sorted(s.model_id for s in seen) == sorted(s.model_id for s in steps) == [
            "nobody/x",
            "openai/gpt-5",
            "z-ai/glm-4.6",
        ]
        status = {step.model_id: step for step in steps}
        assert (status["z-ai/glm-4.6"].status, status["z-ai/glm-4.6"].requests, status["z-ai/glm-4.6"].failures) == (
            "done",
            11,
            0,
        )
        assert status["openai/gpt-5"].status == "failed" and "payment_required" in status["openai/gpt-5"].describe()
        assert status["nobody/x"].status == "skipped"

        references = await store.references.load(SUITE_VERSION)
        assert [(r.model_id, r.vendor, r.source, r.suite_version) for r in references] == [
            ("z-ai/glm-4.6", "zhipu", "probe", SUITE_VERSION)
        ]
        assert references[0].run_id is not None and len(references[0].answers) == 11

        asked = len(gw.requests_to("chat"))
        again = await calibrate(store, make_runner, ["z-ai/glm-4.6"])
        assert again[0].status == "skipped" and len(gw.requests_to("chat")) == asked
        refreshed = await calibrate(store, make_runner, ["z-ai/glm-4.6"], refresh=True)
        assert refreshed[0].status == "done" and len(gw.requests_to("chat")) == asked + 11


async def test_the_combiner_fit_is_cached_until_the_references_change(store: Store, gw: FakeGateway):
    async with GatewayClient(gw.base_url, "sk-test") as client:
        await poll_gateway(store, client)

        def runner() -> ProbeRunner:
            return ProbeRunner(
                store, client, RateLimiter(1000, 12), max_requests=20, max_completion_tokens=6000, timeout_s=5
            )

        await calibrate(store, runner, [model_id for model_id, _, _ in KNOWN_MODELS])
    listings = await catalogue_listings(store)
    references = await load_fingerprints(store, listings)
    plan = {p.probe_id for p in plan_probes(20, 6000).probes}
    fitted = await combiner_model(store, references, listings, plan)
    assert fitted.calibrated and fitted.examples == len(KNOWN_MODELS)

    cached = json.loads(await store.state.get(COMBINER_STATE_KEY))
    marker = CombinerModel({"style": 3.0}, fitted.final, examples=99)
    await store.state.set(COMBINER_STATE_KEY, json.dumps({"key": cached["key"], "model": marker.to_json()}))
    assert await combiner_model(store, references, listings, plan) == marker
    assert (await combiner_model(store, references, listings, plan - {"refusal"})).examples == len(KNOWN_MODELS)

    await store.references.save(
        [Reference("z-ai/glm-4.6", "zhipu", "probe", SUITE_VERSION, {"identity": ReferenceAnswer("I am GLM.")})]
    )
    refreshed = await combiner_model(store, await load_fingerprints(store, listings), listings, plan)
    assert refreshed.examples == len(KNOWN_MODELS)


async def test_gateway_counts_and_providers_survive_a_corpus_import(store: Store, tmp_path):
    counted = row("qwen/qwen3-32b", "Alibaba/Qwen", STYLE_ID, "Qwen answer") | {
        "prompt_tokens": 21,
        "completion_tokens": 340,
        "provider": "DeepInfra",
    }
    bare = row("qwen/qwen3-32b", "Alibaba/Qwen", "aaaaaaaaaaaa", "other")
    summary = await import_corpus(store, write_corpus(tmp_path / "counted.jsonl.gz", [counted, bare]))
    assert (summary.answers, summary.counted) == (2, 1)
    (reference,) = await store.references.load(SUITE_VERSION)
    assert reference.answers[STYLE_ID] == ReferenceAnswer("Qwen answer", 21, 340, "DeepInfra")
    assert reference.answers["aaaaaaaaaaaa"] == ReferenceAnswer("other")
    fingerprint = fingerprint_of(reference)
    assert fingerprint.token_counts == {STYLE_ID: 21}
    assert fingerprint.providers == {STYLE_ID: "DeepInfra"}
