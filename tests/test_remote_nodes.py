"""Several web nodes over one content remote (KB_GIT_REMOTE): two real apps, each with its own clone and index
folder, one bare git remote, one shared database and one secret key."""
from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from .conftest import csrf_token, git, login

SECRET = "one key for every node"
SLUG = "reintegration-counselling-returnees-mali"  # moussa's (Sahel), public and published


@pytest.fixture
def shared_db_url(postgres_url):
    """The one database every node uses: a real PostgreSQL server, holding the test accounts."""
    from kb.users import UserStore
    from .conftest import ACCOUNTS, PASSWORD  # the same accounts as the site's own database
    users = UserStore(postgres_url)
    users.upgrade()
    for name, (role, regions) in ACCOUNTS.items():
        users.add(name, PASSWORD, role, regions=regions)
    users.dispose()
    return postgres_url


@pytest.fixture
def remote(site, tmp_path) -> Path:
    """A bare repository holding the site's content, as the shared remote."""
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(site / "content", "push", "-q", str(bare), "main")
    return bare


def node_config(root: Path, remote: Path, db_url: str, **extra) -> dict:
    return {"KB_CONTENT_DIR": str(root / "content"), "KB_INDEX_DIR": str(root / "index"),
            "KB_INSTANCE_DIR": str(root / "instance"), "KB_DATABASE_URL": db_url, "KB_SECRET_KEY": SECRET,
            "KB_GIT_REMOTE": str(remote), "KB_SYNC_SECONDS": "3600", "TESTING": True, **extra}


@pytest.fixture
def make_node(site, remote, shared_db_url, tmp_path):
    """make_node('a'): a node's app over its own clone of the remote and its own index folder."""
    from kb import create_app
    from kb.wiki import join_remote
    apps = []

    def make(name: str, **extra):
        root = tmp_path / name
        if not (root / "content").exists():
            assert join_remote(root / "content", str(remote))  # cloned, as `kb init` does
            shutil.copytree(site / "index", root / "index")  # the same notes; the start-up check confirms it
        app = create_app(node_config(root, remote, shared_db_url, **extra))
        apps.append(app)
        return app
    yield make
    for app in apps:
        app.extensions["kb.wiki"].close()
        app.extensions["kb.users"].dispose()


@pytest.fixture
def nodes(make_node):
    return make_node("a"), make_node("b")


def wiki_of(app):
    return app.extensions["kb.wiki"]


def remote_log(remote: Path) -> list[str]:
    return git(remote, "log", "--format=%H", "main").split()


def token_for(app, username: str) -> str:
    return app.extensions["kb.users"].create_token(username, "test")[1]


def api_put(client, token: str, slug: str, body: str, base: str):
    return client.put(f"/api/notes/{slug}", json={"body": body, "base_revision": base},
                      headers={"Authorization": f"Bearer {token}"})


