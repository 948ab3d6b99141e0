"""The one scoring of calls on revealed models: the Brier score, a player's record, and the board's order."""

from __future__ import annotations

import pytest

from bot.scoring import Call, Scorecard, brier_score, ranked, scorecard


def test_the_brier_score_is_the_mean_squared_error_of_the_stated_probabilities():
    calls = [Call(True, 0.9), Call(False, 1.0), Call(True, 0.5), Call(False, 0.0)]
    assert brier_score(calls) == pytest.approx((0.01 + 1.0 + 0.25 + 0.0) / 4)


def test_calls_without_a_probability_are_left_out_and_none_rated_means_no_score():
    assert brier_score([Call(True), Call(False, 0.2)]) == pytest.approx(0.04)
    assert brier_score([Call(True), Call(False)]) is None
    assert brier_score([]) is None


def test_a_scorecard_counts_calls_correct_ones_and_rated_ones():
    card = scorecard(7, "alice", [Call(True, 0.8), Call(False), Call(True)])
    assert (card.member_id, card.calls, card.correct, card.rated_calls) == (7, 3, 2, 1)
    assert card.accuracy == pytest.approx(2 / 3) and card.brier == pytest.approx(0.04) and not card.is_bot
    nobody = scorecard(None, "Model Scout", [])
    assert nobody.is_bot and (nobody.calls, nobody.accuracy, nobody.brier) == (0, 0.0, None)


def test_the_board_ranks_correct_calls_then_accuracy_then_the_lower_brier_then_the_name():
    def card(name: str, calls: int, correct: int, brier: float | None) -> Scorecard:
        return Scorecard(None, name, calls, correct, 0 if brier is None else calls, brier)

    board = [
        card("unrated", 2, 1, None),
        card("bold", 2, 1, 0.4),
        card("careful", 2, 1, 0.1),
        card("sharp", 1, 1, None),
        card("busy", 4, 2, 0.0),
        card("also careful", 2, 1, 0.1),
    ]
    assert [c.name for c in ranked(board)] == ["busy", "sharp", "also careful", "careful", "bold", "unrated"]
