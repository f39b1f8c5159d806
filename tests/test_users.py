"""kb.users against a real database, SQLite and PostgreSQL: accounts, roles, sessions, tokens and the audit log.

Password hashes are slow on purpose, so the accounts most tests read are created once per module; tests
that change an account make their own.
"""
from __future__ import annotations

import ast
import csv
import hashlib
import io
import sqlite3
import threading
from datetime import timezone
from pathlib import Path

import pytest

from kb import users
from kb.users import MIN_PASSWORD, ROLES, UserError, UserStore
from tests.conftest import DATABASES, new_database_url

PLACES = ("East Africa", "Kenya", "Ethiopia", "West Africa", "Mali")
PASSWORD = "correct horse battery"


def _store(url: str | Path) -> UserStore:
    store = UserStore(url if isinstance(url, str) else f"sqlite:///{url}", valid_places=PLACES)
    store.upgrade()
    return store


@pytest.fixture(scope="module", params=DATABASES)
def db_url(request, tmp_path_factory) -> str:
    return new_database_url(request, request.param, tmp_path_factory.mktemp("users"))


@pytest.fixture(scope="module")
def store(db_url):
    """Four accounts shared by the read-only tests: an admin, a focal point, a practitioner, a disabled one."""
    s = _store(db_url)
    s.add("Alice", PASSWORD, "admin", display_name="Alice A.", email="alice@example.org")
    s.add("fiona", PASSWORD, "focal_point", regions=["east africa", "MALI", "Mali"])
    s.add("pat", PASSWORD, "practitioner", regions=["Kenya"])  # ignored: only focal points have regions
    s.add("dora", PASSWORD, "practitioner")
    s.set_active("dora", False)
    yield s
    s.dispose()


@pytest.fixture
def fresh(database_url):
    s = _store(database_url)
    yield s
    s.dispose()


def _rows(where: Path | UserStore, sql: str) -> list[tuple]:
    """Rows read straight from the database, around kb.users: an SQLite file's path, or a store's engine."""
    if isinstance(where, UserStore):
        with where.engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    with sqlite3.connect(where) as conn:
        return conn.execute(sql).fetchall()


# --- accounts ------------------------------------------------------------------------------
def test_add_get_list_count(store):
    alice = store.by_username("ALICE")
    assert alice.username == "alice" and alice.role == "admin" and alice.regions == []
    assert (alice.display_name, alice.email) == ("Alice A.", "alice@example.org")
    assert alice.created.tzinfo is timezone.utc
    assert store.get(alice.id).username == "alice"
    assert store.get(10_000) is None
    assert [u.username for u in store.list()] == ["alice", "dora", "fiona", "pat"]
    assert store.count() == 4
    assert store.by_username("nobody") is None and store.by_username("../x") is None


def test_regions_canonical_and_only_for_focal_points(store):
    assert store.by_username("fiona").regions == ["East Africa", "Mali"]
    pat = store.by_username("pat")
    assert pat.regions == [] and pat.regions_csv == ""
    assert pat.display_name == "pat"  # defaults to the username


def test_flask_login_protocol(store):
    fiona = store.by_username("fiona")
    assert fiona.is_authenticated is True and fiona.is_anonymous is False and fiona.is_active is True
    assert fiona.get_id() == f"{fiona.id}:1"
    assert store.by_username("dora").is_active is False


def test_passwords_are_salted_scrypt(store):
    hashes = [h for (h,) in _rows(store, "SELECT password_hash FROM users")]
    assert all(h.startswith("scrypt:") for h in hashes)
    assert len(set(hashes)) == len(hashes)  # same password, different salts
    assert not any(PASSWORD in h for h in hashes)


@pytest.mark.parametrize("kwargs, message", [
    ({"role": "superuser"}, "unknown role"),
    ({"password": "x" * (MIN_PASSWORD - 1)}, "password too short"),
    ({"password": "x" * 2000}, "password too long"),
    ({"role": "focal_point"}, "needs at least one region"),
    ({"role": "focal_point", "regions": ["  ", ""]}, "needs at least one region"),
    ({"role": "focal_point", "regions": ["Kenya", "Atlantis"]}, "unknown region or country 'Atlantis'"),
    ({"username": "a"}, "invalid username"),
    ({"username": "x" * 41}, "invalid username"),
    ({"username": "bad name"}, "invalid username"),
    ({"username": ".."}, "invalid username"),
    ({"username": "-rf"}, "invalid username"),
    ({"username": "jos\u00e9"}, "invalid username"),
    ({"username": "ALICE"}, "username 'alice' is taken"),
    ({"email": "not an email"}, "invalid email"),
])
def test_add_rejects_bad_input(store, kwargs, message):
    args = {"username": "newbie", "password": PASSWORD, "role": "practitioner", **kwargs}
    with pytest.raises(UserError, match=message) as info:
        store.add(**args)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)
    assert store.by_username("newbie") is None


