"""A word searched in every field, scored in bulk: whoosh's ``PreloadedOr`` with the same matches and the same
scores, float for float, read a block of postings at a time.

whoosh's ``ArrayUnionMatcher`` scores each posting through four method calls (the boost's wrapper, the
deleted-documents filter, the leaf matcher, the BM25F scorer): about 5 µs a posting, most of the time of a
query whose words are common (a two-word query at 7,430 notes reads some 10,000 postings). Here each
term's blocks of document numbers and weights are read as arrays and scored in one loop with the same
BM25 expression, in the same order of additions, so rankings do not move by a bit. Anything else (a
phrase, a nested query, a term stored inline, another scorer) is read through its own matcher as before.

This reads whoosh 2.7.4's W3 leaf matcher's block fields (``_ids``, ``_weights``, ``_i``, ``_blocklength``);
whoosh is frozen at that release and pinned, and ``tests/test_search_bulkor.py`` compares every score with
whoosh's own matcher over real indexes, so a changed whoosh fails there first.
"""
from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import IntersectionMatcher, ListMatcher, NullMatcher
from whoosh.matching.wrappers import FilterMatcher, WrappingMatcher
from whoosh.query import And as WhooshAnd
from whoosh.query.compound import PreloadedOr
from whoosh.scoring import BM25FScorer


class Or(PreloadedOr):
    """``PreloadedOr`` (the union of the subqueries, each document scored by the sum of their scores times
    the boost), computed in bulk for the subqueries that are terms."""

    def _matcher(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        if not searcher.is_atomic():  # a matcher is per segment; whoosh's own path for anything else
            return super()._matcher(subs, searcher, context)
        scored = context.weighting is not None if context else True
        sums: dict[int, float] = {}
        boost = self.boost
        for sub in subs:
            _add(sub.matcher(searcher, context), sums, boost, scored)
        ids = sorted(d for d, s in sums.items() if s > 0) if scored else sorted(sums)
        if not ids:
            return NullMatcher()
        if not scored:
            return ListMatcher(ids)
        return ListMatcher(ids, weights=[sums[d] for d in ids])


class And(WhooshAnd):
    """whoosh's ``And`` of two subqueries (two words: the commonest query) with the same matches and scores
    (the sum of the two), intersected as two lists computed in bulk: whoosh's intersection steps through
    them with ``skip_to``, which on a list matcher moves one document at a time (a million calls for
    "child protection" at 100,000 notes). Anything else is whoosh's own intersection."""

    def _matcher(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        if len(subs) != 2:
            return super()._matcher(subs, searcher, context)
        a, b = (sub.matcher(searcher, context) for sub in subs)
        if not (a.is_active() and b.is_active()):
            return NullMatcher()
        if type(a) is ListMatcher and type(b) is ListMatcher and a._i == b._i == 0 \
                and (a._weights is None) == (b._weights is None) and a._all_weights is b._all_weights is None \
                and a._scorer is b._scorer is None:  # lists of scores (kb's unions), not of weights to score
            if a._weights is None:
                inside = set(b._ids)
                m: Any = ListMatcher([d for d in a._ids if d in inside]) if inside else NullMatcher()
            else:
                other = dict(zip(b._ids, b._weights))
                pairs = [(d, w + other[d]) for d, w in zip(a._ids, a._weights) if d in other]
                m = ListMatcher([d for d, _ in pairs], weights=[w for _, w in pairs])
            if not m.is_active():
                return NullMatcher()
        else:
            m = IntersectionMatcher(a, b)
        return WrappingMatcher(m, self.boost) if self.boost != 1.0 else m


def _add(m: Any, sums: dict[int, float], boost: float, scored: bool) -> None:
    """Add each match's score times ``boost`` to ``sums`` (ArrayUnionMatcher's ``a[i] += m.score() * boost``);
    without scores, mark the match."""
    term_boost, deleted, leaf = 1.0, None, m
    if type(leaf) is WrappingMatcher:
        term_boost, leaf = leaf.boost, leaf.child
    if type(leaf) is FilterMatcher and leaf._exclude and leaf.boost == 1.0:
        deleted, leaf = leaf._ids, leaf.child
    scorer = getattr(leaf, "scorer", None)
    if type(leaf) is W3LeafMatcher and (not scored or type(scorer) is BM25FScorer):
        _add_blocks(leaf, scorer if scored else None, term_boost, deleted, sums, boost)
        return
    while m.is_active():  # anything else, one match at a time, as whoosh reads it
        docnum = m.id()
        if scored:
            sums[docnum] = sums.get(docnum, 0.0) + m.score() * boost
        else:
            sums[docnum] = 1.0
        m.next()


def _add_blocks(leaf: W3LeafMatcher, scorer: BM25FScorer | None, term_boost: float, deleted: Any,
                sums: dict[int, float], boost: float) -> None:
    if scorer is not None:
        idf, avgfl, B, K1, dfl = scorer.idf, scorer.avgfl, scorer.B, scorer.K1, scorer.dfl
        k1_plus = K1 + 1
    while leaf.is_active():
        if leaf._ids is None:
            leaf._read_ids()
        ids, start = leaf._ids, leaf._i
        if scorer is None:
            for docnum in ids[start:]:
                if deleted is None or docnum not in deleted:
                    sums[docnum] = 1.0
        else:
            if leaf._weights is None:
                leaf._read_weights()
            weights = leaf._weights
            for i in range(start, leaf._blocklength):
                docnum = ids[i]
                if deleted is not None and docnum in deleted:
                    continue
                tf = weights[i]
                # whoosh.scoring.bm25, then the term's boost (WrappingMatcher), then the union's boost
                score = idf * ((tf * k1_plus) / (tf + K1 * ((1 - B) + B * dfl(docnum) / avgfl))) * term_boost
                sums[docnum] = sums.get(docnum, 0.0) + score * boost
        leaf._next_block()
