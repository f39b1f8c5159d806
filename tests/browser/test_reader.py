"""A public reader, no account: search in French without accents, narrow by country and topic through the
facet links, open a note, and switch to its translations with the language switcher on the note."""
from __future__ import annotations

import re

from kb.model import parse_note
from kb.taxonomy import Taxonomy

from ..conftest import SHIPPED

TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")


def shipped(slug: str):
    return parse_note(slug, (SHIPPED / f"{slug}.md").read_text(encoding="utf-8"), TAX)


AGADEZ_FR = shipped("enfants-non-accompagnes-interet-superieur-agadez-fr")
AGADEZ_EN = shipped("unaccompanied-children-best-interests-agadez")
IRAQ_EN = shipped("birth-registration-mobile-courts-iraq")
IRAQ_AR = shipped("ar-birth-registration-mobile-courts-iraq")


def hit_slugs(page) -> list[str]:
    return [href.rsplit("/", 1)[1] for href in page.locator("ol.hits h3 a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]


def test_french_reader_searches_without_accents_filters_opens_and_switches_to_english(browser, server):
    assert AGADEZ_FR.meta.translations["en"] == AGADEZ_EN.slug  # the pair the journey relies on
    ctx = browser.new_context(base_url=server.url, locale="fr-FR")
    try:
        page = ctx.new_page()
        page.goto("/")
        page.fill("header form[role=search] input[name=q]", "enfants non accompagnes")
        page.press("header form[role=search] input[name=q]", "Enter")
        page.wait_for_url(re.compile(r"/search\?q=enfants"))
        found = hit_slugs(page)
        assert AGADEZ_FR.slug in found, found
        assert len(found) > 1  # the filters below have something to narrow

        # facet labels follow the reader's language (fr): "Niger", then "Protection de l'enfance"
        niger = page.locator("aside a[href*='region=Niger']")
        assert niger.inner_text() == TAX.label("place", "Niger", "fr")
        niger.click()
        page.wait_for_url(re.compile(r"region=Niger"))
        after_country = hit_slugs(page)
        assert AGADEZ_FR.slug in after_country and len(after_country) < len(found)
        chosen = page.locator("aside a[aria-current='true']")
        assert chosen.count() == 1 and chosen.inner_text() == "Niger"  # the active filter is marked

        topic = page.locator("aside a[href*='topic=child-protection']")
        assert topic.inner_text() == TAX.label("topic", "child-protection", "fr")
        topic.click()
        page.wait_for_url(re.compile(r"region=Niger.*topic=child-protection|topic=child-protection.*region=Niger"))
        assert hit_slugs(page) == [AGADEZ_FR.slug]
        assert page.locator("input[name=q]").first.input_value() == "enfants non accompagnes"  # kept

        page.click(f"ol.hits a[href='/notes/{AGADEZ_FR.slug}']")
        page.wait_for_url(f"**/notes/{AGADEZ_FR.slug}")
        assert page.locator("h1").inner_text() == AGADEZ_FR.meta.title
        assert page.locator("article.note").get_attribute("lang") == "fr"

        switch = page.locator("p.translations a[hreflang='en']")
        assert switch.inner_text() == TAX.label("language", "en", "fr")  # "Anglais"
        switch.click()
        page.wait_for_url(f"**/notes/{AGADEZ_EN.slug}")
        assert page.locator("h1").inner_text() == AGADEZ_EN.meta.title
        assert page.locator("article.note").get_attribute("lang") == "en"
        assert page.locator("article.note").get_attribute("dir") == "ltr"
        back = page.locator("p.translations a[hreflang='fr']")
        assert back.get_attribute("href") == f"/notes/{AGADEZ_FR.slug}"  # and back again
    finally:
        ctx.close()


def test_reader_filters_by_country_and_switches_to_the_arabic_translation(page):
    page.goto("/search?q=birth+registration")
    assert IRAQ_EN.slug in hit_slugs(page)
    page.click("aside a[href*='region=Iraq']")
    page.wait_for_url(re.compile(r"region=Iraq"))
    in_iraq = hit_slugs(page)
    assert IRAQ_EN.slug in in_iraq
    assert all("Iraq" in shipped(slug).meta.regions for slug in in_iraq)
    page.click("aside a[href*='topic=legal-identity']")
    page.wait_for_url(re.compile(r"topic=legal-identity"))
    assert IRAQ_EN.slug in hit_slugs(page)
    page.click(f"ol.hits a[href='/notes/{IRAQ_EN.slug}']")
    page.wait_for_url(f"**/notes/{IRAQ_EN.slug}")
    page.click("p.translations a[hreflang='ar']")
    page.wait_for_url(f"**/notes/{IRAQ_AR.slug}")
    article = page.locator("article.note")
    assert article.get_attribute("lang") == "ar" and article.get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == IRAQ_AR.meta.title
    assert page.evaluate("getComputedStyle(document.querySelector('article.note h1')).direction") == "rtl"
