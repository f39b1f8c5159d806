"""A word's weight in a coordinated query is BM25F's idf, from the number of notes holding it in any field:
a word most notes hold counts for little, even where it stands in a note's title (kb.search.coordination)."""
from __future__ import annotations

import datetime as dt

import pytest

from kb.search import IndexDoc, SearchIndex, SearchQuery

UTC = dt.timezone.utc


def doc(slug: str, title: str, text: str) -> IndexDoc:
    return IndexDoc(slug=slug, title=title, language="en", summary="", text=text, regions=["Mali"],
                    places=["Mali", "Sahel"], countries=["Mali"], topics=["wash"], audience=["ngo"],
                    visibility="public", status="published", authors=["ann"],
                    updated=dt.datetime(2024, 1, 1, tzinfo=UTC), links=[], group=slug, hash=slug)


CORPUS = [
    # "water" in most notes, and in this note's title: it holds two of the three words
    doc("common-in-title", "Water points", "Water and a latrine at each site."),
    # the rare word "soap" and "latrine": also two of the three
    doc("rare", "Site hygiene", "Soap beside every latrine at each site."),
    *[doc(f"water-{i}", f"District {i}", f"Water trucking to district {i}, water tanks and water quality.")
      for i in range(8)],
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = SearchIndex(tmp_path_factory.mktemp("idf") / "index")
    assert index.rebuild(CORPUS) == len(CORPUS)
    yield index
    index.close()


def test_a_rare_word_outweighs_a_word_most_notes_hold_even_in_a_title(ix):
    found = [h.slug for h in ix.search(SearchQuery(q="water latrine soap", per_page=20), None).hits]
    assert found[:2] == ["rare", "common-in-title"]
    assert len(found) == 2  # two of three words needed: the notes holding only "water" are not found


def test_a_words_rarity_is_counted_over_the_whole_index_not_the_segment_a_note_sits_in(tmp_path):
    """A note saved a minute ago sits alone in a small segment until merged: its score for a question must
    be the one it has once everything is in one segment (counted per segment, its words looked common)."""
    index = SearchIndex(tmp_path / "index")
    index.rebuild(CORPUS)
    saved = doc("new", "Camp hygiene", "Soap and a latrine for every ten people, and water.")
    index.upsert([saved])  # a new note: nothing deleted, whose statistics whoosh keeps until a merge
    query = SearchQuery(q="water latrine soap", per_page=20)
    split = {h.slug: h.score for h in index.search(query, None).hits}
    assert len(index._gen.leaves) == 2  # the saved note is in a segment of its own
    index.rebuild([*CORPUS, saved])
    whole = {h.slug: h.score for h in index.search(query, None).hits}
    assert len(index._gen.leaves) == 1
    assert split.keys() == whole.keys()
    assert split == pytest.approx(whole, rel=1e-9)
    index.close()
