"""The style signal and its calibration, on small synthetic vendors with clear habits."""

from __future__ import annotations

import math
import random

import pytest

from bot.attribution import style, style_features
from bot.attribution.calibration import Calibration, CalibrationExample, UnknownEntry, fit_calibration, fit_unknown
from bot.attribution.style import StyleReference, rank_style

PROMPTS = [f"p{i}" for i in range(8)]
TOPICS = ["gardening", "budgets", "sleep", "python", "travel", "cooking", "running", "music"]
WORDS = "plan time care water light steady small daily simple careful notes habit goal rest fresh".split()


def _sentence(rng: random.Random, topic: str) -> str:
    words = rng.sample(WORDS, 6)
    return f"{words[0].capitalize()} {words[1]} helps with {topic} and {words[2]} {words[3]} {words[4]} {words[5]}."


def headers_and_bullets(rng: random.Random, topic: str) -> str:
    return (
        f"## Overview of {topic}\n\n"
        f"- **{rng.choice(WORDS).capitalize()}**: {_sentence(rng, topic)}\n"
        f"- **{rng.choice(WORDS).capitalize()}**: {_sentence(rng, topic)}\n"
        f"- **{rng.choice(WORDS).capitalize()}**: {_sentence(rng, topic)}\n\n"
        f"## Summary\n\n{_sentence(rng, topic)}"
    )


def plain_prose(rng: random.Random, topic: str) -> str:
    return (
        f"Well, {topic} is mostly a matter of patience; {_sentence(rng, topic)} {_sentence(rng, topic)}\n\n"
        f"{_sentence(rng, topic)} In short \u2014 keep at it. I hope that helps!"
    )


def numbered_steps(rng: random.Random, topic: str) -> str:
    steps = "\n".join(f"{i}. {_sentence(rng, topic)}" for i in range(1, 5))
    return f"Sure! Here are some steps for {topic}:\n\n{steps}\n\nLet me know if you have more questions."


def _answers(writer, seed: int, prompts=PROMPTS) -> dict[str, str]:
    rng = random.Random(seed)
    return {p: writer(rng, TOPICS[sum(map(ord, p)) % len(TOPICS)]) for p in prompts}


def shouting(rng: random.Random, topic: str) -> str:
    return f"OK!!! {_sentence(rng, topic).upper()} ... {_sentence(rng, topic).upper()}"


def _references() -> list[StyleReference]:
    return [
        StyleReference("hb-1", "Headers Inc", _answers(headers_and_bullets, 1)),
        StyleReference("hb-2", "Headers Inc", _answers(headers_and_bullets, 2)),
        StyleReference("prose-1", "Prose Labs", _answers(plain_prose, 3)),
        StyleReference("prose-2", "Prose Labs", _answers(plain_prose, 4)),
        StyleReference("steps-1", "Steps AI", _answers(numbered_steps, 5)),
        StyleReference("steps-2", "Steps AI", _answers(numbered_steps, 6)),
    ]


# --- feature views --------------------------------------------------------------------


def test_line_kinds_tell_headers_bullets_numbered_and_prose_apart() -> None:
    assert style_features.line_kind("## Title") == "H"
    assert style_features.line_kind("- item") == "B"
    assert style_features.line_kind("  * nested item") == "b"
    assert style_features.line_kind("3. step") == "N"
    assert style_features.line_kind("1. **Bold lead**: text") == "N*"
    assert style_features.line_kind("Ingredients:") == "P:"
    assert style_features.line_kind("Just a sentence.") == "P"
    assert style_features.line_kind("   ") == "E"


def test_markdown_habits_are_detected_per_answer() -> None:
    rng = random.Random(0)
    assert style_features.markdown_habits(headers_and_bullets(rng, "x")) == {"headers", "bullet lists", "bold"}
    assert style_features.markdown_habits(plain_prose(rng, "x")) == frozenset()
    assert style_features.markdown_habits(numbered_steps(rng, "x")) == {"numbered lists"}
    assert "code fences" in style_features.markdown_habits("Try:\n```python\nprint(1)\n```")


