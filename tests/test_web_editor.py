"""The publishing pages through the real app: what a writer, a reviewer and an admin see and can do."""
import csv
import html as htmllib
import io
import re

import pytest

from .conftest import csrf_token, login

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel), by moussa
SAHEL_DRAFT = "profilage-vulnerabilites-donnees-sahel-fr"


def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def base_of(client, slug: str) -> str:
    return client.get(f"/api/notes/{slug}").get_json()["revision"]


def new_note(**fields) -> dict:
    data = {"title": "Water committees in Arlit", "language": "en", "regions": ["Niger"],
            "topics": ["community-planning"], "audience": ["community"], "visibility": "public",
            "status": "draft", "summary": "Committees repaired wells.", "body": "## Context\n\nTwelve wells.\n"}
    data.update(fields)
    return data


def post(client, path: str, data: dict, token_from: str | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from or "/notes/new"), **data})


def test_signed_in_users_see_the_writing_links_and_visitors_are_sent_to_sign_in(client, as_user):
    assert client.get("/notes/new").status_code == 302
    assert "/login" in client.get(f"/notes/{AGADEZ}/edit").headers["Location"]
    page = as_user("pat").get("/").get_data(as_text=True)
    assert 'href="/notes/new"' in page and "My drafts" in page


def test_preview_works_without_javascript_and_keeps_every_field(as_user):
    client = as_user("pat")
    data = new_note(body="Hello **world**, see [[tazkira-documentation-returnees-afghanistan]].\n<script>x</script>",
                    preview="1")
    resp = post(client, "/notes/new", data)
    page = text(resp)
    assert resp.status_code == 200
    assert "<strong>world</strong>" in page and 'class="wikilink"' in page
    assert "<script>x" not in resp.get_data(as_text=True)  # shown back as text, never run
    assert 'value="Water committees in Arlit"' in page and "Hello **world**" in page
    assert 'value="Niger" checked' in page and 'value="community-planning" checked' in page
    assert client.get("/notes/water-committees-in-arlit").status_code == 404  # a preview saves nothing


def test_the_script_refreshes_the_preview_from_a_post_endpoint_and_no_script_is_inline(as_user, client):
    as_user("pat")
    page = client.get("/notes/new").get_data(as_text=True)
    assert re.search(r'<script src="/static/editor\.js[?"]', page) and not re.search(r"<script(?! src)", page)
    assert 'data-preview-url="/editor/preview"' in page
    resp = post(client, "/editor/preview", {"body": "# Title\n\n*one* <img src=x onerror=alert(1)>"})
    assert resp.status_code == 200 and "<em>one</em>" in resp.get_data(as_text=True)
    assert "onerror" not in resp.get_data(as_text=True)
    with client.get(re.search(r'<script src="([^"]+)"', page).group(1)) as js:
        assert js.status_code == 200 and b"fetch(" in js.get_data()


def test_a_new_practice_note_can_start_from_the_structured_template(as_user):
    page = text(as_user("moussa").get("/notes/new?template=practice&language=fr"))
    for heading in ("## Contexte", "## Ce qui a été fait", "## Résultats", "## Leçons", "## Contacts et références"):
        assert heading in page
    assert '<option value="fr" selected>' in page


def test_validation_errors_are_shown_next_to_their_fields_and_the_text_is_kept(as_user):
    client = as_user("pat")
    resp = post(client, "/notes/new", new_note(title="", language="xx", regions=["Atlantis"], body="My long text."))
    page = text(resp)
    assert resp.status_code == 422
    assert re.search(r'id="title"[^>]*aria-invalid="true"', page) and 'id="title-error"' in page
    assert 'id="language-error"' in page and "unknown region or country 'Atlantis'" in page
    assert "My long text." in page and "Committees repaired wells." in page


def test_editor_forms_need_the_csrf_token_and_give_the_text_back(as_user, app):
    client = as_user("moussa")
    resp = client.post("/notes/new", data=new_note(title="Forged", body="Typed on a slow line."))
    assert resp.status_code == 400 and "Typed on a slow line." in text(resp)
    assert 'name="csrf_token"' in text(resp)  # a fresh token: saving again works
    resp = client.post(f"/notes/{AGADEZ}/edit", data={"title": "Forged", "body": "x"})
    assert resp.status_code == 400
    assert client.post(f"/notes/{AGADEZ}/status", data={"status": "draft"}).status_code == 400
    assert client.get(f"/notes/{AGADEZ}").status_code == 200
    assert client.get("/notes/forged").status_code == 404


