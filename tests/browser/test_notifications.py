"""A practitioner follows a country; a focal point publishes a note there; the practitioner sees the count in
the header, finds the note in their notifications and marks it read (no script needed)."""
from __future__ import annotations

import re
import secrets

from .test_focal_point import sign_in, tick


def test_a_followed_country_brings_a_new_note_to_the_header_and_the_notifications_page(browser, server):
    reader = browser.new_context(base_url=server.url, locale="en-GB", java_script_enabled=False)
    writer = browser.new_context(base_url=server.url, locale="en-GB")
    try:
        pat, moussa = reader.new_page(), writer.new_page()
        sign_in(pat, "pat")
        pat.goto("/regions/niger")
        pat.locator("form.follow button", has_text="Follow").click()
        pat.wait_for_url(re.compile(r"/regions/niger$"))
        assert "Stop following" in pat.locator("form.follow").inner_text()
        before = pat.locator("header a.notices").inner_text()

        sign_in(moussa, "moussa")
        title = f"Water committees in Agadez {secrets.token_hex(3)}"
        moussa.goto("/notes/new")
        moussa.fill("input[name=title]", title)
        moussa.select_option("select[name=language]", "en")
        tick(moussa, "input[name=regions][value=Niger]")
        tick(moussa, "input[name=topics][value=community-planning]")
        moussa.fill("textarea[name=body]", "## Context\n\nCommittees keep the wells working.\n")
        moussa.select_option("select[name=status]", "published")
        moussa.click("button[name=save]")
        moussa.wait_for_url(re.compile(r"/notes/[a-z0-9-]+$"))

        pat.goto("/")
        badge = pat.locator("header a.notices .count-badge")
        assert badge.inner_text() == str(int(re.sub(r"\D", "", before) or 0) + 1)
        pat.locator("header a.notices").click()
        pat.wait_for_url(re.compile(r"/notifications$"))
        assert pat.locator("ul.notifications li.unread").first.inner_text().startswith("New")
        assert title in pat.locator("ul.notifications").inner_text()
        pat.click("text=Mark all as read")
        pat.wait_for_url(re.compile(r"/notifications$"))
        assert pat.locator("header a.notices .count-badge").count() == 0
        pat.locator("ul.notifications a", has_text=title).click()
        assert pat.locator("h1").inner_text() == title
    finally:
        reader.close()
        writer.close()


def test_notification_pages_are_accessible_in_english_and_arabic(browser, server):
    from .a11y import axe_violations, report
    for locale in ("en-GB", "ar"):
        ctx = browser.new_context(base_url=server.url, locale=locale)
        try:
            page = ctx.new_page()
            sign_in(page, "amina")
            found = []
            for path in ("/account/subscriptions", "/notifications", "/regions/sahel", "/account"):
                page.goto(path)
                assert page.evaluate("document.documentElement.lang") == locale[:2]
                violations = axe_violations(page)
                found += [f"axe-core on {path} ({locale}):\n{report(violations)}"] if violations else []
            assert found == [], "\n".join(found)
        finally:
            ctx.close()