def test_formatting_view_measures_layout_and_punctuation() -> None:
    rng = random.Random(0)
    headers = style_features.formatting_view(headers_and_bullets(rng, "x"))
    prose = style_features.formatting_view(plain_prose(rng, "x"))
    assert len(headers) == len(prose)
    header_share, bullet_share, em_dash_rate = 4, 5, 24
    assert headers[header_share] > 0 and prose[header_share] == 0
    assert headers[bullet_share] > 0 and prose[bullet_share] == 0
    assert prose[em_dash_rate] > 0 and headers[em_dash_rate] == 0


def test_edge_view_keeps_opening_and_closing_words() -> None:
    view = style_features.edge_view("Sure! Here is the plan.\n\nLet me know.")
    assert "open:sure" in view and "open:sure !" in view
    assert "close:know ." in view
    assert "first-line:P" in view


def test_sparse_views_find_same_habits_more_alike_than_different_habits() -> None:
    rng = random.Random(0)
    a, b = headers_and_bullets(rng, "sleep"), headers_and_bullets(rng, "sleep")
    c = plain_prose(rng, "sleep")
    same = style_features.pair_similarities(a, b)
    different = style_features.pair_similarities(a, c)
    assert all(s > d for s, d in zip(same, different, strict=True))


def test_compression_view_finds_shared_phrasing() -> None:
    rng = random.Random(0)
    a, b = numbered_steps(rng, "sleep"), numbered_steps(rng, "sleep")
    c = plain_prose(rng, "sleep")
    compression = -1
    assert style_features.pair_similarities(a, a)[compression] > style_features.pair_similarities(a, b)[compression]
    assert style_features.pair_similarities(a, b)[compression] > style_features.pair_similarities(a, c)[compression]
    assert style_features.pair_similarities(a, c) == style_features.pair_similarities(c, a)


def test_sparse_similarity_is_the_cosine_of_the_view_vectors() -> None:
    rng = random.Random(3)
    a, b = (
        style_features.answer_profile(numbered_steps(rng, "music")),
        style_features.answer_profile(plain_prose(rng, "music")),
    )
    for x, y in zip(a.sparse, b.sparse, strict=True):
        dot = sum(w * y.weights.get(term, 0.0) for term, w in x.weights.items())
        norms = math.sqrt(sum(w * w for w in x.weights.values())) * math.sqrt(sum(w * w for w in y.weights.values()))
        assert style_features._cosine(x, y) == pytest.approx(dot / norms, abs=1e-12)
        assert style_features._cosine(x, y) == pytest.approx(style_features._cosine(y, x), abs=1e-12)


def test_text_that_utf8_cannot_encode_is_still_compared() -> None:
    lone_surrogate = "Sure! \ud800 Here is the plan."
    similarities = style_features.pair_similarities(lone_surrogate, "Sure! Here is the plan.")
    assert len(similarities) == 5 and all(isinstance(value, float) for value in similarities)


# --- ranking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "vendor"),
    [(headers_and_bullets, "Headers Inc"), (plain_prose, "Prose Labs"), (numbered_steps, "Steps AI")],
)
def test_rank_style_names_the_vendor_whose_habits_match(writer, vendor: str) -> None:
    verdict = rank_style(_answers(writer, 99), _references())
    assert verdict.ranking[0].vendor == vendor
    assert verdict.prompts_used == len(PROMPTS)
    assert sum(score.probability for score in verdict.ranking) == pytest.approx(1.0)
    assert [s.probability for s in verdict.ranking] == sorted((s.probability for s in verdict.ranking), reverse=True)
    nearest_models = [model for model, _ in verdict.ranking[0].nearest]
    assert set(nearest_models) <= {r.model for r in _references() if r.vendor == vendor}
    assert verdict.evidence[0].startswith("style nearest: ")


def test_evidence_reports_markdown_habit_counts() -> None:
    verdict = rank_style(_answers(headers_and_bullets, 99), _references())
    habits_line = next(line for line in verdict.evidence if line.startswith("markdown habits"))
    assert "Headers Inc" in habits_line
    assert "headers 8/8 vs 8/8" in habits_line
    assert "numbered lists 0/8 vs 0/8" in habits_line


