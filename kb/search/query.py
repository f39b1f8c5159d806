"""One search, in named steps: compile the query, scope it (access, since-date, filters), match and rank in
one scored pass, loosen to any word when no note has them all, count facets, take the page, suggest.

The scored pass records every match the reader may see (totals, facets) while ranking those that pass the
filters. When the query names the reader's language (``SearchQuery.prefer_language``, as the search pages
do), a result is a translation group (notes sharing ``IndexDoc.group``), shown once: by its member in that
language if it matches and may be read, else by its best-ranked member, at the rank of its best member;
totals, pages and facet counts then all count groups, so a facet count is the total its link leads to.
Without a language (feeds, exports, other listings) every note is a result."""
from __future__ import annotations

import datetime as dt
import heapq
import time
from typing import Any, Callable

from whoosh.collectors import TimeLimit, TopCollector, WrappingCollector
from whoosh.query import AndMaybe

from . import queryparse
from .bulkor import And
from .compile import Or, compile_query, with_exclusions
from .coordination import Coordinated, shown
from .facets import Filters, all_facets
from .generation import Generation
from .glossary import Glossary
from .schema import FACETS
from .snippets import hit
from .suggest import suggest
from .types import SearchQuery, SearchResults, day_number

SEARCH_TIME_LIMIT = 1.0
SUGGEST_BELOW = 3  # "did you mean" only when fewer results than this


class _Pass(WrappingCollector):
    """One scored pass: records every match the reader may see (for totals and facets), ranks those that
    also pass the facet filters, and stops at a deadline. (whoosh's TimeLimitCollector, wrapped around its
    FilterCollector, skips the filter; its alarm variant works only in the main thread.)"""

    def __init__(self, limit: int, visible: frozenset[int], allow: frozenset[int], deadline: float):
        # no block-quality skipping and no matcher replacement: either can drop matches from the count
        super().__init__(TopCollector(limit=max(1, limit), usequality=False, replace=0))
        self.visible, self.allow, self.deadline = visible, allow, deadline
        self.seen: set[int] = set()

    def collect_matches(self) -> None:
        child, offset, visible, allow, seen = self.child, self.offset, self.visible, self.allow, self.seen
        for n, sub_docnum in enumerate(child.matches(), 1):
            docnum = offset + sub_docnum
            if docnum in visible:
                seen.add(docnum)
                if docnum in allow:
                    child.collect(sub_docnum)
            if not n % 256 and time.monotonic() > self.deadline:
                raise TimeLimit


def review_scope(gen: Generation, docs: frozenset[int], query: SearchQuery) -> frozenset[int]:
    """The notes of ``docs`` the query's review filter keeps, measured against its day (today by default)."""
    today = day_number(query.today or dt.datetime.now(dt.timezone.utc).date())
    due, reviewed = gen.column("review_due_day"), gen.column("reviewed_day")
    if query.review == "overdue":
        return frozenset(d for d in docs if 0 < due[d] < today)
    if query.review == "due":
        return frozenset(d for d in docs if 0 < due[d] <= today + query.due_within)
    return frozenset(d for d in docs if reviewed[d] and due[d] >= today)  # "current"


def empty_results(query: SearchQuery, message: str | None = None) -> SearchResults:
    return SearchResults(query=query, total=0, hits=[], facets={name: {} for name in FACETS},
                         suggestion=None, message=message)


def search(gen: Generation, query: SearchQuery, allowed: Any, glossary: Glossary | None = None) -> SearchResults:
    """The results of ``query`` for a reader allowed ``allowed`` (access.read_filter)."""
    return _Search(gen, query, allowed, glossary).run()


