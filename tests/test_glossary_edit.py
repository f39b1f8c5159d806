"""The glossary in the app: read by everyone at /glossary, edited by admins and focal points (a commit with
history and an audit entry), checked on save (a bad line is named, nothing is written), and used by the
next search without a restart."""
from __future__ import annotations

import re

import pytest

from kb.search.glossary import GlossaryError, parse

from .conftest import csrf_token, git

NEW_ENTRY = "- {en: itinerant hearings, fr: audiences foraines}\n"


def glossary_form(client) -> tuple[str, str]:
    """(csrf token, base revision) of the edit form."""
    html = client.get("/glossary/edit").get_data(as_text=True)
    base = re.search(r'name="base_revision" value="([^"]*)"', html).group(1)
    return csrf_token(client, "/glossary/edit"), base


@pytest.fixture
def content(site):
    return site / "content"


def save(client, text: str, base: str | None = None, message: str = "mobile courts"):
    token, current_base = glossary_form(client)
    return client.post("/glossary/edit", data={"csrf_token": token, "text": text, "message": message,
                                                "base_revision": current_base if base is None else base})


def search(client, q: str) -> dict:
    return client.get("/api/search", query_string={"q": q}).get_json()


def test_everyone_reads_the_glossary_and_its_history(client):
    page = client.get("/glossary").get_data(as_text=True)
    assert "enregistrement des naissances" in page and "تسجيل المواليد" in page
    assert 'href="/glossary/edit"' not in page  # no edit link for a reader who may not edit
    assert client.get("/glossary/history").status_code == 200
    assert client.get("/glossary/history/" + "0" * 40).status_code == 404


@pytest.mark.parametrize("who", ["pat"])
def test_readers_who_are_not_focal_points_may_not_edit(as_user, content, who):
    client = as_user(who)
    before = (content / "glossary.yml").read_bytes()
    assert client.get("/glossary/edit").status_code == 403
    token = csrf_token(client, "/account")
    resp = client.post("/glossary/edit", data={"csrf_token": token, "text": NEW_ENTRY, "base_revision": ""})
    assert resp.status_code == 403
    assert (content / "glossary.yml").read_bytes() == before


def test_anonymous_readers_are_sent_to_sign_in(client):
    resp = client.get("/glossary/edit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_focal_point_edit_changes_the_expansion_at_the_next_search(as_user, content):
    client = as_user("moussa")
    assert search(client, "itinerant hearings")["expanded"] == []
    text = (content / "glossary.yml").read_text(encoding="utf-8")
    resp = save(client, text + NEW_ENTRY)
    assert resp.status_code == 303
    data = search(client, "itinerant hearings")
    assert data["expanded"][0]["terms"]["fr"] == ["audiences foraines"]
    assert "audiences-foraines-etat-civil-tchad-fr" in [h["slug"] for h in data["hits"]]
    # a commit by moussa, shown in the glossary's history, and audited
    assert git(content, "log", "-1", "--format=%an %s", "--", "glossary.yml").strip() == \
        "moussa Glossary: mobile courts"
    history = client.get("/glossary/history").get_data(as_text=True)
    assert "moussa" in history and "mobile courts" in history
    rev = git(content, "log", "-1", "--format=%H").strip()
    assert "itinerant hearings" in client.get(f"/glossary/history/{rev}").get_data(as_text=True)
    as_user("admin")
    audit = client.get("/admin/audit?event=glossary_save").get_data(as_text=True)
    assert "Glossary changed" in audit and "moussa" in audit


@pytest.mark.parametrize("bad, line, reason", [
    ("- {en: water, fr: eau}\n- {en: shelter}\n", 2, "at least two languages"),
    ("- {en: water, fr: eau}\n- {en: water, fr: [eau\n", 3, "not valid YAML"),
    ("- {en: water, fr: eau}\n  fr: eau\n", 2, "one line"),
])
def test_a_bad_glossary_is_refused_with_its_line_and_nothing_is_written(as_user, content, bad, line, reason):
    client = as_user("admin")
    before, head = (content / "glossary.yml").read_bytes(), git(content, "rev-parse", "HEAD")
    resp = save(client, bad)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f"line {line}" in page and reason in page
    assert "{en: shelter}" in page or "[eau" in page or "fr: eau" in page  # the text is kept to fix
    assert (content / "glossary.yml").read_bytes() == before and git(content, "rev-parse", "HEAD") == head


def test_the_error_is_in_the_readers_language(as_user, content):
    client = as_user("amina")
    client.get("/lang/fr")
    page = save(client, "- {en: shelter}\n").get_data(as_text=True)
    assert "ligne 1" in page


def test_a_glossary_changed_meanwhile_is_not_overwritten(as_user, content):
    client = as_user("layla")
    text = (content / "glossary.yml").read_text(encoding="utf-8")
    token, base = glossary_form(client)
    assert save(client, text + NEW_ENTRY).status_code == 303  # someone else's save
    resp = client.post("/glossary/edit", data={"csrf_token": token, "text": text, "base_revision": base})
    assert resp.status_code == 422
    assert "itinerant hearings" in (content / "glossary.yml").read_text(encoding="utf-8")


def test_an_entry_over_several_lines_is_named_at_load():
    with pytest.raises(GlossaryError) as err:
        parse("# c\n- {en: water, fr: eau}\n- en: shelter\n  fr: abri\n")
    assert "line 4" in str(err.value)


def test_a_glossary_file_broken_outside_kb_is_reported_with_its_line(client, content):
    (content / "glossary.yml").write_text("- {en: water, fr: eau}\n- {en: shelter}\n", encoding="utf-8")
    page = client.get("/glossary").get_data(as_text=True)
    assert "line 2" in page and "at least two languages" in page
    assert client.get("/api/search", query_string={"q": "water"}).status_code == 200


def test_personal_data_in_the_public_glossary_is_refused_with_its_line(as_user, content):
    client = as_user("admin")
    before = (content / "glossary.yml").read_bytes()
    resp = save(client, "- {en: water, fr: eau}\n- {en: call +33 6 12 34 56 78, fr: appeler}\n")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "line 2" in page and "phone number" in page
    assert (content / "glossary.yml").read_bytes() == before
