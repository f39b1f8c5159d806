"""Issue 14's journey: a practitioner asks a question under a note; the note's focal point sees it in the
header's count and on the notifications page, replies, and marks the note still accurate; the page then
says when and by whom it was reviewed. Without JavaScript."""
from __future__ import annotations

import re
import secrets

from .test_focal_point import sign_in

CHAD = "audiences-foraines-etat-civil-tchad-fr"  # public, published, Chad: moussa's region


def test_a_comment_reaches_the_focal_point_who_replies_and_marks_the_note_still_accurate(browser, server):
    word = "kbjourney" + secrets.token_hex(3)
    reader = browser.new_context(base_url=server.url, locale="en-GB", java_script_enabled=False)
    focal = browser.new_context(base_url=server.url, locale="en-GB", java_script_enabled=False)
    for ctx in (reader, focal):
        ctx.set_default_timeout(10_000)
    try:
        pat, moussa = reader.new_page(), focal.new_page()
        sign_in(moussa, "moussa")
        moussa.goto("/notifications")
        before = len(re.findall(rf"/notes/{CHAD}", moussa.content()))

        sign_in(pat, "pat")
        pat.goto(f"/notes/{CHAD}")
        pat.fill("#comment-body", f"Is the Lac mobile court still running this year? {word}")
        pat.click(".comment-form button[type=submit]")
        pat.wait_for_url(f"**/notes/{CHAD}#comment-*")

        moussa.goto("/")
        assert moussa.locator("header a.notices .count-badge").count() == 1  # something new for moussa
        moussa.locator("header a.notices").click()
        moussa.wait_for_url(re.compile(r"/notifications$"))
        told = moussa.locator("ul.notifications li", has_text="pat commented on")
        assert told.count() >= 1 and len(re.findall(rf"/notes/{CHAD}", moussa.content())) == before + 1
        told.first.locator("a").click()
        moussa.wait_for_url(re.compile(rf"/notes/{CHAD}"))

        thread = moussa.locator("section.comments article.comment").filter(has_text=word)
        thread.locator("summary").click()
        thread.locator("textarea[name=body]").fill("Yes: the next session is in Bol in March.")
        thread.locator("details button[type=submit]").click()
        moussa.wait_for_url(f"**/notes/{CHAD}#comment-*")
        moussa.locator("section.review-line button", has_text="Still accurate").click()
        moussa.wait_for_url(re.compile(rf"/notes/{CHAD}"))
        line = moussa.locator("section.review-line").inner_text()
        assert "Reviewed" in line and "moussa" in line and "overdue" not in line.lower()

        pat.goto("/notifications")  # the question's writer hears of the reply
        assert pat.locator("ul.notifications li", has_text="moussa replied to your comment on").count() >= 1
    finally:
        reader.close()
        focal.close()
