"""A note holding a word of the question only in the glossary's translation holds it at half share: a French
question finds the French note holding its words before an English note holding their translations
(kb.search.coordination, TRANSLATED_SHARE)."""
from __future__ import annotations

import datetime as dt

import pytest

from kb.search import IndexDoc, SearchQuery

from .test_search_glossary import index_with_glossary

UTC = dt.timezone.utc
GLOSSARY = """# test glossary
- {en: volunteers, fr: volontaires, ar: متطوعون}
- {en: community, fr: communauté, ar: مجتمع}
"""
QUESTION = "comment les volontaires de la communauté organisent la vaccination"


def doc(slug: str, language: str, text: str) -> IndexDoc:
    return IndexDoc(slug=slug, title="Campagne", language=language, summary="", text=text, regions=["Chad"],
                    places=["Chad", "Sahel"], countries=["Chad"], topics=["health"], audience=["ngo"],
                    visibility="public", status="published", authors=["ann"],
                    updated=dt.datetime(2024, 1, 1, tzinfo=UTC), links=[], group=slug, hash=slug)


CORPUS = [
    # two of the question's three words, in French
    doc("fr-note", "fr", "Les volontaires visitent chaque famille de la communauté avant la saison des pluies."),
    # all three, two of them only as the glossary's English translations
    doc("en-note", "en", "Volunteers explain vaccination to the community; vaccination days are announced."),
    *[doc(f"fr-{i}", "fr", f"Le marché du district {i} ouvre en mars.") for i in range(4)],
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = index_with_glossary(tmp_path_factory.mktemp("share"), GLOSSARY, CORPUS)
    yield index
    index.close()


def test_the_readers_own_words_count_more_in_the_share_than_their_translations(ix):
    results = ix.search(SearchQuery(q=QUESTION, per_page=10), None)
    found = [h.slug for h in results.hits]
    assert results.expanded  # the English note is found through the glossary
    assert found[:2] == ["fr-note", "en-note"]