def test_only_prompts_shared_with_references_count() -> None:
    query = _answers(plain_prose, 99, prompts=PROMPTS[:5] + ["unseen-1", "unseen-2"])
    verdict = rank_style(query, _references())
    assert verdict.prompts_used == 5
    assert verdict.ranking[0].vendor == "Prose Labs"


def test_reference_without_shared_prompts_is_ignored() -> None:
    stranger = StyleReference("stranger", "Elsewhere", {"other": "Some answer."})
    verdict = rank_style(_answers(plain_prose, 99), _references() + [stranger])
    assert "Elsewhere" not in {score.vendor for score in verdict.ranking}


def test_many_models_do_not_outvote_one_better_match() -> None:
    crowd = [StyleReference(f"prose-{i}", "Prose Labs", _answers(plain_prose, 10 + i)) for i in range(6)]
    loner = StyleReference("steps-1", "Steps AI", _answers(numbered_steps, 5))
    others = [StyleReference("hb-1", "Headers Inc", _answers(headers_and_bullets, 1))]
    verdict = rank_style(_answers(numbered_steps, 99), crowd + [loner] + others, Calibration(temperature=1.0))
    assert verdict.ranking[0].vendor == "Steps AI"


def test_a_pair_scores_the_same_whichever_of_the_two_is_the_query() -> None:
    """Scores are mutual: a reference that looks a bit like everyone gains nothing from it."""
    references = _references()
    query = _answers(plain_prose, 99)
    verdict = rank_style(query, references, Calibration())
    seen_from_query = dict(next(s for s in verdict.ranking if s.vendor == "Prose Labs").nearest)["prose-1"]

    prose_1 = next(r for r in references if r.model == "prose-1")
    swapped = [StyleReference("the-query", "Query Co", query)] + [r for r in references if r is not prose_1]
    verdict = rank_style(prose_1.answers, swapped, Calibration())
    seen_from_reference = dict(next(s for s in verdict.ranking if s.vendor == "Query Co").nearest)["the-query"]
    # Words are weighed over the references, which differ by one model between the two plays.
    assert seen_from_query == pytest.approx(seen_from_reference, abs=0.01)


def test_calibration_fitted_inside_rank_style_ignores_the_query() -> None:
    references = _references()
    query = _answers(numbered_steps, 99, prompts=PROMPTS[:6])
    on_shared_prompts = [StyleReference(r.model, r.vendor, {p: r.answers[p] for p in PROMPTS[:6]}) for r in references]
    fitted_inside = rank_style(query, references)
    fitted_apart = rank_style(query, references, style.calibrate_references(on_shared_prompts))
    # Exactly equal: the query does not even shift the scale of the references' formatting.
    assert [(s.vendor, s.probability) for s in fitted_inside.ranking] == [
        (s.vendor, s.probability) for s in fitted_apart.ranking
    ]


def test_one_more_candidate_is_placed_among_kept_moments_as_among_all_candidates() -> None:
    """`_Moments.standing` is `_prompt_scores` of the candidates plus one, without a pass over them all."""
    rng = random.Random(5)
    for count in (1, 2, 7, 40):
        candidates = [[rng.gauss(0.3, 0.1) for _ in style._VIEW_WEIGHTS] for _ in range(count)]
        for candidate in candidates:
            candidate[3] = 0.25  # a view on which every candidate is alike
        added = [rng.gauss(0.3, 0.2) for _ in style._VIEW_WEIGHTS]
        expected = style._prompt_scores([*candidates, added])[-1]
        assert style._Moments(candidates).standing(added, style._VIEW_WEIGHTS) == pytest.approx(expected, abs=1e-9)
    alike = [[0.5] * len(style._VIEW_WEIGHTS)] * 3
    assert style._Moments(alike).standing([0.5] * len(style._VIEW_WEIGHTS), style._VIEW_WEIGHTS) == 0.0


