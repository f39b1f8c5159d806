"""A practitioner asks a question under a note, the note's focal point replies and marks it resolved; the
public sees none of it. Without JavaScript: the forms and the reply's <details> work as they are."""
from __future__ import annotations

import secrets

from .a11y import axe_violations, report
from .test_focal_point import sign_in

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, Niger: moussa's region


def test_a_question_a_reply_and_resolved_without_javascript(browser, server):
    word = "kbcomment" + secrets.token_hex(3)
    ctx = browser.new_context(base_url=server.url, locale="en-GB", java_script_enabled=False)
    ctx.set_default_timeout(10_000)
    try:
        page = ctx.new_page()
        sign_in(page, "pat")
        page.goto(f"/notes/{AGADEZ}")
        page.fill("#comment-body", f"Did this work in **Arlit** too? {word}")
        page.click(".comment-form button[type=submit]")
        page.wait_for_url(f"**/notes/{AGADEZ}#comment-*")
        thread = page.locator("section.comments article.comment").filter(has_text=word)
        assert thread.locator(".comment-body strong").inner_text() == "Arlit"

        page.context.clear_cookies()
        sign_in(page, "moussa")
        page.goto(f"/notes/{AGADEZ}")
        thread = page.locator("section.comments article.comment").filter(has_text=word)
        thread.locator("summary").click()  # the reply form opens without script
        thread.locator("textarea[name=body]").fill("Yes: the same committee met in Arlit.")
        thread.locator("details button[type=submit]").click()
        page.wait_for_url(f"**/notes/{AGADEZ}#comment-*")
        thread = page.locator("section.comments article.comment").filter(has_text=word)
        assert "the same committee met in Arlit" in thread.locator(".replies").inner_text()
        thread.locator("button", has_text="Mark resolved").click()
        page.wait_for_url(f"**/notes/{AGADEZ}#comment-*")
        thread = page.locator("section.comments article.comment.resolved").filter(has_text=word)
        assert "resolved" in thread.locator(".comment-meta").first.inner_text()

        page.context.clear_cookies()
        page.goto(f"/notes/{AGADEZ}")
        assert word not in page.content() and page.locator("section.comments").count() == 0
    finally:
        ctx.close()


def test_the_comments_section_is_accessible(browser, server):
    """axe-core (WCAG 2.2 AA) on a note page with a thread, its reply form open, for a signed-in reader."""
    ctx = browser.new_context(base_url=server.url, locale="ar")
    ctx.set_default_timeout(10_000)
    try:
        page = ctx.new_page()
        sign_in(page, "moussa")
        page.goto(f"/notes/{AGADEZ}")
        page.fill("#comment-body", "هل نجح هذا في أرليت أيضًا؟")
        page.click(".comment-form button[type=submit]")
        page.wait_for_url(f"**/notes/{AGADEZ}#comment-*")
        page.locator("section.comments summary").first.click()
        violations = axe_violations(page)
        assert violations == [], report(violations)
    finally:
        ctx.close()
