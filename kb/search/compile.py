"""Compiling a parsed query (kb.search.queryparse) into whoosh queries: every word analysed for every field,
so it matches stems in any language and exact words in any note; prefixes expanded over the words the
reader's notes hold; a phrase bonus for sentence-like queries. Queries never reach whoosh's parser."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from whoosh.matching import NullMatcher, WrappingMatcher
from whoosh.query import AndNot, Phrase, Term
from whoosh.query.spans import Span, SpanNear2
# whoosh's Or preloads matches into arrays below 5,000 documents and switches to a tree of binary unions
# above: measured here, the tree is slower for every query shape kb builds (up to 4x on many-term ORs),
# so the array form is kept at every size, computed in bulk (kb.search.bulkor: same matches and scores)
from .bulkor import And, Or

from . import queryparse, textnorm
from .analysis import ANALYSE, analyse_words, term_all
from .coordination import QUESTION_WORDS, coordinated
from .generation import Generation
from .glossary import Glossary
from .proximity import Pairs
from .schema import POSITIONS, SECTIONS
from .types import LANGS

ALL_WEIGHT = 0.6  # the unstemmed cross-language fields add to the stemmed ones: exact words rank higher
PREFIX_TERMS_PER_FIELD = 40
PREFIX_TERMS_PER_QUERY = 240
EXPANSION_WEIGHT = 0.5  # a glossary term in another language weighs half the reader's own words
MAX_REPEATS = 3  # a word typed again weighs more (BM25's query term frequency), up to three times
PROXIMITY_MIN_WORDS = 3  # phrase bonus for sentence-like queries (measured: +2% known items in the top 3;
# on two-word queries it cost a third more time for no gain)


@dataclass
class Compiled:
    query: Any  # whoosh query of the positive part, or None
    groups: list[Any]  # one whoosh query per AND group
    excluded: Any  # whoosh query of the excluded items, or None
    proximity: Any = None  # optional, ranks only: the plain words as a phrase; a question's neighbouring pairs
    all_terms: set[str] = field(default_factory=set)  # for highlighting
    lang_terms: dict[str, set[str]] = field(default_factory=dict)
    prefixes: set[str] = field(default_factory=set)
    expansions_capped: bool = False
    expanded: list[dict] = field(default_factory=list)  # the glossary's terms used: words, language, terms
    repeats: list[int] = field(default_factory=list)  # how often the reader typed each group (BM25's qf)
    own: list[Any] = field(default_factory=list)  # per group: the reader's own words if expanded, else None

    def marker(self, lang: str) -> Callable[[str], bool]:
        stems, fn = self.lang_terms.get(lang, set()), ANALYSE.get(lang, term_all)
        all_terms, prefixes = self.all_terms, tuple(self.prefixes)

        def is_match(word: str) -> bool:
            term = term_all(word)
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


def _text_query(words: list[str], compiled: Compiled, highlight: bool,
                langs: tuple[str, ...] = LANGS + ("all",), phrases: bool = True) -> Any:
    """Words in every field of ``langs``: one word as a term, several as a phrase (or, without ``phrases``,
    as all of them anywhere in the field: cheaper, for the glossary's expansions)."""
    subs = []
    for lang in langs:
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
            elif not phrases:
                subs.append(And([Term(name, term) for term in terms], boost=boost))
            elif name in POSITIONS:  # body_all has no positions: each language's body_* answers
                subs.append(_Phrase(name, terms, boost=boost))
    return Or(subs) if subs else None


def _item_query(gen: Generation, item: queryparse.Item, compiled: Compiled, budget: list[int],
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


def compile_query(gen: Generation, parsed: queryparse.ParsedQuery, visible: frozenset[int] | None = None,
                  glossary: Glossary | None = None) -> Compiled:
    """The whoosh queries of a parsed search; prefixes expand over the ``visible`` notes' words only, and the
    glossary's terms among the plain words expand into the other languages."""
    compiled = Compiled(query=None, groups=[], excluded=None)
    budget = [PREFIX_TERMS_PER_QUERY]
    typed_groups = [tuple(group) for group in parsed.groups]
    groups = list(dict.fromkeys(typed_groups))  # "x x x …" is "x", searched once, weighed by its repeats
    strict = []  # a quoted phrase must match; the other groups are coordinated
    single: list[str | None] = []  # the word of each group that is one plain word
    for group in groups:
        parts = [q for q in (_item_query(gen, i, compiled, budget, True, visible) for i in group) if q is not None]
        if parts:
            compiled.groups.append(Or(parts) if len(parts) > 1 else parts[0])
            compiled.repeats.append(min(typed_groups.count(group), MAX_REPEATS))
            strict.append(len(group) == 1 and group[0].kind == "phrase")
            words = textnorm.words(group[0].text) if len(group) == 1 and group[0].kind == "word" else []
            single.append(words[0] if len(words) == 1 else None)
    if glossary is not None and len(glossary):
        strict = _expand(compiled, strict, single, glossary)
    excluded = [q for q in (_item_query(gen, i, compiled, budget, False, visible)
                                 for i in parsed.excluded)
                if q is not None]
    compiled.excluded = Or(excluded) if excluded else None
    if compiled.groups:
        compiled.query = coordinated(compiled.groups, strict, typed=len(groups), repeats=compiled.repeats,
                                     own=compiled.own)
    plain = [w for group in groups if len(group) == 1 and group[0].kind == "word"
             for w in textnorm.words(group[0].text)]
    proximity = []
    if len(plain) >= PROXIMITY_MIN_WORDS:  # the plain words as a phrase
        proximity = [_Phrase(f"{section}_{lang}", terms, boost=boost)
                     for lang in LANGS + ("all",) if len(terms := analyse_words(lang, plain)) > 1
                     for section, boost in SECTIONS.items() if f"{section}_{lang}" in POSITIONS]
    if len(groups) >= QUESTION_WORDS and (pairs := _pairs(typed_groups)) is not None:
        proximity.append(pairs)  # a question (as coordinated() counts it): its neighbouring words together
    compiled.proximity = Or(proximity) if proximity else None
    return compiled


def _pairs(typed: list[tuple[queryparse.Item, ...]]) -> Pairs | None:
    """The neighbouring plain words of a query as typed (stop words left out, as the index's positions
    leave them out), for each field with positions."""
    words: list[str | None] = []  # None: a phrase or an OR between plain words (no pair across it)
    for group in typed:
        if len(group) == 1 and group[0].kind == "word":
            words += [w for w in textnorm.words(group[0].text) if term_all(w)]
        else:
            words.append(None)
    pairs = []
    for first, second in zip(words, words[1:]):
        if first is None or second is None:
            continue
        fields = []
        for lang in LANGS + ("all",):
            a, b = ANALYSE[lang](first), ANALYSE[lang](second)
            if a and b:
                for section, boost in SECTIONS.items():
                    if f"{section}_{lang}" in POSITIONS:
                        fields.append((f"{section}_{lang}", a, b, boost * (ALL_WEIGHT if lang == "all" else 1.0)))
        if fields:
            pairs.append(fields)
    return Pairs(pairs) if pairs else None


def _expand(compiled: Compiled, strict: list[bool], single: list[str | None], glossary: Glossary) -> list[bool]:
    """Each glossary term among the plain words becomes one group: those words, or the term in the other
    languages at a lower weight. Returns the groups' strictness, as the groups are now."""
    runs = [(i, w) for i, w in enumerate(single) if w is not None]
    matches = glossary.matches([w for _, w in runs])
    if not matches:
        return strict
    merged: dict[int, Any] = {}
    owned: dict[int, Any] = {}  # the merged groups' own words
    dropped: set[int] = set()
    for m in matches:
        indices = [runs[k][0] for k in range(m.start, m.end)]
        own = [compiled.groups[i] for i in indices]
        alternatives = [And(own) if len(own) > 1 else own[0]]
        used: dict[str, list[str]] = {}
        for lang, terms in m.entry.items():
            if lang == m.language:
                continue
            for term in terms:
                # only the fields of the term's language: the notes written in it
                query = _text_query(textnorm.words(term), compiled, True, (lang,), phrases=False)
                if query is not None:
                    query.boost = EXPANSION_WEIGHT
                    alternatives.append(query)
                    used.setdefault(lang, []).append(term)
        if len(alternatives) > 1:
            merged[indices[0]] = Or(alternatives)
            owned[indices[0]] = alternatives[0]
            dropped.update(indices[1:])
            compiled.expanded.append({"words": " ".join(runs[k][1] for k in range(m.start, m.end)),
                                      "language": m.language, "terms": used})
    groups, kept, repeats, own_words = [], [], [], []
    for i, (query, is_strict) in enumerate(zip(compiled.groups, strict)):
        if i not in dropped:
            groups.append(merged.get(i, query))
            kept.append(is_strict and i not in merged)
            repeats.append(compiled.repeats[i])
            own_words.append(owned.get(i))
    compiled.groups, compiled.repeats, compiled.own = groups, repeats, own_words
    return kept


def with_exclusions(positive: Any, excluded: Any) -> Any:
    return AndNot(positive, excluded) if excluded is not None else positive
