"""A served worker warms its pages before its first reader (issue 13, item 4): every template compiled, the
search page built once per interface language, and what start-up allocated frozen out of the collector's
sight. The first search page then compiles nothing; a failure while warming is logged, never raised."""
from __future__ import annotations

import gc

import pytest

from kb.web.warmup import warm


@pytest.fixture
def unfreeze():
    yield
    gc.unfreeze()


def test_after_warming_the_first_search_page_compiles_no_template(app, client, monkeypatch, unfreeze):
    loader = app.jinja_env.loader
    loaded: list[str] = []
    original = type(loader).get_source

    def counting(self, env, name):
        loaded.append(name)
        return original(self, env, name)
    monkeypatch.setattr(type(loader), "get_source", counting)
    assert warm(app) > 0
    assert "search/results.html" in loaded and "base.html" in loaded and "notes/show.html" in loaded
    assert gc.get_freeze_count() > 0
    loaded.clear()
    for lang in ("en", "fr", "ar"):
        page = client.get("/search", query_string={"q": "birth registration"}, headers={"Accept-Language": lang})
        assert page.status_code == 200
    assert loaded == []  # compiled before the first reader came
    assert 'dir="rtl"' in page.get_data(as_text=True)  # the Arabic page was the one served last


def test_a_failure_while_warming_is_logged_and_the_app_still_serves(app, client, monkeypatch, caplog, unfreeze):
    def broken():
        raise RuntimeError("index unreadable")
    monkeypatch.setitem(app.view_functions, "search.page", broken)
    warm(app)
    assert "warming the web pages failed" in caplog.text
    monkeypatch.undo()
    assert client.get("/").status_code == 200
