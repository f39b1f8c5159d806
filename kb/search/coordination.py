"""Ranking that never drops the near misses: a ranked OR with coordination.

A query's groups are its meaningful words (stop words of every language are left out when the query is
compiled; "x OR y" and a quoted phrase are one group each). A note matches when it holds enough of them;
its score is the sum of the groups' BM25F scores times the share of the groups it holds. Short queries rank
the notes holding every group first (a tier above the others); queries of QUESTION_WORDS or more groups are
questions: no tier, the share alone weighs the near misses, and fewer groups are needed. Quoted phrases
stay strict: a note must hold every phrase. A note's match depends on the note alone, so a filter narrows
the results and never changes how the notes inside it rank."""
from __future__ import annotations

import math
from typing import Any

from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import And, Query

QUESTION_WORDS = 6  # groups from which a query is a question
TIER = 1_000_000.0  # added to the score of a note holding every group (taken off before it is shown)


def needed(count: int) -> int:
    """How many of ``count`` groups a note must hold: all of one or two; most of three to five; a third of
    a question's (at least two)."""
    if count <= 2:
        return count
    if count < QUESTION_WORDS:
        return count // 2 + 1
    return max(2, math.ceil(count / 3))


def coordinated(groups: list[Any], strict: list[bool]) -> Any:
    """The query of a search's groups; ``strict`` marks the groups every note must hold (phrases)."""
    if len(groups) == 1:
        return groups[0]
    if len(groups) <= 2:
        return And(groups)  # a short query is an AND; SearchIndex loosens it when nothing matches
    return Coordinated(groups, strict, needed(len(groups)), tiered=len(groups) < QUESTION_WORDS)


class Coordinated(Query):
    """Documents holding at least ``need`` of ``groups`` and every ``strict`` one, scored by coordination."""

    def __init__(self, groups: list[Any], strict: list[bool], need: int, tiered: bool, boost: float = 1.0):
        self.groups, self.strict, self.need, self.tiered, self.boost = list(groups), list(strict), need, tiered, boost

    def __repr__(self) -> str:
        return f"Coordinated({self.groups!r}, need={self.need}, tiered={self.tiered})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Coordinated) and self.groups == other.groups and self.strict == other.strict
                and (self.need, self.tiered, self.boost) == (other.need, other.tiered, other.boost))

    def __hash__(self) -> int:
        return hash((tuple(self.groups), tuple(self.strict), self.need, self.tiered, self.boost))

    def is_leaf(self) -> bool:
        return False

    def children(self):
        return iter(self.groups)

    def estimate_size(self, ixreader: Any) -> int:
        return sum(g.estimate_size(ixreader) for g in self.groups)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        scored = context is None or context.weighting is not None
        held: dict[int, int] = {}
        sums: dict[int, float] = {}
        required = sum(self.strict)
        strict_held: dict[int, int] = {}
        for group, strict in zip(self.groups, self.strict):
            m = group.matcher(searcher, context)
            while m.is_active():
                docnum = m.id()
                held[docnum] = held.get(docnum, 0) + 1
                if strict:
                    strict_held[docnum] = strict_held.get(docnum, 0) + 1
                if scored:
                    sums[docnum] = sums.get(docnum, 0.0) + m.score()
                m.next()
        ids = sorted(d for d, n in held.items() if n >= self.need and (not required or strict_held.get(d) == required))
        if not ids:
            return NullMatcher()
        if not scored:
            return ListMatcher(ids)
        total = len(self.groups)
        weights = [self.boost * sums[d] * held[d] / total + (TIER if self.tiered and held[d] == total else 0.0)
                   for d in ids]
        return ListMatcher(ids, weights=weights)


def shown(score: float) -> float:
    """A score as shown: without the tier of the notes holding every group."""
    return score - TIER if score >= TIER else score