def test_roles_constant_matches_policy():
    from kb import access
    assert ROLES == access.ROLES


def test_regions_unchecked_without_taxonomy(database_url):
    s = UserStore(database_url)
    s.upgrade()
    with pytest.raises(UserError, match="commas"):
        s.add("sam", PASSWORD, "focal_point", ["A,B"])
    assert s.add("sam", PASSWORD, "focal_point", "Anywhere, Elsewhere,").regions == ["Anywhere", "Elsewhere"]
    s.dispose()


# --- sign-in and sessions ----------------------------------------------------------------------
@pytest.mark.parametrize("username, password, expected", [
    ("alice", PASSWORD, "alice"),
    ("  ALICE ", PASSWORD, "alice"),
    ("alice", PASSWORD + "!", None),
    ("alice", "", None),
    ("dora", PASSWORD, None),  # disabled
    ("nobody", PASSWORD, None),
    ("bad name", PASSWORD, None),
])
def test_authenticate(store, username, password, expected):
    user = store.authenticate(username, password)
    assert (user.username if user else None) == expected


def test_load_session_user(store):
    fiona = store.by_username("fiona")
    assert store.load_session_user(fiona.get_id()).username == "fiona"
    dora = store.by_username("dora")
    for bad in (f"{fiona.id}:99", f"{fiona.id}", "x:1", "", "1:2:3", "10000:1", dora.get_id()):
        assert store.load_session_user(bad) is None, bad


def test_password_change_signs_out_everywhere(fresh):
    user = fresh.add("sam", PASSWORD, "practitioner")
    old_session = user.get_id()
    with pytest.raises(UserError, match="too short"):
        fresh.set_password("sam", "short")
    changed = fresh.set_password("SAM", "another long password")
    assert changed.session_version == user.session_version + 1
    assert fresh.load_session_user(old_session) is None
    assert fresh.load_session_user(changed.get_id()).username == "sam"
    assert fresh.authenticate("sam", PASSWORD) is None
    assert fresh.authenticate("sam", "another long password").username == "sam"
    with pytest.raises(UserError, match="unknown user 'ghost'"):
        fresh.set_password("ghost", "another long password")


def test_disable_and_enable(fresh):
    fresh.add("root", PASSWORD, "admin")
    user = fresh.add("sam", PASSWORD, "practitioner")
    session = user.get_id()
    assert fresh.set_active("sam", False).active is False
    assert fresh.load_session_user(session) is None
    assert fresh.authenticate("sam", PASSWORD) is None
    back = fresh.set_active("sam", True)
    assert back.active is True
    assert fresh.load_session_user(session) is None  # re-enabling does not revive old sessions
    assert fresh.authenticate("sam", PASSWORD).get_id() == back.get_id()


def test_set_role_and_update(fresh):
    fresh.add("root", PASSWORD, "admin")
    fresh.add("sam", PASSWORD, "practitioner")
    with pytest.raises(UserError, match="needs at least one region"):
        fresh.set_role("sam", "focal_point")
    with pytest.raises(UserError, match="unknown role"):
        fresh.set_role("sam", "owner")
    assert fresh.set_role("sam", "focal_point", ["kenya"]).regions == ["Kenya"]
    assert fresh.set_role("sam", "focal_point").regions == ["Kenya"]  # None keeps them
    assert fresh.set_role("sam", "focal_point", ["Mali", "ethiopia"]).regions == ["Mali", "Ethiopia"]
    promoted = fresh.set_role("sam", "admin", ["Mali"])
    assert (promoted.role, promoted.regions) == ("admin", [])
    updated = fresh.update("sam", display_name=" Sam S. ", email="sam@example.org")
    assert (updated.display_name, updated.email) == ("Sam S.", "sam@example.org")
    assert fresh.update("sam", email="").email is None
    assert fresh.update("sam").display_name == "Sam S."
    with pytest.raises(UserError, match="invalid email"):
        fresh.update("sam", email="sam@")
    assert fresh.by_username("sam").role == "admin"


