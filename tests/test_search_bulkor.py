"""The bulk-scored union (kb.search.bulkor) is whoosh's PreloadedOr to the last bit: the same notes, the same
scores and so the same order, totals and facet counts, over a real index of several segments with deleted
documents, for every kind of query kb builds (words in every field, glossary expansions nested in another
union, phrases, prefixes, exclusions, filters, questions, newest first). If a whoosh release changed the
leaf matcher's block fields, these comparisons are where it shows."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from whoosh.query import And as WhooshAnd
from whoosh.query.compound import PreloadedOr

import kb.search.compile
import kb.search.coordination
import kb.search.query
from kb.search import IndexDoc, SearchIndex, SearchQuery
from kb.search import bulkor

UTC = dt.timezone.utc
WORDS_EN = ("child protection registration birth border unaccompanied case referral health clinic water "
            "trafficking victims shelter legal identity documents community planning mental support").split()
WORDS_FR = ("protection enfant enregistrement naissance frontière non accompagné dossier santé eau traite "
            "victimes abri identité juridique documents communauté soutien").split()
QUERIES = [
    ("protection", {}), ("child protection", {}), ("birth registration", {}), ('"child protection"', {}),
    ("protec*", {}), ("health -water", {}), ("trafficking OR shelter", {}),
    ("how are unaccompanied children referred to a shelter at the border", {}),
    ("enregistrement naissance", {}), ("santé", {"lang": "fr"}), ("protection", {"region": "Sahel"}),
    ("support", {"topic": "legal-identity"}), ("victims", {"sort": "newest"}), ("documents", {"page": 2}),
    ("shelter documents", {"page": 2}), ("water clinic", {"sort": "newest"}), ("abri eau", {"lang": "fr"}),
]


def note(slug: str, rng: random.Random, lang: str, k: int) -> IndexDoc:
    words = WORDS_FR if lang == "fr" else WORDS_EN
    text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 120)))
    region = rng.choice(["Sahel", "North Africa", "Middle East"])
    return IndexDoc(slug=slug, title=" ".join(rng.sample(words, 3)), language=lang, summary=" ".join(rng.sample(words, 4)),
                    text=text, regions=[region], places=[region], countries=[], topics=[rng.choice(["legal-identity", "localisation"])],
                    audience=[], visibility="public", status="published", authors=["ann"],
                    updated=dt.datetime(2024, 1, 1 + k % 27, tzinfo=UTC), links=[], group=slug, hash=f"{slug}{k}")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    rng = random.Random(7)
    index = SearchIndex(tmp_path_factory.mktemp("bulkor") / "index")
    index.ensure()
    for batch in range(4):  # several segments
        index.upsert([note(f"n{batch}-{i}", rng, "fr" if i % 4 == 0 else "en", batch * 40 + i) for i in range(40)])
    index.upsert([note(f"n0-{i}", rng, "en", 200 + i) for i in range(0, 40, 3)])  # deletions in the first segment
    index.remove([f"n1-{i}" for i in range(0, 40, 5)])
    glossary = tmp_path_factory.mktemp("glossary") / "glossary.yml"
    glossary.write_text("- en: [birth registration]\n  fr: [enregistrement des naissances]\n", encoding="utf-8")
    index.use_glossary(glossary)
    yield index
    index.close()


def results(index: SearchIndex, q: str, extra: dict) -> tuple:
    query = SearchQuery(q=q, places=[extra["region"]] if "region" in extra else [],
                        topics=[extra["topic"]] if "topic" in extra else [],
                        languages=[extra["lang"]] if "lang" in extra else [], prefer_language="en",
                        sort=extra.get("sort", "relevance"), page=extra.get("page", 1), per_page=10)
    r = index.search(query, None)
    return r.total, [(h.slug, h.score) for h in r.hits], r.facets, r.expanded, r.other_languages


@pytest.mark.parametrize("q, extra", QUERIES, ids=[q for q, _ in QUERIES])
def test_the_bulk_union_finds_and_scores_exactly_as_whoosh(index, monkeypatch, q, extra):
    bulk = results(index, q, extra)
    monkeypatch.setattr(kb.search.compile, "Or", PreloadedOr)
    monkeypatch.setattr(kb.search.query, "Or", PreloadedOr)
    monkeypatch.setattr(kb.search.query, "And", WhooshAnd)
    monkeypatch.setattr(kb.search.coordination, "And", WhooshAnd)
    assert results(index, q, extra) == bulk
    assert bulk[0] > 0 and bulk[1]  # each query finds notes: the comparison is not between two empty lists


def test_the_comparison_runs_over_deleted_documents_and_several_segments(index):
    index.search(SearchQuery(q="protection"), None)
    gen = index._gen
    assert len(gen.leaves) > 1
    assert any(leaf.has_deletions() for leaf, _, _ in gen.leaves)


def test_bulk_union_is_the_union_kb_compiles(index):
    assert kb.search.compile.Or is bulkor.Or
    assert kb.search.coordination.And is bulkor.And and kb.search.query.And is bulkor.And


def test_field_lengths_read_in_bulk_are_whooshs_own(index):
    """Scores divide by each note's field lengths, read for a whole segment at once (kb.search.segments)."""
    from kb.search.schema import SCHEMA
    from kb.search.segments import _bulk_lengths
    index.search(SearchQuery(q="protection"), None)
    fields = [name for name in SCHEMA.names() if name.startswith(("title_", "summary_", "body_"))]
    for leaf, _, _ in index._gen.leaves:
        for name in fields:
            assert _bulk_lengths(leaf, name) == [leaf.doc_field_length(d, name, 1)
                                                 for d in range(leaf.doc_count_all())], name
