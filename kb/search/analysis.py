"""Analysis: the index terms of a text in each language. Every text is indexed per language (English
Porter; French Snowball, then accents folded; Arabic normalised, then stemmed) and once more unstemmed and
folded across languages ("all"). The analyser and the two formats are stored in the index by their module
path: moving them needs a new INDEX_VERSION (kb.search.schema)."""
from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from functools import lru_cache
from typing import Callable, Iterable

from whoosh.analysis import Analyzer, Token
from whoosh.compat import loads as whoosh_loads  # how whoosh reads its own position lists
from whoosh.formats import Frequency, Positions
from whoosh.lang.porter import stem as _porter_stem
from whoosh.lang.snowball.french import FrenchStemmer
from whoosh.system import _INT_SIZE, pack_uint

from . import textnorm

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
def term_all(word: str) -> str | None:
    return None if textnorm.is_stopword(word) else textnorm.fold(word)


ANALYSE: dict[str, Callable[[str], str | None]] = {"en": _term_en, "fr": _term_fr, "ar": _term_ar,
                                                    "all": term_all}


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


class TermPositions(Positions):
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


class TermFrequency(Frequency):
    """whoosh's Frequency, read straight from a term list (see TermPositions)."""

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(value, list):
            return super().word_values(value, analyzer, **kwargs)
        boost = self.field_boost
        return ((term, n, n * boost, pack_uint(n)) for term, n in Counter(value).items())
