"""Full-text search over the notes: the one door to the search package, and the only place whoosh is used.

Callers import from here: ``SearchIndex`` (kb.search.index) and the interface's data (kb.search.types).
Inside, one module per job, imports pointing down:

    index       SearchIndex: open, check and repair the index; search, visibility, backlinks, related
    writer      writes, the queue of writes, background merges, rebuilds          (files, schema, parallel)
    parallel    a rebuild on every core: shards indexed by forked processes, their segments listed together
    query       one search in named steps                 (compile, facets, snippets, suggest, generation)
    compile     parsed query -> whoosh queries          (queryparse, analysis, generation, coordination, glossary)
    bulkor      a word's union over its fields, scored a block of postings at a time (whoosh's same scores)
    coordination  a ranked OR that keeps the near misses: the share of the query's words a note holds
    glossary    content/glossary.yml: terms in en/fr/ar, validated with line numbers; no whoosh   (analysis)
    facets      filters and disjunctive facet counts
    snippets    a result with the query's words marked
    suggest     "did you mean"
    generation  one open searcher and the document sets cached for it (filters, facets, access, groups)
    segments    what is cached per whoosh segment, and the scoring that reads it
    readers     a new searcher reusing the previous one's readers of unchanged segments
    changes     the notes each index commit touched (CHANGES), for caches in every process; no whoosh
    schema      the fields, INDEX_VERSION, the codec, a note's fields                          (analysis)
    analysis    the index terms of a text per language                                         (textnorm)
    files       the index folder without whoosh: generations, CURRENT, locks, the write queue
    queryparse  the query language, bounded; no whoosh                                         (textnorm)
    types       SearchQuery, SearchResults, Hit, IndexDoc; no whoosh                           (textnorm)
    textnorm    Unicode, Arabic and accent normalisation, words, stop words, snippets; no whoosh
    failures    failures answered rather than raised
    viewfile    whoosh reads a segment's files in place (its BufferFile copied each into memory)

Analysis: every text is indexed per language (``title_en``, ``body_fr``, …: English Porter; French Snowball,
then accents folded; Arabic normalised, then stemmed) and once more unstemmed and folded across languages
(``title_all``, …). A query word is analysed for every field, so it matches stems in any language and exact
words in any note. Queries never reach whoosh's parser: queryparse bounds them and compile builds them.
"""
from __future__ import annotations

from . import viewfile
from .glossary import GlossaryError, parse as parse_glossary
from .index import SearchIndex
from .schema import INDEX_VERSION
from .types import LANGS, Hit, IndexDoc, SearchQuery, SearchResults

viewfile.install()  # before any index is opened

__all__ = ["INDEX_VERSION", "LANGS", "GlossaryError", "Hit", "IndexDoc", "SearchIndex", "SearchQuery", "SearchResults",
           "parse_glossary"]
