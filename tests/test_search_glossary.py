"""The cross-language glossary: queries expanded into the other languages, the reader's language first,
``lang`` still filtering by the note's language, and a bad glossary reported with its line."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest

from kb.search import IndexDoc, SearchIndex, SearchQuery
from kb.search.glossary import GlossaryError, parse

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
GLOSSARY = """# test glossary
- {en: birth registration, fr: enregistrement des naissances, ar: تسجيل المواليد}
- {en: [unaccompanied child, unaccompanied children], fr: enfant non accompagné, ar: طفل غير مصحوب}
"""
TERMS = {"en": "birth registration", "fr": "enregistrement des naissances", "ar": "تسجيل المواليد"}


def doc(slug: str, language: str, title: str, text: str) -> IndexDoc:
    return IndexDoc(slug=slug, title=title, language=language, summary="", text=text, regions=["Chad"],
                    places=["Chad", "Sahel"], countries=["Chad"], topics=["legal-identity"], audience=["ngo"],
                    visibility="public", status="published", authors=["ann"],
                    updated=dt.datetime(2024, 1, 1, tzinfo=UTC), links=[], group=slug, hash=slug)


CORPUS = [
    doc("en-birth", "en", "Registering newborns", "Birth registration opens access to school and health care."),
    doc("fr-birth", "fr", "Au Tchad", "L'enregistrement des naissances reste faible dans les camps."),
    doc("ar-birth", "ar", "في السودان", "تسجيل المواليد ضروري للحصول على الخدمات."),
    doc("fr-uac", "fr", "Enfants non accompagnés", "Un enfant non accompagné a droit à un tuteur."),
    doc("en-other", "en", "Water points", "Registration of water committees for a new market."),
]


def index_with_glossary(root, glossary: str, corpus):
    """A real index of ``corpus`` in ``root``, its queries expanded by ``glossary`` (YAML text)."""
    (root / "glossary.yml").write_text(glossary, encoding="utf-8")
    index = SearchIndex(root / "index")
    index.rebuild(corpus)
    index.use_glossary(root / "glossary.yml")
    return index


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = index_with_glossary(tmp_path_factory.mktemp("glossary"), GLOSSARY, CORPUS)
    yield index
    index.close()


def find(index, q, **kw):
    return index.search(SearchQuery(q=q, per_page=20, **kw), None)


@pytest.mark.parametrize("asked, wanted", list(itertools.permutations(TERMS, 2)))
def test_a_term_finds_the_notes_in_each_other_language(ix, asked, wanted):
    results = find(ix, TERMS[asked], prefer_language=asked)
    found = [h.slug for h in results.hits]
    assert f"{wanted}-birth" in found and "en-other" not in found
    assert found[0] == f"{asked}-birth"  # the reader's language first
    assert results.other_languages == 2
    assert [e["language"] for e in results.expanded] == [asked]
    assert results.expanded[0]["terms"][wanted] == [TERMS[wanted]]
    # lang still filters by the note's language: the notes in that language on the subject
    assert [h.slug for h in find(ix, TERMS[asked], languages=[wanted]).hits] == [f"{wanted}-birth"]


def test_terms_match_by_stem_and_a_query_without_glossary_terms_is_not_expanded(ix):
    results = find(ix, "unaccompanied children", prefer_language="en")
    assert [h.slug for h in results.hits] == ["fr-uac"] and results.expanded
    assert not find(ix, "water committees").expanded


def test_the_shipped_glossary_is_valid_and_covers_the_programme():
    glossary = parse((ROOT / "content" / "glossary.yml").read_text(encoding="utf-8"))
    assert len(glossary) >= 300
    assert all(len(entry) >= 2 for entry in glossary.entries)


@pytest.mark.parametrize("text, line, reason", [
    ("# c\n- {en: water, fr: eau}\n\n- {en: shelter}\n", 4, "at least two languages"),
    ("- {en: water, de: Wasser}\n", 1, "unknown language de"),
    ("- {en: water, fr: eau}\n- {en: [ok, 3], fr: eau}\n", 2, "a term or a list of terms"),
    ("- {en: water, fr: eau}\n- {en: the, fr: eau}\n", 2, "only stop words"),
    ("- {en: water, fr: eau}\n- {en: water, fr: [eau\n", 3, "not valid YAML"),
])
def test_a_bad_glossary_is_reported_with_its_line(text, line, reason):
    with pytest.raises(GlossaryError) as err:
        parse(text)
    assert f"line {line}" in str(err.value) and reason in str(err.value)


def test_a_bad_glossary_file_leaves_search_working(tmp_path):
    (tmp_path / "glossary.yml").write_text("- {en: shelter}\n", encoding="utf-8")
    index = SearchIndex(tmp_path / "index")
    index.rebuild(CORPUS)
    index.use_glossary(tmp_path / "glossary.yml")
    assert [h.slug for h in find(index, "birth registration").hits] == ["en-birth"]
    assert "line 1" in index.glossary.error
    index.close()


def test_the_api_reports_the_expansions(client):
    data = client.get("/api/search", query_string={"q": "birth registration"}).get_json()
    assert data["expanded"] and data["expanded"][0]["terms"]["fr"] == ["enregistrement des naissances"]
    assert isinstance(data["other_languages"], int)


def _other_language_hits(html: str) -> str:
    """The part of a results page under its "In other languages" heading."""
    return html.split('id="other-languages"', 1)[1] if 'id="other-languages"' in html else ""


def test_the_results_page_counts_the_other_languages_and_offers_them(client):
    api = client.get("/api/search", query_string={"q": "mental health", "per_page": 100}).get_json()
    others = [h for h in api["hits"] if h["language"] != "en"]
    own = len(api["hits"]) - len(others)
    assert own and others and api["other_languages"] == len(others)
    assert [h["language"] for h in api["hits"]] == ["en"] * own + [h["language"] for h in others]
    page = client.get("/search", query_string={"q": "mental health", "per_page": 100}).get_data(as_text=True)
    assert f"{len(others)} results are in other languages" in page
    under = _other_language_hits(page)
    assert all(f'/notes/{h["slug"]}"' in under for h in others)
    assert not any(f'/notes/{h["slug"]}"' in under for h in api["hits"] if h["language"] == "en")
    # with fewer results a page, the link leads to the page where the other languages begin
    first = client.get("/search", query_string={"q": "mental health", "per_page": 1}).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+#other-languages)">show them</a>', first)
    assert link, "no link to the results in other languages"
    assert f"page={own + 1}" in link.group(1).replace("&amp;", "&")
    shown = client.get(link.group(1).replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    assert f'/notes/{others[0]["slug"]}"' in _other_language_hits(shown)


def test_the_other_languages_are_offered_in_french_too(client):
    client.get("/lang/fr")
    page = client.get("/search", query_string={"q": "santé mentale"}).get_data(as_text=True)
    assert 'id="other-languages"' in page and "Dans d’autres langues" in page
