"""Browser journeys: a real site served by gunicorn (2 workers) on loopback, driven by Debian's Chromium.

The site is built once per session (content repository with the shipped notes plus hostile notes, index,
accounts) and served until the session ends; each test gets a fresh browser context (no shared cookies).
Playwright never downloads a browser: it drives /usr/bin/chromium, which `.ci/run` installs.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..conftest import build_site, make_content
from ..liveserver import Server, site_env
from .hostile import write_hostile_notes

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HAVE_CHROMIUM = os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: install Debian's chromium (`.ci/run` does)")
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if not HAVE_CHROMIUM:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def live_site(tmp_path_factory) -> Path:
    """content (shipped notes + hostile notes, committed) + index + accounts, built before the server starts."""
    root = tmp_path_factory.mktemp("live")
    content = root / "content"
    make_content(content)
    write_hostile_notes(content)
    from kb.history import History
    History(content).commit(["."], "Hostile notes for the browser tests", "moussa")
    return build_site(root)


@pytest.fixture(scope="session")
def server(live_site):
    """gunicorn with 2 workers on a free loopback port; the whole process group is ended at teardown."""
    srv = Server(site_env(live_site), workers=2, log=live_site / "server.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, server):
    """A fresh browser context per test; requests to anything but the server are refused and recorded."""
    ctx = browser.new_context(base_url=server.url, locale="en-GB")
    ctx.set_default_timeout(10_000)
    ctx.outside = []  # type: ignore[attr-defined]

    def guard(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            ctx.outside.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

    ctx.route("**/*", guard)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
