"""Stale edits merge when they can: two writers on different paragraphs both keep their text; clashes come
back marked for the writer to resolve, and a save still holding the marks is refused. Through the real app."""
import html as htmllib
import re

import pytest

from kb import notemerge
from kb.history import History
from kb.model import NoteMeta

from .conftest import csrf_token, git, login

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel), by moussa
RESULTS_LINE = "- Average stay in the centre fell from 41 to 19 days."
LESSON_LINE = "2. A fixed weekday matters more than a perfect form"
MARKS = re.compile(r"^<<<<<<< .*\n(?:.*\n)*?=======\n(?:.*\n)*?>>>>>>> .*$", re.M)


@pytest.fixture
def api(client, app):
    users = app.extensions["kb.users"]

    def call(method, path, user=None, body=None):
        headers = {"Authorization": f"Bearer {users.create_token(user)[1]}"} if user else {}
        return client.open(path, method=method, json=body, headers=headers)
    return call


@pytest.fixture
def content(app):
    return app.extensions["kb.wiki"].content_dir


def head(content) -> str:
    return git(content, "rev-parse", "HEAD").strip()


def stored(content) -> str:
    return (content / f"{AGADEZ}.md").read_text(encoding="utf-8")


# --- History.merge_file ---------------------------------------------------------------------------------

def test_merge_file_combines_separate_changes_and_marks_a_clash_with_both_sides_only(tmp_path):
    h = History(tmp_path)
    h.init()
    base = b"One.\n\nTwo.\n\nThree.\n"
    merged, clean = h.merge_file(base, b"One, mine.\n\nTwo.\n\nThree.\n", b"One.\n\nTwo.\n\nThree, theirs.\n")
    assert clean and merged == b"One, mine.\n\nTwo.\n\nThree, theirs.\n"
    merged, clean = h.merge_file(base, b"One.\n\nTwo A.\n\nThree.\n", b"One.\n\nTwo B.\n\nThree.\n",
                                 labels=("your version", "base", "saved by amina"))
    assert not clean
    assert merged == b"One.\n\n<<<<<<< your version\nTwo A.\n=======\nTwo B.\n>>>>>>> saved by amina\n\nThree.\n"
    assert h.merge_file(base, b"bin\x00ary\n", b"One.\n")[0] is None  # git cannot merge it: no text at all
    assert not list((tmp_path / ".git").glob("kb-merge-*"))  # its temporary files are gone


