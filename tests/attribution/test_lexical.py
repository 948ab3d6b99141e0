"""The lexical view: TF-IDF documents of each model's answers joined."""

from __future__ import annotations

import pytest

from bot.attribution.lexical import joined, similarities_to, similarity_matrix

REFERENCES = [
    "Certainly! Let me delve into the tapestry of this topic. I hope this helps!",
    "Certainly! Let me delve into the rich tapestry of ideas. I hope this helps you!",
    "Short answer: it depends. Cheers.",
    "Short answer: yes, mostly. Cheers, mate.",
]


def test_documents_sharing_rare_words_are_nearer_than_documents_sharing_none():
    matrix = similarity_matrix(REFERENCES)
    assert matrix[0][1] > matrix[0][2] and matrix[2][3] > matrix[2][0]
    assert all(matrix[i][i] == 1.0 for i in range(len(REFERENCES)))
    assert all(matrix[i][j] == matrix[j][i] for i in range(4) for j in range(4))


def test_the_query_changes_no_reference_to_reference_similarity():
    alone = similarity_matrix(REFERENCES)
    query = "Cheers! Short answer: certainly not. Delve elsewhere."
    with_query = similarity_matrix([query, *REFERENCES], idf_from=range(1, 5))
    for i in range(4):
        for j in range(4):
            assert with_query[i + 1][j + 1] == pytest.approx(alone[i][j])
    assert 0.0 < with_query[0][1] < 1.0


def test_one_documents_similarities_are_its_row_of_the_matrix():
    query = "Cheers! Short answer: certainly not. Delve elsewhere."
    for document in (query, REFERENCES[2]):
        row = similarity_matrix([document, *REFERENCES], idf_from=range(1, 5))[0][1:]
        assert similarities_to(document, REFERENCES) == pytest.approx(row, abs=1e-12)


def test_a_query_is_weighed_as_one_more_reference_would_be():
    """A reference held out of the others and measured as a query finds the same nearest document."""
    held_out = similarity_matrix([REFERENCES[0], *REFERENCES[1:]], idf_from=range(1, 4))
    assert max(range(1, 4), key=lambda j: held_out[0][j]) == 1


def test_a_document_is_the_answers_to_the_compared_prompts_in_order_each_cut():
    answers = {"b": "second", "a": "first " + "x" * 7000, "c": "not compared"}
    document = joined(answers, ["a", "b"])
    assert document.startswith("first ") and document.endswith("\n\nsecond") and "not compared" not in document
    assert len(document) == 6000 + len("\n\nsecond")
