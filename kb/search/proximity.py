"""Proximity for questions: the query's neighbouring words found close together in a note.

A question (or a half-remembered sentence) describes a passage; the notes holding its words next to each
other, as it has them, are more likely to hold that passage than the notes holding the same words
scattered. Each pair of neighbouring words of the query (stop words left out, as in the index, whose
positions count only the words it keeps) is read as one more term: its frequency in a note is the number
of times the two words stand within WINDOW positions of each other, in either order (a paraphrase swaps
words), weighted by the field as a word is (title 3, summary 2, body 1); its rarity is the number of notes
holding it. It is scored as BM25 scores a word (idf times the saturated frequency) and added, at PAIR_WEIGHT,
to the note's score (sequential dependence, after Metzler and Croft 2005). It only ranks: a note matches or
not by its words alone, so filters still narrow without changing the ranking."""
from __future__ import annotations

import math
from typing import Any

from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import Query
from whoosh.reading import TermNotFound

WINDOW = 2  # positions apart (1: adjacent), either order
PAIR_WEIGHT = 0.5  # a pair's score against a word's
K1 = 1.2


def near(a: list[int], b: list[int], window: int) -> int:
    """How many positions of ``a`` have another position of ``b`` within ``window`` (both lists sorted)."""
    count, j, nb = 0, 0, len(b)
    for p in a:
        while j < nb and b[j] < p - window:
            j += 1
        k = j
        while k < nb and b[k] <= p + window:
            if b[k] != p:
                count += 1
                break
            k += 1
    return count


class Pairs(Query):
    """Scores (never matches alone) the notes holding neighbouring words of the query close together.
    ``pairs``: for each pair of neighbouring words, the (field, first term, second term, boost) to look in."""

    def __init__(self, pairs: list[list[tuple[str, str, str, float]]], weight: float = PAIR_WEIGHT,
                 window: int = WINDOW, boost: float = 1.0):
        self.pairs = [list(p) for p in pairs]
        self.weight, self.window, self.boost = weight, window, boost

    def __repr__(self) -> str:
        return f"Pairs({self.pairs!r}, weight={self.weight}, window={self.window})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pairs) and (self.pairs, self.weight, self.window, self.boost) == \
            (other.pairs, other.weight, other.window, other.boost)

    def __hash__(self) -> int:
        return hash((tuple(tuple(p) for p in self.pairs), self.weight, self.window, self.boost))

    def is_leaf(self) -> bool:
        return False  # as Coordinated: whoosh's walks over terms and leaves have nothing to find here

    def children(self):
        return iter(())

    def estimate_size(self, ixreader: Any) -> int:
        return ixreader.doc_count()

    def _frequencies(self, reader: Any, fields: list[tuple[str, str, str, float]]) -> dict[int, float]:
        tf: dict[int, float] = {}
        for fieldname, first, second, boost in fields:
            try:
                a, b = reader.postings(fieldname, first), reader.postings(fieldname, second)
            except TermNotFound:
                continue
            while a.is_active() and b.is_active():
                da, db = a.id(), b.id()
                if da < db:
                    a.skip_to(db)
                elif db < da:
                    b.skip_to(da)
                else:
                    n = near(a.value_as("positions"), b.value_as("positions"), self.window)
                    if n:
                        tf[da] = tf.get(da, 0.0) + boost * n
                    a.next()
                    b.next()
        return tf

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        reader = searcher.reader()
        count = max(1, reader.doc_count())
        scores: dict[int, float] = {}
        for fields in self.pairs:
            tf = self._frequencies(reader, fields)
            if not tf:
                continue
            idf = math.log(1 + (count - len(tf) + 0.5) / (len(tf) + 0.5))
            for docnum, f in tf.items():
                scores[docnum] = scores.get(docnum, 0.0) + idf * (K1 + 1) * f / (f + K1)
        if not scores:
            return NullMatcher()
        ids = sorted(scores)
        return ListMatcher(ids, weights=[self.boost * self.weight * scores[d] for d in ids])