def test_a_form_posted_after_signing_out_comes_back_with_its_text(client):
    token = csrf_token(client, "/login")  # the session ended: only an anonymous one is left
    resp = client.post(f"/notes/{AGADEZ}/edit", data={"csrf_token": token, **new_note(body="Two hours of typing.")})
    page = text(resp)
    assert resp.status_code == 401 and "You are signed out" in page and "Two hours of typing." in page
    assert f'action="/notes/{AGADEZ}/edit"' in page  # saving again, once signed in, edits the same note
    assert "Two hours of typing." not in text(client.get(f"/notes/{AGADEZ}"))


def test_practitioner_draft_is_submitted_and_published_by_the_right_focal_point(client):
    login(client, "pat")
    resp = post(client, "/notes/new", new_note())
    assert resp.status_code == 303 and resp.headers["Location"] == "/notes/water-committees-in-arlit"
    page = text(client.get("/notes/water-committees-in-arlit"))
    assert "Submit for review" in page and "Publish" not in page and ">draft<" in page
    resp = post(client, "/notes/water-committees-in-arlit/status",
                {"status": "review", "base_revision": base_of(client, "water-committees-in-arlit")})
    assert resp.status_code == 303
    assert "Water committees in Arlit" in text(client.get("/review"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, "amina")  # North Africa: neither sees it nor may act on it
    assert client.get("/notes/water-committees-in-arlit").status_code == 404
    assert "Water committees in Arlit" not in text(client.get("/review"))
    assert post(client, "/notes/water-committees-in-arlit/status", {"status": "published"}).status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client, "moussa")
    waiting = text(client.get("/review"))
    assert "Waiting for review" in waiting and "Water committees in Arlit" in waiting
    page = text(client.get("/notes/water-committees-in-arlit"))
    assert "Publish" in page and "Return to draft" in page
    resp = post(client, "/notes/water-committees-in-arlit/status",
                {"status": "published", "base_revision": base_of(client, "water-committees-in-arlit")})
    assert resp.status_code == 303
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/notes/water-committees-in-arlit").status_code == 200  # public now
    assert "Water committees in Arlit" in text(client.get("/search?q=Arlit+wells"))
    history = text(client.get("/notes/water-committees-in-arlit/history"))
    # the public sees the revisions it may read: the published one, not the draft and review stages
    assert "review → published" in history and "draft → review" not in history
    login(client, "moussa")
    history = text(client.get("/notes/water-committees-in-arlit/history"))
    assert "review → published" in history and "draft → review" in history
    assert [m for m in ("moussa", "pat") if m in history] == ["moussa", "pat"]


def test_a_focal_point_of_another_region_may_read_but_not_edit(as_user):
    client = as_user("amina")
    assert client.get(f"/notes/{AGADEZ}").status_code == 200
    assert "Edit</a>" not in text(client.get(f"/notes/{AGADEZ}"))
    assert client.get(f"/notes/{AGADEZ}/edit").status_code == 403
    assert client.get(f"/notes/{SAHEL_DRAFT}/edit").status_code == 404  # a draft she may not read