@pytest.mark.parametrize("style", ["diff3", "zdiff3"])
def test_merge_file_ignores_the_users_git_conflict_style(tmp_path, monkeypatch, style):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(f"[merge]\n\tconflictStyle = {style}\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    h = History(tmp_path / "repo")
    h.init()
    merged, clean = h.merge_file(b"One.\n\nTwo.\n", b"One.\n\nTwo A.\n", b"One.\n\nTwo B.\n",
                                 labels=("your version", "base", "saved by amina"))
    assert not clean and b"|||||||" not in merged and b"base" not in merged
    assert merged == b"One.\n\n<<<<<<< your version\nTwo A.\n=======\nTwo B.\n>>>>>>> saved by amina\n"


@pytest.mark.parametrize("body, marked", [
    ("a\n<<<<<<< your version\nx\n=======\ny\n>>>>>>> saved by amina (2026-12-03 10:00 UTC)\nb", True),
    ("<<<<<<< votre version\nx\n=======\n>>>>>>> enregistrée par amina\n", True),
    ("Heading\n=======\n\ntext", False),                       # a setext heading underline
    ("<<<<<<< arrows\n\nno separator\n>>>>>>> arrows", True),  # what is left of a clash is still marks
    (">>>>>>> x\n=======\n<<<<<<< y", True),
    ("text\n<<<<<<< your version\nx\n=======\ny\n", True),     # only the closing mark deleted
    ("x\n=======\ny\n>>>>>>> saved by moussa\n", True),          # only the opening mark deleted
    ("a\n||||||| base\nb\n", True),                               # git's diff3 base mark
    ("text with <<<<<<< inside a line\n    >>>>>>> indented", False),
    ("", False),
])
def test_conflict_marks_are_told_from_markdown(body, marked):
    assert notemerge.has_conflict_marks(body) is marked


def test_only_mark_lines_the_saved_note_did_not_hold_count():
    saved = "A note on git:\n\n<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> branch\n"
    assert not notemerge.has_conflict_marks(saved, saved)
    assert not notemerge.has_conflict_marks(saved + "\nMore.\n", saved)
    again = saved + "\n<<<<<<< your version\nx\n=======\ny\n"  # a new clash's opening mark is left
    assert notemerge.new_conflict_marks(again, saved) == ["<<<<<<< your version"]
    assert notemerge.new_conflict_marks(saved + "\n<<<<<<< HEAD\n", saved) == ["<<<<<<< HEAD"]  # one more


def test_front_matter_merges_field_by_field():
    base = NoteMeta(title="T", language="en", regions=["Niger"], summary="S", authors=["moussa"],
                    extra={"source": "a"})
    ours = base.copy(title="T mine", summary="S both", extra={"source": "a", "mine": 1})
    theirs = base.copy(regions=["Mali"], summary="S both", authors=["moussa", "amina"], extra={})
    merged, clashes = notemerge.merge_meta(base, ours, theirs)
    assert (merged.title, merged.regions, merged.summary) == ("T mine", ["Mali"], "S both") and clashes == []
    assert merged.authors == ["moussa", "amina"] and merged.extra == {"mine": 1}  # theirs removed 'source'
    merged, clashes = notemerge.merge_meta(base, ours, base.copy(title="T theirs"))
    assert clashes == ["title"] and merged.title == "T mine"  # the writer's value, for them to decide


# --- the API --------------------------------------------------------------------------------------------

def test_two_stale_puts_on_different_paragraphs_both_keep_their_text(api, content):
    start = api("GET", f"/api/notes/{AGADEZ}").get_json()
    base, body = start["revision"], start["body"]
    first = api("PUT", f"/api/notes/{AGADEZ}", "moussa",
                {"body": body.replace(RESULTS_LINE, RESULTS_LINE + " (moussa checked)"), "base_revision": base})
    assert first.status_code == 200 and first.get_json()["merged"] is False
    second = api("PUT", f"/api/notes/{AGADEZ}", "admin",
                 {"body": body.replace(LESSON_LINE, LESSON_LINE + " (admin's lesson)"), "base_revision": base,
                  "message": "A lesson"})
    assert second.status_code == 200, second.get_json()
    answer = second.get_json()
    assert answer["merged"] is True and answer["slug"] == AGADEZ and answer["revision"] == head(content)
    text = stored(content)
    assert "(moussa checked)" in text and "(admin's lesson)" in text and "<<<<<<<" not in text
    message = git(content, "log", "-1", "--format=%B")
    assert message.startswith("A lesson") and f"Merged-with: {first.get_json()['revision']}" in message
    assert git(content, "log", "-1", "--format=%an").strip() == "admin"
    got = api("GET", f"/api/notes/{AGADEZ}").get_json()
    assert "(moussa checked)" in got["body"] and "(admin's lesson)" in got["body"]
    assert got["meta"]["authors"] == ["moussa", "admin"]


def test_front_matter_merges_field_by_field_and_a_field_changed_on_both_sides_clashes(api, content):
    base = api("GET", f"/api/notes/{AGADEZ}").get_json()["revision"]
    assert api("PUT", f"/api/notes/{AGADEZ}", "moussa",
               {"meta": {"summary": "Shorter summary."}, "base_revision": base}).status_code == 200
    title = api("PUT", f"/api/notes/{AGADEZ}", "admin", {"meta": {"title": "Agadez BIP"}, "base_revision": base})
    assert title.status_code == 200 and title.get_json()["merged"] is True
    got = api("GET", f"/api/notes/{AGADEZ}").get_json()["meta"]
    assert (got["title"], got["summary"]) == ("Agadez BIP", "Shorter summary.")
    before = head(content)
    clash = api("PUT", f"/api/notes/{AGADEZ}", "admin", {"meta": {"summary": "Another summary."},
                                                          "base_revision": base})
    assert clash.status_code == 409
    error = clash.get_json()["error"]
    assert error["conflicting_fields"] == ["summary"] and error["current_revision"] == before
    assert error["merged_meta"]["summary"] == "Another summary." and error["merged_meta"]["title"] == "Agadez BIP"
    assert head(content) == before and "Shorter summary." in stored(content)


def test_overlapping_puts_get_409_with_the_merged_text_to_resolve(api, content):
    start = api("GET", f"/api/notes/{AGADEZ}").get_json()
    base, body = start["revision"], start["body"]
    ok = api("PUT", f"/api/notes/{AGADEZ}", "moussa",
             {"body": body.replace(RESULTS_LINE, "- Average stay fell to 19 days (moussa)."), "base_revision": base})
    assert ok.status_code == 200
    saved = head(content)
    clash = api("PUT", f"/api/notes/{AGADEZ}", "admin",
                {"body": body.replace(RESULTS_LINE, "- Average stay: 19 days, was 41 (admin)."),
                 "base_revision": base})
    assert clash.status_code == 409
    error = clash.get_json()["error"]
    assert error["status"] == 409 and error["message"] and error["current_revision"] == saved
    merged = error["merged_body"]
    block = MARKS.search(merged).group(0)
    assert block.startswith("<<<<<<< your version\n- Average stay: 19 days, was 41 (admin).\n=======\n"
                            "- Average stay fell to 19 days (moussa).\n>>>>>>> saved by moussa (")
    assert RESULTS_LINE not in merged and "## Lessons" in merged  # the base is not shown, the rest is merged
    assert head(content) == saved and "<<<<<<<" not in stored(content)

    refused = api("PUT", f"/api/notes/{AGADEZ}", "admin", {"body": merged, "base_revision": saved})
    assert refused.status_code == 422
    assert [f["field"] for f in refused.get_json()["error"]["fields"]] == ["body"]
    assert "conflict marks" in refused.get_json()["error"]["fields"][0]["message"]
    assert head(content) == saved  # nothing committed

    resolved = MARKS.sub("- Average stay fell from 41 to 19 days (admin and moussa).", merged)
    done = api("PUT", f"/api/notes/{AGADEZ}", "admin", {"body": resolved, "base_revision": saved})
    assert done.status_code == 200 and done.get_json()["merged"] is False
    text = stored(content)
    assert "(admin and moussa)" in text and "(moussa).\n" not in text and "<<<<<<<" not in text


@pytest.mark.parametrize("removed", ["<<<<<<< ", ">>>>>>> ", "======="])
def test_a_save_with_part_of_the_clash_marks_left_is_refused(api, content, removed):
    start = api("GET", f"/api/notes/{AGADEZ}").get_json()
    base, body = start["revision"], start["body"]
    assert api("PUT", f"/api/notes/{AGADEZ}", "admin",
               {"body": body.replace(RESULTS_LINE, "- Average stay: 19 days (admin)."), "base_revision": base}
               ).status_code == 200
    clash = api("PUT", f"/api/notes/{AGADEZ}", "moussa",
                {"body": body.replace(RESULTS_LINE, "- Average stay fell (moussa)."), "base_revision": base})
    assert clash.status_code == 409
    error = clash.get_json()["error"]
    saved, merged = error["current_revision"], error["merged_body"]
    lines = merged.split("\n")
    kept = [line for line in lines if not line.startswith(removed)]
    assert len(kept) == len(lines) - 1  # exactly one mark line removed
    refused = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"body": "\n".join(kept), "base_revision": saved})
    assert refused.status_code == 422
    assert [f["field"] for f in refused.get_json()["error"]["fields"]] == ["body"]
    assert head(content) == saved
    text = stored(content)
    assert "<<<<<<<" not in text and ">>>>>>>" not in text and "(moussa)" not in text


