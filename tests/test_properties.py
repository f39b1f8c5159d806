"""Property tests: random Unicode, Markdown and front matter thrown at the loader, the renderer and the search.

- The loader (kb.model.parse_note) either returns a note or raises InvalidNote; a note it returns is written
  back by dump_note and loads again to the same metadata.
- The renderer never raises, and its output never holds a script-capable element or attribute (checked with
  the attack table's HTML-parser audit, tests/test_render.py).
- The query parser never raises and stays within its bounds; a real index answers any query with any filters
  without an internal failure (those are logged and swallowed in production: here they are raised), and
  its snippets, shown unescaped on the results page, hold nothing but text and <mark>.
"""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kb import access
from kb.errors import InvalidNote
from kb.wiki.indexing import build_doc
from kb.model import dump_note, parse_note
from kb.render import Renderer
from kb.search import SearchIndex, SearchQuery, failures, queryparse
from kb.taxonomy import LANGUAGES, Taxonomy

from .conftest import SHIPPED
from .test_render import assert_inert

TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ------------------------------------------------------------------------------------------

MD_TOKENS = ["<script>", "</script>", "javascript:", "<img src=x onerror=alert(1)>", '<a href="', '"', "'", ">",
             "<", "[[", "]]", "|", "[", "](", ")", "![", "`", "```\n", "~~~\n", "*", "_", "#", "## ", "\n", "\n\n",
             "&#x09;", "&", ";", "&colon;", "<!--", "-->", "> ", "- ", "1. ", "[^1]", "[^1]: ", "| a | b |\n",
             "|---|---|\n", "    ", "\t", "<svg onload=alert(1)>", "<iframe src=data:text/html,x>", "<style>",
             "<math>", "<form action=javascript:x>", "data:", "vbscript:", "on", "error=", "=", "\x00", "\u202e",
             "\u200f", "\ufeff", "\U0001f600", "é", "الحِمَايَة", "مرحبا", "ـ", "x", " ", "http://a.example/",
             "<div>", "</div>", "<p>", "<table>", "<td>", "<noscript>", "<template>", "<base href=x>"]
markdown = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(MD_TOKENS), max_size=60).map("".join),
    st.lists(st.one_of(st.sampled_from(MD_TOKENS), st.text(max_size=8)), max_size=40).map("".join),
)

names = st.one_of(st.sampled_from([*TAX.places, *TAX.topics, *TAX.audiences, "Atlantis", ""]), st.text(max_size=12))
yaml_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 20, 10 ** 20), st.floats(allow_nan=True),
                        st.text(max_size=40), st.sampled_from(["2026-03-02", "2026-13-45", "2026-03-02T10:00:00Z",
                                                               "yes", "~", "null", "[", "{", "&a", "*a", "!!python"]))
field_value = st.one_of(yaml_scalar, st.lists(st.one_of(names, yaml_scalar), max_size=4),
                        st.dictionaries(st.sampled_from([*LANGUAGES, "xx", ""]), st.text(max_size=20), max_size=3))
front_matter_fields = st.dictionaries(
    st.sampled_from(["title", "language", "regions", "topics", "audience", "visibility", "status", "summary",
                     "authors", "created", "updated", "translations", "source", "license", "extra key"]),
    field_value, max_size=12)


clean_text = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")), max_size=80)


def _yaml_line(key: str, value) -> str:
    import json
    try:
        return f"{key}: {json.dumps(value, ensure_ascii=False)}"  # JSON is YAML (mostly: the rest is fuzz)
    except (TypeError, ValueError):
        return f"{key}: {value}"


@st.composite
def note_texts(draw) -> str:
    """Note files: mostly well-formed front matter with random values, sometimes raw junk."""
    kind = draw(st.sampled_from(["fields", "fields", "valid", "valid", "valid", "raw-yaml", "junk"]))
    if kind == "junk":
        return draw(st.text(max_size=400))
    if kind == "raw-yaml":
        fm = draw(st.text(max_size=200))
    elif kind == "valid":
        fm = "\n".join([
            _yaml_line("title", draw(clean_text.filter(str.strip))),
            _yaml_line("language", draw(st.sampled_from(LANGUAGES))),
            _yaml_line("regions", draw(st.lists(st.sampled_from(sorted(TAX.places)), max_size=3))),
            _yaml_line("topics", draw(st.lists(st.sampled_from(sorted(TAX.topics)), max_size=3))),
            _yaml_line("summary", draw(clean_text)),
            _yaml_line("authors", draw(st.lists(clean_text.filter(str.strip), max_size=2))),
            _yaml_line(draw(st.sampled_from(["source", "license", "attribution"])), draw(clean_text)),
        ])
    else:
        fm = "\n".join(_yaml_line(k, v) for k, v in draw(front_matter_fields).items())
    opener = draw(st.sampled_from(["---\n", "---\r\n", "\ufeff---\n", "--- \n"]))
    closer = draw(st.sampled_from(["\n---\n", "\n...\n", "\n---\r\n", "\n"]))
    return opener + fm + closer + draw(markdown)


