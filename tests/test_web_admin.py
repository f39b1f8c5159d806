"""Account administration under /admin/users: admins only (404 for everyone else), every change audited."""
from __future__ import annotations

import re

import pytest

from .conftest import PASSWORD, csrf_token, login

NEW_PASSWORD = "another long password"
PAGES = ["/admin/users", "/admin/users/new", "/admin/users/pat", "/admin/users/nobody"]
POSTS = ["/admin/users/new", "/admin/users/pat", "/admin/users/pat/password", "/admin/users/pat/disable",
         "/admin/users/pat/enable", "/admin/users/pat/tokens/1/revoke"]


def without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)


def last_audit(app, n: int = 1):
    return app.extensions["kb.users"].audit_entries(limit=n)


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/users"), **data})


@pytest.mark.parametrize("who", [None, "pat", "moussa"])
def test_everyone_but_admins_gets_the_plain_404(client, as_user, who):
    if who:
        as_user(who)
    missing = without_tokens(client.get("/no-such-page").get_data(as_text=True))
    for path in PAGES:
        resp = client.get(path)
        assert resp.status_code == 404, path
        body = without_tokens(resp.get_data(as_text=True)).replace(path, "/no-such-page")
        assert body == missing, path
    token = csrf_token(client, "/login")
    for path in POSTS:
        assert client.post(path, data={"csrf_token": token, "role": "admin"}).status_code == 404, path
    assert "/admin/users" not in client.get("/").get_data(as_text=True)
    assert client.application.extensions["kb.users"].by_username("pat").role == "practitioner"


def test_list_shows_every_account(as_user):
    client = as_user("admin")
    resp = client.get("/admin/users")
    assert "no-store" in resp.headers["Cache-Control"]
    html = resp.get_data(as_text=True)
    for name in ("admin", "moussa", "amina", "layla", "pat"):
        assert f'href="/admin/users/{name}"' in html
    assert "Focal point" in html and "Sahel" in html and "North Africa" in html
    assert 'href="/admin/users"' in client.get("/").get_data(as_text=True)  # the nav link, for admins