@pytest.mark.parametrize("kept", [4, 2], ids=["four references", "two references: alone, neither scores the other"])
def test_the_references_tables_score_a_query_as_the_full_mutual_comparison_does(kept: int) -> None:
    """Kept per-reference moments give the same mutual scores as comparing the query with every member anew."""
    references = _four_vendors()[:kept]
    query = _answers(numbered_steps, 99, prompts=PROMPTS[:6])
    prompts = PROMPTS[:6]
    answerers = [style._Answerer(r.model, r.vendor, r.answers) for r in references]
    tables = style._ReferenceTables(answerers, prompts)

    with_query = [style._Answerer("query", "", query), *answerers]
    reference_rows = list(range(1, len(with_query)))
    compared = style._comparisons(with_query, prompts, reference_rows)
    direct = style._MutualScores(range(len(with_query)), compared).scores_of(0)
    fast = tables.query_scores(query)
    assert set(fast) == {row - 1 for row in direct}
    for row, score in direct.items():
        assert fast[row - 1] == pytest.approx(score, abs=1e-9)


def test_the_references_tables_are_built_once_for_many_queries() -> None:
    references = _references()
    rank_style(_answers(plain_prose, 98), references)
    tables = style._tables_for(references, PROMPTS)
    rank_style(_answers(numbered_steps, 97), references)
    assert style._tables_for(references, PROMPTS) is tables


def test_empty_query_or_no_references_gives_an_empty_verdict() -> None:
    assert rank_style({}, _references()).ranking == ()
    verdict = rank_style(_answers(plain_prose, 1), [])
    assert verdict.ranking == () and verdict.prompts_used == 0 and verdict.evidence


def test_a_given_calibration_is_used_instead_of_fitting_one() -> None:
    query = _answers(headers_and_bullets, 99)
    flat = rank_style(query, _references(), Calibration(temperature=1e6))
    assert max(s.probability for s in flat.ranking) == pytest.approx(1 / 3, abs=1e-3)
    sharp = rank_style(query, _references(), Calibration(temperature=0.05))
    assert sharp.ranking[0].probability > 0.99


# --- calibration ----------------------------------------------------------------------


def test_probabilities_sum_to_one_and_keep_the_order_of_scores() -> None:
    scores = {"a": 2.0, "b": 0.5, "c": -1.0, "d": 0.4}
    for calibration in (Calibration(), Calibration(0.3), Calibration(4.0, floor=0.1)):
        probabilities = calibration.probabilities(scores)
        assert sum(probabilities.values()) == pytest.approx(1.0)
        assert sorted(probabilities, key=probabilities.__getitem__) == sorted(scores, key=scores.__getitem__)


def test_higher_temperature_is_less_confident() -> None:
    scores = {"a": 2.0, "b": 1.0, "c": 0.0}
    confidences = [Calibration(t).probabilities(scores)["a"] for t in (0.2, 0.5, 1.0, 2.0, 5.0)]
    assert confidences == sorted(confidences, reverse=True)


def test_calibration_fitted_on_overconfident_scores_lowers_confidence() -> None:
    rng = random.Random(0)
    examples = []
    for _ in range(200):
        # The top score is far ahead (a plain softmax says ~99%) but right only 60% of the time.
        scores = {"a": 5.0, "b": 0.0, "c": 0.0}
        examples.append(CalibrationExample(scores, "a" if rng.random() < 0.6 else rng.choice("bc")))
    raw = Calibration().probabilities({"a": 5.0, "b": 0.0, "c": 0.0})["a"]
    fitted = fit_calibration(examples).probabilities({"a": 5.0, "b": 0.0, "c": 0.0})["a"]
    assert raw > 0.98
    assert fitted == pytest.approx(0.6, abs=0.05)


def test_calibration_fitted_on_reliable_scores_stays_confident() -> None:
    examples = [CalibrationExample({"a": 1.0, "b": 0.0}, "a") for _ in range(50)]
    assert fit_calibration(examples).probabilities({"a": 1.0, "b": 0.0})["a"] > 0.9


