"""Merging signals into a ranking, and learning the weights by leave-one-reference-out."""

from __future__ import annotations

import random

import pytest

from bot.attribution.calibration import (
    DEFAULT_THRESHOLD,
    UNKNOWN_VENDOR,
    Calibration,
    fit_threshold,
    precision_lower_bound,
    risk_coverage_area,
)
from bot.attribution.combiner import (
    MIN_UNKNOWN_CASES,
    UNKNOWN_LAB_NAME,
    CombinerModel,
    Fingerprint,
    LeaveOneOutCase,
    SignalScores,
    SignalSet,
    combine,
    expected_calibration_error,
    fit_combiner,
    gather_signals,
    leave_one_out_cases,
)
from bot.attribution.guess import NOT_SURE_BETWEEN, NOT_SURE_UNLIKE_ANY, NotSure
from bot.catalogue.entry import parse_entry
from bot.probes.suite import PROBES, plan_probes
from bot.testing.scripted_labs import KNOWN_MODELS, LABS, STEALTH_ID, catalogue_entry, responder

VENDORS = ("anthropic", "openai", "zhipu")


def signal(name: str, scores: dict[str, float], evidence: str, **extra) -> SignalScores:
    return SignalScores(name, scores, min(scores.values()), {}, (evidence,), **extra)


def test_agreeing_signals_rank_first_and_evidence_reads_in_signal_order():
    found = SignalSet(
        VENDORS,
        {
            "style": signal("style", {"zhipu": -0.2, "openai": -2.0, "anthropic": -3.0}, "style nearest: z-ai/glm-4.6"),
            "identity": signal(
                "identity",
                {"zhipu": -4.0, "openai": -0.3, "anthropic": -4.0},
                "identity: says it was made by OpenAI",
                named=frozenset({"openai"}),
            ),
            "tokenizer": signal(
                "tokenizer", {"zhipu": 15.0, "openai": -20.0}, "tokenizer: 10/10 strings match z-ai/glm-4.6"
            ),
        },
    )
    guess = combine(STEALTH_ID, found, CombinerModel.uncalibrated())
    assert [r.vendor for r in guess.ranking] == ["zhipu", "openai", "anthropic"]
    assert guess.confidence == guess.ranking[0].probability and sum(
        r.probability for r in guess.ranking
    ) == pytest.approx(1)
    assert guess.evidence[:4] == (
        "tokenizer: 10/10 strings match z-ai/glm-4.6",
        "identity: says it was made by OpenAI",
        "identity disagrees with the ranking: self-reports are weak, distilled models repeat their teacher's name",
        "style nearest: z-ai/glm-4.6",
    )
    assert "confidence not yet calibrated" in guess.evidence[-1]


def test_missing_signals_lower_the_confidence_instead_of_breaking():
    style = signal("style", {"zhipu": -0.3, "openai": -1.8, "anthropic": -2.5}, "style")
    tokenizer = signal("tokenizer", {"zhipu": 12.0, "openai": -10.0, "anthropic": -10.0}, "tokenizer")
    model = CombinerModel({}, Calibration())
    both = combine("m", SignalSet(VENDORS, {"style": style, "tokenizer": tokenizer}), model)
    alone = combine("m", SignalSet(VENDORS, {"style": style}), model)
    assert both.ranking[0].vendor == alone.ranking[0].vendor == "zhipu"
    assert alone.confidence < both.confidence
    assert "without tokenizer, identity evidence: confidence is lower" in alone.evidence

    nothing = combine("m", SignalSet(VENDORS, {}), model)
    assert (nothing.ranking, nothing.confidence, nothing.status) == ((), 0.0, "too_little_evidence")
    assert nothing.reason is not None and nothing.reason.startswith("no guess yet: too little evidence")


