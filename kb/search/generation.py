"""One open searcher and the document sets cached for it: filters, facets, access, columns, groups."""
from __future__ import annotations

import contextlib
import heapq
import itertools
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

from .readers import open_searcher
from .schema import ACCESS_FIELDS
from .segments import CachedBM25F, Segment
from .types import fold_key, reading_order, strings


class Generation:
    """One open searcher and the document sets cached for it; used under SearchIndex._lock only."""

    def __init__(self, path: Path, pointer: Any, ix: Any, segments: dict[str, Segment],
                 previous: "Generation | None" = None):
        self.path, self.pointer, self.ix = path, pointer, ix
        by_id: dict[str, tuple[Any, Segment]] = {}
        # the previous searcher's segment readers are reused (kb.search.readers): only new segments open
        self.searcher, self.reused, self.number = open_searcher(ix, CachedBM25F(by_id),
                                                   previous.reader if previous is not None else None)
        self.reader = self.searcher.reader()
        self.leaves: list[tuple[Any, int, Segment]] = []
        if self.reader.doc_count_all():
            for leaf, offset in self.reader.leaf_readers():
                self.leaves.append((leaf, offset, segments.get(self._key(leaf)) or Segment()))
        parts = [seg.live(leaf, offset) for leaf, offset, seg in self.leaves]
        self.live = parts[0] if len(parts) == 1 else frozenset().union(*parts)
        self.segments = {self._key(leaf): seg for leaf, _, seg in self.leaves}
        by_id.update((leaf.segment().segment_id(), (leaf, seg)) for leaf, _, seg in self.leaves)
        self._partial = self.reader.has_deletions()
        self._values: dict[tuple[str, str], frozenset[int]] = {}
        self._facets: dict[str, dict[str, frozenset[int]]] = {}
        self._lenient: dict[str, dict[str, str]] = {}
        self._allowed: OrderedDict[Any, frozenset[int]] = OrderedDict()
        self._columns: dict[str, list[Any]] = {}
        self._groups: tuple[list[int], dict[int, frozenset[int]], frozenset[int]] | None = None

    def warm(self, text_fields: list[str], facet_fields: list[str]) -> None:
        """Read now what the first searches would read: every facet's document sets, the columns, the
        translation groups and each segment's field lengths (used in scoring)."""
        for fieldname in facet_fields:
            self.facet(fieldname)
        self.times()
        self.groups()
        for leaf, _, seg in self.leaves:
            for fieldname in text_fields:
                seg.field_lengths(leaf, fieldname)

    def _key(self, leaf: Any) -> str:
        return f"{self.path.name}/{leaf.segment().segment_id()}"

    def close(self, keep: list[Any] = ()) -> None:
        """Close the searcher, except the segment readers in ``keep`` (reused by the next generation)."""
        if not keep:
            with contextlib.suppress(Exception):
                self.searcher.close()
            return
        for leaf, _ in self.reader.leaf_readers():
            if not any(leaf is kept for kept in keep):
                with contextlib.suppress(Exception):
                    leaf.close()

    def docs(self, fieldname: str, value: str) -> frozenset[int]:
        """Live notes whose ``fieldname`` holds ``value`` (an indexed term)."""
        key = (fieldname, value)
        found = self._values.get(key)
        if found is None:
            parts = [part for leaf, offset, seg in self.leaves if (part := seg.docs(leaf, fieldname, value, offset))]
            found = parts[0] if len(parts) == 1 else frozenset().union(*parts)
            if self._partial:
                found = found & self.live
            if len(self._values) > 20_000:
                self._values.clear()
            self._values[key] = found
        return found

    def facet(self, fieldname: str) -> dict[str, frozenset[int]]:
        if fieldname not in self._facets:
            names = sorted({v for leaf, _, seg in self.leaves for v in seg.field_terms(leaf, fieldname)})
            values = {v: self.docs(fieldname, v) for v in names}
            self._facets[fieldname] = {v: s for v, s in values.items() if s}
        return self._facets[fieldname]

    def filter_docs(self, fieldname: str, values: list[str]) -> frozenset[int]:
        """Notes having any of the values; names are matched exactly, else ignoring case and accents."""
        if fieldname not in self._lenient:
            self._lenient[fieldname] = {fold_key(v): v for v in self.facet(fieldname)}
        out: set[int] = set()
        for value in values:
            found = self.docs(fieldname, value)
            if not found:
                canonical = self._lenient[fieldname].get(fold_key(value))
                found = self.docs(fieldname, canonical) if canonical else found
            out |= found
        return frozenset(out)

    def allowed(self, clauses: Any) -> frozenset[int]:
        """The notes the access clauses let the reader see (see kb.access.read_filter)."""
        if clauses is None:
            return self.live
        key = tuple(sorted(tuple(sorted((f, tuple(sorted(strings(v, 10_000)))) for f, v in c.items()))
                           for c in clauses))
        if key in self._allowed:
            self._allowed.move_to_end(key)
            return self._allowed[key]
        seen: set[int] = set()
        for clause in key:
            docs: frozenset[int] = self.live
            for fieldname, values in clause:
                if fieldname not in ACCESS_FIELDS:
                    docs = frozenset()  # a fact the index does not hold matches nothing
                    break
                docs = docs & frozenset().union(*(self.docs(fieldname, v) for v in values))
            seen |= docs
        result = frozenset(seen)
        self._allowed[key] = result
        if len(self._allowed) > 256:
            self._allowed.popitem(last=False)
        return result

    def column(self, fieldname: str) -> list[Any]:
        """A sortable field's value for every document number (deleted ones included)."""
        if fieldname not in self._columns:
            values: list[Any] = []
            for leaf, _, seg in self.leaves:
                values.extend(seg.column(leaf, fieldname))
            self._columns[fieldname] = values
        return self._columns[fieldname]

    def times(self) -> list[int]:
        return self.column("updated_ts")

    def groups(self) -> tuple[list[int], dict[int, frozenset[int]], frozenset[int]]:
        """Translation groups: each document's group number, the live members of every group with
        several, and all those members together (usually few: most notes are a group of one)."""
        if self._groups is None:
            numbers: dict[str, int] = {}
            of = [numbers.setdefault(key, len(numbers)) for key in self.column("group")]
            sizes = Counter(of[d] for d in self.live)
            members: dict[int, set[int]] = {}
            for d in self.live:
                if sizes[of[d]] > 1:
                    members.setdefault(of[d], set()).add(d)
            multi = {g: frozenset(ds) for g, ds in members.items()}
            self._groups = (of, multi, frozenset().union(*multi.values()) if multi else frozenset())
        return self._groups

    def spare(self, docs: frozenset[int]) -> int:
        """How many of ``docs`` collapse into another member of their translation group."""
        of, _, grouped = self.groups()
        inside = docs & grouped
        return len(inside) - len({of[d] for d in inside}) if inside else 0

    def collapse(self, ranked: list[tuple[int, float]], final: frozenset[int], prefer: str | None,
                 limit: int) -> list[tuple[int, float]]:
        """At most ``limit`` entries of ``ranked``, one per translation group, where the group's first
        member stands, shown by the group's member (matching and readable: in ``final``) in the first
        language of ``reading_order(prefer)`` it has. The score stays the group's best."""
        of, multi, grouped = self.groups()
        if not grouped or not (final & grouped):
            return ranked[:limit]
        by_language = [self.docs("language", lang) for lang in reading_order(prefer)]
        out: list[tuple[int, float]] = []
        seen: set[int] = set()
        for docnum, score in ranked:
            if docnum in grouped:
                group = of[docnum]
                if group in seen:
                    continue
                seen.add(group)
                choices = multi[group] & final
                for members in by_language:  # the first language of the reading order the group has
                    if docnum in members:
                        break
                    if choices & members:
                        docnum = min(choices & members)
                        break
            out.append((docnum, score))
            if len(out) >= limit:
                break
        return out

    def expand_prefix(self, fieldname: str, prefix: str, limit: int,
                      visible: frozenset[int] | None = None) -> list[str]:
        """At most ``limit`` terms starting with ``prefix``, the most frequent first. With ``visible``, only
        terms of those notes count and frequencies are counted among them: what a reader may not see must
        change neither the words searched nor the "many words" notice."""
        terms = (b.decode("utf-8") for b in self.reader.expand_prefix(fieldname, prefix))
        if visible is None or visible == self.live:
            candidates = list(itertools.islice(terms, 1000))
            freq = lambda t: self.reader.doc_frequency(fieldname, t)  # noqa: E731
        else:
            counted = ((t, self._visible_count(fieldname, t, visible)) for t in itertools.islice(terms, 20_000))
            counts = dict(itertools.islice(((t, n) for t, n in counted if n), 1000))
            candidates = list(counts)
            freq = counts.__getitem__
        if len(candidates) > limit:
            candidates = heapq.nlargest(limit, candidates, key=freq)
        return candidates

    def _visible_count(self, fieldname: str, term: str, visible: frozenset[int]) -> int:
        """How many of the ``visible`` notes hold the term (0 when none does)."""
        try:
            return len(set(self.reader.postings(fieldname, term).all_ids()) & visible)
        except Exception:  # a term whoosh lists but cannot read back counts as absent
            return 0

    def has_term(self, fieldname: str, text: str) -> bool:
        return (fieldname, text) in self.reader