def test_calibration_without_usable_examples_is_the_plain_softmax() -> None:
    assert fit_calibration([]) == Calibration()
    assert fit_calibration([CalibrationExample({"a": 1.0}, "a")]) == Calibration()


def test_calibrate_references_learns_a_reusable_calibration() -> None:
    calibration = style.calibrate_references(_references())
    verdict = rank_style(_answers(plain_prose, 99), _references(), calibration)
    assert verdict.ranking[0].vendor == "Prose Labs"
    assert calibration.temperature > 0


# --- a lab without references ---------------------------------------------------------


def test_unknown_entry_rises_as_the_best_vendor_scores_lower_and_leads_less() -> None:
    rng = random.Random(0)
    known = [{"a": rng.gauss(2.0, 0.3), "b": rng.gauss(0.0, 0.3), "c": rng.gauss(0.0, 0.3)} for _ in range(40)]
    unknown = [{"b": rng.gauss(0.5, 0.3), "c": rng.gauss(0.3, 0.3)} for _ in range(40)]
    entry = fit_unknown(known, unknown)
    assert entry is not None
    assert entry.probability({"a": 2.0, "b": 0.0}) < 0.2
    assert entry.probability({"a": 0.5, "b": 0.4}) > 0.8
    assert entry.probability({}) == 1.0


def test_unknown_entry_needs_both_sides_to_learn_from() -> None:
    assert fit_unknown([{"a": 1.0, "b": 0.0}], []) is None
    assert fit_unknown([], [{"a": 1.0}]) is None
    assert Calibration().unknown_probability({"a": 1.0}) is None
    assert Calibration(unknown=UnknownEntry(0.0, 0.0, 0.0)).unknown_probability({"a": 1.0}) == 0.5


def _four_vendors() -> list[StyleReference]:
    shouters = [StyleReference(f"shout-{i}", "Shout Co", _answers(shouting, 7 + i)) for i in range(2)]
    return _references() + shouters


def test_rank_style_gives_unknown_more_weight_when_the_querys_vendor_has_no_reference() -> None:
    query = _answers(numbered_steps, 99)
    with_vendor = rank_style(query, _four_vendors())
    without_vendor = rank_style(query, [r for r in _four_vendors() if r.vendor != "Steps AI"])
    assert with_vendor.ranking[0].vendor == "Steps AI"
    assert with_vendor.unknown_probability is not None and without_vendor.unknown_probability is not None
    assert without_vendor.unknown_probability > 0.5 > with_vendor.unknown_probability
    # The vendors' probabilities stay those of "which known lab": they still sum to one.
    assert sum(s.probability for s in without_vendor.ranking) == pytest.approx(1.0)


def test_calibrate_references_learns_the_unknown_entry_too() -> None:
    query = _answers(numbered_steps, 99)
    calibration = style.calibrate_references(_four_vendors())
    assert calibration.unknown is not None
    reused = rank_style(query, _four_vendors(), calibration)
    assert reused.unknown_probability == rank_style(query, _four_vendors()).unknown_probability
    assert rank_style(query, _four_vendors(), Calibration()).unknown_probability is None


def test_a_held_out_vendor_is_rescored_among_the_other_labs_models() -> None:
    references = _four_vendors()
    answerers = [style._Answerer(r.model, r.vendor, r.answers) for r in references]
    everyone = list(range(len(answerers)))
    mutual = style._MutualScores(everyone, style._comparisons(answerers, PROMPTS, everyone))
    steps = next(i for i, r in enumerate(references) if r.model == "steps-1")
    others = [i for i in everyone if i != steps]
    assert mutual.scores_among(steps, others) == pytest.approx(mutual.scores_of(steps))
    other_labs = [i for i in everyone if references[i].vendor != "Steps AI"]
    among_other_labs = mutual.scores_among(steps, other_labs)
    assert set(among_other_labs) == set(other_labs)
    # Without its twin among the candidates, the closest remaining model stands out more than it did.
    before = mutual.scores_of(steps)
    assert max(among_other_labs.values()) > max(before[i] for i in other_labs)