def test_a_stale_edit_is_refused_with_both_versions_and_the_differences(as_user, app):
    client = as_user("moussa")
    page = text(client.get(f"/notes/{AGADEZ}/edit"))
    base = re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1)
    wiki = app.extensions["kb.wiki"]
    note = wiki.get_note(None, AGADEZ)
    theirs = note.body.replace("Agadez remains", "Agadez is still", 1)
    wiki.save(app.extensions["kb.users"].by_username("admin"), AGADEZ, note.meta, theirs, base)
    mine = note.body.replace("In 2025 the transit centre", "In 2025 the centre", 1)
    form = {"title": note.meta.title, "language": "en", "regions": note.meta.regions, "topics": note.meta.topics,
            "audience": note.meta.audience, "visibility": "public", "status": "published",
            "summary": note.meta.summary, "body": mine, "base_revision": base, "save": "1"}
    resp = post(client, f"/notes/{AGADEZ}/edit", form, token_from=f"/notes/{AGADEZ}/edit")
    page = text(resp)
    assert resp.status_code == 409 and "changed since you started" in page and "Nothing was overwritten" in page
    assert "<del>is still</del><ins>remains</ins>" in page or "<del>is still</del>" in page
    assert "<del>transit </del>" in page or "<ins>transit" not in page
    assert "In 2025 the centre" in page and "Agadez is still" in page  # mine in the form, theirs shown too
    assert "Agadez is still" in wiki.get_note(None, AGADEZ).body  # nothing overwritten
    new_base = re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1)
    assert new_base == wiki.revision_of(AGADEZ) != base
    merged = theirs.replace("In 2025 the transit centre", "In 2025 the centre", 1)
    resp = post(client, f"/notes/{AGADEZ}/edit", {**form, "body": merged, "base_revision": new_base},
                token_from=f"/notes/{AGADEZ}/edit")
    assert resp.status_code == 303
    body = wiki.get_note(None, AGADEZ).body
    assert "Agadez is still" in body and "In 2025 the centre" in body


def test_publishing_personal_data_needs_a_reason_that_is_recorded(as_user, app):
    client = as_user("moussa")
    data = new_note(status="published", body="Intro.\n\nWhatsApp the guardian: +227 96 12 34 56.\n")
    resp = post(client, "/notes/new", data)
    page = text(resp)
    assert resp.status_code == 422 and "may contain personal data" in page
    assert "line 3" in page and "+227 96 12 34 56" in page and "WhatsApp the guardian" in page
    assert client.get("/notes/water-committees-in-arlit").status_code == 404
    resp = post(client, "/notes/new", {**data, "confirm_personal_data": "public hotline of the ministry"})
    assert resp.status_code == 303
    history = text(client.get("/notes/water-committees-in-arlit/history"))
    assert "public hotline of the ministry" in history
    entries = app.extensions["kb.users"].audit_entries()
    assert ("personal_data_confirmed", "water-committees-in-arlit", "public hotline of the ministry") in \
        [(e.action, e.target, e.detail) for e in entries]


def test_history_diff_and_restore(as_user, app):
    client = as_user("moussa")
    wiki = app.extensions["kb.wiki"]
    original = wiki.get_note(None, AGADEZ).body
    form = {"title": "Best-interests procedure in Agadez", "language": "en", "regions": ["Niger"],
            "visibility": "public", "status": "published", "body": original.replace("41 days", "forty-one days"),
            "base_revision": base_of(client, AGADEZ), "message": "Spell out the number"}
    assert post(client, f"/notes/{AGADEZ}/edit", form, token_from=f"/notes/{AGADEZ}/edit").status_code == 303
    history = text(client.get(f"/notes/{AGADEZ}/history"))
    assert "Spell out the number" in history
    diff_link = re.search(r'href="(/notes/[^"]+/diff\?to=[0-9a-f]+)"', history).group(1)
    diff = text(client.get(diff_link))
    assert "<del>41</del><ins>forty-one</ins>" in diff and "<del>for unaccompanied children </del>" in diff
    old_rev = re.findall(r'/revisions/([0-9a-f]{40})"', history)[1]
    page = text(client.get(f"/notes/{AGADEZ}/revisions/{old_rev}"))
    assert "Restore this revision" in page and "41 days" in page
    base = re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1)
    resp = post(client, f"/notes/{AGADEZ}/revisions/{old_rev}/restore", {"base_revision": base},
                token_from=f"/notes/{AGADEZ}")
    assert resp.status_code == 303
    assert wiki.get_note(None, AGADEZ).body == original
    assert "restores" in text(client.get(f"/notes/{AGADEZ}/history"))
    assert "Restore this revision" not in text(as_user("pat").get(f"/notes/{AGADEZ}/revisions/{old_rev}"))