def test_a_status_change_is_not_merged_over_changes_the_writer_has_not_seen(api, content):
    start = api("GET", f"/api/notes/{AGADEZ}").get_json()
    base = start["revision"]
    api("PUT", f"/api/notes/{AGADEZ}", "moussa",
        {"body": start["body"].replace(RESULTS_LINE, RESULTS_LINE + " New."), "base_revision": base})
    stale = api("PUT", f"/api/notes/{AGADEZ}", "admin", {"meta": {"status": "draft"}, "base_revision": base})
    assert stale.status_code == 409
    assert "New." in stale.get_json()["error"]["merged_body"] and stale.get_json()["error"]["conflicting_fields"] == []
    assert "status: published" in stored(content)


@pytest.mark.parametrize("base", ["0" * 40, "", "not-a-revision"])
def test_an_unknown_base_is_a_conflict_as_before(api, content, base):
    before = head(content)
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"body": "Replaced.\n", "base_revision": base})
    assert resp.status_code in (409, 422) and head(content) == before
    if base != "":
        assert resp.status_code == 409 and "merged_body" not in resp.get_json()["error"]


def test_a_base_of_another_note_is_a_conflict(api, content):
    mali = api("GET", "/api/notes/reintegration-counselling-returnees-mali").get_json()
    other = api("PUT", "/api/notes/reintegration-counselling-returnees-mali", "admin",
                {"body": mali["body"] + "\nMore.\n", "base_revision": mali["revision"]}).get_json()["revision"]
    mine = api("GET", f"/api/notes/{AGADEZ}").get_json()
    assert other != mine["revision"] and other == head(content)
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"body": mine["body"] + "\nMore.\n", "base_revision": other})
    assert resp.status_code == 409 and "merged_body" not in resp.get_json()["error"]


