"""Full-text search over the notes: the schema, analysis, writing and querying. The only whoosh import.

On disk (the folder itself is :mod:`kb.indexfiles`): ``index_dir/CURRENT`` names the live generation, a
whoosh index in ``index_dir/gen-…``. ``rebuild`` builds a new generation beside it and swaps ``CURRENT``
with ``os.replace``: searches keep working, and open searchers read the old files until they notice the
swap. Writes that cannot get whoosh's lock within ``write_timeout``, or that happen during a rebuild, are
queued as JSON in ``index_dir/queue`` and applied by the next writer, a background thread, ``flush()`` or
the rebuild. A rebuild writes a few large segments; saves add small ones, merged in the background once
writes pause. An index found missing or unreadable while serving is refilled through ``on_damage``.

Analysis: every text is indexed per language (``title_en``, ``body_fr``, …: English Porter; French
Snowball, then accents folded; Arabic normalised, then Light10) and once more unstemmed and folded
across languages (``title_all``, …). A query word is analysed for every field, so it matches stems in
any language and exact words in any note. Queries never reach whoosh's parser: :mod:`kb.queryparse`
bounds them and this module builds the query objects.

Querying is one scored pass that records every match the reader may see (totals, facets) while
ranking those that pass the filters; queries of three or more words earn a bonus where the words
stand together. When the query names the reader's language (``SearchQuery.prefer_language``, as the
search pages do), a result is a translation group (notes sharing ``IndexDoc.group``), shown once: by its
member in that language if it matches and may be read, else by its best-ranked member, at the rank of
its best member; totals, pages and facet counts then all count groups, so a facet count is the total
its link leads to. Without a language (feeds, exports, other listings) every note is a result. Facet
counts are "disjunctive": each facet is counted over the results of the query, the access filter, the
since-date and the filters of the *other* facets, so choosing one topic still shows how many results
each other topic would give.
Region (``places``: a region covers its countries) and country are two facets: AND between them, OR
among the values of one.

Speed: one searcher per instance, reopened when the index changed; the document sets behind facets,
filters and access, the columns and the field lengths used in scoring are cached per whoosh segment
and survive reopening, so after a save only the new small segment is read.
"""
from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import logging
import shutil
import threading
import time
import traceback
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from whoosh import index as windex
from whoosh.analysis import Analyzer, Token
from whoosh.collectors import TimeLimit, TopCollector, WrappingCollector
from whoosh.filedb.structfile import StructFile
from whoosh.codec.whoosh3 import W3Codec
from whoosh.compat import loads as whoosh_loads  # how whoosh reads its own position lists
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Frequency, Positions
from whoosh.lang.porter import stem as _porter_stem
from whoosh.lang.snowball.french import FrenchStemmer
from whoosh.matching import NullMatcher, WrappingMatcher
from whoosh.query import And, AndMaybe, AndNot, Phrase, Term
from whoosh.query.spans import Span, SpanNear2
# whoosh's Or preloads matches into arrays below 5,000 documents and switches to a tree of binary unions
# above: measured here, the tree is slower for every query shape kb builds (up to 4x on many-term ORs),
# so the array form is pinned and behaviour does not change when the corpus crosses 5,000 notes
from whoosh.query.compound import PreloadedOr as Or
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.system import _INT_SIZE, pack_uint

from . import queryparse, textnorm
from .indexfiles import IndexFiles
# the interface's data lives in searchtypes (no whoosh there); callers import it from here
from .searchtypes import (LANGS, Hit, IndexDoc, SearchQuery, SearchResults, clean_query, doc_from_json,
                          doc_to_json, fold_key, reading_order, strings, utc)

log = logging.getLogger(__name__)

SECTIONS = {"title": 3.0, "summary": 2.0, "body": 1.0}  # boosts: titles outweigh bodies
ALL_WEIGHT = 0.6  # the unstemmed cross-language fields add to the stemmed ones: exact words rank higher
# facet name -> field; "regions" counts regions and countries alike (a region covers its countries),
# "countries" counts countries only (the notes a country filter would give)
FACETS = {"regions": "places", "countries": "countries", "topics": "topics", "audience": "audience",
          "language": "language"}
ACCESS_FIELDS = ("status", "visibility", "authors", "countries")
EXCERPT_CHARS = 4000
MAX_TEXT_CHARS = 500_000  # a pathological note cannot stall indexing
PREFIX_TERMS_PER_FIELD = 40
PREFIX_TERMS_PER_QUERY = 240
SEARCH_TIME_LIMIT = 1.0
MAX_SEGMENTS = 8  # above this small segments are merged in the background, once writes pause
MAX_SEGMENTS_BUSY = 24  # ... or at once, past this many
MERGE_IDLE = 1.0  # seconds without a write before that merge
MERGE_DOCS = 100  # segments smaller than this are merged whatever their neighbours' size
REBUILD_POOL_MB = 512  # whoosh's estimate; the process grows by about as much during a rebuild
SUGGEST_BELOW = 3  # "did you mean" only when fewer results than this
REPAIR_EVERY = 30.0  # seconds between two background refills of an index found damaged while serving
# Bump when analysis, schema or the indexed text change: generations carry it, and ensure() replaces an
# older one (3: plain text keeps only the label of a wiki link, never the name of the linked note).
INDEX_VERSION = "kb-search-4"
PROXIMITY_MIN_WORDS = 3  # phrase bonus for sentence-like queries (measured: +2% known items in the top 3;
# on two-word queries it cost a third more time for no gain)


# --- analysis ----------------------------------------------------------------------------------

_french = FrenchStemmer()  # stateless: stem() keeps everything in locals


@lru_cache(maxsize=50_000)
def _term_en(word: str) -> str | None:
    return None if textnorm.is_stopword(word) else textnorm.fold(_porter_stem(word))


@lru_cache(maxsize=50_000)
def _term_fr(word: str) -> str | None:
    # stem first, then fold: the stemmer needs the accents (réintégration -> réintegr -> reintegr)
    return None if textnorm.is_stopword(word) else textnorm.fold(_french.stem(word))


