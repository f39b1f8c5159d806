"""Comments on notes, through the real app: signed-in readers of a note comment and reply (one level deep),
writers edit for 15 minutes, writers / the note's focal points / admins delete and mark resolved; comments are
never public and a reader who may not read the note gets 404 on every comment route."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest

from .conftest import csrf_token, login

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel: moussa)
LIBYA = "safe-house-referral-protocol-libya"  # restricted, Libya (North Africa: amina)
SECRET = "quillfeather"  # a word no note holds


@pytest.fixture
def signed(app):
    """A test client signed in as one of the accounts: signed('pat')."""
    clients = {}

    def get(name: str):
        if name not in clients:
            client = app.test_client()
            assert login(client, name).status_code == 302
            clients[name] = client
        return clients[name]
    return get


@pytest.fixture
def api(app):
    """JSON calls with a bearer token: api('POST', path, 'pat', {...}); no user: the public."""
    users, client, tokens = app.extensions["kb.users"], app.test_client(), {}

    def call(method, path, user=None, body=None, **kwargs):
        if user and user not in tokens:
            tokens[user] = users.create_token(user)[1]
        headers = {"Authorization": f"Bearer {tokens[user]}"} if user else {}
        return client.open(path, method=method, json=body, headers=headers, **kwargs)
    return call


@pytest.fixture
def clock(app):
    """The comments' clock, moved by hand (the edit window), never by sleeping."""
    now = [dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)]
    app.extensions["kb.comments"].store.clock = lambda: now[0]
    return now


def comment(api, slug, user, body, reply_to=None) -> dict:
    sent = {"body": body, **({"reply_to": reply_to} if reply_to else {})}
    resp = api("POST", f"/api/notes/{slug}/comments", user, sent)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def form(client, path: str, **fields):
    token = csrf_token(client, "/account")
    return client.post(path, data={"csrf_token": token, **fields})


def listed(api, slug, user) -> dict:
    resp = api("GET", f"/api/notes/{slug}/comments", user)
    assert resp.status_code == 200
    return resp.get_json()


# --- writing and reading ----------------------------------------------------------------------------------
def test_a_reader_comments_and_a_focal_point_replies_on_the_note_page(signed):
    pat, moussa = signed("pat"), signed("moussa")
    resp = form(pat, f"/notes/{AGADEZ}/comments", body="Did this work in **Agadez** too?")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/notes/{AGADEZ}#comment-1")
    page = moussa.get(f"/notes/{AGADEZ}").get_data(as_text=True)
    assert "1 comment" in page and "Did this work in <strong>Agadez</strong> too?" in page
    assert form(moussa, f"/notes/{AGADEZ}/comments", body="Yes, since March.", reply_to="1").status_code == 303
    page = pat.get(f"/notes/{AGADEZ}").get_data(as_text=True)
    assert "2 comments" in page
    thread = re.search(r'<article class="comment" id="comment-1">.*?</article>', page, re.S).group(0)
    assert 'id="comment-2"' in thread and "Yes, since March." in thread  # the reply sits in its thread


def test_the_api_lists_threads_with_the_source_for_its_writer_only(api):
    first = comment(api, AGADEZ, "pat", "A question about *referrals*.")
    assert first["author"] == "pat" and first["body_html"] == "<p>A question about <em>referrals</em>.</p>"
    assert first["reply_to"] is None and first["resolved"] is False and first["edited"] is None
    comment(api, AGADEZ, "moussa", "An answer.", reply_to=first["id"])
    mine, theirs = listed(api, AGADEZ, "pat"), listed(api, AGADEZ, "moussa")
    assert mine["count"] == theirs["count"] == 2
    assert mine["comments"][0]["body"] == "A question about *referrals*."
    assert "body" not in theirs["comments"][0]  # not moussa's comment: the rendered text only
    assert [r["body_html"] for r in theirs["comments"][0]["replies"]] == ["<p>An answer.</p>"]
    assert theirs["comments"][0]["replies"][0]["body"] == "An answer."


