"""The lexical view: which words a model reaches for across all its answers, as one TF-IDF document.

The per-prompt views of `style_features` compare two answers to the same prompt; this one joins each
model's answers into one document and weighs each word by how rare it is among the documents compared
(inverse document frequency), so words every model uses (the prompt's own topic) count for little and a
lab's pet words ("delve", "certainly", "I hope this helps") for a lot. Alone, the document nearest the
query by cosine is the naive baseline `scout bench attribution` reports beside the ranking; in the
ranking it is one more view, fused with the others (`bot.attribution.style`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from operator import mul

# Words of two characters or more, lower-cased, and pairs of them: of the plain TF-IDF set-ups tried (words,
# words and pairs, character 2-4-grams; raw or dampened counts), the strongest on all three dev corpora.
_WORD = re.compile(r"\w\w+")

SparseVector = Mapping[str, float]


def _terms(text: str) -> Counter[str]:
    """Words and word pairs: pairs catch phrasing ("hope this", "let me") that single words miss."""
    words = _WORD.findall(text.lower())
    terms = Counter(words)
    terms.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return terms


def tfidf_vectors(documents: Sequence[str], idf_from: Sequence[int] | None = None) -> list[dict[str, float]]:
    """Unit-length TF-IDF vectors: term frequency dampened (1 + ln tf, so one long list does not drown the
    rest), the IDF smoothed (ln((1 + n) / (1 + df)) + 1) over the documents `idf_from` (all by default).

    Weighing words by the references alone keeps every reference-to-reference similarity the same
    whatever the query, so a fit on the references does not depend on it.
    """
    counted = [_terms(document) for document in documents]
    base = range(len(documents)) if idf_from is None else idf_from
    frequency: Counter[str] = Counter()
    for index in base:
        frequency.update(counted[index].keys())
    total = len(base)
    unseen = math.log(1 + total) + 1.0
    vectors = []
    for terms in counted:
        weights = {
            term: (1.0 + math.log(count))
            * (math.log((1 + total) / (1 + frequency[term])) + 1.0 if term in frequency else unseen)
            for term, count in terms.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({term: w / norm for term, w in weights.items()})
    return vectors


def cosine(a: SparseVector, b: SparseVector) -> float:
    """The dot product of two unit vectors; the smaller one is walked, in C."""
    if len(a) > len(b):
        a, b = b, a
    shared = a.keys() & b.keys()
    return sum(map(mul, map(a.__getitem__, shared), map(b.__getitem__, shared)))


def similarity_matrix(documents: Sequence[str], idf_from: Sequence[int] | None = None) -> list[list[float]]:
    """Cosine similarity of every pair of documents (1 on the diagonal), words weighed over `idf_from`."""
    vectors = tfidf_vectors(documents, idf_from)
    size = len(vectors)
    matrix = [[1.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            matrix[i][j] = matrix[j][i] = cosine(vectors[i], vectors[j])
    return matrix


def joined(answers: Mapping[str, str], prompt_ids: Sequence[str]) -> str:
    """A model's answers to `prompt_ids` as one document, in prompt order."""
    return "\n\n".join(answers[p] for p in prompt_ids if p in answers)
