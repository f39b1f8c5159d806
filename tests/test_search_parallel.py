"""A rebuild on several cores (kb.search.parallel) gives the index a rebuild in one process gives: the same
notes found with the same scores, the same totals and facet counts, the same problems reported; a shard
that fails leaves the live index as it was. The shipped notes are forced through two shard processes."""
from __future__ import annotations


import pytest

import kb.search.parallel as parallel
from kb.access import read_filter
from kb.search import SearchQuery

QUERIES = ["protection", "birth registration", "enfants non accompagnés", "حماية", "counsel*", '"case management"']


def snapshot(wiki) -> dict:
    """Every result of each query as an anonymous reader and as an admin would see it, scores included."""
    out = {}
    for q in QUERIES:
        for allowed in (read_filter(None, wiki.taxonomy), None):
            r = wiki.index.search(SearchQuery(q=q, per_page=100, prefer_language="en"), allowed)
            out[(q, allowed is None)] = (r.total, sorted((h.slug, h.score) for h in r.hits), r.facets)
    return out


@pytest.fixture
def broken_note(wiki):
    (wiki.store.root / "broken-front-matter.md").write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")


def test_two_shard_processes_build_the_index_one_process_builds(wiki, broken_note, monkeypatch):
    count, errors = wiki.rebuild_index()
    serial, drift = snapshot(wiki), wiki.check_index()
    assert len(wiki.index._gen.leaves) == 1
    used = []
    monkeypatch.setattr(parallel, "usable_workers", lambda notes: used.append(notes) or 2)
    progress: list[int] = []
    assert wiki.rebuild_index(progress=progress.append) == (count, errors)
    assert used == [count + 1]  # every note and the broken file went to the shards
    assert sum(progress) == count  # each indexed note was reported
    assert any("broken-front-matter" in e for e in errors)
    assert len(wiki.index._gen.leaves) == 2  # one segment per shard, listed together
    assert snapshot(wiki) == serial
    assert sum(1 for name in wiki.index.index_dir.rglob("*") if parallel.SHARD_PREFIX in str(name)) == 0
    assert wiki.check_index() == drift and not drift.stale and drift.missing == ["broken-front-matter"]


def test_a_failing_shard_leaves_the_live_index_as_it_was(wiki, monkeypatch):
    before = snapshot(wiki)
    folders = sorted(p.name for p in wiki.index.index_dir.iterdir())
    monkeypatch.setattr(parallel, "usable_workers", lambda notes: 2)
    monkeypatch.setattr(type(wiki.indexer), "doc_for", lambda self, slug, dates=None: 1 / 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        wiki.rebuild_index()
    assert sorted(p.name for p in wiki.index.index_dir.iterdir()) == folders  # the new generation dropped
    assert snapshot(wiki) == before


def test_a_rebuild_forks_only_for_many_notes_on_several_cores_from_a_lone_thread(monkeypatch):
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    assert parallel.usable_workers(parallel.PARALLEL_FROM - 1) == 1
    assert parallel.usable_workers(parallel.PARALLEL_FROM) == 4  # every core, up to four
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0})
    assert parallel.usable_workers(100_000) == 1
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1})
    assert parallel.usable_workers(100_000) == 2
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 3)  # a serving worker's threads
    assert parallel.usable_workers(100_000) == 1
