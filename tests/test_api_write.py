"""The write API with bearer tokens: create, update, the answers a client acts on, and concurrent
writers served by several gunicorn processes, none of whom loses an edit."""
import http.client
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import git
from .liveserver import Server, site_env

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel)
RESTRICTED_LIBYA = "safe-house-referral-protocol-libya"


@pytest.fixture
def token(app):
    users = app.extensions["kb.users"]
    return lambda name: users.create_token(name)[1]


@pytest.fixture
def api(client, token):
    def call(method, path, user=None, body=None):
        headers = {"Authorization": f"Bearer {token(user)}"} if user else {}
        return client.open(path, method=method, json=body, headers=headers)
    return call


def note_json(**meta):
    fields = {"title": "Mobile birth registration in Tillabéri", "language": "en", "regions": ["Niger"],
              "topics": ["legal-identity"], "visibility": "public"}
    fields.update(meta)
    return {"meta": fields, "body": "## Context\n\nMobile teams registered 300 births.\n"}


def test_create_derives_the_slug_from_the_title_and_returns_201(api):
    resp = api("POST", "/api/notes", "moussa", note_json())
    assert resp.status_code == 201
    data = resp.get_json()
    assert data["slug"] == "mobile-birth-registration-in-tillaberi" and re.fullmatch(r"[0-9a-f]{40}", data["revision"])
    assert resp.headers["Location"] == f"/api/notes/{data['slug']}"
    got = api("GET", resp.headers["Location"], "moussa").get_json()
    assert set(got) == {"slug", "meta", "body", "html", "revision", "updated", "reviewed", "review_due"}
    assert got["revision"] == data["revision"] and got["meta"]["status"] == "draft"  # new notes start as drafts
    assert got["meta"]["authors"] == ["moussa"] and "<h2" in got["html"]
    again = api("POST", "/api/notes", "moussa", note_json())
    assert again.status_code == 201 and again.get_json()["slug"] == "mobile-birth-registration-in-tillaberi-2"


def test_create_with_a_chosen_slug(api):
    body = {**note_json(status="published"), "slug": "tillaberi-births"}
    assert api("POST", "/api/notes", "moussa", body).get_json()["slug"] == "tillaberi-births"
    assert api("GET", "/api/notes/tillaberi-births").status_code == 200  # published: public
    clash = api("POST", "/api/notes", "moussa", body)
    assert clash.status_code == 409
    bad = api("POST", "/api/notes", "moussa", {**body, "slug": "Tillabéri Births"})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"][0]["field"] == "slug"


def test_invalid_fields_get_422_with_one_error_per_field(api):
    resp = api("POST", "/api/notes", "moussa", {"meta": {"title": "", "language": "de", "regions": ["Atlantis"],
                                                         "visibility": "secret"}, "body": 42})
    assert resp.status_code == 422
    fields = {f["field"] for f in resp.get_json()["error"]["fields"]}
    assert fields == {"title", "language", "regions", "visibility", "body"}
    assert api("POST", "/api/notes", "moussa", None).status_code == 422
    missing_base = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"body": "x"})
    assert missing_base.status_code == 422
    assert missing_base.get_json()["error"]["fields"][0]["field"] == "base_revision"


def test_update_from_the_current_revision_then_a_stale_one(api):
    base = api("GET", f"/api/notes/{AGADEZ}").get_json()["revision"]
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"body": "New text.\n", "base_revision": base,
                                                         "message": "Shorter"})
    assert resp.status_code == 200
    new = resp.get_json()
    assert new["slug"] == AGADEZ and new["revision"] != base
    stale = api("PUT", f"/api/notes/{AGADEZ}", "admin", {"body": "Other text.\n", "base_revision": base})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current_revision"] == new["revision"]
    got = api("GET", f"/api/notes/{AGADEZ}").get_json()
    assert got["body"] == "New text.\n" and got["meta"]["title"].startswith("Best-interests")  # meta kept


@pytest.mark.parametrize("user, slug, body, status", [
    (None, AGADEZ, {"body": "x"}, 400),                                  # no token: a cookie write needs CSRF
    ("pat", AGADEZ, {"body": "x"}, 403),                                 # practitioners: not published notes
    ("amina", AGADEZ, {"body": "x"}, 403),                               # another region's focal point
    ("moussa", RESTRICTED_LIBYA, {"body": "x"}, 404),                    # may not even read it
    ("moussa", "no-such-note", {"body": "x"}, 404),
    ("amina", AGADEZ, {"meta": {"status": "draft"}}, 403),
])
def test_rights_follow_the_access_policy(api, user, slug, body, status):
    base = api("GET", f"/api/notes/{AGADEZ}").get_json()["revision"]
    assert api("PUT", f"/api/notes/{slug}", user, {**body, "base_revision": base}).status_code == status


