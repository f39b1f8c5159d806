"""Accessibility of the main pages, as the browser renders them, in the three interface languages: axe-core
(WCAG 2.2 AA) on each page, then a visible focus indicator on each element the keyboard reaches."""
from __future__ import annotations

import pytest

from .a11y import FOCUS, axe_violations, backdrop, contrast, focus_problem, report

PAGES = [
    ("/", "en-GB"),
    ("/", "ar"),
    ("/notes/unaccompanied-children-best-interests-agadez", "en-GB"),
    ("/notes/ar-birth-registration-mobile-courts-iraq", "ar"),
    ("/search?q=protection", "fr-FR"),
    ("/search?q=protection&region=Sahel&topic=child-protection", "en-GB"),
    ("/regions/sahel", "en-GB"),
    ("/regions/iraq", "ar"),
    ("/topics/legal-identity", "fr-FR"),
    ("/login", "en-GB"),
    ("/notes/does-not-exist", "en-GB"),
]
TABS = 30  # focusable elements checked for a visible focus indicator, per page


@pytest.mark.parametrize("path,locale", PAGES)
def test_page_is_accessible(browser, server, path, locale):
    ctx = browser.new_context(base_url=server.url, locale=locale)
    try:
        page = ctx.new_page()
        resp = page.goto(path)
        assert resp.status == (404 if "does-not-exist" in path else 200)
        assert page.evaluate("document.documentElement.lang") == locale[:2]  # the language asked for
        assert "script-src 'self'" in resp.headers["content-security-policy"]  # axe runs under the strict CSP
        violations = axe_violations(page)
        found = [f"axe-core on {path} ({locale}):\n{report(violations)}"] if violations else []
        for i in range(TABS):
            page.keyboard.press("Tab")
            focus = page.evaluate(FOCUS)
            if focus["isBody"] and i > 0:  # past the last focusable element: the page is done
                break
            problem = focus_problem(focus)
            if problem:
                found.append(problem)
        assert found == [], "\n".join(found)
    finally:
        ctx.close()


def test_checker_catches_what_it_should(page):
    """The checker itself: a page with every fault is reported for each of them, readably."""
    page.set_content("""<html><body><div>loose text</div><h1>a</h1><img src="x.png">
        <input name="q"><button></button><p style="color:#999;background:#fff">faint</p>
        <a href="#" style="outline:none">no focus ring</a></body></html>""")
    violations = axe_violations(page)
    assert {v["id"] for v in violations} >= {"html-has-lang", "document-title", "landmark-one-main", "region",
                                             "image-alt", "label", "button-name", "color-contrast",
                                             "target-size"}  # target-size: a WCAG 2.2 AA rule
    text = report(violations)
    assert "color-contrast (serious)" in text and "contrast of 2.8" in text  # rule, impact, axe's measure
    assert "https://dequeuniversity.com/rules/axe/" in text and "img" in text  # help URL and target
    page.focus("a")
    assert "no visible focus" in focus_problem(page.evaluate(FOCUS))


def test_contrast_formula_matches_known_values():
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast((0x55, 0x55, 0x55), (255, 255, 255)), 2) == 7.46
    assert round(contrast((0x76, 0x76, 0x76), (255, 255, 255)), 2) == 4.54
    assert backdrop(["rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"]) == (255, 255, 255)
    assert backdrop(["rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)"]) == (127.5, 127.5, 127.5)