class _Search:
    """The state of one search, shared by its steps."""

    def __init__(self, gen: Generation, query: SearchQuery, allowed: Any, glossary: Glossary | None = None):
        self.gen, self.query = gen, query
        self.started = time.monotonic()
        self.parsed = queryparse.parse(query.q)
        self.messages = list(self.parsed.notices)
        self.visible = gen.allowed(allowed)
        self.compiled = compile_query(gen, self.parsed, self.visible, glossary)
        self.relevance = query.sort == "relevance"
        # a reader's search (a language to show) lists translation groups; other listings every note
        self.grouped = query.prefer_language is not None
        # expanded into other languages: the reader's language first, so every match is ranked
        self.own_first = self.grouped and bool(self.compiled.expanded)
        self.spare: Callable[[frozenset[int]], int] = gen.spare if self.grouped else (lambda docs: 0)
        self.start, self.end = (query.page - 1) * query.per_page, query.page * query.per_page
        self.ranked: list[tuple[int, float]] | None = None  # best first, enough notes to fill `end` results
        self.timed_out = False

    def run(self) -> SearchResults:
        self._compile_notices()
        self._scope()
        positive, base = self._match()
        final = self.filters.restrict(base)
        and_total = self._all_words_total(positive, final)
        if not final and len(self.compiled.groups) > 1 and not self._late():
            positive, base, final = self._loosen(positive, base, final)
        elif final and not and_total:
            self.messages.append("No note contains all of your words; showing notes with some of them.")
        if final and self._widens(positive, final):
            positive, base, final = self._widen(positive, base, final)
        if self.timed_out:
            self.messages.append("This search took too long; the results may be incomplete.")
        facets = all_facets(self.gen, base, self.filters, self.grouped)
        total = len(final) - self.spare(final)  # with `grouped`, translation groups, each shown once
        hits = self._page(positive, final, total)
        suggestion = None
        if and_total < SUGGEST_BELOW and self.compiled.query is not None and not self._late():
            suggestion = suggest(self.gen, self.parsed, self.visible, and_total)
        return SearchResults(query=self.query, total=total, hits=hits, facets=facets,
                             suggestion=suggestion, message=" ".join(self.messages) or None,
                             expanded=self.compiled.expanded,
                             other_languages=self._other_languages(final) if self.own_first else 0)

    def _late(self) -> bool:
        """Optional extra passes are skipped for a query that is already slow."""
        return time.monotonic() - self.started > SEARCH_TIME_LIMIT / 4

    def _compile_notices(self) -> None:
        if self.compiled.expansions_capped:
            self.messages.append("A prefix matched many words; only the most common were searched.")
        if self.parsed.had_input and self.compiled.query is None and not self.parsed.excluded:
            self.messages.append("Your search had no words to look for, so all notes are shown.")

    def _scope(self) -> None:
        """The notes the reader may see (since the date asked), and those the filters allow among them."""
        if self.query.since is not None:
            since, times = self.query.since.timestamp(), self.gen.times()
            self.visible = frozenset(d for d in self.visible if times[d] >= since)
        if self.query.review:
            self.visible = review_scope(self.gen, self.visible, self.query)
        self.filters = Filters(self.gen, self.query)
        self.allow = self.filters.restrict(self.visible)

    def _match(self) -> tuple[Any, frozenset[int]]:
        """The positive query and the visible notes it matches, ranked when sorting by relevance."""
        positive, proximity, scoring = self.compiled.query, self.compiled.proximity, None
        if positive is not None and self.relevance:
            scoring = AndMaybe(positive, proximity) if proximity is not None else positive
        return positive, self._pass(positive, scoring)

    def _all_words_total(self, positive: Any, final: frozenset[int]) -> int:
        """How many of the results hold every word (a short coordinated query also finds the near misses; a
        question is about most of its words, and all of its results count)."""
        if not isinstance(positive, Coordinated) or not positive.tiered or not final:
            return len(final)
        every = with_exclusions(And(self.compiled.groups), self.compiled.excluded)
        return len(final & frozenset(self.gen.searcher.docs_for_query(every)))

    def _loosen(self, positive: Any, base: frozenset[int], final: frozenset[int]) -> tuple[Any, frozenset[int],
                                                                                           frozenset[int]]:
        """No note in the filters has all the words: the notes having some of them, if any."""
        loose = Or(self.compiled.groups)
        loose_base = self._pass(loose, loose if self.relevance else None)
        if self.filters.restrict(loose_base):
            self.messages.append("No note contains all of your words; showing notes with some of them.")
            return loose, loose_base, self.filters.restrict(loose_base)
        return positive, base, final

    def _widens(self, positive: Any, final: frozenset[int]) -> bool:
        """A filtered search whose filters leave less than the page asked for: the notes inside the filters
        holding any of the words are added after the others (the reader narrowed the notes already)."""
        return (isinstance(positive, Coordinated) and positive.need > 1 and not positive.prefer
                and any(docs is not None for docs in self.filters.by_facet.values())
                and len(final) - self.spare(final) < self.end and not self._late())

    def _widen(self, positive: Any, base: frozenset[int], final: frozenset[int]) -> tuple[Any, frozenset[int],
                                                                                          frozenset[int]]:
        wide = positive.widened()
        scoring = None
        if self.relevance:
            proximity = self.compiled.proximity
            scoring = AndMaybe(wide, proximity) if proximity is not None else wide
        added = self.filters.restrict(self._pass(wide, scoring))
        return wide, base | added, final | added

    def _pass(self, positive: Any, scoring: Any) -> frozenset[int]:
        """Visible notes matching; with ``scoring``, also ranks the requested page into ``self.ranked``."""
        gen, excluded = self.gen, self.compiled.excluded
        if positive is None:
            docs = gen.live & self.visible
            if excluded is not None:
                docs = docs - frozenset(gen.searcher.docs_for_query(excluded))
            return docs
        if scoring is None:
            return frozenset(gen.searcher.docs_for_query(with_exclusions(positive, excluded))) & self.visible
        limit = len(self.allow) if self.own_first else self.end + self.spare(self.allow)
        collector = _Pass(limit, self.visible, self.allow,
                          self.started + SEARCH_TIME_LIMIT)
        try:
            gen.searcher.search_with_collector(with_exclusions(scoring, excluded), collector)
        except TimeLimit:
            self.timed_out = True
        results = collector.results()
        self.ranked = [(results.docnum(i), shown(results.score(i) or 0.0)) for i in range(results.scored_length())]
        return frozenset(collector.seen)

    def _other_languages(self, final: frozenset[int]) -> int:
        """How many results (translation groups) have no matching note in the reader's language."""
        own = final & self.gen.docs("language", self.query.prefer_language or "")
        of = self.gen.groups()[0]
        return len({of[d] for d in final - own} - {of[d] for d in own})

    def _page(self, positive: Any, final: frozenset[int], total: int) -> list:
        """The hits of the requested page: by rank, or newest first (and every query without words)."""
        ranked = self.ranked
        if self.start >= total:
            ranked = []
        elif self.query.sort == "due":  # the review falling due first (notes without a due date last)
            due = self.gen.column("review_due_day")
            top = heapq.nsmallest(self.end + self.spare(final), final, key=lambda d: (due[d] or 1 << 40, d))
            ranked = [(d, 0.0) for d in top]
        elif ranked is None or positive is None:
            times = self.gen.times()
            top = heapq.nsmallest(self.end + self.spare(final), final, key=lambda d: (-times[d], d))
            ranked = [(d, 0.0) for d in top]
        if self.own_first and positive is not None:
            own = self.gen.docs("language", self.query.prefer_language or "")
            ranked = sorted(ranked, key=lambda entry: entry[0] not in own)  # stable: ranks kept within each
        if self.grouped:
            ranked = self.gen.collapse(ranked, final, self.query.prefer_language, self.end)
        compiled = self.compiled if positive is not None else None
        return [hit(self.gen, d, s, compiled) for d, s in ranked[self.start:self.end]]