def api_get(client, token: str, slug: str) -> dict:
    resp = client.get(f"/api/notes/{slug}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    return resp.get_json()


def search_slugs(client, query: str) -> list[str]:
    resp = client.get("/api/search", query_string={"q": query})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return [hit["slug"] for hit in resp.get_json()["hits"]]


def test_an_edit_on_one_node_is_found_by_search_on_the_other_after_sync(nodes, remote):
    a, b = nodes
    token = token_for(a, "moussa")
    ca, cb = a.test_client(), b.test_client()
    note = api_get(ca, token, SLUG)
    assert search_slugs(cb, "quokkaberry") == []
    resp = api_put(ca, token, SLUG, note["body"] + "\nThe quokkaberry method was tried too.\n", note["revision"])
    assert resp.status_code == 200, resp.get_json()
    assert remote_log(remote)[0] == resp.get_json()["revision"]  # pushed before it answered
    assert search_slugs(ca, "quokkaberry") == [SLUG]
    assert search_slugs(cb, "quokkaberry") == []  # node B has not pulled yet
    pulled = wiki_of(b).sync()
    assert pulled.notes == [SLUG]  # only the note that changed is re-indexed
    assert search_slugs(cb, "quokkaberry") == [SLUG]
    assert "quokkaberry" in api_get(cb, token, SLUG)["body"]


def test_twenty_concurrent_edits_over_two_nodes_give_one_success_and_nineteen_conflicts(nodes, remote):
    a, b = nodes
    token = token_for(a, "moussa")
    base = api_get(a.test_client(), token, SLUG)
    before = remote_log(remote)
    first_line = base["body"].split("\n", 1)
    results, start = [], threading.Barrier(20)

    def edit(i: int):
        client = (a if i % 2 else b).test_client()
        body = f"{first_line[0]} (edit {i})\n{first_line[1]}"  # every edit changes the same line
        start.wait()
        results.append((i, api_put(client, token, SLUG, body, base["revision"])))

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(resp.status_code for _, resp in results)
    assert codes == [200] + [409] * 19, [(i, r.status_code, r.get_json()) for i, r in results if r.status_code != 409]
    winner = next(i for i, resp in results if resp.status_code == 200)
    after = remote_log(remote)
    assert len(after) == len(before) + 1 and after[1:] == before  # one new commit on the remote
    for app in (a, b):
        wiki_of(app).sync()
        assert f"(edit {winner})" in api_get(app.test_client(), token, SLUG)["body"]
    conflict = next(resp for _, resp in results if resp.status_code == 409).get_json()["error"]
    assert conflict["current_revision"] == after[0]  # answered as a stale edit is on one node


def test_edits_of_different_lines_on_two_nodes_merge_as_stale_edits_do(nodes, remote):
    a, b = nodes
    token = token_for(a, "moussa")
    base = api_get(a.test_client(), token, SLUG)
    lines = base["body"].split("\n")
    top = "\n".join([lines[0] + " (top, from A)", *lines[1:]])
    bottom = "\n".join([*lines[:-2], lines[-2] + " (bottom, from B)", lines[-1]])
    assert api_put(a.test_client(), token, SLUG, top, base["revision"]).status_code == 200
    # node B has not pulled: its push is rejected, it fetches and runs the save again on top, merged
    resp = api_put(b.test_client(), token, SLUG, bottom, base["revision"])
    assert resp.status_code == 200 and resp.get_json()["merged"] is True
    wiki_of(a).sync()
    body = api_get(a.test_client(), token, SLUG)["body"]
    assert "(top, from A)" in body and "(bottom, from B)" in body
    assert remote_log(remote)[0] == resp.get_json()["revision"]


def test_a_session_and_a_token_made_on_one_node_work_on_the_other(nodes):
    a, b = nodes
    ca = a.test_client()
    assert login(ca, "moussa").status_code == 302
    cb = b.test_client()
    cookie = ca.get_cookie("session")
    cb.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    page = cb.get("/account")
    assert page.status_code == 200 and "moussa" in page.get_data(as_text=True)
    token = token_for(a, "moussa")
    assert api_get(b.test_client(), token, SLUG)["slug"] == SLUG
    assert b.test_client().put(f"/api/notes/{SLUG}", json={}, headers={"Authorization": "Bearer nope"}).status_code \
        in (401, 404)


def test_without_the_remote_writes_are_refused_with_503_and_reads_go_on(nodes, remote, tmp_path):
    a, b = nodes
    token = token_for(a, "moussa")
    ca = a.test_client()
    note = api_get(ca, token, SLUG)
    before_remote = remote_log(remote)
    before_file = (Path(a.config["KB_CONTENT_DIR"]) / f"{SLUG}.md").read_bytes()
    before_head = git(Path(a.config["KB_CONTENT_DIR"]), "rev-parse", "HEAD")
    away = tmp_path / "elsewhere.git"
    remote.rename(away)
    try:
        resp = api_put(ca, token, SLUG, note["body"] + "\nLost?\n", note["revision"])
        assert resp.status_code == 503
        assert "cannot be reached" in resp.get_json()["error"]["message"]
        assert (Path(a.config["KB_CONTENT_DIR"]) / f"{SLUG}.md").read_bytes() == before_file
        assert git(Path(a.config["KB_CONTENT_DIR"]), "rev-parse", "HEAD") == before_head
        assert SLUG not in search_slugs(ca, "Lost")
        assert ca.get(f"/notes/{SLUG}").status_code == 200  # reads go on
        assert search_slugs(ca, "reintegration")
        # the editor keeps the text and says why, in the reader's language
        assert login(ca, "moussa").status_code == 302
        form = ca.get(f"/notes/{SLUG}/edit", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert 'name="base_revision"' in form
        page = ca.post(f"/notes/{SLUG}/edit", headers={"Accept-Language": "fr"}, data=edit_form(a, ca, SLUG, "Perdu ?"))
        assert page.status_code == 503
        assert "Perdu ?" in page.get_data(as_text=True)
        assert "ne peut pas être joint" in page.get_data(as_text=True)
    finally:
        away.rename(remote)
    assert remote_log(remote) == before_remote
    resp = api_put(ca, token, SLUG, note["body"] + "\nBack again.\n", note["revision"])
    assert resp.status_code == 200
    assert remote_log(remote)[0] == resp.get_json()["revision"]


def edit_form(app, client, slug: str, extra: str) -> dict:
    """The editor's fields for a note, with a line added to the body (as tests/test_merge.py fills them)."""
    page = htmllib.unescape(client.get(f"/notes/{slug}/edit").get_data(as_text=True))
    base = re.search(r'name="base_revision" value="([0-9a-f]{40})"', page).group(1)
    body = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    meta = wiki_of(app).get_note(None, slug).meta
    return {"title": meta.title, "language": meta.language, "regions": meta.regions, "topics": meta.topics,
            "audience": meta.audience, "visibility": meta.visibility, "status": meta.status,
            "summary": meta.summary, "base_revision": base, "save": "1", "body": body + "\n" + extra + "\n",
            "csrf_token": csrf_token(client, f"/notes/{slug}/edit")}


def test_renames_and_deletions_made_on_one_node_reach_the_other(nodes):
    a, b = nodes
    token = token_for(a, "moussa")
    wa = wiki_of(a)
    moussa = a.extensions["kb.users"].by_username("moussa")
    rev = wa.revision_of(SLUG)
    wa.rename(moussa, SLUG, "counselling-returnees-mali", rev)
    pulled = wiki_of(b).sync()
    assert set(pulled.notes) == {SLUG, "counselling-returnees-mali"}
    cb = b.test_client()
    assert cb.get(f"/notes/{SLUG}").status_code in (301, 302, 308)  # the redirect came too
    assert search_slugs(cb, "Bamako") and SLUG not in search_slugs(cb, "Bamako")
    assert "counselling-returnees-mali" in search_slugs(cb, "Bamako")
    wa.delete(moussa, "counselling-returnees-mali", "test", wa.revision_of("counselling-returnees-mali"))
    assert wiki_of(b).sync().notes == ["counselling-returnees-mali"]
    assert cb.get("/notes/counselling-returnees-mali").status_code == 404
    assert "counselling-returnees-mali" not in search_slugs(cb, "Bamako")
    assert api_get(cb, token, "accompagnement-reintegration-retournes-mali-fr")


def test_a_node_pulls_in_the_background(make_node, remote):
    import time
    a = make_node("a")
    b = make_node("b", KB_SYNC_SECONDS="0.2")
    token = token_for(a, "moussa")
    note = api_get(a.test_client(), token, SLUG)
    assert api_put(a.test_client(), token, SLUG, note["body"] + "\nA wombatfruit line.\n",
                   note["revision"]).status_code == 200
    deadline = time.monotonic() + 30  # a bound for a slow machine, not a speed assertion
    while SLUG not in search_slugs(b.test_client(), "wombatfruit") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert search_slugs(b.test_client(), "wombatfruit") == [SLUG]



def test_a_redaction_on_one_node_rewrites_the_remote_and_the_other_node_drops_the_old_history(nodes, remote):
    a, b = nodes
    wa = wiki_of(a)
    users = a.extensions["kb.users"]
    moussa, admin = users.by_username("moussa"), users.by_username("admin")
    passage = "We met Aminata Traore at the border post in Gogui."
    note = wa.get_note_and_revision(moussa, SLUG)
    wa.save(moussa, SLUG, note.meta, note.body + "\n" + passage + "\n", note.revision)
    note = wa.get_note_and_revision(moussa, SLUG)
    wa.save(moussa, SLUG, note.meta, note.body.replace(passage, "We met a girl at the border."), note.revision)
    wiki_of(b).sync()
    content_b = Path(b.config["KB_CONTENT_DIR"])
    assert "Aminata" in git(content_b, "log", "-p", "--all")
    wa.redact_passage(admin, SLUG, "Aminata Traore", "a child's name")
    assert "Aminata" not in git(remote, "log", "-p", "--all")  # the remote's history was replaced
    wiki_of(b).sync()
    assert "Aminata" not in git(content_b, "log", "-p", "--all", "--reflog")
    assert git(content_b, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    token = token_for(a, "moussa")  # and the two nodes go on saving over the new history
    note = api_get(b.test_client(), token, SLUG)
    resp = api_put(b.test_client(), token, SLUG, note["body"] + "\nAfter the redaction.\n", note["revision"])
    assert resp.status_code == 200
    assert wiki_of(a).sync().notes == [SLUG]


def test_failed_sign_ins_on_both_nodes_count_together(nodes):
    a, b = nodes
    for app in (a, b, a, b, a):  # five failures, spread over the two nodes
        assert login(app.test_client(), "amina", "not the password").status_code == 401
    assert login(b.test_client(), "amina", "not the password").status_code == 429
    assert login(a.test_client(), "amina", "not the password").status_code == 429


def test_a_redaction_whose_push_fails_is_refused_and_the_node_returns_to_the_remote(nodes, remote, monkeypatch):
    from kb.errors import RemoteUnavailable
    from kb.history_remote import RemoteHistory
    a, _ = nodes
    wa = wiki_of(a)
    admin = a.extensions["kb.users"].by_username("admin")
    content = Path(a.config["KB_CONTENT_DIR"])
    head = remote_log(remote)[0]

    def gone(self, lease=None):
        raise RemoteUnavailable("gone")
    monkeypatch.setattr(RemoteHistory, "push", gone)  # reachable for the catch-up, gone for the push
    with pytest.raises(RemoteUnavailable):
        wa.redact_passage(admin, SLUG, "Bamako", "a test")
    assert "Bamako" not in git(content, "log", "-p", "--", f"{SLUG}.md")  # rewritten here (it cannot be taken back) ...
    monkeypatch.undo()
    assert remote_log(remote)[0] == head  # ... but never pushed
    wa.sync()  # the next pull returns the node to the remote's history: the refused write changed nothing
    assert git(content, "rev-parse", "HEAD").strip() == head
    assert "Bamako" in (content / f"{SLUG}.md").read_text()


def test_a_save_on_one_node_first_brings_and_indexes_what_the_other_saved(nodes):
    a, b = nodes
    token = token_for(a, "moussa")
    other = "unaccompanied-children-best-interests-agadez"
    note = api_get(a.test_client(), token, other)
    assert api_put(a.test_client(), token, other, note["body"] + "\nThe marimbaleaf lesson.\n",
                   note["revision"]).status_code == 200
    cb = b.test_client()
    assert search_slugs(cb, "marimbaleaf") == []
    note = api_get(cb, token, SLUG)
    assert api_put(cb, token, SLUG, note["body"] + "\nAnother line.\n", note["revision"]).status_code == 200
    assert search_slugs(cb, "marimbaleaf") == [other]  # the save caught up with the remote first