def test_bad_input_is_a_clear_400_and_changes_nothing(api):
    first = comment(api, AGADEZ, "pat", "Hello")
    cases = [
        ({"body": ""}, "empty"), ({"body": "   \n"}, "empty"), ({"body": 42}, "must be text"), ({}, "must be text"),
        ({"body": "x" * 10_001}, "too long"),
        ({"body": " ".join(f"[[n{i}]]" for i in range(51))}, "links to too many notes: at most 50"), ({"body": "hi", "reply_to": "first"}, "number of a comment"),
        ({"body": "hi", "reply_to": 999}, "no comment 999"), ({"body": "hi", "reply_to": [1]}, "number of a comment"),
    ]
    for body, says in cases:
        resp = api("POST", f"/api/notes/{AGADEZ}/comments", "pat", body)
        assert resp.status_code == 400 and says in resp.get_json()["error"]["message"], body
    not_json = api("POST", f"/api/notes/{AGADEZ}/comments", "pat", None, data="body=hi")
    assert not_json.status_code == 400 and "JSON object" in not_json.get_json()["error"]["message"]
    assert listed(api, AGADEZ, "pat")["count"] == 1 and listed(api, AGADEZ, "pat")["comments"][0]["id"] == first["id"]


def test_a_refused_form_keeps_the_text(signed):
    pat = signed("pat")
    resp = form(pat, f"/notes/{AGADEZ}/comments", body="  ")
    assert resp.status_code == 400 and "the comment is empty" in resp.get_data(as_text=True)
    long = "word " * 2001
    resp = form(pat, f"/notes/{AGADEZ}/comments", body=long)
    assert resp.status_code == 400 and "at most 10000 characters" in resp.get_data(as_text=True)
    assert long.strip() in resp.get_data(as_text=True)


def test_replies_go_one_level_deep(api):
    top = comment(api, AGADEZ, "pat", "Question")
    reply = comment(api, AGADEZ, "moussa", "Answer", reply_to=top["id"])
    deeper = api("POST", f"/api/notes/{AGADEZ}/comments", "pat", {"body": "Thanks", "reply_to": reply["id"]})
    assert deeper.status_code == 400
    assert deeper.get_json()["error"]["message"] == (f"replies go one level deep: reply to comment {top['id']}, "
                                                     "which starts the thread")
    other = comment(api, "reintegration-counselling-returnees-mali", "pat", "Elsewhere")
    across = api("POST", f"/api/notes/{AGADEZ}/comments", "pat", {"body": "x", "reply_to": other["id"]})
    assert across.status_code == 400
    assert f"no comment {other['id']} on this note" in across.get_json()["error"]["message"]
    assert listed(api, AGADEZ, "pat")["count"] == 2


# --- never public, and 404 for readers who may not read the note --------------------------------------------
def test_comments_are_never_public(app, api, signed, client):
    comment(api, AGADEZ, "pat", f"The {SECRET} approach worked in Velmora.")
    assert SECRET in signed("moussa").get(f"/notes/{AGADEZ}").get_data(as_text=True)
    page = client.get(f"/notes/{AGADEZ}")
    assert page.status_code == 200 and SECRET not in page.get_data(as_text=True)
    assert 'id="comments"' not in page.get_data(as_text=True)  # no section, no count
    assert client.get(f"/notes/{AGADEZ}/comments").status_code == 302  # sign in first
    assert api("GET", f"/api/notes/{AGADEZ}/comments").status_code == 401
    # a write without a token is a cookie session's, checked for CSRF first like every API write: refused
    assert api("POST", f"/api/notes/{AGADEZ}/comments", None, {"body": "anonymous"}).status_code == 400
    assert listed(api, AGADEZ, "pat")["count"] == 1
    for path in ("/feeds/all.atom", "/feeds/regions/sahel.atom", "/feeds/topics/child-protection.atom",
                 "/sitemap.xml", "/search?q=Velmora", "/api/search?q=Velmora", f"/notes/{AGADEZ}/raw",
                 f"/api/notes/{AGADEZ}"):
        for reader in (client, signed("pat")):
            resp = reader.get(path)
            assert resp.status_code == 200 and SECRET not in resp.get_data(as_text=True), path
    for reader in (None, "pat"):  # not in search, signed in either
        assert api("GET", f"/api/search?q={SECRET}", reader).get_json()["total"] == 0
    assert '<ol class="hits">' not in signed("pat").get(f"/search?q={SECRET}").get_data(as_text=True)
    for reader, query in ((client, ""), (signed("pat"), "?internal=1")):
        pack = reader.get(f"/regions/sahel/export.zip{query}")
        assert pack.status_code == 200
        data = pack.get_data()
        pack.close()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert any(AGADEZ in name for name in zf.namelist())
            assert not any(SECRET.encode() in zf.read(name) for name in zf.namelist())


