"""The search interface's data (what is indexed, asked and answered) and its normalisation; no whoosh.
:mod:`kb.search` re-exports every name here, so callers import them from there."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from . import textnorm

LANGS = ("en", "fr", "ar")


def reading_order(prefer: str | None) -> tuple[str, ...]:
    """The one rule for which translation of a note a list shows: the reader's language when the note
    exists in it, then English, then French, then Arabic."""
    return tuple(dict.fromkeys([prefer, *LANGS] if prefer in LANGS else LANGS))


@dataclass
class IndexDoc:
    slug: str
    title: str
    language: str  # en|fr|ar
    summary: str
    text: str  # plain text of the Markdown body
    regions: list[str]  # as written in front matter (for display)
    places: list[str]  # countries + their regions: region/country filters and the "regions" facet
    countries: list[str]  # the access filter's "countries"
    topics: list[str]
    audience: list[str]
    visibility: str
    status: str
    authors: list[str]
    updated: dt.datetime  # timezone-aware UTC
    links: list[str]  # slugs this note links to (for backlinks)
    group: str  # translation-group key
    hash: str  # sha1 of the note file bytes (and of its attachments', when it has some)
    reviewed: dt.date | None = None  # last reviewed (kb.reviewdates)
    review_due: dt.date | None = None  # next review due; None for a note not published
    files: list[list[str]] = field(default_factory=list)  # [name, words] of its PDF and CSV attachments


@dataclass
class SearchQuery:
    q: str = ""
    places: list[str] = field(default_factory=list)  # region or country names; OR among them
    countries: list[str] = field(default_factory=list)  # country names; OR among them, AND with places
    topics: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    since: dt.datetime | None = None  # updated on/after
    sort: str = "relevance"  # or "newest"; a query without words always sorts newest
    page: int = 1
    per_page: int = 20
    # the reader's language: results are translation groups, each shown by its note in this language when
    # it matches (None: every note is a result, as feeds, exports and other listings want)
    prefer_language: str | None = None
    # review dates (kb.reviewdates), measured against `today` (None: today's UTC date, at query time):
    # "overdue" (due before today), "due" (overdue or due within `due_within` days), "current" (reviewed and
    # within its interval); "" does not filter. Notes that are not published have no due date.
    review: str = ""
    due_within: int = 30
    today: dt.date | None = None


@dataclass
class Hit:
    slug: str
    title: str
    language: str
    regions: list[str]
    topics: list[str]
    audience: list[str]
    summary: str
    updated: dt.datetime
    score: float
    snippet: str  # HTML-safe
    reviewed: dt.date | None = None
    review_due: dt.date | None = None
    found_in: str = ""  # the attachment the snippet comes from ("sop.pdf"), when not the note itself
    status: str | None = None  # as indexed (None: not known here), for the list's draft/internal marks
    visibility: str | None = None


@dataclass
class SearchResults:
    query: SearchQuery  # as searched: page and per_page clamped
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    message: str | None = None
    # the glossary's terms the query was expanded with: {"words", "language", "terms": {lang: [term, …]}}
    expanded: list[dict] = field(default_factory=list)
    other_languages: int = 0  # with a reader's language and expansions: results in the other languages


REVIEW_FILTERS = ("overdue", "due", "current")


# --- normalising what callers pass -------------------------------------------------------------------

_UTC = dt.timezone.utc


def utc(value: dt.datetime | None) -> dt.datetime:
    """``value`` as an aware UTC time (naive means UTC; None means the epoch)."""
    if value is None:
        return dt.datetime(1970, 1, 1, tzinfo=_UTC)
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)


_EPOCH = dt.date(1970, 1, 1)


def day_number(value: dt.date | None) -> int:
    """A date as the number the index stores and compares (1 for 1970-01-01; 0: no date)."""
    return (value - _EPOCH).days + 1 if value is not None else 0


def strings(values: Any, limit: int = 50) -> list[str]:
    """At most ``limit`` non-empty strings from a string, a collection or None."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [str(v) for v in list(values)[:limit] if str(v)]


def fold_key(value: str) -> str:
    """A name ignoring case, accents and punctuation: lenient matching of facet values."""
    return re.sub(r"[^0-9a-z\u0600-\u06ff]+", "-", textnorm.fold(value)).strip("-")


def doc_to_json(doc: IndexDoc) -> dict:
    """A note as JSON data (queued updates)."""
    data = dataclasses.asdict(doc)
    data["updated"] = utc(doc.updated).isoformat()
    for key in ("reviewed", "review_due"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def doc_from_json(data: dict) -> IndexDoc:
    """The note :func:`doc_to_json` wrote."""
    data = dict(data)
    data["updated"] = dt.datetime.fromisoformat(data["updated"])
    for key in ("reviewed", "review_due"):
        data[key] = dt.date.fromisoformat(data[key]) if data.get(key) else None
    return IndexDoc(**data)


def clean_query(query: SearchQuery) -> SearchQuery:
    """The query with every field of the expected type and within bounds (page, per_page, sort, …)."""
    def as_int(value: Any, default: int) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    since = query.since if isinstance(query.since, dt.datetime) else None
    return dataclasses.replace(
        query, q=query.q if isinstance(query.q, str) else str(query.q or ""),
        places=strings(query.places), countries=strings(query.countries), topics=strings(query.topics),
        audience=strings(query.audience), languages=strings(query.languages),
        since=utc(since) if since else None,
        sort=query.sort if query.sort in ("relevance", "newest", "due") else "relevance",
        review=query.review if query.review in REVIEW_FILTERS else "",
        due_within=min(max(as_int(query.due_within, 30), 0), 3650),
        today=query.today if isinstance(query.today, dt.date) else None,
        page=min(max(as_int(query.page, 1), 1), 10_000),
        per_page=min(max(as_int(query.per_page, 20), 1), 100),
        prefer_language=query.prefer_language if query.prefer_language in LANGS else None)
