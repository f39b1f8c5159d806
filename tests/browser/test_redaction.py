"""An admin takes a sentence out of a note's whole history from its history page; the public then sees the
list of changes but no earlier text (gunicorn with two workers: the other worker sees the new history too)."""
from __future__ import annotations

from .a11y import assert_accessible
from .test_focal_point import sign_in

SLUG = "reintegration-counselling-returnees-mali"
PHRASE = "Follow-up showed that almost half of those businesses"


def test_an_admin_redacts_a_sentence_and_the_public_sees_no_earlier_text(page):
    sign_in(page, "admin")
    page.goto(f"/notes/{SLUG}/history")
    page.get_by_role("link", name="Redact…").click()
    assert page.url.endswith(f"/notes/{SLUG}/redact")
    assert "rewrites the history" in page.locator("[role=alert]").inner_text()
    assert_accessible(page)
    page.fill("textarea[name=passage]", PHRASE)
    page.fill("input[name=reason]", "a test of the redaction journey")
    page.check("input[name=confirm]")
    page.get_by_role("button", name="Rewrite the history").click()
    page.wait_for_url(f"**/notes/{SLUG}/history")
    assert "The history was rewritten" in page.locator("main").inner_text()
    for _ in range(3):  # each request may land on either worker
        page.goto(f"/notes/{SLUG}")
        text = page.locator("main").inner_text()
        assert PHRASE not in text and "[redacted] had closed within six months" in text
    page.goto(f"/notes/{SLUG}/diff")
    assert PHRASE not in page.content()

    page.context.clear_cookies()
    page.goto(f"/notes/{SLUG}/history")
    assert page.locator("a[href*='/revisions/'], a[href*='/diff']").count() == 0
    assert "shown to signed-in readers" in page.locator("main").inner_text()
