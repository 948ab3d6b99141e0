"""The tokenizer signal on real gateway counts (speechmap_refusal_dev): the stored odds and tolerance are its fit."""

from __future__ import annotations

import pytest

from bot.attribution.tokenizer import CHANCE, NEAR_TOKENS, SAME_TOKENIZER
from bot.benchmarks.token_counts import TEXT_CLASSES, run_token_count_benchmark
from tests.support.shared_data import shared_file


@pytest.fixture(scope="module")
def report() -> dict:
    return run_token_count_benchmark(shared_file("corpora/speechmap_refusal_dev.jsonl.gz"), 8, 40, 0)


def test_no_two_different_tokenizers_match_on_every_shared_prompt(report):
    whole = report["whole_corpus"]
    assert whole["met"] and whole["different_tokenizers_matched"] == 0
    assert whole["same_tokenizer_matched"] >= whole["same_tokenizer_pairs"] // 2


def test_a_draw_of_eight_prompts_tells_same_from_different_far_better_than_chance(report):
    assert report["at_k"]["same_tokenizer_matches"] >= 0.75
    assert report["at_k"]["different_tokenizers_match"] <= 0.08


def test_the_stored_tolerance_and_odds_are_the_fit_of_the_real_corpus(report):
    """Refit with `scout bench token-counts --corpus …speechmap_refusal_dev.jsonl.gz` and update the constants."""
    assert report["tolerance"]["fitted"] == NEAR_TOKENS
    assert report["same_tokenizer_pairs_left_out"] == {"latin text": 0.0, "other script": 0.5}
    for side, stored in (("same_tokenizer", SAME_TOKENIZER), ("different_tokenizers", CHANCE)):
        for klass in TEXT_CLASSES:
            fitted = report["odds"][side]["fitted"][klass]
            odds = stored[klass]
            assert fitted == pytest.approx([odds.exact, odds.near, odds.far], abs=0.0002), (side, klass)