@lru_cache(maxsize=50_000)
def _term_ar(word: str) -> str | None:
    return None if textnorm.is_stopword(word) else textnorm.fold(textnorm.arabic_stem(word))


@lru_cache(maxsize=50_000)
def _term_all(word: str) -> str | None:
    return None if textnorm.is_stopword(word) else textnorm.fold(word)


ANALYSE: dict[str, Callable[[str], str | None]] = {"en": _term_en, "fr": _term_fr, "ar": _term_ar,
                                                    "all": _term_all}


def analyse_words(lang: str, words: Iterable[str]) -> list[str]:
    """Index terms of already-normalised words (textnorm.words) for one analysis; stop words dropped."""
    fn = ANALYSE[lang]
    return [t for t in map(fn, words) if t]


def analyse(lang: str, text: str) -> list[str]:
    """Index terms of a text for one analysis ("en", "fr", "ar" or "all")."""
    return analyse_words(lang, textnorm.words(text))


class KbAnalyzer(Analyzer):
    """Whoosh analyser over :func:`analyse`; documents are indexed from pre-analysed term lists, so this
    serves whoosh's own text processing (more-like-this). Stored in the index by this module path."""

    def __init__(self, lang: str = "all"):
        self.lang = lang

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        terms = analyse(self.lang, value) if tokenize else [value]
        for i, term in enumerate(terms):
            t.text, t.boost, t.stopped = term, 1.0, False
            if keeporiginal:
                t.original = term
            if positions:
                t.pos = start_pos + i
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(term)
            yield t


class _TermPositions(Positions):
    """whoosh's Positions, read straight from the term lists kb indexes (the same postings, without a
    token object per word: a third of the time of a rebuild went there). Stored in the index by this
    module path, like KbAnalyzer."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, list):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        positions: defaultdict[str, list[int]] = defaultdict(list)
        for pos, term in enumerate(value):
            positions[term].append(pos)
        boost, encode = self.field_boost, self.encode
        for term, poslist in positions.items():
            yield term, len(poslist), len(poslist) * boost, encode(poslist)

    def decode_positions(self, valuestring):
        """As whoosh's, with the running sum in C (phrase queries decode many of these)."""
        if not valuestring.endswith(b"."):
            valuestring += b"."
        return list(itertools.accumulate(whoosh_loads(valuestring[_INT_SIZE:])))


class _TermFrequency(Frequency):
    """whoosh's Frequency, read straight from a term list (see _TermPositions)."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, list):
            return super().word_values(value, analyzer, **kwargs)
        boost = self.field_boost
        return ((term, n, n * boost, pack_uint(n)) for term, n in Counter(value).items())


def _codec() -> W3Codec:
    """The default codec (and file format), minus the per-block length statistics: they serve only whoosh's
    block-skipping optimisation, which kb turns off (its counts need every match; with the statistics
    missing, more-like-this skips fewer blocks, with the same results), and reading a length back for
    each posting was a sixth of the time of a rebuild."""
    codec = W3Codec()
    codec.length_stats = False
    return codec


def _pool_nearly_full(writer: Any) -> bool:
    """Is the writer's in-memory pool of postings near REBUILD_POOL_MB? Past it, whoosh sorts the postings
    through temporary files, which took more CPU than indexing itself at 7,400 notes; a rebuild commits
    a segment instead (memory stays bounded, and a few large segments search as fast as one)."""
    size = getattr(getattr(writer, "pool", None), "currentsize", 0)
    return size > REBUILD_POOL_MB * 1024 * 1024 * 0.7


def _merge_plan(segments: list[Any]) -> list[Any]:
    """The segments a background merge combines: the smallest ones, for as long as the next is no larger
    than three times what is merged so far (or than MERGE_DOCS). The segments single saves add are merged
    every few saves, their merges into larger ones, and so on; the large segments of a rebuild stay as
    they are, so a merge costs little and a save rarely waits for one. (whoosh's MERGE_SMALL merges the
    five smallest only, and segments accumulated.) Empty when there is nothing worth merging."""
    ordered = sorted(segments, key=lambda seg: seg.doc_count_all())
    plan, merged = [], 0
    for seg in ordered:
        if plan and seg.doc_count_all() > max(3 * merged, MERGE_DOCS):
            break
        plan.append(seg)
        merged += seg.doc_count_all()
    return plan if len(plan) > 1 else []


def _merge_small(writer: Any, segments: list[Any]) -> list[Any]:
    """A whoosh merge policy applying _merge_plan: merged segments go into the writer's new segment."""
    plan = _merge_plan(segments)
    for seg in plan:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [seg for seg in segments if seg not in plan]


def _schema() -> Schema:
    fields: dict[str, Any] = dict(
        slug=ID(stored=True, unique=True), group=ID(stored=True, sortable=True), language=ID(stored=True),
        status=ID(), visibility=ID(), places=KEYWORD(), topics=KEYWORD(), audience=KEYWORD(),
        authors=KEYWORD(), countries=KEYWORD(), links=KEYWORD(),
        updated_ts=NUMERIC(int, bits=64, sortable=True), hash=STORED(), doc=STORED(),
    )
    for section in SECTIONS:
        for lang in LANGS + ("all",):
            # no positions for the big unstemmed body: phrases use the stemmed body of each language
            phrase = not (section == "body" and lang == "all")
            text = TEXT(analyzer=KbAnalyzer(lang), phrase=phrase)
            text.format = (_TermPositions if phrase else _TermFrequency)(field_boost=text.format.field_boost)
            fields[f"{section}_{lang}"] = text
    return Schema(**fields)


SCHEMA = _schema()
_POSITIONS = {name for name in SCHEMA.names() if SCHEMA[name].format and SCHEMA[name].supports("positions")}


# --- small helpers ---------------------------------------------------------------------------------