def test_readers_who_may_not_read_the_note_get_404_on_every_comment_route(api, signed):
    first = comment(api, LIBYA, "amina", f"Restricted talk: {SECRET}")
    cid = first["id"]
    ghost = "no-such-note-here"
    for name in ("pat", "moussa"):
        client = signed(name)
        for slug in (LIBYA, ghost):
            assert client.get(f"/notes/{slug}/comments").status_code == 404
            assert client.get(f"/notes/{slug}/comments/{cid}/edit").status_code == 404
            for action, data in (("comments", {"body": "x"}), (f"comments/{cid}/edit", {"body": "x"}),
                                 (f"comments/{cid}/delete", {}), (f"comments/{cid}/resolve", {"resolved": "1"})):
                resp = form(client, f"/notes/{slug}/{action}", **data)
                assert resp.status_code == 404 and SECRET not in resp.get_data(as_text=True), (name, slug, action)
            assert api("GET", f"/api/notes/{slug}/comments", name).status_code == 404
            assert api("POST", f"/api/notes/{slug}/comments", name, {"body": "x"}).status_code == 404
        assert api("GET", f"/api/notes/{LIBYA}/comments", name).get_data() == \
            api("GET", f"/api/notes/{ghost}/comments", name).get_data().replace(ghost.encode(), LIBYA.encode())
    assert api("GET", f"/api/notes/{LIBYA}/comments").status_code == 404  # the public: 404, not 401
    after = listed(api, LIBYA, "admin")
    assert after["count"] == 1 and after["comments"][0]["body_html"] == f"<p>Restricted talk: {SECRET}</p>"


def test_a_comment_id_of_another_note_is_404(api, signed, clock):
    other = comment(api, "reintegration-counselling-returnees-mali", "pat", "Elsewhere")
    pat = signed("pat")
    assert pat.get(f"/notes/{AGADEZ}/comments/{other['id']}/edit").status_code == 404
    assert form(pat, f"/notes/{AGADEZ}/comments/{other['id']}/delete").status_code == 404
    assert listed(api, "reintegration-counselling-returnees-mali", "pat")["count"] == 1


# --- rendering: the notes' renderer and sanitiser -----------------------------------------------------------
def test_hostile_html_in_a_comment_is_sanitised(api, signed):
    hostile = ('<script>alert(1)</script><img src=x onerror="alert(2)"> [click](javascript:alert(3)) '
               '<a href="data:text/html,x" onclick="alert(4)">x</a><iframe src="https://evil.example"></iframe>')
    body_html = comment(api, AGADEZ, "pat", hostile)["body_html"]
    page = signed("moussa").get(f"/notes/{AGADEZ}").get_data(as_text=True)
    shown = re.search(r'<div class="comment-body" dir="auto">(.*?)</div>', page, re.S).group(1)
    for html in (body_html, shown):
        lowered = html.lower()
        assert "<script" not in lowered and "onerror" not in lowered and "onclick" not in lowered
        assert "javascript:" not in lowered and "data:text" not in lowered and "<iframe" not in lowered


def test_links_to_notes_the_reader_may_not_open_are_masked_as_in_notes(api):
    comment(api, AGADEZ, "amina", f"See [[{LIBYA}]] and [[{LIBYA}|the Libya protocol]].")
    for_amina = listed(api, AGADEZ, "amina")["comments"][0]["body_html"]
    for_pat = listed(api, AGADEZ, "pat")["comments"][0]["body_html"]
    assert f'href="/notes/{LIBYA}"' in for_amina
    assert LIBYA not in for_pat and "Safe" not in for_pat
    assert '<a class="wikilink missing">unavailable note</a>' in for_pat
    assert '<a class="wikilink missing">the Libya protocol</a>' in for_pat


