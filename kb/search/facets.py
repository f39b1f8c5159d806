"""Filters and facet counts. Region (``places``: a region covers its countries) and country are two facets:
AND between them, OR among the values of one. Counts are "disjunctive": each facet is counted over the
results of the query, the access filter, the since-date and the filters of the *other* facets, so choosing
one topic still shows how many results each other topic would give."""
from __future__ import annotations

from .generation import Generation
from .schema import FACETS
from .types import SearchQuery


class Filters:
    """The notes each facet filter of a query allows (None: that facet is not filtered)."""

    def __init__(self, gen: Generation, query: SearchQuery):
        self.by_facet = {name: gen.filter_docs(FACETS[name], values) if values else None
                         for name, values in (("regions", query.places), ("countries", query.countries),
                                              ("topics", query.topics), ("audience", query.audience),
                                              ("language", query.languages))}

    def restrict(self, docs: frozenset[int], skip: str | None = None) -> frozenset[int]:
        """``docs`` narrowed by every filter (but the one of facet ``skip``)."""
        for name, allowed_docs in self.by_facet.items():
            if allowed_docs is not None and name != skip:
                docs = docs & allowed_docs
        return docs


def facet_counts(gen: Generation, fieldname: str, scope: frozenset[int], grouped: bool) -> dict[str, int]:
    """Results (translation groups if ``grouped``, else notes) per value of a field within ``scope``,
    most first."""
    if not scope:
        return {}
    of, _, together = gen.groups()
    twins = scope & together if grouped else frozenset()
    counts = {}
    for value, docs in gen.facet(fieldname).items():
        n = len(docs & scope)
        if n and twins and (inside := docs & twins):
            n -= len(inside) - len({of[d] for d in inside})
        if n:
            counts[value] = n
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def all_facets(gen: Generation, base: frozenset[int], filters: Filters, grouped: bool) -> dict[str, dict[str, int]]:
    """Every facet's counts over ``base`` (the visible matches), each without its own filter."""
    return {name: facet_counts(gen, fieldname, filters.restrict(base, skip=name), grouped)
            for name, fieldname in FACETS.items()}