def _failed(message: str, exc: BaseException, *args: Any) -> None:
    """Log a failure that is answered rather than raised, and close the files it left open."""
    log.warning(message + ": %s", *args, "".join(traceback.format_exception(exc)).rstrip())
    _release(exc)


def _release(exc: BaseException | None) -> None:
    """Close files left open in the frames of a failure (whoosh does so on a damaged index)."""
    seen = 0
    while exc is not None and seen < 5:
        tb = exc.__traceback__
        while tb is not None:
            for value in list(tb.tb_frame.f_locals.values()):
                for obj in (value, getattr(value, "_file", None), getattr(value, "file", None)):
                    if isinstance(obj, (StructFile, io.IOBase)):
                        with contextlib.suppress(Exception):
                            obj.close()
            tb = tb.tb_next
        exc, seen = exc.__context__, seen + 1


def _doc_fields(doc: IndexDoc) -> dict[str, Any]:
    """The whoosh fields of a note; text fields are given as term lists (positions follow the order)."""
    lang = doc.language if doc.language in LANGS else "en"
    updated = utc(doc.updated)
    summary = textnorm.excerpt(doc.summary or "", 2000)
    text = (doc.text or "")[:MAX_TEXT_CHARS]
    fields: dict[str, Any] = dict(
        slug=doc.slug, group=doc.group or doc.slug, language=lang, status=doc.status or "",
        visibility=doc.visibility or "", places=strings(doc.places, 500),
        topics=strings(doc.topics, 500), audience=strings(doc.audience, 500),
        authors=strings(doc.authors, 500), countries=strings(doc.countries, 500),
        links=strings(doc.links, 5000), updated_ts=int(updated.timestamp()), hash=doc.hash or "",
        doc=dict(title=doc.title or "", language=lang, regions=strings(doc.regions, 500),
                 topics=strings(doc.topics, 500), audience=strings(doc.audience, 500),
                 summary=summary, updated=updated, excerpt=textnorm.excerpt(text, EXCERPT_CHARS)),
    )
    for section, value in (("title", doc.title or ""), ("summary", summary), ("body", text)):
        words = textnorm.words(value)
        fields[f"{section}_all"] = analyse_words("all", words)
        fields[f"{section}_{lang}"] = analyse_words(lang, words)
    return fields


def _empty_results(query: SearchQuery, message: str | None = None) -> SearchResults:
    return SearchResults(query=query, total=0, hits=[], facets={name: {} for name in FACETS},
                         suggestion=None, message=message)


# --- one searcher generation and its caches ---------------------------------------------------------

class _Segment:
    """What kb reads from one whoosh segment, kept while the segment lives: a segment never changes except
    that its deleted documents only grow, so these sets (in the segment's own numbering) stay supersets of
    its live documents and are intersected with ``_Generation.live`` when used. Reopening the index after
    a save then rereads only the new small segment, not the whole index."""

    MAX_VALUES = 20_000

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], frozenset[int]] = {}
        self.terms: dict[str, list[str]] = {}
        self.columns: dict[str, list[Any]] = {}
        self.lengths: dict[str, list[int | None]] = {}

    def docs(self, leaf: Any, fieldname: str, value: str) -> frozenset[int]:
        key = (fieldname, value)
        found = self.values.get(key)
        if found is None:
            try:
                found = frozenset(leaf.postings(fieldname, value).all_ids())
            except TermNotFound:
                found = frozenset()
            if len(self.values) > self.MAX_VALUES:
                self.values.clear()
            self.values[key] = found
        return found

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
            length = leaf.doc_field_length
            self.lengths[fieldname] = [length(d, fieldname, 1) for d in range(leaf.doc_count_all())]
        return self.lengths[fieldname]


class _BM25F(BM25F):
    """whoosh's BM25F, reading each document's field length from a list kept with the segment's other
    caches: whoosh reads it from the column file for every posting scored (a fifth of a query's time)."""

    def __init__(self, segments: dict[str, tuple[Any, _Segment]]):
        super().__init__()
        self.segments = segments  # whoosh segment id -> (segment reader, cache), filled by _Generation

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        segment = getattr(searcher.reader(), "segment", None)
        found = self.segments.get(segment().segment_id()) if segment is not None else None
        if isinstance(scorer, BM25FScorer) and found is not None:
            scorer.dfl = found[1].field_lengths(found[0], fieldname).__getitem__
        return scorer


class _Generation:
    """One open searcher and the document sets cached for it; used under SearchIndex._lock only."""

    def __init__(self, path: Path, pointer: Any, ix: Any, segments: dict[str, _Segment]):
        self.path, self.pointer, self.ix = path, pointer, ix
        by_id: dict[str, tuple[Any, _Segment]] = {}
        self.searcher = ix.searcher(weighting=_BM25F(by_id))
        self.reader = self.searcher.reader()
        self.live = frozenset(self.reader.all_doc_ids())
        self.leaves: list[tuple[Any, int, _Segment]] = []
        if self.reader.doc_count_all():
            for leaf, offset in self.reader.leaf_readers():
                self.leaves.append((leaf, offset, segments.get(self._key(leaf)) or _Segment()))
        self.segments = {self._key(leaf): seg for leaf, _, seg in self.leaves}
        by_id.update((leaf.segment().segment_id(), (leaf, seg)) for leaf, _, seg in self.leaves)
        self._partial = self.reader.has_deletions()
        self._values: dict[tuple[str, str], frozenset[int]] = {}
        self._facets: dict[str, dict[str, frozenset[int]]] = {}
        self._lenient: dict[str, dict[str, str]] = {}
        self._allowed: OrderedDict[Any, frozenset[int]] = OrderedDict()
        self._columns: dict[str, list[Any]] = {}
        self._groups: tuple[list[int], dict[int, frozenset[int]], frozenset[int]] | None = None

    def _key(self, leaf: Any) -> str:
        return f"{self.path.name}/{leaf.segment().segment_id()}"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.searcher.close()

    def docs(self, fieldname: str, value: str) -> frozenset[int]:
        """Live notes whose ``fieldname`` holds ``value`` (an indexed term)."""
        key = (fieldname, value)
        found = self._values.get(key)
        if found is None:
            parts = [local if offset == 0 else frozenset(offset + d for d in local)
                     for leaf, offset, seg in self.leaves if (local := seg.docs(leaf, fieldname, value))]
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