# --- edit, delete, resolve ---------------------------------------------------------------------------------
def test_the_writer_edits_within_15_minutes_only(api, signed, clock):
    first = comment(api, AGADEZ, "pat", "First words")
    pat, moussa = signed("pat"), signed("moussa")
    assert moussa.get(f"/notes/{AGADEZ}/comments/{first['id']}/edit").status_code == 403  # not the writer
    assert form(moussa, f"/notes/{AGADEZ}/comments/{first['id']}/edit", body="Hijacked").status_code == 403
    clock[0] += dt.timedelta(minutes=14, seconds=59)
    assert "First words" in pat.get(f"/notes/{AGADEZ}/comments/{first['id']}/edit").get_data(as_text=True)
    assert form(pat, f"/notes/{AGADEZ}/comments/{first['id']}/edit", body="Better words").status_code == 303
    shown = listed(api, AGADEZ, "pat")["comments"][0]
    assert shown["body"] == "Better words" and shown["edited"] == clock[0].isoformat() and shown["may_edit"]
    clock[0] += dt.timedelta(seconds=2)  # 15 minutes and 1 second after writing
    assert listed(api, AGADEZ, "pat")["comments"][0]["may_edit"] is False
    page = pat.get(f"/notes/{AGADEZ}").get_data(as_text=True)
    assert f"/comments/{first['id']}/edit" not in page
    closed = pat.get(f"/notes/{AGADEZ}/comments/{first['id']}/edit")
    assert closed.status_code == 403 and "for 15 minutes after writing it" in closed.get_data(as_text=True)
    assert form(pat, f"/notes/{AGADEZ}/comments/{first['id']}/edit", body="Too late").status_code == 403
    assert listed(api, AGADEZ, "pat")["comments"][0]["body"] == "Better words"


@pytest.mark.parametrize("deleter, allowed", [
    ("pat", True),  # the writer
    ("moussa", True),  # a focal point of the note's region (Niger is in the Sahel)
    ("admin", True),
    ("amina", False),  # a focal point of another region, who may read the (public) note
    ("layla", False),
])
def test_who_may_delete_a_comment(app, api, signed, deleter, allowed):
    first = comment(api, AGADEZ, "pat", "To be deleted")
    resp = form(signed(deleter), f"/notes/{AGADEZ}/comments/{first['id']}/delete")
    assert resp.status_code == (303 if allowed else 403)
    assert listed(api, AGADEZ, "pat")["count"] == (0 if allowed else 1)
    entries = app.extensions["kb.users"].audit_entries(action="comment_delete")
    if allowed:
        assert [(e.actor, e.target, e.detail) for e in entries] == [(deleter, AGADEZ, f"comment {first['id']} by pat")]
    else:
        assert entries == []


def test_a_deleted_thread_start_leaves_its_replies_and_no_text(api, signed):
    top = comment(api, AGADEZ, "pat", f"My phone {SECRET}")
    comment(api, AGADEZ, "moussa", "A reply", reply_to=top["id"])
    assert form(signed("pat"), f"/notes/{AGADEZ}/comments/{top['id']}/delete").status_code == 303
    shown = listed(api, AGADEZ, "moussa")
    assert shown["count"] == 1
    thread = shown["comments"][0]
    assert thread["deleted"] is True and thread["body_html"] == "" and thread["author"] is None
    assert [r["body_html"] for r in thread["replies"]] == ["<p>A reply</p>"]
    page = signed("moussa").get(f"/notes/{AGADEZ}").get_data(as_text=True)
    assert "This comment was deleted." in page and SECRET not in page
    assert form(signed("moussa"), f"/notes/{AGADEZ}/comments/{top['id']}/delete").status_code == 404  # gone


@pytest.mark.parametrize("marker, allowed", [("pat", True), ("moussa", True), ("admin", True), ("amina", False)])
def test_who_may_mark_a_thread_resolved(api, signed, marker, allowed):
    top = comment(api, AGADEZ, "pat", "Is the hotline still open?")
    resp = form(signed(marker), f"/notes/{AGADEZ}/comments/{top['id']}/resolve", resolved="1")
    assert resp.status_code == (303 if allowed else 403)
    assert listed(api, AGADEZ, "pat")["comments"][0]["resolved"] is allowed
    if allowed:
        assert "resolved" in signed("pat").get(f"/notes/{AGADEZ}").get_data(as_text=True)
        assert form(signed("pat"), f"/notes/{AGADEZ}/comments/{top['id']}/resolve", resolved="0").status_code == 303
        assert listed(api, AGADEZ, "pat")["comments"][0]["resolved"] is False


def test_only_a_thread_start_is_marked_resolved(api, signed):
    top = comment(api, AGADEZ, "pat", "Question")
    reply = comment(api, AGADEZ, "moussa", "Answer", reply_to=top["id"])
    resp = form(signed("moussa"), f"/notes/{AGADEZ}/comments/{reply['id']}/resolve", resolved="1")
    assert resp.status_code == 400 and "only the comment that starts a thread" in resp.get_data(as_text=True)