def test_create_a_focal_point_who_can_then_sign_in(app, as_user):
    client = as_user("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    for place in ("Sahel", "Mali", "Horn of Africa", "Afghanistan"):  # the picker offers the taxonomy
        assert f'name="regions" value="{place}"' in page
    assert '<option value="practitioner" selected>' in page  # never an admin by accident
    resp = post(client, "/admin/users/new", username="Fatou", password=PASSWORD, role="focal_point",
                regions=["Mali", "Chad"], display_name="Fatou D.", email="fatou@example.org")
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/users/fatou"
    user = app.extensions["kb.users"].by_username("fatou")
    assert (user.role, user.regions, user.display_name, user.email) == ("focal_point", ["Mali", "Chad"], "Fatou D.",
                                                                          "fatou@example.org")
    entry = last_audit(app)[0]
    assert (entry.action, entry.actor, entry.target, entry.detail) == ("user_add", "admin", "fatou",
                                                                        "focal_point: Mali, Chad")
    edit = client.get("/admin/users/fatou").get_data(as_text=True)
    assert 'value="Mali" checked' in edit and 'value="Niger">' in edit and "The account was created." in edit
    assert login(app.test_client(), "fatou").status_code == 302


@pytest.mark.parametrize("fields, message", [
    ({"role": "focal_point"}, "a focal point needs at least one region or country"),
    ({"username": "pat"}, "username &#39;pat&#39; is taken"),
    ({"username": "bad name"}, "invalid username"),
    ({"password": "short"}, "Field must be between 10 and 1024 characters long."),
    ({"role": "focal_point", "regions": "Atlantis"}, "&#39;Atlantis&#39; is not a valid choice"),
    ({"role": "owner"}, "Not a valid choice"),
    ({"email": "not-an-email"}, "invalid email address"),
    ({"username": "<b>x</b>"}, "invalid username &#39;&lt;b&gt;x&lt;/b&gt;&#39;"),
])
def test_create_refuses_bad_input_with_a_message(app, as_user, fields, message):
    client = as_user("admin")
    data = {"username": "newbie", "password": PASSWORD, "role": "practitioner", **fields}
    resp = post(client, "/admin/users/new", **data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert app.extensions["kb.users"].by_username("newbie") is None
    assert last_audit(app)[0].action == "login"


def test_edit_role_regions_and_profile_are_audited(app, as_user):
    client = as_user("admin")
    resp = post(client, "/admin/users/pat", role="focal_point", regions=["Sahel", "Libya"], display_name="Pat P.",
                email="pat@example.org")
    assert resp.status_code == 302
    pat = app.extensions["kb.users"].by_username("pat")
    assert (pat.role, pat.regions, pat.display_name, pat.email) == ("focal_point", ["Sahel", "Libya"], "Pat P.",
                                                                     "pat@example.org")
    actions = {e.action: e for e in last_audit(app, 2)}
    assert actions["role"].detail == "practitioner -> focal_point: Sahel, Libya"
    assert actions["user_update"].detail == "changed display_name, email"
    assert all(e.actor == "admin" and e.target == "pat" for e in actions.values())
    post(client, "/admin/users/pat", role="focal_point", regions=["Sahel"], display_name="Pat P.",
         email="pat@example.org")
    assert last_audit(app)[0].detail == "focal_point: Sahel, Libya -> focal_point: Sahel"
    resp = post(client, "/admin/users/pat", role="focal_point", regions=["Sahel"], display_name="Pat P.",
                email="pat@example.org")
    assert "Nothing changed." in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert last_audit(app)[0].detail == "focal_point: Sahel, Libya -> focal_point: Sahel"  # no new entry


def test_role_change_applies_to_the_open_session(app, as_user):
    pat = app.test_client()
    login(pat, "pat")
    restricted = "/notes/safe-house-referral-protocol-libya"
    assert pat.get(restricted).status_code == 404
    admin = as_user("admin")
    post(admin, "/admin/users/pat", role="focal_point", regions=["North Africa"], display_name="pat", email="")
    assert pat.get(restricted).status_code == 200


def test_the_last_admin_stays_an_admin(app, as_user):
    client = as_user("admin")
    resp = post(client, "/admin/users/admin", role="practitioner", display_name="admin", email="")
    assert resp.status_code == 422 and "is the last active admin" in resp.get_data(as_text=True)
    assert app.extensions["kb.users"].by_username("admin").role == "admin"


def test_password_reset_signs_the_user_out(app, as_user):
    pat = app.test_client()
    login(pat, "pat")
    admin = as_user("admin")
    assert post(admin, "/admin/users/pat/password", password="short").status_code == 422
    assert post(admin, "/admin/users/pat/password", password=NEW_PASSWORD).status_code == 302
    assert (last_audit(app)[0].action, last_audit(app)[0].target) == ("password_reset", "pat")
    assert pat.get("/account").status_code == 302
    assert login(pat, "pat", NEW_PASSWORD).status_code == 302


def test_disable_and_enable(app, as_user):
    pat = app.test_client()
    login(pat, "pat")
    users = app.extensions["kb.users"]
    _, token = users.create_token("pat")
    admin = as_user("admin")
    assert post(admin, "/admin/users/pat/disable").status_code == 302
    assert last_audit(app)[0].action == "user_disable"
    assert "disabled" in admin.get("/admin/users/pat").get_data(as_text=True)
    assert pat.get("/account").status_code == 302
    assert pat.get("/api/search", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(app.test_client(), "pat").status_code == 401
    assert post(admin, "/admin/users/pat/enable").status_code == 302
    assert last_audit(app)[0].action == "user_enable"
    assert login(app.test_client(), "pat").status_code == 302


def test_admins_cannot_disable_themselves(app, as_user):
    client = as_user("admin")
    resp = post(client, "/admin/users/admin/disable")
    assert resp.status_code == 422 and "You cannot disable your own account." in resp.get_data(as_text=True)
    assert app.extensions["kb.users"].by_username("admin").active


def test_admin_revokes_a_users_token(app, as_user):
    users = app.extensions["kb.users"]
    row, token = users.create_token("moussa", "laptop")
    client = as_user("admin")
    assert "laptop" in client.get("/admin/users/moussa").get_data(as_text=True)
    assert post(client, f"/admin/users/pat/tokens/{row.id}/revoke").status_code == 404  # not pat's token
    assert post(client, f"/admin/users/moussa/tokens/{row.id}/revoke").status_code == 302
    assert users.user_for_token(token) is None
    assert (last_audit(app)[0].action, last_audit(app)[0].detail) == ("token_revoke", f"token {row.id}")


def test_unknown_account_is_a_404_for_admins_too(as_user):
    client = as_user("admin")
    assert client.get("/admin/users/ghost").status_code == 404
    assert post(client, "/admin/users/ghost/disable").status_code == 404
