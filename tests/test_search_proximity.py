"""Proximity for questions: a note holding the question's words as neighbours, as the reader half-remembers
the passage, ranks above a note holding the same words scattered (kb.search.proximity)."""
from __future__ import annotations

import datetime as dt

import pytest

from kb.search import IndexDoc, SearchIndex, SearchQuery
from kb.search.proximity import near

UTC = dt.timezone.utc
FILLER = "Weather reports list rainfall totals and river levels for each district every week."
QUESTION = "the central authority shall transmit the application to the court without delay"


def doc(slug: str, text: str, **kw) -> IndexDoc:
    fields = dict(slug=slug, title="Procedure", language="en", summary="", text=text, regions=["Mali"],
                  places=["Mali", "Sahel"], countries=["Mali"], topics=["legal-identity"], audience=["ngo"],
                  visibility="public", status="published", authors=["ann"],
                  updated=dt.datetime(2024, 1, 1, tzinfo=UTC), links=[], group=slug, hash=slug)
    fields.update(kw)
    return IndexDoc(**fields)


CORPUS = [
    # the passage: the question's words side by side (a longer note: without proximity it ranks second)
    doc("passage", f"{FILLER} The Central Authority shall transmit the application to the court without delay. "
                   f"{FILLER} {FILLER}"),
    # the same words, scattered through a shorter note
    doc("scattered", "A court may delay a hearing. The application form is central. Each authority may "
                     "transmit reports. Without rainfall, crops fail."),
    doc("other", FILLER, topics=["localisation"]),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = SearchIndex(tmp_path_factory.mktemp("proximity") / "index")
    assert index.rebuild(CORPUS) == len(CORPUS)
    yield index
    index.close()


def slugs(index, q, **kw) -> list[str]:
    return [h.slug for h in index.search(SearchQuery(q=q, per_page=10, **kw), None).hits]


def test_a_question_ranks_the_note_holding_its_words_together_first(ix):
    assert slugs(ix, QUESTION)[:2] == ["passage", "scattered"]
    # words swapped or one dropped, as a half-remembered sentence has them: still the passage first
    assert slugs(ix, "the central authority shall the application transmit to court the without delay")[0] == "passage"
    assert slugs(ix, "central authority shall transmit application court delay")[0] == "passage"


def test_proximity_only_ranks_a_filter_still_narrows(ix):
    assert slugs(ix, QUESTION, topics=["legal-identity"])[:2] == ["passage", "scattered"]
    assert "other" not in slugs(ix, QUESTION)  # no word of the question: proximity matches nothing alone


def test_short_queries_keep_the_plain_ranking(ix):
    # three words are not a question: the shorter note holding them ranks first, as before
    assert slugs(ix, "application court delay")[0] == "scattered"


@pytest.mark.parametrize("a, b, window, count", [
    ([3], [4], 2, 1), ([4], [3], 2, 1),  # either order
    ([3], [5], 2, 1), ([3], [6], 2, 0),  # within the window only
    ([1, 10, 20], [11, 30], 1, 1),
    ([2, 5], [2, 5], 2, 0), ([2, 4], [2, 4], 2, 2),  # the same word typed twice: two distinct positions
])
def test_near_counts_the_positions_of_a_with_b_close_by(a, b, window, count):
    assert near(a, b, window) == count