def test_no_ranking_without_a_signal_that_tells_the_labs_apart():
    model = CombinerModel({}, Calibration())
    flat_style = signal("style", {"zhipu": -1.1, "openai": -1.1, "anthropic": -1.1}, "style: all alike")
    listing = signal("metadata", {"zhipu": 0.4, "openai": 0.0, "anthropic": 0.0}, "catalogue: like z-ai/glm-4.6")
    guess = combine("m", SignalSet(VENDORS, {"style": flat_style, "metadata": listing}), model)
    assert guess.ranking == () and guess.status == "too_little_evidence" and "tells the labs apart" in guess.reason
    assert guess.evidence == ("style: all alike", "catalogue: like z-ai/glm-4.6")

    no_references = combine("m", SignalSet((), {"style": flat_style}), model)
    assert no_references.ranking == () and no_references.reason == "no guess yet: no references to compare with"


def test_only_vendors_with_references_are_named():
    references = [lab_fingerprint(model_id, vendor, vendor, variant) for model_id, vendor, variant in KNOWN_MODELS]
    without_openai = [reference for reference in references if reference.vendor != "openai"]
    stealth = lab_fingerprint(STEALTH_ID, None, "openai", 0)
    found = gather_signals(stealth, without_openai, [])
    assert set(found.candidates) == {reference.vendor for reference in without_openai}
    guess = combine(STEALTH_ID, found, CombinerModel.uncalibrated())
    assert guess.ranking and "openai" not in {item.vendor for item in guess.ranking}


def test_vendors_a_signal_knows_nothing_of_get_its_default_not_a_penalty():
    style = SignalScores("style", {"zhipu": -0.1, "openai": -3.0}, -1.0, {}, ())
    found = SignalSet(("openai", "xai", "zhipu"), {"style": style})
    probabilities = CombinerModel({}, Calibration()).probabilities(found)
    assert probabilities["zhipu"] > probabilities["xai"] > probabilities["openai"]


def synthetic_cases(count: int, noise: float, seed: int = 1) -> list[LeaveOneOutCase]:
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        truth = VENDORS[index % len(VENDORS)]
        scores = {vendor: rng.gauss(2.0 if vendor == truth else 0.0, noise) for vendor in VENDORS}
        cases.append(LeaveOneOutCase(SignalSet(VENDORS, {"style": SignalScores("style", scores, 0.0, {}, ())}), truth))
    return cases


def test_fitting_learns_a_temperature_and_measures_itself_on_held_out_folds():
    model = fit_combiner(synthetic_cases(60, noise=1.0))
    assert model.calibrated and model.examples == 60 and "style" in model.temperatures
    assert model.top1 is not None and 0.5 < model.top1 <= 1.0 and model.top3 == 1.0
    assert model.ece is not None and model.ece < 0.2
    assert "cross-fitted top-1" in model.describe()
    assert CombinerModel.from_json(model.to_json()) == model


def test_a_lab_without_references_is_a_ranked_entry_learnt_from_held_out_vendors():
    model = fit_combiner(synthetic_cases(60, noise=0.7))
    assert model.unknown is not None
    assert CombinerModel.from_json(model.to_json()) == model

    def style_only(scores: dict[str, float]) -> SignalSet:
        return SignalSet(VENDORS, {"style": SignalScores("style", scores, 0.0, {}, ())})

    familiar = combine("m", style_only({"zhipu": 2.2, "openai": 0.1, "anthropic": -0.1}), model)
    stranger = combine("m", style_only({"zhipu": 0.2, "openai": 0.1, "anthropic": -0.1}), model)
    assert familiar.ranking[0].vendor == "zhipu"
    assert stranger.ranking[0].vendor == UNKNOWN_VENDOR and stranger.ranking[0].name == UNKNOWN_LAB_NAME
    for guess in (familiar, stranger):
        assert UNKNOWN_VENDOR in {r.vendor for r in guess.ranking}
        assert sum(r.probability for r in guess.ranking) == pytest.approx(1.0)
        assert guess.confidence == guess.ranking[0].probability


def test_too_few_cases_learn_no_unknown_entry():
    model = fit_combiner(synthetic_cases(MIN_UNKNOWN_CASES - 1, noise=0.7))
    assert model.calibrated and model.unknown is None
    found = SignalSet(VENDORS, {"style": SignalScores("style", {"zhipu": 0.2, "openai": 0.1}, 0.0, {}, ())})
    assert UNKNOWN_VENDOR not in {r.vendor for r in combine("m", found, model).ranking}


