"""Shared fixtures: a real content repository, a real Whoosh index, a real database, the real app.

The expensive parts (git history, index, password hashes) are built once per session into a template
folder; each test gets its own copy on tmp_path, so tests never share state.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "content"
CORPUS = ROOT.parent / "shared" / "corpus" / "notes"
PASSWORD = "correct horse battery staple"

# username -> (role, regions)
ACCOUNTS = {
    "admin": ("admin", []),
    "moussa": ("focal_point", ["Sahel"]),
    "amina": ("focal_point", ["North Africa"]),
    "layla": ("focal_point", ["Middle East"]),
    "pat": ("practitioner", []),
}


def make_content(dest: Path, source: Path = SHIPPED) -> Path:
    """A content repository with the shipped notes and taxonomy, committed."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git"))
    from kb.history import History
    History(dest).init()
    return dest


def site_config(root: Path) -> dict:
    return {"KB_CONTENT_DIR": str(root / "content"), "KB_INDEX_DIR": str(root / "index"),
            "KB_INSTANCE_DIR": str(root / "instance"), "TESTING": True}


def build_site(root: Path) -> Path:
    """The index and the ACCOUNTS for the content repository already in ``root/content``."""
    from kb import create_app
    app = create_app(site_config(root))
    users = app.extensions["kb.users"]
    for name, (role, regions) in ACCOUNTS.items():
        users.add(name, PASSWORD, role, regions=regions)
    app.extensions["kb.wiki"].close()
    users.dispose()
    return root


@pytest.fixture(scope="session")
def site_template(tmp_path_factory) -> Path:
    """content + index + accounts, built once."""
    root = tmp_path_factory.mktemp("site")
    make_content(root / "content")
    return build_site(root)


@pytest.fixture
def site(site_template, tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(site_template, root, symlinks=True)
    return root


@pytest.fixture
def wiki(site):
    """The service alone, without Flask: kb.wiki.Wiki over this test's copy of the site (content + index)."""
    from kb.wiki import Wiki
    service = Wiki(site / "content", site / "index")
    yield service
    service.close()


@pytest.fixture
def accounts(site):
    """The accounts of this test's copy of the site (ACCOUNTS), without Flask."""
    from kb.users import UserStore
    store = UserStore(f"sqlite:///{site / 'instance' / 'kb.sqlite'}")
    yield store
    store.dispose()


@pytest.fixture
def app(site):
    from kb import create_app
    app = create_app(site_config(site))
    yield app
    app.extensions["kb.wiki"].close()
    app.extensions["kb.users"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on " + path
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def as_user(client):
    """Sign the test client in as one of ACCOUNTS: as_user('moussa')."""
    def sign_in(username: str):
        resp = login(client, username)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client
    return sign_in


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


# --- databases: SQLite and a real PostgreSQL (tests/pgserver.py) ----------------------------------------------

def _postgres_unavailable(reason: str):
    """Under CI (CI=true) a missing PostgreSQL is a failure, .ci/run installs it; elsewhere a skip."""
    message = f"PostgreSQL tests cannot run: {reason}"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session (started on first use, stopped at the end)."""
    from tests.pgserver import PgServer, Unavailable
    try:
        server = PgServer().start()
    except Unavailable as exc:
        _postgres_unavailable(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(pg_server) -> str:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database (postgresql+psycopg://...), for this test."""
    return pg_server.new_database()


DATABASES = ("sqlite", "postgresql")


def new_database_url(request, kind: str, folder: Path) -> str:
    """A fresh empty database of this kind: an SQLite file in ``folder``, or a database on the session's server."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'kb.sqlite'}"
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    """A fresh empty database, once on SQLite and once on PostgreSQL (tests using it run on both)."""
    return new_database_url(request, request.param, tmp_path)
