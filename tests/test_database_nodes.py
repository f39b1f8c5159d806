"""The app on each database kb supports (SQLite and a real PostgreSQL), with two app processes' worth of
state ("nodes") sharing one database and one secret key: sign-ins, tokens, the sign-in throttle and the audit
log hold across both; hostile values that only PostgreSQL would choke on are refused as on SQLite."""
from __future__ import annotations

import pytest

from kb import create_app

from .conftest import PASSWORD, csrf_token, login, site_config

INTERNAL = "formation-personnel-social-sante-tamanrasset-fr"  # internal, published: readers must sign in


@pytest.fixture
def nodes(site, database_url):
    """Two apps over one database (a fresh one, of each kind), with an admin and a practitioner."""
    config = {**site_config(site), "KB_DATABASE_URL": database_url, "KB_CHECK_INDEX_ON_START": "0"}
    apps = [create_app(config), create_app(config)]
    users = apps[0].extensions["kb.users"]
    users.add("admin", PASSWORD, "admin")
    users.add("pat", PASSWORD, "practitioner")
    yield apps
    for app in apps:
        app.extensions["kb.wiki"].close()
        app.extensions["kb.users"].dispose()


def carry_session(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def test_a_sign_in_on_one_node_holds_on_the_other_and_signing_out_ends_it_on_both(nodes):
    a, b = nodes[0].test_client(), nodes[1].test_client()
    assert login(a, "pat").status_code == 302
    carry_session(a, b)
    assert b.get(f"/notes/{INTERNAL}").status_code == 200
    assert a.post("/logout", data={"csrf_token": csrf_token(a, "/account")}).status_code == 302
    assert b.get(f"/notes/{INTERNAL}").status_code == 404  # the sign-in ended in the shared database
    assert b.get("/account").status_code == 302


def test_a_token_made_on_one_node_works_on_the_other_until_revoked_there(nodes):
    row, token = nodes[0].extensions["kb.users"].create_token("pat", "script")
    headers = {"Authorization": f"Bearer {token}"}
    assert nodes[1].test_client().get(f"/api/notes/{INTERNAL}", headers=headers).status_code == 200
    nodes[1].extensions["kb.users"].revoke_token(row.id)
    assert nodes[0].test_client().get(f"/api/notes/{INTERNAL}", headers=headers).status_code == 401


def test_sign_in_failures_count_across_nodes(nodes):
    a, b = nodes[0].test_client(), nodes[1].test_client()
    for client in (a, b, a, b, a):
        assert login(client, "pat", "wrong password!").status_code == 401
    assert login(b, "pat").status_code == 429  # five failures, spread over two nodes
    audit = nodes[1].extensions["kb.users"].audit_entries(action="login_failed")
    assert [(e.actor, e.address) for e in audit] == [("pat", "127.0.0.1")] * 5


def test_the_audit_log_shows_what_either_node_recorded(nodes):
    admin = nodes[1].test_client()
    assert login(admin, "admin").status_code == 302
    nodes[0].extensions["kb.users"].audit("user_add", actor="admin", target="from-node-a")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "from-node-a" in page
    assert "from-node-a" in admin.get("/admin/audit.csv").get_data(as_text=True)


def test_values_postgresql_cannot_store_are_refused_not_500(nodes):
    app = nodes[0]
    client = app.test_client()
    assert login(client, "pa\x00t", "wrong password!").status_code == 401  # NUL: PostgreSQL text cannot hold it
    assert login(client, "pat\x00", PASSWORD).status_code == 401
    assert login(client, "pat", PASSWORD).status_code == 302
    assert client.post("/account/tokens/99999999999/revoke",  # past a 32-bit id
                       data={"csrf_token": csrf_token(client, "/account")}).status_code in (302, 404)
    resp = client.post("/account/tokens", data={"label": "lap\x00top", "csrf_token": csrf_token(client, "/account")})
    assert resp.status_code in (201, 400, 422)
    with client.session_transaction() as session:
        session["_user_id"] = "99999999999:1"  # a signed cookie naming an id no row can have
    assert client.get(f"/notes/{INTERNAL}").status_code == 404
    admin = nodes[1].test_client()
    login(admin, "admin")
    assert admin.get("/admin/audit?actor=pa%00t&action=login%00").status_code == 200
    failed = app.extensions["kb.users"].audit_entries(action="login_failed")
    assert [e.actor for e in failed] == ["pat", "pat"]  # recorded, without the NUL


def test_two_nodes_of_gunicorn_workers_starting_at_once_on_an_empty_database(site, database_url, tmp_path,
                                                                             monkeypatch):
    """Six worker processes (two nodes of three, launched together) find one empty database at start: one
    migrates it, the others wait for it, and every worker serves."""
    import urllib.request

    import sqlalchemy as sa

    from kb import migrate

    from .liveserver import Server, site_env
    env = site_env(site, KB_DATABASE_URL=database_url, KB_CHECK_INDEX_ON_START="0", KB_SECRET_KEY="shared")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    servers = [Server(env, workers=3, log=log) for log in logs]
    try:
        ready = Server.wait_ready
        monkeypatch.setattr(Server, "wait_ready", lambda *args, **kwargs: None)
        for server in servers:  # both launched at once (from this thread: the launcher's death signal is per thread)
            server.start()
        monkeypatch.undo()
        for server in servers:
            ready(server, "/login")
        for server in servers:
            for _ in range(6):  # requests spread over the workers
                with urllib.request.urlopen(server.url + "/login") as resp:
                    assert resp.status == 200
    finally:
        for server in servers:
            server.stop()
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))] == \
            [(migrate.head(),)]
    engine.dispose()
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace")
