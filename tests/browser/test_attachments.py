"""A focal point uploads a phone photo in the editor and sees it on the note page, its GPS tag gone."""
from __future__ import annotations

import io
import re
import secrets

from PIL import Image

from ..attachment_files import photo_with_gps
from .a11y import axe_violations, report
from .test_focal_point import sign_in


def test_focal_point_uploads_a_photo_in_the_editor_and_sees_it_on_the_note(context, tmp_path):
    page = context.new_page()
    sign_in(page, "moussa")
    word = "kbphoto" + secrets.token_hex(3)
    page.goto("/notes/new")
    page.fill("input[name=title]", f"Community map of Agadez {word}")
    page.check("input[name=regions][value=Niger]")
    page.check("input[name=topics][value=child-protection]")
    page.fill("textarea[name=body]", f"## Context\n\nThe committee drew the map. {word}\n")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r"/notes/[a-z0-9-]+$"))
    slug = page.url.rsplit("/", 1)[1]

    page.goto(f"/notes/{slug}/edit")
    photo = tmp_path / "IMG_2041 community map.jpg"
    photo.write_bytes(photo_with_gps(2400, 1800, orientation=6))
    page.set_input_files("input[type=file][name=file]", str(photo))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(rf"/notes/{slug}/edit"))
    assert "Added img-2041-community-map.jpg" in page.locator("#attachments").inner_text()
    violations = axe_violations(page)  # the editor with its files section stays accessible
    assert not violations, report(violations)

    body = page.locator("textarea[name=body]")
    body.fill(body.input_value() + "\n![Community map](files/img-2041-community-map.jpg)\n")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(rf"/notes/{slug}$"))

    shown = page.locator("article .body img[alt='Community map']")
    shown.wait_for()
    assert shown.evaluate("img => img.complete && img.naturalWidth") == 1200  # upright, 1,600 px at most
    thumb = page.locator("section.attachments img.thumb")
    assert thumb.evaluate("img => img.complete && Math.max(img.naturalWidth, img.naturalHeight)") == 400
    assert "JPEG photo" in page.locator("section.attachments").inner_text()
    served = page.request.get(shown.get_attribute("src"))
    assert served.ok and not Image.open(io.BytesIO(served.body())).getexif()  # no GPS, no EXIF at all
    violations = axe_violations(page)
    assert not violations, report(violations)
    assert context.outside == []
