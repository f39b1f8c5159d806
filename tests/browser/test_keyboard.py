"""Keyboard only: the skip link comes first, Enter on it moves focus into the main content, the search form
is reached and submitted with the keyboard, and a result is opened from the keyboard."""
from __future__ import annotations

import re

MAX_TABS = 60  # every loop below is bounded


def focused(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, name: el.getAttribute('name'),
                href: el.getAttribute('href'), type: el.getAttribute('type'),
                inMain: !!el.closest('main'), inHeader: !!el.closest('header'),
                inSearchForm: !!el.closest('form[role=search]'),
                isResult: !!el.closest('ol.hits h3')};
    }""")


def tab_until(page, want, limit: int = MAX_TABS) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        el = focused(page)
        if want(el):
            return el
    raise AssertionError(f"not reached in {limit} presses of Tab; last focus: {focused(page)}")


def test_skip_link_is_first_and_moves_focus_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["tag"] == "a" and "skip" in first["cls"] and first["href"] == "#main", first
    box = page.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
    assert box["x"] >= 0 and box["width"] > 0  # it shows itself when focused
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    assert page.evaluate("document.activeElement.id") == "main" or focused(page)["inMain"]
    nxt = tab_until(page, lambda el: True, limit=1)
    assert nxt["inMain"] and not nxt["inHeader"], nxt  # the header's links were skipped


def test_search_with_the_keyboard_and_open_a_result(page):
    page.goto("/")
    field = tab_until(page, lambda el: el["inSearchForm"] and el["name"] == "q")
    assert field["tag"] == "input"
    page.keyboard.type("registration")
    button = tab_until(page, lambda el: el["inSearchForm"], limit=1)
    assert button["tag"] == "button" and button["type"] == "submit", button  # the form's button is next
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=registration"))
    result = tab_until(page, lambda el: el["isResult"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/notes/"))
    assert page.url.endswith(result["href"])
    assert "registration" in page.locator("article.note").inner_text().lower()