def test_a_few_agreeing_references_cannot_buy_near_certainty():
    model = fit_combiner(synthetic_cases(8, noise=0.01))
    assert model.calibrated and model.top1 is None  # too few cases to hold some out
    clear = SignalSet(
        VENDORS, {"style": SignalScores("style", {"zhipu": 50.0, "openai": 0.0, "anthropic": 0.0}, 0.0, {}, ())}
    )
    floor = 1 / (8 + 2)  # rule of succession after 8 cases
    assert combine("m", clear, model).confidence == pytest.approx(1 - floor + floor / len(VENDORS))


def test_too_few_cases_leave_the_combiner_uncalibrated():
    model = fit_combiner(synthetic_cases(3, noise=0.5))
    assert not model.calibrated and model.final == CombinerModel.uncalibrated().final
    assert "not calibrated" in model.describe()


def test_expected_calibration_error():
    assert expected_calibration_error([(0.9, True)] * 9 + [(0.9, False)]) == pytest.approx(0.0)
    assert expected_calibration_error([(1.0, False), (0.5, True)]) == pytest.approx(0.75)
    assert expected_calibration_error([]) == 0.0


def lab_fingerprint(
    model_id: str, vendor: str | None, lab: str, variant: int, claims: str | None = None
) -> Fingerprint:
    """What a probe run of a scripted lab model would record, without the HTTP round trip."""
    respond = responder(LABS[lab], variant, claims)
    texts = {p.probe_id: respond([{"role": "user", "content": p.prompt}]) for p in PROBES if p.wants_text}
    counts = {p.probe_id: LABS[lab].tokenizer(p.prompt) + 4 for p in PROBES}
    return Fingerprint(model_id, vendor, texts, counts)


def test_real_signals_on_scripted_labs_name_the_stealth_models_maker():
    references = [lab_fingerprint(model_id, vendor, vendor, variant) for model_id, vendor, variant in KNOWN_MODELS]
    plan = {probe.probe_id for probe in plan_probes(12, 4000).probes}
    cases = leave_one_out_cases(references, [], plan)
    assert len(cases) == len(references) and all(
        set(case.found.signals) == {"tokenizer", "identity", "style"} for case in cases
    )
    model = fit_combiner(cases)
    stealth = lab_fingerprint(STEALTH_ID, None, "zhipu", 0, claims=LABS["openai"].identity).restricted(plan)
    guess = combine(STEALTH_ID, gather_signals(stealth, references, []), model)
    assert guess.ranking[0].vendor == "zhipu" and guess.ranking[0].nearest
    assert any(line.startswith("tokenizer: 10/10 strings match z-ai/") for line in guess.evidence)
    assert any("says it was made by OpenAI" in line for line in guess.evidence)
    support = [item.text for item in guess.findings if item.stance == "support"]
    against = [(item.vendor, item.text) for item in guess.findings if item.stance == "against"]
    assert support[0].startswith("counts tokens exactly like glm-4.")
    assert support[1].startswith("writes most like glm-4.")
    assert against == [("openai", "calls itself ChatGPT, which many labs' models do")]


def test_a_fingerprint_restricted_to_a_plan_keeps_only_its_probes():
    full = lab_fingerprint("z-ai/glm-4.6", "zhipu", "zhipu", 0)
    small = full.restricted({"identity", "tok-baseline"})
    assert set(small.texts) == {"identity"} and set(small.token_counts) == {"identity", "tok-baseline"}