# --- building whoosh queries -------------------------------------------------------------------------

@dataclass
class _Compiled:
    query: Any  # whoosh query of the positive part, or None
    groups: list[Any]  # one whoosh query per AND group
    excluded: Any  # whoosh query of the excluded items, or None
    proximity: Any = None  # optional: the plain words as a phrase, to rank notes that have them together
    all_terms: set[str] = field(default_factory=set)  # for highlighting
    lang_terms: dict[str, set[str]] = field(default_factory=dict)
    prefixes: set[str] = field(default_factory=set)
    expansions_capped: bool = False

    def marker(self, lang: str) -> Callable[[str], bool]:
        stems, fn = self.lang_terms.get(lang, set()), ANALYSE.get(lang, _term_all)
        all_terms, prefixes = self.all_terms, tuple(self.prefixes)

        def is_match(word: str) -> bool:
            term = _term_all(word)
            if term is None:
                return False
            return term in all_terms or term.startswith(prefixes) or fn(word) in stems

        return is_match


class _PhraseMatcher(SpanNear2.SpanNear2Matcher):
    """Words at consecutive positions, tested on sets of positions. whoosh's own test (the same matches)
    builds an object per position of every word and took most of the time of a phrase query."""

    def __init__(self, ms: list[Any]):
        super().__init__(ms, slop=1, ordered=True, mindist=1)

    def copy(self):
        return self.__class__([m.copy() for m in self.ms])

    def _get_spans(self):
        ends = set(self.ms[0].value_as("positions"))
        for m in self.ms[1:]:
            if not ends:
                break
            ends = {p + 1 for p in ends}.intersection(m.value_as("positions"))
        n = len(self.ms) - 1
        return [Span(p - n, p) for p in sorted(ends)]


class _Phrase(Phrase):
    """whoosh's Phrase (same matches, same scores: the sum of the words' scores) with _PhraseMatcher."""

    def matcher(self, searcher, context=None):
        field, reader, terms = searcher.schema[self.fieldname], searcher.reader(), []
        for word in self.words:
            word = field.to_bytes(word)
            if (self.fieldname, word) not in reader:
                return NullMatcher()
            terms.append(Term(self.fieldname, word))
        m = _PhraseMatcher([t.matcher(searcher, context) for t in terms])
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


def _text_query(words: list[str], compiled: _Compiled, highlight: bool) -> Any:
    subs = []
    for lang in LANGS + ("all",):
        terms = analyse_words(lang, words)
        if not terms:
            continue
        if highlight:
            target = compiled.all_terms if lang == "all" else compiled.lang_terms.setdefault(lang, set())
            target.update(terms)
        for section, boost in SECTIONS.items():
            name = f"{section}_{lang}"
            boost *= ALL_WEIGHT if lang == "all" else 1.0
            if len(terms) == 1:
                subs.append(Term(name, terms[0], boost=boost))
            elif name in _POSITIONS:  # body_all has no positions: each language's body_* answers
                subs.append(_Phrase(name, terms, boost=boost))
    return Or(subs) if subs else None


def _item_query(gen: _Generation, item: queryparse.Item, compiled: _Compiled, budget: list[int],
                highlight: bool, visible: frozenset[int] | None = None) -> Any:
    words = textnorm.words(item.text)
    if item.kind != "prefix" or not words:
        return _text_query(words, compiled, highlight)
    *head, last = words
    prefix = textnorm.fold(last)
    if len(prefix) < queryparse.MIN_PREFIX:
        return _text_query(words, compiled, highlight)
    subs = []
    for section, boost in SECTIONS.items():
        limit = max(0, min(PREFIX_TERMS_PER_FIELD, budget[0]))
        terms = gen.expand_prefix(f"{section}_all", prefix, limit + 1, visible)
        if len(terms) > limit:
            compiled.expansions_capped = True
            terms = terms[:limit]
        budget[0] -= len(terms)
        if terms:
            subs.append(Or([Term(f"{section}_all", t) for t in terms], boost=boost))
    if highlight:
        compiled.prefixes.add(prefix)
    # an unknown prefix matches nothing; not NullQuery, which And.normalize() silently drops
    prefix_query = Or(subs) if subs else Term("slug", "\x00")
    head_query = _text_query(head, compiled, highlight) if head else None
    return And([head_query, prefix_query]) if head_query is not None else prefix_query


def _compile(gen: _Generation, parsed: queryparse.ParsedQuery, visible: frozenset[int] | None = None) -> _Compiled:
    """The whoosh queries of a parsed search; prefixes expand over the ``visible`` notes' words only."""
    compiled = _Compiled(query=None, groups=[], excluded=None)
    budget = [PREFIX_TERMS_PER_QUERY]
    groups = list(dict.fromkeys(tuple(group) for group in parsed.groups))  # "x x x …" is "x"
    for group in groups:
        parts = [q for q in (_item_query(gen, i, compiled, budget, True, visible) for i in group) if q is not None]
        if parts:
            compiled.groups.append(Or(parts) if len(parts) > 1 else parts[0])
    excluded = [q for q in (_item_query(gen, i, compiled, budget, False, visible)
                                 for i in parsed.excluded)
                if q is not None]
    compiled.excluded = Or(excluded) if excluded else None
    if compiled.groups:
        compiled.query = And(compiled.groups) if len(compiled.groups) > 1 else compiled.groups[0]
    plain = [w for group in groups if len(group) == 1 and group[0].kind == "word"
             for w in textnorm.words(group[0].text)]
    if len(plain) >= PROXIMITY_MIN_WORDS:
        phrases = [_Phrase(f"{section}_{lang}", terms, boost=boost)
                   for lang in LANGS + ("all",) if len(terms := analyse_words(lang, plain)) > 1
                   for section, boost in SECTIONS.items() if f"{section}_{lang}" in _POSITIONS]
        compiled.proximity = Or(phrases) if phrases else None
    return compiled


