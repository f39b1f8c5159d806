"""Sign-in security through the real app: CSRF, throttling, cookie flags, redirects, sessions, tokens, headers.

Every sign-in costs one scrypt hash (~90 ms), so tests sign in only as often as the behaviour needs.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for

from kb.accounts_model import now_utc
from kb.web.auth import safe_next

from .conftest import PASSWORD, csrf_token, login, site_config

INTERNAL = "formation-personnel-social-sante-tamanrasset-fr"  # internal, published
RESTRICTED = "safe-house-referral-protocol-libya"  # restricted, Libya
NEW_PASSWORD = "a brand new passphrase"


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', "", html)


def cookie_header(resp, name: str = "session") -> str:
    found = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert found, f"no {name} cookie set: {resp.headers.getlist('Set-Cookie')}"
    return found[-1]


def new_token(client) -> tuple[int, str]:
    resp = client.post("/account/tokens", data={"label": "script", "csrf_token": csrf_token(client, "/account")})
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    token = re.search(r'<code class="token">(kb_[^<]+)</code>', html).group(1)
    token_id = int(re.search(r"<tr><td>(\d+)</td><td>script</td>", html).group(1))
    return token_id, token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- CSRF -------------------------------------------------------------------------------------
CSRF_PATHS = ["/login", "/logout", "/account/password", "/account/sessions", "/account/tokens",
              "/account/tokens/1/revoke", "/admin/users/new", "/admin/users/pat", "/admin/users/pat/disable",
              "/admin/users/pat/password"]


def test_post_without_a_valid_csrf_token_is_refused(client):
    for path in CSRF_PATHS:
        for data in ({}, {"csrf_token": "forged"}):
            resp = client.post(path, data={"username": "admin", "password": PASSWORD, **data})
            assert resp.status_code == 400, (path, data)
            assert "CSRF" in resp.get_data(as_text=True)


def test_signed_in_posts_need_the_token_too(client, as_user):
    as_user("admin")
    for path in ("/logout", "/account/tokens", "/admin/users/pat/disable"):
        assert client.post(path, data={"label": "x"}).status_code == 400
    assert client.get("/account").status_code == 200  # still signed in: the forged logout did nothing


def test_api_writes_with_a_cookie_session_need_a_csrf_token(client, as_user):
    as_user("admin")
    resp = client.post("/api/notes", json={"slug": "x"})
    assert resp.status_code == 400 and resp.is_json and "CSRF" in resp.get_json()["error"]["message"]
    token = csrf_token(client, "/account")
    assert client.post("/api/notes", json={"slug": "x"}, headers={"X-CSRFToken": token}).status_code != 400


# --- throttling ---------------------------------------------------------------------------------
def test_five_failures_then_429_with_one_message_for_every_account(app, client, monkeypatch):
    bodies = {}
    for name in ("moussa", "no-such-user"):
        for _ in range(5):
            resp = login(client, name, "wrong password!")
            assert resp.status_code == 401
            bodies.setdefault(("wrong", name), without_tokens(resp.get_data(as_text=True)).replace(name, "NAME"))
        users = app.extensions["kb.users"]
        calls = []
        monkeypatch.setattr(users, "authenticate", lambda *a: calls.append(a))
        resp = login(client, name, PASSWORD)  # even the right password must wait
        monkeypatch.undo()
        assert resp.status_code == 429 and calls == []  # refused before any password hashing
        assert 25 <= int(resp.headers["Retry-After"]) <= 30
        bodies[("throttled", name)] = without_tokens(resp.get_data(as_text=True)).replace(name, "NAME")
    assert bodies[("wrong", "moussa")] == bodies[("wrong", "no-such-user")]
    assert bodies[("throttled", "moussa")] == bodies[("throttled", "no-such-user")]
    assert "Too many sign-in attempts" in bodies[("throttled", "moussa")]
    assert "Wrong username or password" in bodies[("wrong", "moussa")]


def test_the_wait_passes_and_then_grows(app, client):
    throttle = app.extensions["kb.throttle"]
    for _ in range(5):
        login(client, "amina", "wrong password!")
    throttle.clock = lambda: now_utc() + timedelta(seconds=31)
    assert login(client, "amina", "wrong password!").status_code == 401  # allowed again, and wrong
    assert login(client, "amina", PASSWORD).status_code == 429  # now 60 s from that failure
    throttle.clock = lambda: now_utc() + timedelta(seconds=62)
    assert login(client, "amina", PASSWORD).status_code == 302


def test_throttling_per_address(app):
    app.extensions["kb.throttle"].address_limit = 3
    office, elsewhere = app.test_client(), app.test_client()
    office.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    elsewhere.environ_base["REMOTE_ADDR"] = "10.2.2.2"
    for name in ("ann", "bob", "cid"):
        assert login(office, name, "wrong password!").status_code == 401
    assert login(office, "pat", PASSWORD).status_code == 429
    assert login(elsewhere, "pat", PASSWORD).status_code == 302


def test_failures_are_in_the_audit_log(app, client):
    login(client, "Pat", "wrong password!")
    entry = app.extensions["kb.users"].audit_entries(limit=1)[0]
    assert (entry.action, entry.actor, entry.address) == ("login_failed", "pat", "127.0.0.1")
    assert "wrong password" not in (entry.detail + entry.target)


# --- cookies and sessions ---------------------------------------------------------------------------
def test_session_cookie_flags_over_http(client):
    header = cookie_header(login(client, "pat"))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    assert "Expires" not in header  # a browser session: it ends when the browser closes


def https_login(client, username="pat", base_url="https://localhost", **headers):
    html = client.get("/login", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                       headers={"Referer": "https://localhost/login", **headers}, base_url=base_url)


def test_session_cookie_is_secure_over_https(app):
    resp = https_login(app.test_client())
    assert resp.status_code == 302
    header = cookie_header(resp)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("trust, secure", [(False, False), (True, True)])
def test_forwarded_proto_is_believed_only_with_kb_trust_proxy(site, trust, secure):
    from kb import create_app
    app = create_app({**site_config(site), "KB_TRUST_PROXY": "1" if trust else ""})
    try:
        client = app.test_client()
        resp = https_login(client, base_url="http://localhost",
                           **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        assert resp.status_code == 302
        assert ("Secure" in cookie_header(resp)) is secure
        entry = app.extensions["kb.users"].audit_entries(limit=1)[0]
        assert entry.address == ("203.0.113.9" if trust else "127.0.0.1")
    finally:
        app.extensions["kb.wiki"].close()
        app.extensions["kb.users"].dispose()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_remember_cookie_gets_the_same_flags(app, scheme):
    from flask_login import login_user

    @app.get("/_remember")
    def remember():
        login_user(app.extensions["kb.users"].by_username("pat"), remember=True)
        return "ok"

    header = cookie_header(app.test_client().get("/_remember", base_url=f"{scheme}://localhost"), "remember_token")
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert ("Secure" in header) is (scheme == "https")


def test_no_remember_cookie_on_sign_in(client):
    resp = login(client, "pat")
    assert resp.status_code == 302  # signed in...
    assert client.get("/account").status_code == 200
    cookies = resp.headers.getlist("Set-Cookie")
    assert any(h.startswith("session=") for h in cookies)  # ...with a session cookie only
    assert not [h for h in cookies if h.startswith("remember")]


def test_sign_in_starts_a_fresh_session(client):
    before_token = csrf_token(client)
    before = client.get_cookie("session").value
    resp = client.post("/login", data={"username": "pat", "password": PASSWORD, "csrf_token": before_token})
    assert resp.status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    # the CSRF secret from before sign-in went with the old session
    assert client.post("/logout", data={"csrf_token": before_token}).status_code == 400
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/account")}).status_code == 302
    assert client.get("/account").status_code == 302  # signed out


def test_sign_out_needs_a_post(client, as_user):
    as_user("pat")
    assert client.get("/logout").status_code == 200  # a confirmation form, not a sign-out
    assert client.get("/account").status_code == 200


def test_password_change_signs_out_every_other_session(app, as_user):
    laptop, phone = as_user("pat"), app.test_client()
    assert login(phone, "pat").status_code == 302
    token = csrf_token(laptop, "/account")
    wrong = laptop.post("/account/password", data={"current": "not my password", "new": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD, "csrf_token": token})
    assert wrong.status_code == 422 and "The current password is wrong." in wrong.get_data(as_text=True)
    assert app.extensions["kb.users"].audit_entries(limit=1)[0].action == "login_failed"
    mismatch = laptop.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD + "x", "csrf_token": token})
    assert mismatch.status_code == 422 and "The two new passwords differ." in mismatch.get_data(as_text=True)
    before = laptop.get_cookie("session").value
    ok = laptop.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                "csrf_token": token})
    assert ok.status_code == 302 and laptop.get_cookie("session").value != before
    assert "You were signed out everywhere else." in laptop.get("/account").get_data(as_text=True)
    assert laptop.get(f"/notes/{INTERNAL}").status_code == 200  # this session carries on
    assert phone.get(f"/notes/{INTERNAL}").status_code == 404  # the other one is anonymous now
    assert phone.get("/account").status_code == 302
    assert login(phone, "pat").status_code == 401
    assert login(phone, "pat", NEW_PASSWORD).status_code == 302
    assert "password_change" in [e.action for e in app.extensions["kb.users"].audit_entries(limit=5)]


def test_sign_out_everywhere_else(app, as_user):
    laptop, phone = as_user("pat"), app.test_client()
    login(phone, "pat")
    resp = laptop.post("/account/sessions", data={"csrf_token": csrf_token(laptop, "/account")})
    assert resp.status_code == 302
    assert laptop.get("/account").status_code == 200 and phone.get("/account").status_code == 302


# --- redirects after sign-in ------------------------------------------------------------------------
EVIL = ["//evil.com", "///evil.com", "/\\evil.com", "\\\\evil.com", "\\/evil.com", "https://evil.com",
        "HTTPS://evil.com", "http:evil.com", "https:/evil.com", "javascript:alert(1)", " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>", "%2F%2Fevil.com", " //evil.com", "\t//evil.com",
        "/\t/evil.com", "/\n/evil.com", "/\r\n/evil.com", "/\x00/evil.com", "/\x7f/evil.com", "/ /evil.com",
        "/\u3000/evil.com", "evil.com", "", None, "/" + "a" * 3000]
GOOD = ["/", "/notes/some-note", "/search?q=child+protection&region=Sahel", "/regions/sahel#latest",
        "/%2F%2Fevil.com"]  # the last one is a path on this site, whatever it looks like


@pytest.fixture(scope="module")
def shared_app(site_template, tmp_path_factory):
    """One app for the tests that only build URLs: nothing is written."""
    import shutil

    from kb import create_app
    root = tmp_path_factory.mktemp("auth") / "site"
    shutil.copytree(site_template, root, symlinks=True)
    app = create_app({**site_config(root), "KB_CHECK_INDEX_ON_START": "0"})
    yield app
    app.extensions["kb.wiki"].close()
    app.extensions["kb.users"].dispose()


@pytest.mark.parametrize("target", EVIL, ids=lambda t: repr(t)[:30])
def test_unsafe_next_goes_home(shared_app, target):
    with shared_app.test_request_context():
        assert safe_next(target) == url_for("notes.home")


@pytest.mark.parametrize("target", GOOD)
def test_local_next_is_kept(shared_app, target):
    with shared_app.test_request_context():
        assert safe_next(target) == target


def test_sign_in_follows_next_only_when_local(client):
    token = csrf_token(client)
    resp = client.post("/login?next=//evil.com", data={"username": "pat", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    token = csrf_token(client)
    resp = client.post("/login?next=/regions/sahel", data={"username": "pat", "password": PASSWORD,
                                                            "csrf_token": token})
    assert resp.headers["Location"] == "/regions/sahel"


def test_pages_for_signed_in_users_send_anonymous_readers_to_sign_in(client):
    resp = client.get("/account")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=%2Faccount"
    assert "Please sign in to see this page." in client.get(resp.headers["Location"]).get_data(as_text=True)


# --- API tokens ----------------------------------------------------------------------------------------
def test_token_acts_as_its_user_until_revoked(app, as_user):
    client = as_user("pat")
    token_id, token = new_token(client)
    assert token not in client.get("/account").get_data(as_text=True)  # shown once only
    row = app.extensions["kb.users"].tokens("pat")[0]
    assert row.token_hash != token and token not in repr(vars(row))
    api = app.test_client()  # no cookies: the token alone
    assert api.get(f"/api/notes/{INTERNAL}", headers=bearer(token)).status_code == 200
    assert api.get(f"/api/notes/{RESTRICTED}", headers=bearer(token)).status_code == 404  # pat's policy
    assert api.get(f"/api/notes/{INTERNAL}").status_code == 404  # anonymous without it
    assert api.get(f"/notes/{INTERNAL}", headers=bearer(token)).status_code == 404  # tokens are for /api/ only
    resp = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    assert resp.status_code == 302
    resp = api.get(f"/api/notes/{INTERNAL}", headers=bearer(token))
    assert resp.status_code == 401 and resp.is_json
    assert resp.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert [e.action for e in app.extensions["kb.users"].audit_entries(limit=2)] == ["token_revoke", "token_create"]


def test_others_cannot_revoke_my_token(app, as_user):
    _, token = app.extensions["kb.users"].create_token("moussa", "mine")
    token_id = app.extensions["kb.users"].tokens("moussa")[0].id
    client = as_user("pat")
    resp = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    assert resp.status_code == 404
    assert app.test_client().get("/api/search?q=x", headers=bearer(token)).status_code == 200


def test_unknown_tokens_get_401_not_anonymous_access(client):
    for header in ("Bearer kb_not-a-real-token", "Bearer ", "bearer kb_x", "Bearer " + "x" * 500):
        resp = client.get("/api/search?q=protection", headers={"Authorization": header})
        assert resp.status_code == 401 and resp.get_json()["error"]["status"] == 401, header


def test_a_token_wins_over_a_cookie_session(app, as_user):
    _, pat_token = app.extensions["kb.users"].create_token("pat")
    client = as_user("admin")
    assert client.get(f"/api/notes/{RESTRICTED}").status_code == 200
    assert client.get(f"/api/notes/{RESTRICTED}", headers=bearer(pat_token)).status_code == 404


# --- disabled accounts -------------------------------------------------------------------------------
def test_disabled_accounts_cannot_sign_in_and_lose_sessions_and_tokens(app, as_user):
    users = app.extensions["kb.users"]
    _, token = users.create_token("pat")
    client = as_user("pat")
    assert client.get(f"/notes/{INTERNAL}").status_code == 200
    users.set_active("pat", False)
    assert client.get(f"/notes/{INTERNAL}").status_code == 404
    assert "Sign in" in client.get("/").get_data(as_text=True)
    assert client.get("/api/search", headers=bearer(token)).status_code == 401
    resp = login(app.test_client(), "pat")
    assert resp.status_code == 401 and "Wrong username or password" in resp.get_data(as_text=True)
    users.set_active("pat", True)
    assert client.get(f"/notes/{INTERNAL}").status_code == 404  # re-enabling revives no old session
    assert app.test_client().get("/api/search", headers=bearer(token)).status_code == 200  # tokens come back


# --- headers ---------------------------------------------------------------------------------------------
def test_security_headers_on_account_pages_and_errors(app, as_user):
    client = as_user("admin")
    responses = [client.get(p) for p in ("/account", "/admin/users", "/admin/users/pat", "/login")]
    responses.append(app.test_client().get("/api/search", headers=bearer("kb_nope")))
    responses.append(client.post("/logout"))  # 400: no CSRF token
    for resp in responses:
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        body = resp.get_data(as_text=True)
        assert "<script" not in body and " style=" not in body and "<style" not in body