def test_a_setext_heading_underline_is_not_a_conflict_mark(api, content):
    start = api("GET", f"/api/notes/{AGADEZ}").get_json()
    body = "Overview\n=======\n\nArrows <<<<<<< inside a line\n\n" + start["body"]
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"body": body, "base_revision": start["revision"]})
    assert resp.status_code == 200 and "Overview\n=======\n" in stored(content)


# --- the editor -----------------------------------------------------------------------------------------

def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def writer(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    page = text(client.get(f"/notes/{AGADEZ}/edit"))
    base = re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1)
    body = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    note = app.extensions["kb.wiki"].get_note(None, AGADEZ)
    form = {"title": note.meta.title, "language": "en", "regions": note.meta.regions, "topics": note.meta.topics,
            "audience": note.meta.audience, "visibility": "public", "status": "published",
            "summary": note.meta.summary, "base_revision": base, "save": "1"}
    return client, form, body


def save(client, form, **fields):
    token = csrf_token(client, f"/notes/{AGADEZ}/edit")
    return client.post(f"/notes/{AGADEZ}/edit", data={"csrf_token": token, **form, **fields})


def test_two_writers_in_the_editor_on_different_paragraphs_both_keep_their_text(app, content):
    moussa, form_m, body_m = writer(app, "moussa")
    admin, form_a, body_a = writer(app, "admin")
    assert form_m["base_revision"] == form_a["base_revision"]
    first = save(moussa, form_m, body=body_m.replace(RESULTS_LINE, RESULTS_LINE + " (moussa checked)"))
    assert first.status_code == 303
    second = save(admin, form_a, body=body_a.replace(LESSON_LINE, LESSON_LINE + " (admin's lesson)").replace(
        "\n", "\r\n"))  # as a browser sends a textarea
    assert second.status_code == 303 and second.headers["Location"].endswith(f"/notes/{AGADEZ}")
    page = text(admin.get(f"/notes/{AGADEZ}"))
    assert "(moussa checked)" in page and "(admin's lesson)" in page
    assert "yours were merged with theirs and both are kept" in page  # the writer is told, once
    assert "yours were merged" not in text(admin.get(f"/notes/{AGADEZ}"))
    assert "yours were merged" not in text(moussa.get(f"/notes/{AGADEZ}"))
    assert "Merged-with:" in git(content, "log", "-1", "--format=%B")


