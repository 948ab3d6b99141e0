"""The lexical view: which words a model reaches for across all its answers, as one TF-IDF document.

The per-prompt views of `style_features` compare two answers to the same prompt; this one joins each
model's answers into one document and weighs each word by how rare it is among the documents compared
(inverse document frequency), so words every model uses (the prompt's own topic) count for little and a
lab's pet words ("delve", "certainly", "I hope this helps") for a lot. Alone, the document nearest the
query by cosine is the naive baseline `scout bench attribution` reports beside the ranking; in the
ranking it is one more view, fused with the others (`bot.attribution.style`).

Words are weighed over the references alone, so every reference-to-reference similarity is the same
whatever the query: a fit on the references does not depend on it, and the table of those similarities
is kept for the next query against the same references (a hundred references cost a second once, then
a query costs a hundred dot products).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import mul

# Words of two characters or more, lower-cased, and pairs of them: of the plain TF-IDF set-ups tried (words,
# words and pairs, character 2-4-grams; raw or dampened counts), the strongest on all three dev corpora.
_WORD = re.compile(r"\w\w+")
# Like the other views, an answer's first characters only: a probe's answer is capped at a few hundred
# tokens, and a corpus essay's tail would weigh more than everything a live run can see.
_MAX_CHARS_PER_ANSWER = 6000
_TERMS_CACHE_SIZE = 4096
_SPACES_KEPT = 4

SparseVector = Mapping[str, float]


@lru_cache(maxsize=_TERMS_CACHE_SIZE)
def _terms(text: str) -> dict[str, float]:
    """Words and word pairs with dampened counts (1 + ln tf): one long list does not drown the rest."""
    words = _WORD.findall(text.lower())
    counts = Counter(words)
    counts.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return {term: 1.0 + math.log(count) for term, count in counts.items()}


def _dot(a: SparseVector, b: SparseVector) -> float:
    """The dot product of two sparse vectors; the smaller one is walked, in C."""
    if len(a) > len(b):
        a, b = b, a
    common = a.keys() & b.keys()
    return sum(map(mul, map(a.__getitem__, common), map(b.__getitem__, common)))


@dataclass(frozen=True)
class _Space:
    """The references' documents weighed by their own IDF, with every pair's similarity."""

    frequency: Mapping[str, int]
    total: int
    vectors: tuple[SparseVector, ...]
    matrix: tuple[tuple[float, ...], ...]

    def vector(self, document: str) -> dict[str, float]:
        """A document outside the references, weighed as if it were one more of them.

        Its words count in their document frequency as a reference's own words count in theirs, so the
        query is measured exactly as a reference held out of the others is when the confidence is fitted.
        """
        scale = 2 + self.total
        weights = {
            term: tf * (math.log(scale / (2 + self.frequency.get(term, 0))) + 1.0)
            for term, tf in _terms(document).items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {term: w / norm for term, w in weights.items() if term in self.frequency}


@lru_cache(maxsize=_SPACES_KEPT)
def _space(documents: tuple[str, ...]) -> _Space:
    """IDF smoothed as ln((1 + n) / (1 + df)) + 1 over `documents`, and their pairwise cosines.

    Only terms two of them share enter their dot products (the norms count every term).
    """
    counted = [_terms(document) for document in documents]
    frequency: Counter[str] = Counter()
    for terms in counted:
        frequency.update(terms.keys())
    total = len(documents)
    idf = {term: math.log((1 + total) / (1 + df)) + 1.0 for term, df in frequency.items()}
    vectors, shared_only = [], []
    for terms in counted:
        weights = {term: tf * idf[term] for term, tf in terms.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({term: w / norm for term, w in weights.items()})
        shared_only.append({term: w / norm for term, w in weights.items() if frequency[term] >= 2})
    matrix = [[1.0] * total for _ in range(total)]
    for i in range(total):
        for j in range(i + 1, total):
            matrix[i][j] = matrix[j][i] = _dot(shared_only[i], shared_only[j])
    return _Space(frequency, total, tuple(vectors), tuple(map(tuple, matrix)))


def similarity_matrix(documents: Sequence[str], idf_from: Sequence[int] | None = None) -> list[list[float]]:
    """Cosine similarity of the TF-IDF vectors of every pair of documents (1 on the diagonal).

    Words are weighed over the documents `idf_from` (all by default); the others (the query) are measured
    on those weights without changing them.
    """
    base = list(range(len(documents))) if idf_from is None else list(idf_from)
    unique = tuple(sorted({documents[i] for i in base}))
    space = _space(unique)
    position = {document: index for index, document in enumerate(unique)}
    outside = {i: space.vector(documents[i]) for i in range(len(documents)) if documents[i] not in position}
    size = len(documents)
    matrix = [[1.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            matrix[i][j] = matrix[j][i] = _similarity(documents, i, j, space, position, outside)
    return matrix


def similarities_to(document: str, references: Sequence[str]) -> list[float]:
    """`similarity_matrix([document, *references], idf_from=references)`'s first row without the other rows.

    The references' table is cached (`_space`), so one query costs a dot product per reference.
    """
    documents = [document, *references]
    unique = tuple(sorted(set(references)))
    space = _space(unique)
    position = {text: index for index, text in enumerate(unique)}
    outside = {0: space.vector(document)} if document not in position else {}
    return [_similarity(documents, 0, j, space, position, outside) for j in range(1, len(documents))]


def _similarity(
    documents: Sequence[str],
    i: int,
    j: int,
    space: _Space,
    position: Mapping[str, int],
    outside: Mapping[int, SparseVector],
) -> float:
    a, b = documents[i], documents[j]
    if a in position and b in position:
        return space.matrix[position[a]][position[b]]
    first = outside[i] if i in outside else space.vectors[position[a]]
    second = outside[j] if j in outside else space.vectors[position[b]]
    return _dot(first, second)


def joined(answers: Mapping[str, str], prompt_ids: Sequence[str]) -> str:
    """A model's answers to `prompt_ids` as one document, in prompt order, each cut to its first characters."""
    return "\n\n".join(answers[p][:_MAX_CHARS_PER_ANSWER] for p in prompt_ids if p in answers)
