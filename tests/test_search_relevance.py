"""Relevance rules beyond coordination itself: a word's fields saturate together (one word repeated
everywhere cannot outweigh several words), a sentence is a question by the words typed, and a filter that
leaves less than a page adds the notes inside it holding any of the words, after the others."""
from __future__ import annotations

import pytest

from kb.search import SearchIndex, SearchQuery

from .test_search_ranking import CORPUS, FIVE, doc, slugs

SATURATION = [
    # one word of the question, everywhere and over and over: title, summary and body
    doc("one-word-everywhere", "Drought drought", "Drought. " * 40 + "Harvest.", summary="Drought, drought."),
    # three of the question's words, once each
    doc("three-words", "Field report", "Drought, harvest and cattle."),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    index = SearchIndex(tmp_path_factory.mktemp("relevance") / "index")
    index.rebuild(CORPUS + SATURATION)
    yield index
    index.close()


def find(index, q, **kw):
    return index.search(SearchQuery(q=q, per_page=50, **kw), None)


def test_one_word_repeated_everywhere_does_not_outweigh_several_words(ix):
    found = slugs(find(ix, "the drought and the harvest of cattle in a pasture"))
    assert found.index("three-words") < found.index("one-word-everywhere")


def test_a_sentence_of_few_meaningful_words_is_a_question(ix):
    keywords = find(ix, "drought harvest cattle quokkanium")  # four words: three of them needed
    sentence = find(ix, "the drought and the harvest of the cattle or a quokkanium")  # a question: two
    assert "two" not in slugs(keywords) and "two" in slugs(sentence)


def test_a_filter_leaving_less_than_a_page_adds_the_notes_with_some_words_after_the_others(ix):
    unfiltered = slugs(find(ix, FIVE))
    filtered = slugs(find(ix, FIVE, places=["Egypt"]))
    inside = [s for s in unfiltered if s in ("nile-four", "nile-three", "phrase", "other")]
    assert "phrase" not in unfiltered  # two of the five words: not enough without a filter
    assert filtered[:len(inside)] == inside and filtered[len(inside):] == ["phrase"]
    assert "other" not in filtered  # none of the words
    # a full page inside the filter: nothing is added
    assert slugs(ix.search(SearchQuery(q=FIVE, per_page=1, places=["Egypt"]), None)) == inside[:1]


def test_a_word_typed_twice_in_a_question_weighs_more(tmp_path):
    index = SearchIndex(tmp_path / "index")
    index.rebuild([doc("cattle", "Herd", "Cattle and pasture."), doc("drought", "Dry", "Drought and pasture."),
                   doc("filler", "Other", "Nothing of the kind.")])
    once = slugs(find(index, "the pasture of the cattle in the drought"))
    twice = slugs(find(index, "the pasture of the cattle in the drought and the cattle"))
    swapped = slugs(find(index, "the pasture of the drought in the cattle and the drought"))
    assert twice[:2] == ["cattle", "drought"] and swapped[:2] == ["drought", "cattle"]
    assert set(once[:2]) == {"cattle", "drought"}
    index.close()
