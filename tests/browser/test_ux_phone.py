"""A reader on a 390-px-wide phone: the filters fold above the results, a filter becomes a chip, and the chip
takes it away again; no script is needed for any of it."""
from __future__ import annotations

import re

PHONE = {"width": 390, "height": 844}


def count(page) -> int:
    return int(re.search(r"\d+", page.locator("#results-title").inner_text()).group(0))


def test_phone_reader_filters_a_search_and_clears_the_filter(browser, server):
    ctx = browser.new_context(base_url=server.url, locale="en-GB", viewport=PHONE, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto("/search?q=registration")
        before = count(page)
        assert before > 1
        assert page.locator("aside.filters-wide").is_hidden()  # the side column is not used on a phone
        folded = page.locator("details.filters-narrow")
        summary = folded.locator("summary")
        assert summary.is_visible() and summary.bounding_box()["y"] < page.locator("ol.hits").bounding_box()["y"]
        assert folded.locator("a[href*='lang=']").first.is_hidden()  # folded until asked for
        summary.click()
        place = folded.locator("a[href*='region=']").last  # the least frequent place: it narrows the list
        place.click()
        page.wait_for_url(re.compile(r"region="))
        filtered = count(page)
        assert 0 < filtered < before
        chip = page.locator(".chips a.chip")
        assert chip.count() == 1 and chip.is_visible()
        assert chip.bounding_box()["height"] >= 24  # a target a thumb can hit (WCAG 2.2 target size)
        assert page.locator("details.filters-narrow summary").inner_text().endswith("(1)")
        chip.click()
        page.wait_for_url(re.compile(r"/search\?q=registration$"))
        assert count(page) == before and page.locator(".chips").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    finally:
        ctx.close()


def test_phone_reader_opens_the_map_and_follows_a_country_by_keyboard(browser, server):
    ctx = browser.new_context(base_url=server.url, locale="fr-FR", viewport=PHONE)
    try:
        page = ctx.new_page()
        page.goto("/regions")
        niger = page.locator("figure.map a[href='/regions/niger']")
        assert niger.get_attribute("aria-label").startswith("Niger")
        box = page.locator("figure.map svg").bounding_box()
        assert box["width"] <= PHONE["width"]
        niger.focus()
        assert page.evaluate("document.activeElement.getAttribute('href')") == "/regions/niger"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/regions/niger$"))
        assert page.locator("h1").inner_text() == "Niger"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        ctx.close()