def _with_exclusions(positive: Any, excluded: Any) -> Any:
    return AndNot(positive, excluded) if excluded is not None else positive


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


# --- the index -----------------------------------------------------------------------------------------

class SearchIndex:
    """The search index in ``index_dir``, shared by every process that opens the same directory.

    One searcher per instance, reopened only when the index changed; searches on one instance are
    serialised (whoosh readers share file positions, and the GIL leaves little to gain).
    """

    def __init__(self, index_dir: Path, *, write_timeout: float = 1.0):
        self.index_dir = Path(index_dir)
        self.files = IndexFiles(self.index_dir)
        self.write_timeout = write_timeout
        self._lock = threading.RLock()
        self._gen: _Generation | None = None
        self._segments: dict[str, _Segment] = {}  # kept across reopenings while the segments live
        self._threads_lock = threading.Lock()
        self._drainer: threading.Thread | None = None
        self._merger: threading.Thread | None = None
        self._repairer: threading.Thread | None = None
        self._repaired_at = -REPAIR_EVERY
        self._last_write = 0.0
        self._stop = threading.Event()
        # set by the owner (kb.indexing) to refill the index from content/ when it is found missing or
        # unreadable while serving; runs in a background thread, at most once per REPAIR_EVERY seconds
        self.on_damage: Callable[[], Any] | None = None

    def _new_generation(self) -> tuple[Path, Any]:
        """A new, empty generation (not yet live) and its whoosh index."""
        path = self.files.new_generation(INDEX_VERSION)
        return path, windex.create_in(str(path), SCHEMA)

    # lifecycle ----------------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Is there an index (possibly empty) to search and write?"""
        found = self.files.pointer()
        return found is not None and any(found[0].glob("_MAIN_*.toc"))

    def _healthy(self) -> bool:
        """Can the live generation be opened and read? A damaged-looking one is probed three times: a
        concurrent merge or swap can remove files between two steps of one probe."""
        for _ in range(3):
            state = self._probe()
            if state != "retry":
                return state == "ok"
            time.sleep(0.05)
        return False

    def _probe(self) -> str:
        """"ok", "no" (missing, or built by another version) or "retry" (unreadable just now)."""
        found = self.files.pointer()
        if found is None:
            return "no"
        version = self.files.version(found[0])
        if version != INDEX_VERSION:
            log.warning("search index at %s is not version %s; it will be replaced", found[0], INDEX_VERSION)
            return "no"
        try:
            ix = windex.open_dir(str(found[0]))
            if set(ix.schema.names()) != set(SCHEMA.names()):
                return "no"
            with ix.searcher() as searcher:
                for leaf, _ in searcher.reader().leaf_readers():
                    list(itertools.islice(leaf.all_stored_fields(), 1))
                    list(itertools.islice(leaf.lexicon("slug"), 1))
                    if leaf.doc_count_all():
                        list(itertools.islice(leaf.column_reader("updated_ts"), 1))
            return "ok"
        except Exception as exc:  # any unreadable state counts as damaged
            _failed("search index at %s is unreadable", exc, found[0])
            return "retry"

    def ensure(self) -> bool:
        """Create an empty index if missing or unreadable (the caller then rebuilds); True if created."""
        if self._healthy():
            return False
        damaged = self.files.pointer() is not None
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self.files.locked("rebuild"):
            if self._probe() == "ok":  # another process may have just recreated it
                return False
            path, _ = self._new_generation()
            self.files.swap_to(path)
            self.files.remove_other_generations(path)
        self._drop_searcher()
        log.log(logging.WARNING if damaged else logging.INFO, "created an empty search index in %s%s", path,
                " (the previous one was unreadable)" if damaged else "")
        return True

    def close(self) -> None:
        """Stop background work and close the searcher."""
        self._stop.set()
        for thread in (self._drainer, self._merger, self._repairer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)
        self._drop_searcher()

    def _drop_searcher(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.close()
            self._gen, self._segments = None, {}

    def _current(self) -> _Generation | None:
        """The open generation, reopened if the index changed or was swapped; None if no index."""
        gen = self._gen
        found = self.files.pointer()
        if gen is not None and found is not None and found[1] == gen.pointer:
            try:
                if gen.searcher.up_to_date():
                    return gen
            except Exception as exc:  # e.g. its generation directory was removed after a swap
                _release(exc)
        error: Exception | None = None
        for attempt in range(3):  # a concurrent merge or swap can remove files between steps
            if found is None:
                self._drop_searcher()
                return None
            try:
                ix = gen.ix if gen is not None and gen.path == found[0] else windex.open_dir(str(found[0]))
                fresh = _Generation(found[0], found[1], ix, self._segments)
            except Exception as exc:
                if error is not None:
                    _release(error)
                error = exc
                time.sleep(0.01 * (attempt + 1))
                found = self.files.pointer()
                continue
            if gen is not None:
                gen.close()
            self._gen, self._segments = fresh, fresh.segments
            return fresh
        raise error  # type: ignore[misc]

    # writing --------------------------------------------------------------------------------------------
    def upsert(self, docs: Iterable[IndexDoc]) -> None:
        """Add or replace notes by slug (a writer waits briefly for the lock, then queues the change)."""
        docs = list(docs)
        if docs:
            self._write({"op": "upsert", "docs": [doc_to_json(d) for d in docs]})

    def remove(self, slugs: Iterable[str]) -> None:
        """Remove notes by slug (queued like upserts when the lock is busy)."""
        slugs = [str(s) for s in slugs]
        if slugs:
            self._write({"op": "remove", "slugs": slugs})

    def _write(self, op: dict) -> None:
        """Apply op now, or queue it; never raises (a note save must not fail because of the index)."""
        for attempt in (1, 2):
            try:
                if not self.exists():
                    self.ensure()
                self._write_once(op)
                return
            except Exception as exc:
                _failed("search index write failed (attempt %d)", exc, attempt)
                if attempt == 1 and not self._healthy():
                    with contextlib.suppress(Exception):
                        self.ensure()  # damaged: start empty, and refill from content/ in the background
                    self._damaged()
                    continue
                break
        try:
            self.files.enqueue(op)
            self._start_thread("_drainer", self._drain_loop)
        except OSError as exc:
            _failed("search update lost; `kb index check --repair` restores it", exc)

    def _write_once(self, op: dict) -> None:
        with self.files.locked("swap", shared=True):  # a swap waits for this write
            rebuilding = self.files.rebuilding()
            if rebuilding:
                self.files.enqueue(op)  # replayed into the new generation after the swap
            if not self._commit(op, drain=not rebuilding, timeout=self.write_timeout):
                if not rebuilding:
                    self.files.enqueue(op)
                self._start_thread("_drainer", self._drain_loop)

    def _commit(self, op: dict | None, drain: bool, timeout: float) -> bool:
        """Apply queued ops (if drain) and op in one commit; False if whoosh's lock stayed busy."""
        found = self.files.pointer()
        if found is None:
            return False
        ix = windex.open_dir(str(found[0]))
        try:
            writer = ix.writer(timeout=timeout, delay=0.05, limitmb=REBUILD_POOL_MB, codec=_codec())
        except windex.LockError:
            return False
        # the queue lock is taken after whoosh's (same order everywhere) and kept until the applied
        # files are gone: the next writer gets whoosh's lock at our commit, and must not replay them
        with self.files.locked("queue"):
            files = self.files.queued() if drain else []
            try:
                ops = self.files.read(files)
                if op is not None:
                    ops.append(op)
                self._apply(writer, ops)
                writer.commit(merge=False)
            except BaseException:
                writer.cancel()
                raise
            for path in files:
                with contextlib.suppress(OSError):
                    path.unlink()
        self._last_write = time.monotonic()
        if len(ix._segments()) > MAX_SEGMENTS and _merge_plan(ix._segments()):
            self._start_thread("_merger", self._merge)
        return True

    @staticmethod
    def _apply(writer: Any, ops: list[dict]) -> None:
        final: dict[str, IndexDoc | None] = {}  # slug -> last state; one writer cannot see its own adds
        for op in ops:
            try:
                if op["op"] == "upsert":
                    for doc in [doc_from_json(data) for data in op["docs"]]:
                        final[doc.slug] = doc
                elif op["op"] == "remove":
                    final.update((str(slug), None) for slug in op["slugs"])
            except (KeyError, TypeError, ValueError):
                log.warning("skipping malformed search update %.200r", op)
        for slug, doc in final.items():
            writer.delete_by_term("slug", slug)
            if doc is not None:
                writer.add_document(**_doc_fields(doc))

    def flush(self, timeout: float = 5.0) -> int:
        """Apply queued updates now if the lock frees within ``timeout``; return how many remain queued."""
        if not self.files.queued() or not self.exists():
            return len(self.files.queued())
        with self.files.locked("swap", shared=True):
            if not self.files.rebuilding():
                self._commit(None, drain=True, timeout=timeout)
        return len(self.files.queued())

    def _start_thread(self, attr: str, target: Callable[[], None]) -> None:
        with self._threads_lock:
            thread = getattr(self, attr)
            if thread is not None and thread.is_alive() or self._stop.is_set():
                return
            thread = threading.Thread(target=target, name=f"kb-search{attr}", daemon=True)
            setattr(self, attr, thread)
            thread.start()

    def _damaged(self) -> None:
        """The index was found missing or unreadable while serving: have the owner refill it."""
        if self.on_damage is None or time.monotonic() - self._repaired_at < REPAIR_EVERY:
            return
        self._repaired_at = time.monotonic()
        self._start_thread("_repairer", self._repair)

    def _repair(self) -> None:
        try:
            self.on_damage()  # type: ignore[misc]
        except Exception as exc:
            _failed("refilling the search index failed; `kb index rebuild` restores it", exc)
        self._drop_searcher()

    def _drain_loop(self) -> None:
        delay, deadline = 0.1, time.monotonic() + 600
        while time.monotonic() < deadline and not self._stop.wait(delay):
            try:
                if self.flush(timeout=self.write_timeout) == 0:
                    return
            except Exception as exc:
                _failed("applying queued search updates failed", exc)
            delay = min(delay * 2, 2.0)

    def _merge(self) -> None:
        """Merge small segments once this process has not written for MERGE_IDLE seconds (or at once past
        MAX_SEGMENTS_BUSY): a merge holds the write lock, and a save arriving meanwhile would wait."""
        while not self._stop.is_set():
            idle = time.monotonic() - self._last_write
            if idle >= MERGE_IDLE:
                break
            found = self.files.pointer()
            with contextlib.suppress(Exception):
                if found is not None and len(windex.open_dir(str(found[0]))._segments()) > MAX_SEGMENTS_BUSY:
                    break
            self._stop.wait(min(MERGE_IDLE - idle, 0.25) + 0.01)
        found = self.files.pointer()
        if found is None or self._stop.is_set():
            return
        try:
            writer = windex.open_dir(str(found[0])).writer(timeout=0.0, codec=_codec())
        except windex.LockError:
            return  # someone is writing; the next write tries again
        except Exception as exc:
            _failed("search index merge could not start", exc)
            return
        try:
            if _merge_plan(writer.segments):
                writer.commit(mergetype=_merge_small)
            else:
                writer.cancel()
        except Exception as exc:
            writer.cancel()
            _failed("search index merge failed", exc)

    def rebuild(self, docs: Iterable[IndexDoc], progress: Callable[[int], None] | None = None) -> int:
        """Index ``docs`` into a fresh generation, swap it in atomically and return the count.

        ``progress`` is called with the running count after each note. Writes made meanwhile by other
        processes are queued and replayed into the new generation right after the swap.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self.files.locked("rebuild"):
            path, ix = self._new_generation()
            count, seen = 0, set()
            try:
                writer = ix.writer(limitmb=REBUILD_POOL_MB, codec=_codec())
                try:
                    for doc in docs:
                        if doc.slug in seen:
                            log.warning("rebuild: duplicate note %s skipped", doc.slug)
                            continue
                        seen.add(doc.slug)
                        writer.add_document(**_doc_fields(doc))
                        count += 1
                        if _pool_nearly_full(writer):  # a new segment, rather than sorting on disk
                            writer.commit(merge=False)
                            writer = ix.writer(limitmb=REBUILD_POOL_MB, codec=_codec())
                        if progress is not None:
                            progress(count)
                    writer.commit(merge=False)
                except BaseException:
                    writer.cancel()
                    raise
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            self.files.swap_to(path)
            if not self._commit(None, drain=True, timeout=30.0):
                self._start_thread("_drainer", self._drain_loop)
            self.files.remove_other_generations(path)
        return count

    # reading --------------------------------------------------------------------------------------------
    def doc_count(self) -> int:
        """How many notes the index holds."""
        with self._lock:
            gen = self._current()
            return gen.searcher.doc_count() if gen is not None else 0

    def stored_hashes(self) -> dict[str, str]:
        """slug -> sha1 of the note file, for drift checks; empty if there is no index."""
        with self._lock:
            gen = self._current()
            if gen is None:
                return {}
            return {f["slug"]: f.get("hash", "") for f in gen.reader.all_stored_fields()}

    def _hit(self, gen: _Generation, docnum: int, score: float,
             compiled: _Compiled | None = None) -> Hit:
        stored = gen.searcher.stored_fields(docnum)
        doc = stored["doc"]
        snippet = None
        if compiled is not None:
            marker = compiled.marker(doc["language"])
            snippet = textnorm.snippet(doc["excerpt"], marker) or textnorm.snippet(doc["summary"], marker)
        if snippet is None:
            snippet = textnorm.plain_snippet(doc["summary"] or doc["excerpt"])
        return Hit(slug=stored["slug"], title=doc["title"], language=doc["language"],
                   regions=list(doc["regions"]), topics=list(doc["topics"]),
                   audience=list(doc["audience"]), summary=doc["summary"], updated=doc["updated"],
                   score=float(score), snippet=snippet)

    def search(self, query: SearchQuery, allowed: Any) -> SearchResults:
        """Search as a reader allowed ``allowed`` (access.read_filter); never raises."""
        query = clean_query(query)
        try:
            with self._lock:
                gen = self._current()
                if gen is None:
                    self._damaged()
                    return _empty_results(query, "The search index is being prepared; "
                                                 "please try again shortly.")
                return self._search(gen, query, allowed)
        except Exception as exc:
            _failed("search failed for %r", exc, query.q[:300])
            if not self._healthy():
                self._damaged()
            return _empty_results(query, "Search is unavailable at the moment; please try again shortly.")

    def _search(self, gen: _Generation, query: SearchQuery, allowed: Any) -> SearchResults:
        started = time.monotonic()

        def late() -> bool:  # optional extra passes are skipped for a query that is already slow
            return time.monotonic() - started > SEARCH_TIME_LIMIT / 4

        parsed = queryparse.parse(query.q)
        messages = list(parsed.notices)
        visible = gen.allowed(allowed)
        compiled = _compile(gen, parsed, visible)
        if compiled.expansions_capped:
            messages.append("A prefix matched many words; only the most common were searched.")
        if parsed.had_input and compiled.query is None and not parsed.excluded:
            messages.append("Your search had no words to look for, so all notes are shown.")

        if query.since is not None:
            since, times = query.since.timestamp(), gen.times()
            visible = frozenset(d for d in visible if times[d] >= since)
        filters = {name: gen.filter_docs(FACETS[name], values) if values else None
                   for name, values in (("regions", query.places), ("countries", query.countries),
                                        ("topics", query.topics),
                                        ("audience", query.audience), ("language", query.languages))}

        def restrict(docs: frozenset[int], skip: str | None = None) -> frozenset[int]:
            for name, allowed_docs in filters.items():
                if allowed_docs is not None and name != skip:
                    docs = docs & allowed_docs
            return docs

        start, end = (query.page - 1) * query.per_page, query.page * query.per_page
        allow = restrict(visible)
        # a reader's search (a language to show) lists translation groups; other listings every note
        grouped = query.prefer_language is not None
        spare: Callable[[frozenset[int]], int] = gen.spare if grouped else (lambda docs: 0)
        ranked: list[tuple[int, float]] | None = None  # best first, enough notes to fill `end` results
        timed_out = False

        def run(positive: Any, scoring: Any) -> frozenset[int]:
            """Visible notes matching; with ``scoring``, also ranks the requested page into ``ranked``."""
            nonlocal ranked, timed_out
            if positive is None:
                docs = gen.live & visible
                if compiled.excluded is not None:
                    docs = docs - frozenset(gen.searcher.docs_for_query(compiled.excluded))
                return docs
            if scoring is None:
                wq = _with_exclusions(positive, compiled.excluded)
                return frozenset(gen.searcher.docs_for_query(wq)) & visible
            collector = _Pass(end + spare(allow), visible, allow, started + SEARCH_TIME_LIMIT)
            try:
                gen.searcher.search_with_collector(_with_exclusions(scoring, compiled.excluded), collector)
            except TimeLimit:
                timed_out = True
            results = collector.results()
            ranked = [(results.docnum(i), results.score(i) or 0.0) for i in range(results.scored_length())]
            return frozenset(collector.seen)

        positive = compiled.query
        relevance = query.sort == "relevance"
        scoring = None
        if positive is not None and relevance:
            scoring = AndMaybe(positive, compiled.proximity) if compiled.proximity is not None else positive
        base = run(positive, scoring)
        final = restrict(base)
        and_total = len(final)
        if not final and len(compiled.groups) > 1 and not late():
            loose = Or(compiled.groups)
            loose_base = run(loose, loose if relevance else None)
            if restrict(loose_base):
                positive, base, final = loose, loose_base, restrict(loose_base)
                messages.append("No note contains all of your words; showing notes with some of them.")
        if timed_out:
            messages.append("This search took too long; the results may be incomplete.")

        facets = {name: self._facet_counts(gen, fieldname, restrict(base, skip=name), grouped)
                  for name, fieldname in FACETS.items()}

        total = len(final) - spare(final)  # with `grouped`, translation groups, each shown once
        if start >= total:
            ranked = []
        elif ranked is None or positive is None:  # newest first (and every query without words)
            times = gen.times()
            top = heapq.nsmallest(end + spare(final), final, key=lambda d: (-times[d], d))
            ranked = [(d, 0.0) for d in top]
        if grouped:
            ranked = gen.collapse(ranked, final, query.prefer_language, end)
        page = ranked[start:end]
        hits = [self._hit(gen, d, s, compiled if positive is not None else None) for d, s in page]

        suggestion = None
        if and_total < SUGGEST_BELOW and compiled.query is not None and not late():
            suggestion = self._suggest(gen, parsed, visible, and_total)
        return SearchResults(query=query, total=total, hits=hits, facets=facets,
                             suggestion=suggestion, message=" ".join(messages) or None)

    @staticmethod
    def _facet_counts(gen: _Generation, fieldname: str, scope: frozenset[int],
                      grouped: bool) -> dict[str, int]:
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

    def _suggest(self, gen: _Generation, parsed: queryparse.ParsedQuery, visible: frozenset[int],
                 total: int) -> str | None:
        """A corrected query when a word is not in the index and the correction finds more visible notes."""
        replace: dict[str, str] = {}
        for item in parsed.positive():
            words = textnorm.words(item.text)
            if item.kind != "word" or len(words) != 1 or len(replace) >= 4:
                continue
            term = _term_all(words[0])
            # a word only hidden notes hold counts as unknown, or the missing suggestion would betray them
            if term is None or len(term) < 3 or self._visible_with(gen, term, visible):
                continue
            best = self._closest(gen, term, visible)
            if best:
                replace[item.text] = best
        if not replace:
            return None
        corrected = parsed.to_string(replace)
        reparsed = queryparse.parse(corrected)
        compiled = _compile(gen, reparsed, visible)
        if compiled.query is None:
            return None
        found = frozenset(gen.searcher.docs_for_query(_with_exclusions(compiled.query, compiled.excluded)))
        return corrected if len(found & visible) > total else None  # never hint at unseen notes' words

    @staticmethod
    def _visible_with(gen: _Generation, term: str, visible: frozenset[int]) -> int:
        """How many notes the reader may see hold this word (hidden notes' words never count)."""
        return len(frozenset().union(*(gen.docs(f"{s}_all", term) for s in SECTIONS)) & visible)

    @staticmethod
    def _closest(gen: _Generation, term: str, visible: frozenset[int]) -> str | None:
        """The nearest word the reader's visible notes hold most often (ranked by visible notes only)."""
        for maxdist in (1, 2) if len(term) >= 5 else (1,):
            found: set[str] = set()
            for leaf, _ in gen.reader.leaf_readers():
                for fieldname in ("body_all", "title_all"):
                    found.update(itertools.islice(leaf.terms_within(fieldname, term, maxdist, prefix=1), 200))
            found.discard(term)
            counts = {t: n for t in sorted(found) if (n := SearchIndex._visible_with(gen, t, visible))}
            if counts:
                return max(counts, key=counts.__getitem__)
        return None

    def visible(self, slug: str, allowed: Any) -> bool | None:
        """Whether the index lets a reader with ``allowed`` (access.read_filter) see the note; None when the
        index does not hold it. A cheap first answer: the note file stays the judge of what is shown."""
        try:
            with self._lock:
                gen = self._current()
                own = gen.docs("slug", slug) if gen is not None else frozenset()
                return bool(own & gen.allowed(allowed)) if own else None
        except Exception as exc:
            _failed("visibility check failed for %s", exc, slug)
            return None

    def backlinks(self, slug: str, allowed: Any) -> list[Hit]:
        """Readable notes that link to ``slug``, in title order."""
        try:
            with self._lock:
                gen = self._current()
                if gen is None:
                    return []
                docs = (gen.docs("links", slug) & gen.allowed(allowed)) - gen.docs("slug", slug)
                hits = [self._hit(gen, d, 0.0) for d in sorted(docs)[:1000]]
        except Exception as exc:
            _failed("backlinks failed for %s", exc, slug)
            return []
        return sorted(hits, key=lambda h: (h.title.casefold(), h.slug))

    def related(self, slug: str, allowed: Any, limit: int = 5) -> list[Hit]:
        """More like this: readable notes, not ``slug`` nor its translations, best first."""
        try:
            with self._lock:
                gen = self._current()
                own = gen.docs("slug", slug) if gen is not None else frozenset()
                if not own:
                    return []
                docnum = min(own)
                stored = gen.searcher.stored_fields(docnum)
                doc = stored["doc"]
                candidates = gen.allowed(allowed) - gen.docs("group", stored.get("group") or slug) - own
                if not candidates:
                    return []
                text = " ".join((doc["title"], doc["summary"], doc["excerpt"]))
                results = gen.searcher.more_like(docnum, f"body_{doc['language']}", text=text,
                                                 top=max(1, min(int(limit), 50)), numterms=12,
                                                 filter=set(candidates))
                return [self._hit(gen, hit.docnum, hit.score or 0.0) for hit in results]
        except Exception as exc:
            _failed("related failed for %s", exc, slug)
            return []