def test_rename_keeps_history_and_the_old_address_redirects(as_user):
    client = as_user("moussa")
    page = text(client.get(f"/notes/{AGADEZ}/rename"))
    base = re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1)
    bad = post(client, f"/notes/{AGADEZ}/rename", {"new_slug": "Not A Slug", "base_revision": base},
               token_from=f"/notes/{AGADEZ}")
    assert bad.status_code == 422 and "lowercase" in text(bad)
    resp = post(client, f"/notes/{AGADEZ}/rename", {"new_slug": "agadez-children", "base_revision": base},
                token_from=f"/notes/{AGADEZ}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/notes/agadez-children"
    old = client.get(f"/notes/{AGADEZ}")
    assert old.status_code == 301 and old.headers["Location"] == "/notes/agadez-children"
    assert client.get(f"/notes/{AGADEZ}/history").headers["Location"] == "/notes/agadez-children/history"
    assert client.get(f"/api/notes/{AGADEZ}").status_code == 301
    history = text(client.get("/notes/agadez-children/history"))
    assert "Rename unaccompanied-children-best-interests-agadez to agadez-children" in history
    assert len(re.findall(r"/revisions/[0-9a-f]{40}", history)) >= 2
    first = re.findall(r"/revisions/([0-9a-f]{40})", history)[-1]
    assert client.get(f"/notes/agadez-children/revisions/{first}").status_code == 200  # from before the rename


def test_delete_is_soft_and_an_admin_can_undo_it(client, app):
    login(client, "moussa")
    assert "Delete" in text(client.get(f"/notes/{AGADEZ}"))
    resp = post(client, f"/notes/{AGADEZ}/delete", {"reason": "duplicate"}, token_from=f"/notes/{AGADEZ}/delete")
    assert resp.status_code == 303
    for path in (f"/notes/{AGADEZ}", f"/notes/{AGADEZ}/history", f"/api/notes/{AGADEZ}"):
        assert client.get(path).status_code == 404
    assert client.get("/admin/deleted-notes").status_code == 404  # not for focal points
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "admin")
    assert client.get(f"/notes/{AGADEZ}").status_code == 404  # gone for admins too, until undone
    page = text(client.get("/admin/deleted-notes"))
    assert "Best-interests procedure" in page and "moussa" in page and "duplicate" in page
    action = re.search(r'action="(/admin/deleted-notes/[^"]+/restore)"', page).group(1)
    resp = post(client, action, {}, token_from="/admin/deleted-notes")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/notes/{AGADEZ}"
    assert client.get(f"/notes/{AGADEZ}").status_code == 200
    assert "No note has been deleted" in text(client.get("/admin/deleted-notes"))


def test_every_write_is_in_the_audit_log_which_admins_read_and_export(client, app):
    login(client, "moussa")
    post(client, "/notes/new", new_note(status="published"))
    post(client, "/notes/water-committees-in-arlit/status",
         {"status": "draft", "base_revision": base_of(client, "water-committees-in-arlit")})
    post(client, "/notes/water-committees-in-arlit/rename",
         {"new_slug": "arlit", "base_revision": base_of(client, "water-committees-in-arlit")},
         token_from="/notes/water-committees-in-arlit/rename")
    post(client, "/notes/arlit/delete", {}, token_from="/notes/arlit/delete")
    assert client.get("/admin/audit").status_code == 404 and client.get("/admin/audit.csv").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "admin")
    page = text(client.get("/admin/audit"))
    for action in ("note_create", "status_change", "note_rename", "note_delete", "login"):
        assert f'data-event="{action}"' in page
    resp = client.get("/admin/audit.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert ("moussa", "status_change", "water-committees-in-arlit", "published -> draft") in \
        [(r["actor"], r["action"], r["target"], r["detail"]) for r in rows]


@pytest.mark.parametrize("path", ["/notes/new", f"/notes/{AGADEZ}/edit", f"/notes/{AGADEZ}/rename",
                                  f"/notes/{AGADEZ}/delete", "/review"])
def test_writing_pages_load_for_a_focal_point(as_user, path):
    resp = as_user("moussa").get(path)
    assert resp.status_code == 200 and 'name="csrf_token"' in resp.get_data(as_text=True) or path == "/review"


def test_text_for_a_note_deleted_meanwhile_can_be_saved_as_a_new_note(as_user, app):
    client = as_user("moussa")
    base = base_of(client, AGADEZ)
    app.extensions["kb.wiki"].delete(app.extensions["kb.users"].by_username("admin"), AGADEZ)
    resp = post(client, f"/notes/{AGADEZ}/edit", new_note(body="My careful rewrite.", base_revision=base))
    page = text(resp)
    assert resp.status_code == 404 and "no longer here" in page and "My careful rewrite." in page
    assert 'action="/notes/new"' in page