def test_last_active_admin_is_kept(fresh):
    fresh.add("root", PASSWORD, "admin")
    with pytest.raises(UserError, match="last active admin"):
        fresh.set_role("root", "practitioner")
    with pytest.raises(UserError, match="last active admin"):
        fresh.set_active("root", False)
    fresh.add("second", PASSWORD, "admin")
    assert fresh.set_active("root", False).active is False
    with pytest.raises(UserError, match="last active admin"):
        fresh.set_role("second", "practitioner")


def test_returned_objects_outlive_their_session(fresh):
    fresh.add("sam", PASSWORD, "focal_point", ["Kenya"])
    listed, token = fresh.list(), fresh.create_token("sam")[0]
    fresh.dispose()  # sessions and connections gone: the objects are plain detached data
    assert [(u.username, u.regions, u.is_active, u.get_id()) for u in listed] == [("sam", ["Kenya"], True, "1:1")]
    assert (token.user_id, token.revoked) == (listed[0].id, False)


# --- API tokens ----------------------------------------------------------------------------
def test_token_plaintext_is_never_stored(db_url, store):
    row, plaintext = store.create_token("pat", label="  laptop  ")
    assert plaintext.startswith("kb_") and len(plaintext) > 40
    assert (row.label, row.revoked, row.last_used) == ("laptop", False, None)
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert _rows(store, f"SELECT token_hash FROM api_tokens WHERE id = {row.id}") == [(row.token_hash,)]
    assert not any(plaintext in str(cell) for r in _rows(store, "SELECT * FROM api_tokens") for cell in r)
    if db_url.startswith("sqlite:"):  # nor anywhere in the file or its write-ahead log
        db_path = Path(db_url.removeprefix("sqlite:///"))
        assert plaintext.encode() not in db_path.read_bytes()
        wal = db_path.with_name(db_path.name + "-wal")
        assert not wal.exists() or plaintext.encode() not in wal.read_bytes()


def test_user_for_token(store):
    row, plaintext = store.create_token("fiona", label="script")
    assert store.user_for_token(plaintext).username == "fiona"
    used = next(t for t in store.tokens("fiona") if t.id == row.id)
    assert used.last_used is not None and used.last_used.tzinfo is timezone.utc
    for bad in ("", "kb_nope", plaintext + "x", plaintext[:-1], None, "x" * 10_000):
        assert store.user_for_token(bad) is None


def test_revoked_token_fails(store):
    row, plaintext = store.create_token("fiona")
    with pytest.raises(UserError, match="unknown token"):
        store.revoke_token(row.id, username="pat")  # not the owner
    with pytest.raises(UserError, match="unknown token"):
        store.revoke_token(10_000)
    assert store.user_for_token(plaintext).username == "fiona"
    store.revoke_token(row.id, username="FIONA")
    assert store.user_for_token(plaintext) is None
    assert next(t for t in store.tokens("fiona") if t.id == row.id).revoked is True
    store.revoke_token(row.id)  # again, by an admin: harmless


def test_disabled_users_token_fails(fresh):
    fresh.add("root", PASSWORD, "admin")
    fresh.add("sam", PASSWORD, "practitioner")
    _, plaintext = fresh.create_token("sam")
    assert fresh.user_for_token(plaintext).username == "sam"
    fresh.set_active("sam", False)
    assert fresh.user_for_token(plaintext) is None
    with pytest.raises(UserError, match="disabled"):
        fresh.create_token("sam")
    with pytest.raises(UserError, match="unknown user"):
        fresh.create_token("ghost")


def test_tokens_listed_newest_first(fresh):
    fresh.add("sam", PASSWORD, "practitioner")
    first, _ = fresh.create_token("sam", "one")
    second, _ = fresh.create_token("sam", "two")
    assert [t.id for t in fresh.tokens("sam")] == [second.id, first.id]


# --- audit log ------------------------------------------------------------------------------
def test_audit_entries_newest_first(fresh):
    for i in range(5):
        fresh.audit("save", actor="alice", target=f"note-{i}", address="10.0.0.1")
    entries = fresh.audit_entries()
    assert [e.target for e in entries] == [f"note-{i}" for i in reversed(range(5))]
    assert entries[0].at >= entries[-1].at and entries[0].at.tzinfo is timezone.utc
    assert [e.target for e in fresh.audit_entries(limit=2, offset=1)] == ["note-3", "note-2"]
    fresh.audit("x" * 100, target="t" * 1000)  # clipped, never refused
    assert len(fresh.audit_entries(limit=1)[0].target) == 300