# --- the loader ------------------------------------------------------------------------------------------

@settings(max_examples=150, **SETTINGS)
@given(note_texts())
def test_loader_returns_a_note_or_invalid_note_and_round_trips(text):
    try:
        note = parse_note("fuzzed-note", text, TAX)
    except InvalidNote as exc:
        assert exc.problems and all(isinstance(f, str) and isinstance(m, str) for f, m in exc.problems)
        event("refused")
        return
    event("loaded")
    again = parse_note("fuzzed-note", dump_note(note), TAX)
    assert again.meta == note.meta
    assert again.body.rstrip("\n") == note.body.rstrip("\n")


# --- the renderer ----------------------------------------------------------------------------------------

RENDERER = Renderer()


def hostile_title(slug: str) -> str | None:
    return None if slug.startswith("x") else f"<script>alert('{slug}')</script>"


@settings(max_examples=150, **SETTINGS)
@given(markdown)
def test_renderer_never_raises_and_output_is_inert(body):
    rendered = RENDERER.render(body, hostile_title)
    assert_inert(rendered.html)
    assert_inert(rendered.toc)
    assert isinstance(RENDERER.plain_text(body), str)
    assert all(isinstance(s, str) and s for s in RENDERER.links(body))


# --- the query parser and the search ---------------------------------------------------------------------

query_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(['"', "-", "OR", "AND", "NOT", "*", "?", "~", "^2", "(", ")", "[", "]", "{", "}",
                              "title:", ":", "TO", "enfants", "accompagnes", "protection", "réintégration",
                              "الحماية", "prot*", "a*", "*a*", "\x00", "\u200f", " ", "  ", "registration"]),
             max_size=50).map(" ".join),
)


@settings(max_examples=200, **SETTINGS)
@given(query_text)
def test_query_parser_never_raises_and_stays_bounded(raw):
    parsed = queryparse.parse(raw)
    assert sum(item.size() for item in parsed.positive() + parsed.excluded) <= queryparse.MAX_TERMS
    assert all(item.text.strip() for item in parsed.positive() + parsed.excluded)
    queryparse.parse(parsed.to_string())  # what the page shows back parses too


class _SnippetAudit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag if not attrs else f"{tag}+attrs")

    handle_startendtag = handle_starttag


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """A real index of the shipped notes plus hostile ones, public reader's view."""
    renderer = Renderer()
    ix = SearchIndex(tmp_path_factory.mktemp("prop-index"))
    docs = []
    for path in sorted(SHIPPED.glob("*.md")):
        note = parse_note(path.stem, path.read_text(encoding="utf-8"), TAX)
        when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        docs.append(build_doc(note, path.read_bytes(), TAX, renderer, when))
    hostile = ("---\ntitle: '<script>alert(1)</script> protection'\nlanguage: en\nregions: [Niger]\n---\n"
               "protection <img src=x onerror=alert(1)> enfants &lt;b&gt; <b>registration</b> \"quoted\"\n")
    note = parse_note("hostile", hostile, TAX)
    docs.append(build_doc(note, hostile.encode(), TAX, renderer, dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)))
    ix.rebuild(docs)
    yield ix
    ix.close()


def _raise(message, exc, *args):
    raise exc


filters = st.fixed_dictionaries({
    "places": st.lists(st.sampled_from(sorted(TAX.places)), max_size=2),
    "topics": st.lists(st.sampled_from(sorted(TAX.topics)), max_size=2),
    "languages": st.lists(st.sampled_from(LANGUAGES), max_size=2),
    "sort": st.sampled_from(["relevance", "newest"]),
    "page": st.integers(-3, 5),
    "per_page": st.integers(-1, 120),
    "prefer_language": st.sampled_from([None, *LANGUAGES]),
})


@settings(max_examples=120, **SETTINGS)
@given(query_text, filters, st.sampled_from(["public", "admin"]))
def test_search_answers_any_query_without_internal_failure_and_snippets_are_text(index, raw, options, who):
    allowed = None if who == "admin" else access.read_filter(None, TAX)
    with mock.patch.object(failures, "failed", _raise):  # in production: logged and answered
        results = index.search(SearchQuery(q=raw, **options), allowed)
    assert results.total >= len(results.hits) >= 0
    for hit in results.hits:
        audit = _SnippetAudit()
        audit.feed(hit.snippet)
        audit.close()
        assert set(audit.tags) <= {"mark"}, hit.snippet
        assert not re.search(r"<(?!/?mark>)", hit.snippet), hit.snippet
