"""The search index at server start: what changed in content/ behind the server's back is searchable once
the app is created (the start-up check repairs the drift), and a damaged index never costs a 500.

(tests/test_faults.py covers crashes during saves, imports and rebuilds.)"""
import shutil
import time
from pathlib import Path

import pytest

from kb import create_app

from .conftest import git, site_config

NEW = """---
title: Solar pumps for water points
language: en
regions: [Chad]
topics: [community-planning]
visibility: public
status: published
---
Solar pumps keep the water points running: {word}.
"""


def start(site: Path):
    app = create_app(site_config(site))
    return app, app.extensions["kb.wiki"]


def stop(app) -> None:
    app.extensions["kb.wiki"].close()
    app.extensions["kb.users"].dispose()


def api_slugs(client, q: str) -> list[str]:
    resp = client.get("/api/search", query_string={"q": q, "per_page": 100})
    assert resp.status_code == 200
    return [h["slug"] for h in resp.get_json()["hits"]]


def public_note(content: Path, not_this: str = "") -> Path:
    for path in sorted(content.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if "visibility: public" in text and "status: published" in text and path.stem != not_this:
            return path
    raise LookupError("no public note")


@pytest.mark.parametrize("committed", [False, True], ids=["edited-by-hand", "git-pull"])
def test_app_start_repairs_what_changed_behind_its_back(site, committed):
    content = site / "content"
    app, wiki = start(site)  # a server that ran, then stopped
    stop(app)
    (content / "solar-pumps-chad.md").write_text(NEW.format(word="heliopumpword"), encoding="utf-8")
    edited = public_note(content)
    edited.write_text(edited.read_text(encoding="utf-8") + "\nAdded later: xylocordword.\n", encoding="utf-8")
    removed = public_note(content, not_this=edited.stem)
    removed_title = next(line for line in removed.read_text(encoding="utf-8").splitlines()
                         if line.startswith("title:"))[6:].strip()
    removed.unlink()
    if committed:  # what a `git pull` in content/ leaves: new commits, files changed, the index untouched
        git(content, "add", "-A")
        git(content, "-c", "user.name=someone", "-c", "user.email=s@example.org", "commit", "-q", "-m", "pull")

    app, wiki = start(site)
    try:
        client = app.test_client()
        assert api_slugs(client, "heliopumpword") == ["solar-pumps-chad"]
        assert api_slugs(client, "xylocordword") == [edited.stem]
        assert removed.stem not in api_slugs(client, removed_title)
        html = client.get("/search", query_string={"q": "heliopumpword"})
        assert html.status_code == 200 and 'href="/notes/solar-pumps-chad"' in html.get_data(as_text=True)
        assert wiki.check_index().clean
    finally:
        stop(app)


def test_a_large_drift_is_repaired_by_a_rebuild_into_a_fresh_generation(site, monkeypatch):
    from kb.wiki import indexing
    monkeypatch.setattr(indexing, "REBUILD_ABOVE", 0)
    app, wiki = start(site)
    try:
        before = (site / "index" / "CURRENT").read_text()
        content = site / "content"
        (content / "solar-pumps-chad.md").write_text(NEW.format(word="heliopumpword"), encoding="utf-8")
        for path in sorted(content.glob("*.md"))[:10]:
            path.write_text(path.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
        drift = wiki.check_index(repair=True)
        assert len(drift.stale) == 10 and drift.missing == ["solar-pumps-chad"]
        assert (site / "index" / "CURRENT").read_text() != before  # a new generation
        assert wiki.check_index().clean
        assert api_slugs(app.test_client(), "heliopumpword") == ["solar-pumps-chad"]
    finally:
        stop(app)


@pytest.mark.parametrize("what", ["every-file", "segments-only"])
def test_a_corrupt_index_is_rebuilt_at_start_and_search_answers(site, what):
    index = site / "index"
    targets = [p for p in index.rglob("*") if p.is_file()]
    if what == "segments-only":
        targets = [p for p in targets if p.suffix in (".seg", ".toc")]
    assert targets
    for path in targets:
        path.write_bytes(b"\x00garbage\xff" * 64)

    app, wiki = start(site)
    try:
        client = app.test_client()
        page = client.get("/search", query_string={"q": "enfants non accompagnes", "lang": "fr"})
        assert page.status_code == 200
        assert "/notes/enfants-non-accompagnes-interet-superieur-agadez-fr" in page.get_data(as_text=True)
        data = client.get("/api/search", query_string={"q": "reintegration"})
        assert data.status_code == 200 and data.get_json()["total"] > 0
        assert wiki.index.doc_count() == len(wiki.store.slugs())
    finally:
        stop(app)


def wait_for_hits(client, q: str, seconds: float = 20.0) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        data = client.get("/api/search", query_string={"q": q}).get_json()
        if data["total"] or time.monotonic() > deadline:
            return data
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["garbage", "deleted"])
def test_an_index_damaged_while_serving_answers_200_and_is_refilled(app, client, how):
    index = Path(app.config["KB_INDEX_DIR"])
    before = client.get("/api/search", query_string={"q": "reintegration"}).get_json()
    assert before["total"] > 0
    app.extensions["kb.wiki"].index._drop_searcher()  # as a worker process started after the damage
    if how == "garbage":
        for path in index.rglob("*"):
            if path.is_file():
                path.write_bytes(b"\x00garbage\xff" * 64)
    else:
        shutil.rmtree(index)
    for url in ("/search", "/api/search"):
        assert client.get(url, query_string={"q": "reintegration"}).status_code == 200
    after = wait_for_hits(client, "reintegration")  # refilled from content/ in the background
    assert after["total"] == before["total"] and not after["message"]