def test_audit_csv_round_trips_and_defuses_formulas(fresh):
    tricky = 'moved to "Kenya, Nairobi"\nsecond line, with commas'
    fresh.audit("login_failed", actor="", target="bob", detail="bad password", address="::1")
    fresh.audit("save", actor="alice", target="kenya-note", detail=tricky, address="10.0.0.2")
    for i, evil in enumerate(("=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)")):
        fresh.audit("status", actor="alice", target=f"n{i}", detail=evil)
    rows = list(csv.reader(io.StringIO(fresh.audit_csv(), newline="")))
    assert rows[0] == ["at", "actor", "action", "target", "detail", "address"]
    body = rows[1:]
    assert len(body) == 6 and all(len(r) == 6 for r in body)
    assert [r[3] for r in body] == ["n3", "n2", "n1", "n0", "kenya-note", "bob"]
    assert body[4][1:] == ["alice", "save", "kenya-note", tricky, "10.0.0.2"]
    assert body[4][0].endswith("+00:00")
    assert [r[4] for r in body[:4]] == ["'@SUM(A1)", "'-2+3", "'+1", "'=HYPERLINK(\"http://x\")"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row[1:])


def test_concurrent_writers(fresh):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                fresh.audit("save", actor=f"t{n}", target=str(i))
                fresh.audit_entries(limit=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fresh.audit_entries(limit=1000)) == 80


# --- engine and structure ---------------------------------------------------------------------
def test_sqlite_uses_wal(tmp_path):
    s = _store(tmp_path / "wal.sqlite")
    s.audit("x")
    assert _rows(tmp_path / "wal.sqlite", "PRAGMA journal_mode") == [("wal",)]
    s.dispose()


def test_in_memory_database_works():
    s = UserStore("sqlite://")
    s.upgrade()
    s.audit("user_add", actor="cli", target="x")
    assert s.count() == 0 and len(s.audit_entries()) == 1
    s.dispose()


def test_users_module_is_flask_free():
    tree = ast.parse(Path(users.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"flask", "flask_login", "flask_wtf"}


# --- edits in one transaction, sign-out everywhere, the throttle's counts, schema upgrades ----------------------
def test_edit_changes_fields_at_once_and_reports_what_changed(fresh):
    fresh.add("root", PASSWORD, "admin")
    fresh.add("sam", PASSWORD, "practitioner")
    user, changes = fresh.edit("sam", display_name="Sam", email="sam@example.org", role="focal_point",
                               regions=["mali"])
    assert (user.role, user.regions, user.email) == ("focal_point", ["Mali"], "sam@example.org")
    assert changes == {"display_name": ("sam", "Sam"), "email": (None, "sam@example.org"),
                       "role": ("practitioner", "focal_point"), "regions": ((), ("Mali",))}
    assert fresh.edit("sam", display_name="Sam", role="focal_point")[1] == {}
    with pytest.raises(UserError, match="invalid email"):
        fresh.edit("sam", display_name="Changed", email="bad@", role="practitioner")
    kept = fresh.by_username("sam")  # nothing of a refused edit is saved
    assert (kept.display_name, kept.role) == ("Sam", "focal_point")


def test_end_sessions(fresh):
    user = fresh.add("sam", PASSWORD, "practitioner")
    after = fresh.end_sessions("sam")
    assert fresh.load_session_user(user.get_id()) is None
    assert fresh.load_session_user(after.get_id()).username == "sam"


def test_recent_audit_counts(fresh):
    from datetime import datetime, timedelta
    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    for actor, address in (("sam", "10.0.0.1"), ("sam", "10.0.0.2"), ("kim", "10.0.0.1")):
        fresh.audit("login_failed", actor=actor, address=address)
    fresh.audit("login", actor="sam", address="10.0.0.1")
    assert fresh.audit_log.recent("login_failed", start, actor="sam")[0] == 2
    assert fresh.audit_log.recent("login_failed", start, address="10.0.0.1")[0] == 2
    count, latest = fresh.audit_log.recent("login_failed", start)
    assert count == 3 and latest.tzinfo is not None and latest >= start
    assert fresh.audit_log.recent("login_failed", start + timedelta(hours=1)) == (0, None)


def test_upgrade_adds_indexes_to_an_older_database(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the audit table as the first release made it, without the new indexes
        conn.execute("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at DATETIME, actor VARCHAR(40), "
                     "action VARCHAR(40), target VARCHAR(300), detail TEXT, address VARCHAR(64))")
    store = _store(path)
    names = {name for (name,) in _rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"ix_audit_action_actor_at", "ix_audit_action_address_at"} <= names
    store.dispose()
