"""What the index holds: its fields, the version of that layout, the file codec, and a note's fields."""
from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from . import textnorm
from .analysis import KbAnalyzer, TermFrequency, TermPositions, analyse_words
from .types import LANGS, IndexDoc, day_number, strings, utc

SECTIONS = {"title": 3.0, "summary": 2.0, "body": 1.0}  # boosts: titles outweigh bodies
# facet name -> field; "regions" counts regions and countries alike (a region covers its countries),
# "countries" counts countries only (the notes a country filter would give)
FACETS = {"regions": "places", "countries": "countries", "topics": "topics", "audience": "audience",
          "language": "language"}
ACCESS_FIELDS = ("status", "visibility", "authors", "countries")
EXCERPT_CHARS = 4000
MAX_TEXT_CHARS = 500_000  # a pathological note cannot stall indexing
# Bump when analysis, schema or the indexed text change: generations carry it, and ensure() replaces an
# older one (3: plain text keeps only the label of a wiki link, never the name of the linked note;
# 4: the analyser and formats moved into kb.search.analysis, and the index stores their module path).
INDEX_VERSION = "kb-search-7"  # 5: no note URL in the indexed text, the package's own analysers; 6: review dates; 7: attachments
FILE_EXCERPT_CHARS = 2000  # stored per attachment, for a snippet that says "in sop.pdf"


def codec() -> W3Codec:
    """The default codec (and file format), minus the per-block length statistics: they serve only whoosh's
    block-skipping optimisation, which kb turns off (its counts need every match; with the statistics
    missing, more-like-this skips fewer blocks, with the same results), and reading a length back for
    each posting was a sixth of the time of a rebuild."""
    codec = W3Codec()
    codec.length_stats = False
    return codec


def _schema() -> Schema:
    fields: dict[str, Any] = dict(
        slug=ID(stored=True, unique=True), group=ID(stored=True, sortable=True), language=ID(stored=True),
        status=ID(), visibility=ID(), places=KEYWORD(), topics=KEYWORD(), audience=KEYWORD(),
        authors=KEYWORD(), countries=KEYWORD(), links=KEYWORD(),
        updated_ts=NUMERIC(int, bits=64, sortable=True), hash=STORED(), doc=STORED(),
        # review dates as day numbers (kb.reviewdates.day_number; 0: none), compared at query time
        reviewed_day=NUMERIC(int, bits=32, sortable=True), review_due_day=NUMERIC(int, bits=32, sortable=True),
    )
    for section in SECTIONS:
        for lang in LANGS + ("all",):
            # no positions for the big unstemmed body: phrases use the stemmed body of each language
            phrase = not (section == "body" and lang == "all")
            text = TEXT(analyzer=KbAnalyzer(lang), phrase=phrase)
            text.format = (TermPositions if phrase else TermFrequency)(field_boost=text.format.field_boost)
            fields[f"{section}_{lang}"] = text
    return Schema(**fields)


SCHEMA = _schema()
POSITIONS = {name for name in SCHEMA.names() if SCHEMA[name].format and SCHEMA[name].supports("positions")}


def doc_fields(doc: IndexDoc) -> dict[str, Any]:
    """The whoosh fields of a note; text fields are given as term lists (positions follow the order)."""
    lang = doc.language if doc.language in LANGS else "en"
    updated = utc(doc.updated)
    summary = textnorm.excerpt(doc.summary or "", 2000)
    text = (doc.text or "")[:MAX_TEXT_CHARS]
    files = [(str(name), " ".join(str(words).split())) for name, words in (doc.files or [])[:50]]
    # the attachments' words are searched with the note's body (after it, within the same bound)
    searched = " ".join([text, *(words for _name, words in files)])[:MAX_TEXT_CHARS] if files else text
    fields: dict[str, Any] = dict(
        slug=doc.slug, group=doc.group or doc.slug, language=lang, status=doc.status or "",
        visibility=doc.visibility or "", places=strings(doc.places, 500),
        topics=strings(doc.topics, 500), audience=strings(doc.audience, 500),
        authors=strings(doc.authors, 500), countries=strings(doc.countries, 500),
        links=strings(doc.links, 5000), updated_ts=int(updated.timestamp()), hash=doc.hash or "",
        reviewed_day=day_number(doc.reviewed), review_due_day=day_number(doc.review_due),
        doc=dict(title=doc.title or "", language=lang, regions=strings(doc.regions, 500),
                 topics=strings(doc.topics, 500), audience=strings(doc.audience, 500),
                 summary=summary, updated=updated, excerpt=textnorm.excerpt(text, EXCERPT_CHARS),
                 reviewed=doc.reviewed, review_due=doc.review_due,
                 files=[[name, textnorm.excerpt(words, FILE_EXCERPT_CHARS)] for name, words in files if words]),
    )
    for section, value in (("title", doc.title or ""), ("summary", summary), ("body", searched)):
        words = textnorm.words(value)
        fields[f"{section}_all"] = analyse_words("all", words)
        fields[f"{section}_{lang}"] = analyse_words(lang, words)
    return fields
