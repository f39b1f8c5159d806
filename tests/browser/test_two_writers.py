"""Two writers open the editor of the same note, each changes a different paragraph, both save: the second
save, made from the older revision, is merged, and the note keeps both paragraphs."""
from __future__ import annotations

import re
import secrets

from ..conftest import PASSWORD


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def new_context(browser, server):
    ctx = browser.new_context(base_url=server.url, locale="en-GB")
    ctx.set_default_timeout(10_000)
    return ctx


def test_two_writers_edit_different_paragraphs_and_both_are_kept(browser, server):
    word = "kbmerge" + secrets.token_hex(3)
    moussa_ctx, admin_ctx = new_context(browser, server), new_context(browser, server)
    try:
        moussa, admin = moussa_ctx.new_page(), admin_ctx.new_page()
        sign_in(moussa, "moussa")
        sign_in(admin, "admin")

        moussa.goto("/notes/new")
        moussa.fill("input[name=title]", f"Shelter rota in Niamey {word}")
        moussa.check("input[name=regions][value=Niger]")
        moussa.fill("textarea[name=body]", f"## Rota\n\nMorning shifts are covered by two volunteers. {word}\n\n"
                                           "## Contacts\n\nThe shelter coordinator answers on weekdays.\n")
        moussa.click("button[name=save]")
        moussa.wait_for_url(re.compile(r"/notes/[a-z0-9-]+$"))
        slug = moussa.url.rsplit("/", 1)[1]

        # both open the editor at the same revision
        for page in (moussa, admin):
            assert page.goto(f"/notes/{slug}/edit").status == 200
        bases = {page.locator("input[name=base_revision]").input_value() for page in (moussa, admin)}
        assert len(bases) == 1 and re.fullmatch(r"[0-9a-f]{40}", bases.pop())

        body = moussa.locator("textarea[name=body]")
        body.fill(body.input_value().replace("two volunteers.", "two volunteers and a night guard."))
        moussa.click("button[name=save]")
        moussa.wait_for_url(f"**/notes/{slug}")

        body = admin.locator("textarea[name=body]")
        body.fill(body.input_value().replace("on weekdays.", "every day, including weekends."))
        admin.click("button[name=save]")
        admin.wait_for_url(f"**/notes/{slug}")  # saved, not sent back to a conflict page
        assert "merged" in admin.locator("p.notice[role=status]").inner_text()  # and told so

        for page in (admin, moussa):
            page.goto(f"/notes/{slug}")
            text = page.locator("article .body").inner_text()
            assert "two volunteers and a night guard." in text
            assert "every day, including weekends." in text
            assert "<<<<<<<" not in text
    finally:
        moussa_ctx.close()
        admin_ctx.close()
