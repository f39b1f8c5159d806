"""Hostile Markdown never runs script in a real browser.

Every row of the renderer's attack table is a note (tests/browser/hostile.py), written into content/
before the server started. The journey hooks alert/confirm/prompt/print in every frame before any page
script, listens for dialogs, page errors, console messages and CSP violation reports, then opens every
hostile note, hovers and clicks what is there, and opens the listings and search results that show the
hostile titles, summaries and snippets. Nothing may execute, and no CSP violation may occur (one would mean
the sanitiser let something through and only the second wall stopped it).
"""
from __future__ import annotations

import pytest

from .hostile import PREFIX, WORD, hostile_notes

HOOK = """
(() => {
  const fired = [];
  Object.defineProperty(window, '__kbFired', {value: fired});
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = (...args) => { fired.push(name + ':' + args.join(',')); console.log('KB-FIRED ' + name); };
  }
  document.addEventListener('securitypolicyviolation', e => {
    // img-src blocks plain-http images: not script, and not the sanitiser's job
    if (!e.violatedDirective.startsWith('img-src')) fired.push('csp:' + e.violatedDirective + ':' + e.blockedURI);
  });
})();
"""

SLUGS = sorted(hostile_notes())


@pytest.fixture
def watched(context):
    """A page with every execution channel watched; .events lists what happened."""
    page = context.new_page()
    page.events = []
    context.add_init_script(HOOK)
    page.on("dialog", lambda d: (page.events.append(f"dialog:{d.message}"), d.dismiss()))
    page.on("pageerror", lambda exc: page.events.append(f"pageerror:{exc}"))
    page.on("popup", lambda p: page.events.append(f"popup:{p.url}"))

    def console(msg):
        text = msg.text
        if "img-src" in text or "Failed to load resource" in text:  # a missing or http image: not script
            return
        if "KB-FIRED" in text or "Content Security Policy" in text or msg.type == "error":
            page.events.append(f"console:{msg.type}:{text}")

    page.on("console", console)
    return page


def fired(page) -> list[str]:
    in_page = page.evaluate("window.__kbFired ? Array.from(window.__kbFired) : ['hook missing']")
    return page.events + in_page


def poke(page) -> None:
    """Hover every element of the note body, focus every focusable one, click every link and button."""
    body = page.locator("article .body *")
    for i in range(min(body.count(), 200)):
        el = body.nth(i)
        if el.is_visible():
            el.hover(timeout=2000, force=True)
    page.keyboard.press("Tab")
    url = page.url
    clickable = page.locator("article .body a, article .body button, article .body input, article .body summary")
    for i in range(min(clickable.count(), 50)):
        el = clickable.nth(i)
        href = el.get_attribute("href") or ""
        if href.startswith(("http:", "https:")):  # a real external link: kept, marked, not followed here
            assert el.get_attribute("rel") == "nofollow noopener"
            continue
        if el.is_visible():
            el.click(timeout=2000, force=True, no_wait_after=False)
        if page.url != url:  # a safe link navigated (e.g. to a missing note): come back for the next one
            page.goto(url)
            clickable = page.locator("article .body a, article .body button, article .body input, "
                                     "article .body summary")


def test_clickable_hostile_links_do_nothing(watched, context):
    page = watched
    resp = page.goto(f"/notes/{PREFIX}clickable")
    assert resp.status == 200
    csp = resp.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    assert resp.headers.get("x-content-type-options") == "nosniff"
    links = page.locator("article .body a")
    assert links.count() >= 8  # the link texts survive; only their hrefs and handlers are gone
    hrefs = links.evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h and h.strip().lower().startswith(("javascript", "data", "vbscript"))], hrefs
    assert page.locator("article iframe, article svg, article object, article embed, article form, "
                        "article input, meta[http-equiv]").count() == 0
    poke(page)
    page.wait_for_timeout(300)  # a meta refresh or a late timer would have run by now
    assert page.url.endswith(f"/notes/{PREFIX}clickable")
    assert fired(page) == []
    assert context.outside == []  # nothing tried to reach another host


def test_every_attack_note_is_inert_in_the_browser(watched, context):
    page = watched
    problems = {}
    for slug in SLUGS:
        resp = page.goto(f"/notes/{slug}")
        assert resp.status == 200, slug
        assert "script-src 'self'" in resp.headers.get("content-security-policy", ""), slug
        assert page.title().startswith("<script>alert('title')</script>")  # shown as text, not run
        poke(page)
        if fired(page):
            problems[slug] = fired(page)
            page.events.clear()
    assert problems == {}
    assert context.outside == []


@pytest.mark.parametrize("path", ["/", f"/search?q={WORD}", f"/search?q={WORD}&sort=newest", "/regions/niger",
                                  "/topics/localisation", f"/notes/{PREFIX}script/history"])
def test_listings_and_snippets_of_hostile_notes_are_inert(watched, path):
    page = watched
    resp = page.goto(path)
    assert resp.status == 200
    if "q=" in path:
        assert page.locator("ol.hits li").count() >= 10
        assert page.locator("ol.hits").inner_text().count("<script>alert('title')</script>") >= 10
    for el in page.locator("main a").all()[:80]:
        if el.is_visible():
            el.hover(timeout=2000, force=True)
    assert fired(page) == []


def test_csp_is_the_second_wall(watched):
    """Even script that got into the page would not run: the CSP refuses inline script and handlers."""
    page = watched
    page.goto("/")
    page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = "alert('injected')"; document.body.append(s);
        const img = document.createElement('img'); img.setAttribute('onerror', "alert('handler')");
        img.src = '/missing.png'; document.body.append(img);
    }""")
    page.wait_for_timeout(300)
    events = fired(page)
    assert not [e for e in events if e.startswith(("alert", "dialog", "console:log:KB-FIRED"))], events
    assert "csp:script-src-elem:inline" in events and "csp:script-src-attr:inline" in events, events
