"""Ranking that never drops the near misses: a ranked OR with coordination.

A query's groups are its meaningful words (stop words of every language are left out when the query is
compiled; "x OR y" and a quoted phrase are one group each). A note matches when it holds enough of them;
its score is the sum of the groups' scores times the share of the groups it holds. A group's score is
saturated once over all its fields, as BM25F does: the per-field BM25 scores of a word (title, summary
and body, stemmed and exact) are added, read as a weighted term frequency (divided by the word's idf) and
saturated with BM25's k1, so that one word found everywhere in a note cannot outweigh several words; its
idf is BM25F's, from the number of notes holding the group in any field (or any of its translations),
not the idf of its rarest field, which overrated common words that are rare in titles or in a glossary
translation.
Short queries rank the notes holding every group first (a tier above the others); queries of
QUESTION_WORDS or more words as typed (stop words included: a sentence, not a list of keywords) are
questions: no tier, the share alone weighs the near misses, and fewer groups are needed. Quoted phrases
stay strict: a note must hold every phrase. A note's match depends on the note alone, so a filter narrows
the results and never changes how the notes inside it rank; a filter that leaves less than a page may
widen the match to the notes holding any of the words, ranked after the others (``widened``)."""
from __future__ import annotations

import math
from typing import Any

from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import Query

from .bulkor import And

QUESTION_WORDS = 6  # words (as typed, stop words included) from which a query is a question
TIER = 1_000_000.0  # added per tier to the score of a note (taken off before it is shown)
TRANSLATED_SHARE = 0.5  # a group held only in another language's words (the glossary's), in the share
K1 = 1.2  # BM25's term-frequency saturation, applied once per group over all its fields


def needed(count: int, question: bool = False) -> int:
    """How many of ``count`` groups a note must hold: all of one or two; most of three to five; a third of
    a question's (at least two)."""
    if count <= 2:
        return count
    if not question and count < QUESTION_WORDS:
        return count // 2 + 1
    return max(2, math.ceil(count / 3))


def coordinated(groups: list[Any], strict: list[bool], typed: int = 0, repeats: list[int] | None = None,
                own: list[Any] | None = None) -> Any:
    """The query of a search's groups; ``strict`` marks the groups every note must hold (phrases); ``typed``
    is how many words the reader typed (stop words included), which makes a question of a sentence;
    ``repeats`` how often each group was typed (a word repeated in a question weighs more); ``own``, for a
    group the glossary expanded, the reader's own words (a note holding only a translation holds the group
    at TRANSLATED_SHARE in the share)."""
    if len(groups) == 1:
        return groups[0]
    if len(groups) <= 2:
        return And(groups)  # a short query is an AND; SearchIndex loosens it when nothing matches
    question = max(typed, len(groups)) >= QUESTION_WORDS
    return Coordinated(groups, strict, needed(len(groups), question), tiered=not question, repeats=repeats,
                       own=own)


def _group_idf(group: Any, searcher: Any) -> float:
    """The idf of a group's rarest term in any field: what one occurrence of the group is worth in the
    fields' scores (to read them back as a term frequency)."""
    best = 0.0
    for fieldname, text in group.iter_all_terms():
        best = max(best, searcher.idf(fieldname, text))
    return best or 1.0


