"""What kb reads from one whoosh segment, cached while the segment lives, and the scoring that uses it."""
from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PerDocReader, _lenfield
from whoosh.columns import NumericColumn
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length
from whoosh.scoring import BM25F, BM25FScorer

from .types import LANGS


class Segment:
    """What kb reads from one whoosh segment, kept while the segment lives: a segment never changes except
    that its deleted documents only grow, so these sets stay supersets of its live documents and are
    intersected with ``Generation.live`` when used. They are kept in the index's numbering (shifted by the
    segment's offset, which a save leaves alone: only a merge of earlier segments moves it), so a new
    searcher after a save rereads only the new small segment and joins the other segments' sets as they
    are, not rebuilding a set per value over all notes (profiled: 0.4 s of the first search after each
    save at 100,000 notes)."""

    MAX_VALUES = 20_000

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], frozenset[int]] = {}
        self.offset = 0
        self.terms: dict[str, list[str]] = {}
        self.columns: dict[str, list[Any]] = {}
        self.lengths: dict[str, list[int | None]] = {}
        self._live: tuple[tuple[int, int], frozenset[int]] | None = None

    def docs(self, leaf: Any, fieldname: str, value: str, offset: int = 0) -> frozenset[int]:
        """The documents holding ``value``, numbered from ``offset`` (the segment's place in the index)."""
        if offset != self.offset:
            self.values.clear()
            self.offset = offset
        key = (fieldname, value)
        found = self.values.get(key)
        if found is None:
            try:
                ids = leaf.postings(fieldname, value).all_ids()
                found = frozenset(_shared(map(offset.__add__, ids) if offset else ids, offset + leaf.doc_count_all()))
            except TermNotFound:
                found = frozenset()
            if len(self.values) > self.MAX_VALUES:
                self.values.clear()
            self.values[key] = found
        return found

    def live(self, leaf: Any, offset: int) -> frozenset[int]:
        """The segment's live documents, numbered from ``offset``; recomputed when deletions grew."""
        deleted = leaf.segment().deleted_count() if leaf.has_deletions() else 0
        if self._live is None or self._live[0] != (offset, deleted):
            end = offset + leaf.doc_count_all()
            docs = frozenset(_shared(range(offset, end), end))
            if deleted:
                docs = docs - frozenset(map(offset.__add__, leaf.segment().deleted_docs()))
            self._live = ((offset, deleted), docs)
        return self._live[1]

    def field_terms(self, leaf: Any, fieldname: str) -> list[str]:
        if fieldname not in self.terms:
            self.terms[fieldname] = list(leaf.field_terms(fieldname))
        return self.terms[fieldname]

    def column(self, leaf: Any, fieldname: str) -> list[Any]:
        if fieldname not in self.columns:
            self.columns[fieldname] = list(leaf.column_reader(fieldname))
        return self.columns[fieldname]

    def field_lengths(self, leaf: Any, fieldname: str) -> list[int | None]:
        if fieldname not in self.lengths:
            self.lengths[fieldname] = _bulk_lengths(leaf, fieldname)
        return self.lengths[fieldname]


_INTS: list[int] = []  # one int object per document number, shared by every set that holds it


def _shared(numbers: Any, end: int) -> Any:
    """``numbers`` (below ``end``) as the shared int objects: at 100,000 notes the sets of facet values and
    access classes hold some 1.6 million numbers, each its own 28-byte object unless shared."""
    if len(_INTS) < end:
        _INTS.extend(range(len(_INTS), end))
    return map(_INTS.__getitem__, numbers)


_LENGTHS = [None] + [byte_to_length(b) for b in range(1, 256)]  # whoosh's one-byte lengths, decoded once


def _bulk_lengths(leaf: Any, fieldname: str) -> list[int | None]:
    """Every document's length of ``fieldname`` in the segment, as ``leaf.doc_field_length(d, fieldname)``
    answers it (None where the field is empty), read as one run of bytes: a call per document takes 1 µs,
    about 0.9 s of a worker's start at 100,000 notes. Falls back to those calls for a reader kb does not
    know."""
    count = leaf.doc_count_all()
    perdoc = getattr(leaf, "_perdoc", None)
    if not isinstance(perdoc, W3PerDocReader):
        return [leaf.doc_field_length(d, fieldname, 1) for d in range(count)]
    reader = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if reader is None:  # no note of the segment has the field: whoosh answers the default for each
        return [1] * count
    if type(reader) is not NumericColumn.Reader or reader._fixedlen != 1:
        return [leaf.doc_field_length(d, fieldname, 1) for d in range(count)]
    stored = min(reader._count, count)
    raw = reader._dbfile.get(reader._basepos, stored) if stored else b""
    return [_LENGTHS[b] for b in raw] + [None] * (count - stored)


BODY_B = 1.0


class CachedBM25F(BM25F):
    """whoosh's BM25F, reading each document's field length from a list kept with the segment's other
    caches: whoosh reads it from the column file for every posting scored (a fifth of a query's time)."""

    def __init__(self, segments: dict[str, tuple[Any, Segment]]):
        # bodies are normalised fully by their length (B=1): the notes range from a quiz item to a 25,000-word
        # treaty, whose length says how much it says, not that each word matters more; titles and summaries
        # keep whoosh's 0.75
        super().__init__(**{f"body_{lang}_B": BODY_B for lang in LANGS + ("all",)})
        self.segments = segments  # whoosh segment id -> (segment reader, cache), filled by Generation

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        segment = getattr(searcher.reader(), "segment", None)
        found = self.segments.get(segment().segment_id()) if segment is not None else None
        if isinstance(scorer, BM25FScorer) and found is not None:
            scorer.dfl = found[1].field_lengths(found[0], fieldname).__getitem__
        return scorer
