"""docs/deploy.md's backup and restore, done for real: a `git bundle` of the content repository and a
`pg_dump` of the PostgreSQL database, both restored into fresh places (a new clone, a new database, an
empty index folder, a new instance folder), serve the same notes and the same accounts and tokens."""
from __future__ import annotations

import subprocess

from kb import create_app
from kb.users import UserStore

from .conftest import PASSWORD, git, login, site_config

NEW = {"meta": {"title": "Mobile birth registration in Tillabéri", "language": "en", "regions": ["Niger"],
                "topics": ["legal-identity"], "visibility": "public", "status": "published"},
       "body": "## Context\n\nMobile teams registered 300 births in Tillabéri.\n", "slug": "tillaberi-births"}
AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, shipped


def run(*cmd: str) -> str:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=True).stdout


KEY = "the-KB_SECRET_KEY-kept-in-the-secret-store"
INTERNAL = "formation-personnel-social-sante-tamanrasset-fr"  # internal: only signed-in readers see it


def serve(content, index, instance, database_url):
    return create_app({"KB_CONTENT_DIR": str(content), "KB_INDEX_DIR": str(index), "KB_INSTANCE_DIR": str(instance),
                       "KB_DATABASE_URL": database_url, "KB_SECRET_KEY": KEY, "TESTING": True})


def test_a_bundle_and_a_pg_dump_restore_into_fresh_places_and_serve_the_same(site, pg_server, tmp_path):
    # --- the running site: PostgreSQL, accounts, a token, a note saved through the API ---
    url = pg_server.new_database()
    app = create_app({**site_config(site), "KB_DATABASE_URL": url, "KB_CHECK_INDEX_ON_START": "0",
                      "KB_SECRET_KEY": KEY})
    users = app.extensions["kb.users"]
    users.add("moussa", PASSWORD, "focal_point", regions=["Sahel"])
    users.add("pat", PASSWORD, "practitioner")
    _, pat_token = users.create_token("pat", "script")
    _, moussa_token = users.create_token("moussa")
    saved = app.test_client().post("/api/notes", json=NEW, headers={"Authorization": f"Bearer {moussa_token}"})
    assert saved.status_code == 201, saved.get_data(as_text=True)
    before = {slug: app.test_client().get(f"/api/notes/{slug}").get_json() for slug in (NEW["slug"], AGADEZ)}
    browser = app.test_client()
    assert login(browser, "pat").status_code == 302
    cookie = browser.get_cookie("session").value
    commits = git(site / "content", "rev-list", "--count", "--all")
    audit = [(e.at, e.actor, e.action, e.target) for e in users.audit_entries()]
    assert ("moussa", NEW["slug"]) in [(actor, target) for _, actor, _, target in audit]
    app.extensions["kb.wiki"].close()
    users.dispose()

    # --- the backup, as docs/deploy.md writes it ---
    backup = tmp_path / "backup"
    backup.mkdir()
    git(site / "content", "bundle", "create", str(backup / "content.bundle"), "--all")
    git(site / "content", "bundle", "verify", str(backup / "content.bundle"))
    run(str(pg_server.bindir / "pg_dump"), "--format=custom", f"--file={backup / 'kb.dump'}",
        pg_server.libpq_url(url))

    # --- the restore: a new remote from the bundle, a node's clone of it, a new database, nothing else ---
    fresh = tmp_path / "restored"
    git(tmp_path, "clone", "--quiet", "--bare", str(backup / "content.bundle"), str(fresh / "content.git"))
    git(tmp_path, "clone", "--quiet", str(fresh / "content.git"), str(fresh / "content"))
    new_url = pg_server.new_database()
    run(str(pg_server.bindir / "pg_restore"), "--no-owner", f"--dbname={pg_server.libpq_url(new_url)}",
        str(backup / "kb.dump"))
    restored = serve(fresh / "content", fresh / "index", fresh / "instance", new_url)  # the index is rebuilt

    # --- the same notes, history, audit log, accounts and tokens ---
    assert [(e.at, e.actor, e.action, e.target) for e in restored.extensions["kb.users"].audit_entries()] == audit
    assert git(fresh / "content", "rev-list", "--count", "--all") == commits
    client = restored.test_client()
    for slug, answer in before.items():
        assert client.get(f"/api/notes/{slug}").get_json() == answer
    found = client.get("/api/search?q=Tillabéri births").get_json()
    assert NEW["slug"] in [hit["slug"] for hit in found["hits"]]
    assert client.get(f"/notes/{NEW['slug']}").status_code == 200
    assert restored.test_client().get("/api/search?q=x",
                                      headers={"Authorization": f"Bearer {pat_token}"}).status_code == 200
    carried = restored.test_client()  # a browser signed in before the backup, with the same KB_SECRET_KEY
    carried.set_cookie("session", cookie)
    assert carried.get(f"/notes/{INTERNAL}").status_code == 200
    assert client.get(f"/notes/{INTERNAL}").status_code == 404
    assert login(client, "pat").status_code == 302 and login(restored.test_client(), "moussa").status_code == 302
    restored.extensions["kb.wiki"].close()
    restored.extensions["kb.users"].dispose()
    store = UserStore(new_url)
    assert store.revision()[0] == store.revision()[1]  # at the newest migration
    store.dispose()