class Coordinated(Query):
    """Documents holding at least ``need`` of ``groups`` and every ``strict`` one, scored by coordination."""

    def __init__(self, groups: list[Any], strict: list[bool], need: int, tiered: bool, boost: float = 1.0,
                 prefer: int = 0, repeats: list[int] | None = None, own: list[Any] | None = None):
        self.groups, self.strict, self.need, self.tiered, self.boost = list(groups), list(strict), need, tiered, boost
        self.prefer = prefer  # widened: the notes holding this many groups rank a tier above the others
        self.repeats = list(repeats) if repeats else [1] * len(self.groups)
        self.own = list(own) if own else [None] * len(self.groups)
        self._everywhere: tuple[Any, list[int]] | None = None  # (searcher, notes holding each group)

    def widened(self) -> "Coordinated":
        """The same query matching the notes holding any of the groups, the ones it matched ranked first in
        the same order (a tier above the others)."""
        return Coordinated(self.groups, self.strict, 1, self.tiered, self.boost, prefer=self.need,
                           repeats=self.repeats, own=self.own)

    def __repr__(self) -> str:
        return f"Coordinated({self.groups!r}, need={self.need}, tiered={self.tiered}, prefer={self.prefer})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Coordinated) and self.groups == other.groups and self.strict == other.strict
                and (self.need, self.tiered, self.boost, self.prefer, self.repeats, self.own) ==
                (other.need, other.tiered, other.boost, other.prefer, other.repeats, other.own))

    def __hash__(self) -> int:
        return hash((tuple(self.groups), tuple(self.strict), self.need, self.tiered, self.boost, self.prefer,
                     tuple(self.repeats)))

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
        everywhere = self._held_everywhere(searcher) if scored else None
        count = max(1, (searcher.get_parent() if everywhere else searcher).doc_count())
        shares: dict[int, float] = {}
        for n, (group, strict, repeats, own) in enumerate(zip(self.groups, self.strict, self.repeats, self.own)):
            mine = frozenset(own.matcher(searcher, None).all_ids()) if scored and own is not None else None
            m = group.matcher(searcher, context)
            unit = _group_idf(group, searcher) if scored else 1.0
            tfs: dict[int, float] = {}
            while m.is_active():
                docnum = m.id()
                held[docnum] = held.get(docnum, 0) + 1
                share = 1.0 if mine is None or docnum in mine else TRANSLATED_SHARE
                shares[docnum] = shares.get(docnum, 0.0) + share
                if strict:
                    strict_held[docnum] = strict_held.get(docnum, 0) + 1
                if scored:
                    tfs[docnum] = m.score() / unit  # the fields' BM25 scores as one weighted term frequency
                m.next()
            # the group's rarity, as BM25F counts it: the notes holding it in any field (or translation)
            holding = everywhere[n] if everywhere else len(tfs)
            idf = math.log(1 + (count - holding + 0.5) / (holding + 0.5)) if tfs else 0.0
            for docnum, tf in tfs.items():
                sums[docnum] = sums.get(docnum, 0.0) + repeats * idf * (K1 + 1) * tf / (tf + K1)
        ids = sorted(d for d, n in held.items() if n >= self.need and (not required or strict_held.get(d) == required))
        if not ids:
            return NullMatcher()
        if not scored:
            return ListMatcher(ids)
        total = len(self.groups)
        weights = [self.boost * sums[d] * shares[d] / total
                   + (TIER if self.tiered and held[d] == total else 0.0)
                   + (TIER if self.prefer and held[d] >= self.prefer else 0.0)
                   for d in ids]
        return ListMatcher(ids, weights=weights)

    def _held_everywhere(self, searcher: Any) -> list[int] | None:
        """How many notes of the whole index hold each group, when it has several segments (None: one).
        whoosh asks for a matcher per segment: counted in the segment alone, a group's idf would depend on
        how the notes happen to be split (a note saved a minute ago, alone in its small segment, would
        score as if every word were common). Counted once per search, over every segment."""
        parent = searcher.get_parent()
        if parent is searcher or parent.is_atomic():
            return None
        if self._everywhere is None or self._everywhere[0] is not parent:
            counts = [sum(sum(1 for _ in group.matcher(sub, sub.boolean_context()).all_ids())
                          for sub, _ in parent.subsearchers) for group in self.groups]
            self._everywhere = (parent, counts)
        return self._everywhere[1]


def shown(score: float) -> float:
    """A score as shown: without the tiers (every group held; the match before it was widened)."""
    return score % TIER if score >= TIER else score