def test_below_the_naming_threshold_the_guess_names_the_labs_it_cannot_choose_between():
    style = signal("style", {"openai": -0.6, "anthropic": -0.9, "zhipu": -3.0}, "style nearest: openai/gpt-5")
    found = SignalSet(VENDORS, {"style": style})
    sure = combine("m", found, CombinerModel({}, Calibration(), threshold=0.4))
    assert sure.not_sure is None and sure.top_vendor == "openai"
    unsure = combine("m", found, CombinerModel({}, Calibration(), threshold=0.9))
    assert unsure.top_vendor is None and unsure.ranking[0].vendor == "openai"
    assert unsure.not_sure == NotSure(
        NOT_SURE_BETWEEN, ("openai", "anthropic"), "OpenAI or Anthropic, not sure which", 0.9
    )
    assert unsure.evidence[0].startswith("not sure: OpenAI or Anthropic, not sure which (no lab reaches the 90%")


def test_when_a_lab_without_references_leads_no_reference_writes_like_it():
    cases = synthetic_cases(60, noise=0.3)
    model = fit_combiner(cases)
    assert model.unknown is not None
    far = SignalSet(VENDORS, {"style": signal("style", {"openai": -9.0, "anthropic": -9.0, "zhipu": -9.2}, "s")})
    guess = combine("m", far, model)
    assert guess.ranking[0].vendor == UNKNOWN_VENDOR
    assert guess.not_sure == NotSure(NOT_SURE_UNLIKE_ANY, (), "no reference writes like it", model.naming_threshold)


def test_the_naming_threshold_is_learnt_by_cross_fitting_for_the_target_precision():
    cases = synthetic_cases(80, noise=1.2)
    model = fit_combiner(cases)
    assert model.threshold is not None and 0.0 < model.threshold < 1.0
    assert CombinerModel.from_json(model.to_json()).threshold == model.threshold
    assert CombinerModel.uncalibrated().naming_threshold == DEFAULT_THRESHOLD


def test_fit_threshold_picks_the_lowest_confidence_reaching_the_target_precision_with_a_margin():
    right = [(0.9, True)] * 9 + [(0.85, True)] * 9 + [(0.8, False)] * 2 + [(0.5, False)] * 5 + [(0.4, True)] * 5
    # 18 of 20 at or above 0.8 is 90%, but with one standard error to spare it is not: 18 of 18 is.
    assert precision_lower_bound(18, 20) < 0.9 <= precision_lower_bound(18, 18)
    assert fit_threshold(right, 0.9) == 0.85
    assert fit_threshold(right, 0.97) == 0.85  # never reached: the cut with the best bound
    assert fit_threshold([(0.9, False)] * 10 + [(0.3, True)] * 10, 0.9) == 0.3  # never reached: the best precision
    assert fit_threshold([(0.9, True)], 0.9) == DEFAULT_THRESHOLD  # too few cases to learn from
    assert risk_coverage_area([(0.9, True), (0.5, False)]) == pytest.approx((0 + 0.5) / 2)
    assert risk_coverage_area([(0.9, False), (0.5, True)]) == pytest.approx((1 + 0.5) / 2)


def test_the_evidence_says_when_the_nearest_same_lab_reference_is_of_another_line_than_one_listed():
    references = [lab_fingerprint(model_id, vendor, vendor, variant) for model_id, vendor, variant in KNOWN_MODELS]
    listings = [parse_entry(catalogue_entry(model_id, vendor, 1_760_000_000)) for model_id, vendor, _ in KNOWN_MODELS]
    listings.append(parse_entry(catalogue_entry("openai/o4-mini", "openai", 1_760_000_000)))
    stealth = lab_fingerprint("openrouter/quasar-alpha", None, "openai", 0)
    guess = combine(
        "openrouter/quasar-alpha", gather_signals(stealth, references, listings), CombinerModel.uncalibrated()
    )
    assert guess.ranking[0].vendor == "openai"
    nearest = guess.ranking[0].nearest[0].model_id
    line = {"openai/gpt-5": "flagship chat model", "openai/gpt-5-mini": "small model"}[nearest]
    assert f"nearest OpenAI reference is a {line} ({nearest}); no reasoning model reference yet" in guess.evidence
    covered = combine("m", gather_signals(stealth, references, listings[:-1]), CombinerModel.uncalibrated())
    assert not [line for line in covered.evidence if "reference yet" in line]  # every listed line has a reference