# --- personal data, the note's life, hooks, caching -----------------------------------------------------------
def test_personal_data_in_a_comment_is_a_warning_not_a_refusal(api, signed):
    made = comment(api, AGADEZ, "pat", "Call Awa at awa.diallo@example.org")
    assert [f["kind"] for f in made["personal_data"]] == ["email"]
    pat = signed("pat")
    form(pat, f"/notes/{AGADEZ}/comments", body="Her address: awa.diallo@example.org")
    page = pat.get(f"/notes/{AGADEZ}").get_data(as_text=True)
    assert "Your comment may contain personal data" in page and "2 comments" in page


def test_comments_follow_a_renamed_note_and_leave_with_a_deleted_one(app, api):
    comment(api, AGADEZ, "pat", "Before the move")
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    moussa, admin = users.by_username("moussa"), users.by_username("admin")
    new = wiki.rename(moussa, AGADEZ, "agadez-children", None)
    assert [c["body_html"] for c in listed(api, new, "pat")["comments"]] == ["<p>Before the move</p>"]
    trash_id = wiki.delete(moussa, new)
    assert api("GET", f"/api/notes/{new}/comments", "admin").status_code == 404
    note = api("POST", "/api/notes", "moussa", {"meta": {"title": "Agadez children", "language": "en",
                                                         "regions": ["Niger"], "topics": ["child-protection"]},
                                                "slug": new, "body": "A new note under the old name."})
    assert note.status_code == 201 and note.get_json()["slug"] == new
    assert listed(api, new, "admin")["count"] == 0  # a new note never shows a deleted one's comments
    wiki.delete(moussa, new)
    assert wiki.undelete(admin, trash_id) == new
    assert [c["body_html"] for c in listed(api, new, "pat")["comments"]] == ["<p>Before the move</p>"]


def test_new_comments_and_replies_call_their_hooks_once_committed(app, api):
    heard = []
    store = app.extensions["kb.comments"].store
    store.on_reply.append(lambda reply, parent: heard.append((reply.id, parent.id, store.get(AGADEZ, reply.id).body)))
    every = []
    store.on_comment.append(lambda c: every.append(c.id))
    top = comment(api, AGADEZ, "pat", "Question")
    assert heard == [] and every == [top["id"]]
    reply = comment(api, AGADEZ, "moussa", "Answer", reply_to=top["id"])
    assert heard == [(reply["id"], top["id"], "Answer")] and every == [top["id"], reply["id"]]
    store.on_reply.append(lambda reply, parent: 1 / 0)  # a failing listener does not refuse the reply
    comment(api, AGADEZ, "layla", "Me too", reply_to=top["id"])
    assert listed(api, AGADEZ, "pat")["count"] == 3


def test_the_note_page_changes_its_etag_with_a_new_comment(api, signed):
    moussa = signed("moussa")
    first = moussa.get(f"/notes/{AGADEZ}")
    etag = first.headers["ETag"]
    assert moussa.get(f"/notes/{AGADEZ}", headers={"If-None-Match": etag}).status_code == 304
    comment(api, AGADEZ, "pat", "News")
    again = moussa.get(f"/notes/{AGADEZ}", headers={"If-None-Match": etag})
    assert again.status_code == 200 and "News" in again.get_data(as_text=True)


def test_an_arabic_comment_reads_right_to_left(api, signed):
    comment(api, "ar-child-protection-case-management-egypt", "amina", "هل نجح هذا في القاهرة؟")
    page = signed("amina").get("/notes/ar-child-protection-case-management-egypt").get_data(as_text=True)
    assert '<div class="comment-body" dir="auto"><p>هل نجح هذا في القاهرة؟</p></div>' in page


def test_the_forms_need_their_csrf_token(api, signed):
    pat = signed("pat")
    assert pat.post(f"/notes/{AGADEZ}/comments", data={"body": "No token"}).status_code == 400
    top = comment(api, AGADEZ, "pat", "Kept")
    assert pat.post(f"/notes/{AGADEZ}/comments/{top['id']}/delete").status_code == 400
    assert pat.post(f"/notes/{AGADEZ}/comments/{top['id']}/edit", data={"body": "Changed"}).status_code == 400
    assert [c["body"] for c in listed(api, AGADEZ, "pat")["comments"]] == ["Kept"]