def test_practitioners_create_drafts_and_submit_them_but_do_not_publish(api):
    assert api("POST", "/api/notes", None, note_json()).status_code == 400  # no token, no CSRF token
    assert api("POST", "/api/notes", "pat", note_json(status="published")).status_code == 403
    created = api("POST", "/api/notes", "pat", note_json()).get_json()
    slug = created["slug"]
    resp = api("PUT", f"/api/notes/{slug}", "pat", {"meta": {"status": "review"}, "base_revision": created["revision"]})
    assert resp.status_code == 200
    rev = resp.get_json()["revision"]
    assert api("PUT", f"/api/notes/{slug}", "amina", {"meta": {"status": "published"}, "base_revision": rev}) \
        .status_code == 404
    assert api("PUT", f"/api/notes/{slug}", "moussa", {"meta": {"status": "published"}, "base_revision": rev}) \
        .status_code == 200
    assert api("GET", f"/api/notes/{slug}").get_json()["meta"]["status"] == "published"


def test_publishing_personal_data_needs_a_confirmation(api, app):
    body = note_json(status="published")
    body["body"] = "Contact: +249 912 345 678\nGPS 13.51234, 2.11234\n"
    resp = api("POST", "/api/notes", "moussa", body)
    assert resp.status_code == 422
    found = resp.get_json()["error"]["personal_data"]
    assert [(f["kind"], f["line"], f["field"]) for f in found] == [("phone", 1, "body"), ("gps", 2, "body")]
    assert found[0]["text"] == "+249 912 345 678"
    ok = api("POST", "/api/notes", "moussa", {**body, "confirm_personal_data": "office landline, public"})
    assert ok.status_code == 201
    entries = [(e.actor, e.action, e.detail) for e in app.extensions["kb.users"].audit_entries()]
    assert ("moussa", "personal_data_confirmed", "office landline, public") in entries
    assert ("moussa", "note_create", f"{ok.get_json()['revision'][:10]} as published") in entries


# --- many writers, several processes ------------------------------------------------------------------

def _request(port, method, path, token, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_twenty_concurrent_updates_from_several_processes_lose_nothing(app, site, token):
    tokens = [token("moussa"), token("admin")]
    # two gunicorn worker processes with four threads each: writers really run side by side
    with Server(site_env(site, KB_CHECK_INDEX_ON_START="0"), workers=2,
                extra_args=("--threads", "4")).start(f"/api/notes/{AGADEZ}") as server:
        port = server.port
        assert len(server.worker_pids()) == 2
        status, note = _request(port, "GET", f"/api/notes/{AGADEZ}", tokens[0])
        start_base, start_body = note["revision"], note["body"]
        barrier = threading.Barrier(20)

        def writer(i):
            """Append my own line from the base I saw; on 409, read the note again and retry."""
            tok, base, body, first = tokens[i % 2], start_base, start_body, None
            barrier.wait()
            for _ in range(60):
                status, answer = _request(port, "PUT", f"/api/notes/{AGADEZ}", tok,
                                          {"body": body + f"\nLine from writer {i}.\n", "base_revision": base})
                first = first or status
                if status == 200:
                    return first, base, answer["revision"]
                assert status == 409, answer
                assert answer["error"]["current_revision"] != base
                _, note = _request(port, "GET", f"/api/notes/{AGADEZ}", tok)
                base, body = note["revision"], note["body"]
            raise AssertionError("writer never got through")

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(writer, range(20)))

    assert [first for first, _, _ in results].count(200) == 1  # same base, twenty writers: one success
    content = app.extensions["kb.wiki"].content_dir
    log = git(content, "log", "--format=%H", "--", f"{AGADEZ}.md").split()
    assert log[20] == start_base and set(log[:20]) == {rev for _, _, rev in results}  # a straight line
    parent = {log[k]: log[k + 1] for k in range(20)}
    assert all(base == parent[rev] for _, base, rev in results)  # exactly one success per base revision...
    final = git(content, "show", f"HEAD:{AGADEZ}.md")
    assert all(f"Line from writer {i}." in final for i in range(20))  # ...and no lost content
    for older, newer in zip(log[20:0:-1], log[19::-1]):  # each revision keeps everything before it
        before = set(re.findall(r"Line from writer \d+\.", git(content, "show", f"{older}:{AGADEZ}.md")))
        after = set(re.findall(r"Line from writer \d+\.", git(content, "show", f"{newer}:{AGADEZ}.md")))
        assert before < after and len(after - before) == 1