def test_overlapping_edits_come_back_marked_then_marks_are_refused_then_the_resolved_text_is_kept(app, content):
    moussa, form_m, body_m = writer(app, "moussa")
    admin, form_a, body_a = writer(app, "admin")
    assert save(moussa, form_m, body=body_m.replace(RESULTS_LINE, "- Stay fell to 19 days (moussa).")) \
        .status_code == 303
    saved = head(content)
    resp = save(admin, {**form_a, "summary": "Admin's summary."},
                body=body_a.replace(RESULTS_LINE, "- Stay: 19 days (admin).").replace(LESSON_LINE, LESSON_LINE + "!"))
    page = text(resp)
    assert resp.status_code == 409 and "Nothing was overwritten" in page and "delete the three mark lines" in page
    assert re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1) == saved
    merged = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert MARKS.search(merged).group(0).startswith(
        "<<<<<<< your version\n- Stay: 19 days (admin).\n=======\n- Stay fell to 19 days (moussa).\n"
        ">>>>>>> saved by moussa (")
    assert LESSON_LINE + "!" in merged  # the change that did not clash is already in
    assert ">Admin's summary.</textarea>" in page  # a field only this writer changed keeps its value
    assert head(content) == saved

    form = {**form_a, "summary": "Admin's summary.", "base_revision": saved}
    refused = save(admin, form, body=merged)
    assert refused.status_code == 422 and "conflict marks" in text(refused)
    assert 'id="body-error"' in refused.get_data(as_text=True)
    assert head(content) == saved and "(admin)" not in stored(content)

    done = save(admin, form, body=MARKS.sub("- Stay fell to 19 days (admin's words).", merged))
    assert done.status_code == 303
    note = app.extensions["kb.wiki"].get_note(None, AGADEZ)
    assert "(admin's words)" in note.body and "(moussa)" not in note.body and LESSON_LINE + "!" in note.body
    assert note.meta.summary == "Admin's summary." and "<<<<<<<" not in note.body


def test_a_field_changed_on_both_sides_is_marked_in_the_table_for_the_writer_to_choose(app, content):
    moussa, form_m, body_m = writer(app, "moussa")
    admin, form_a, body_a = writer(app, "admin")
    assert save(moussa, {**form_m, "title": "Agadez: the moussa title"}, body=body_m).status_code == 303
    resp = save(admin, {**form_a, "title": "Agadez: the admin title"},
                body=body_a.replace(LESSON_LINE, LESSON_LINE + "!"))
    page = text(resp)
    assert resp.status_code == 409 and "changed on both sides" in page and "Choose the value to keep" in page
    row = re.search(r'<tr class="clash">(.*?)</tr>', page, re.S).group(1)
    assert "Agadez: the moussa title" in row and "Agadez: the admin title" in row
    merged = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert LESSON_LINE + "!" in merged and "<<<<<<<" not in merged  # the text merged cleanly


def test_the_conflict_page_speaks_the_interface_language_and_keeps_the_marks(app, content):
    moussa, form_m, body_m = writer(app, "moussa")
    admin, form_a, body_a = writer(app, "admin")
    save(moussa, form_m, body=body_m.replace(RESULTS_LINE, "- moussa"))
    admin.set_cookie("lang", "fr")
    resp = save(admin, form_a, body=body_a.replace(RESULTS_LINE, "- admin"))
    merged = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', text(resp), re.S).group(1)
    assert resp.status_code == 409 and "<<<<<<< votre version\n- admin\n=======\n- moussa\n>>>>>>> " in merged
    refused = save(admin, {**form_a, "base_revision": head(content)}, body=merged)
    assert refused.status_code == 422 and "marques de conflit" in text(refused)
