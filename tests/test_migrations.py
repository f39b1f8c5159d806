"""Schema migrations (kb.migrate, Alembic) on SQLite and on a real PostgreSQL: up from an empty database, up
from a database an earlier kb made with create_all (its data kept), the models and the migrations agreeing,
several processes starting at once, a database from a newer kb refused, and the `kb db` commands."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from kb import migrate
from kb.accounts_model import hash_token
from kb.cli import cli
from kb.errors import ConfigError
from kb.users import UserStore

from .conftest import SHIPPED

PASSWORD = "an old but long password"
REVISIONS = [s.revision for s in reversed(list(migrate.scripts().walk_revisions()))]


def differences(url: str) -> list:
    """What Alembic's autogenerate would still have to write to make the database match the models."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    migrate.target_metadata())
    finally:
        engine.dispose()


def earlier_kb_schema() -> sa.MetaData:
    """The tables as kb made them with create_all before migrations (frozen here: the models will move on)."""
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("username", sa.String(40), nullable=False, unique=True, index=True),
             sa.Column("display_name", sa.String(80), nullable=False), sa.Column("email", sa.String(254)),
             sa.Column("role", sa.String(20), nullable=False), sa.Column("regions_csv", sa.Text, nullable=False),
             sa.Column("active", sa.Boolean, nullable=False),
             sa.Column("password_hash", sa.String(255), nullable=False),
             sa.Column("session_version", sa.Integer, nullable=False),
             sa.Column("created", sa.DateTime, nullable=False))
    sa.Table("api_tokens", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False, index=True),
             sa.Column("label", sa.String(80), nullable=False),
             sa.Column("token_hash", sa.String(64), nullable=False, unique=True, index=True),
             sa.Column("created", sa.DateTime, nullable=False), sa.Column("last_used", sa.DateTime),
             sa.Column("revoked", sa.Boolean, nullable=False))
    sa.Table("sign_ins", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False, index=True),
             sa.Column("key_hash", sa.String(64), nullable=False, unique=True, index=True),
             sa.Column("started", sa.DateTime, nullable=False, index=True),
             sa.Column("last_seen", sa.DateTime, nullable=False), sa.Column("ended", sa.Boolean, nullable=False))
    sa.Table("audit_log", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("at", sa.DateTime, nullable=False, index=True),
             sa.Column("actor", sa.String(40), nullable=False), sa.Column("action", sa.String(40), nullable=False),
             sa.Column("target", sa.String(300), nullable=False), sa.Column("detail", sa.Text, nullable=False),
             sa.Column("address", sa.String(64), nullable=False),
             sa.Index("ix_audit_action_actor_at", "action", "actor", "at"),
             sa.Index("ix_audit_action_address_at", "action", "address", "at"))
    return md


def make_earlier_kb_database(url: str) -> dict:
    """A database as an earlier kb left it: its tables made by create_all, an admin, a token, a sign-in, and
    audit entries; the secrets it holds, to check after the upgrade."""
    md = earlier_kb_schema()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    token, key = "kb_an-old-token-from-before-migrations", "an-old-sign-in-key"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        md.create_all(conn)
        t = md.tables
        user_id = conn.execute(t["users"].insert().values(
            username="old", display_name="Old Admin", email=None, role="admin", regions_csv="", active=True,
            password_hash=generate_password_hash(PASSWORD, method="scrypt"), session_version=1,
            created=now)).inserted_primary_key[0]
        conn.execute(t["api_tokens"].insert().values(user_id=user_id, label="script", token_hash=hash_token(token),
                                                     created=now, last_used=None, revoked=False))
        conn.execute(t["sign_ins"].insert().values(user_id=user_id, key_hash=hash_token(key), started=now,
                                                   last_seen=now, ended=False))
        for i in range(3):
            conn.execute(t["audit_log"].insert().values(at=now - timedelta(minutes=3 - i), actor="old", action="save",
                                                        target=f"note-{i}", detail="", address="10.0.0.1"))
    engine.dispose()
    return {"user_id": user_id, "token": token, "key": key}


# --- up from nothing, and the models matching the migrations -------------------------------------------

def test_an_empty_database_is_upgraded_from_nothing(database_url):
    store = UserStore(database_url)
    report = store.upgrade()
    assert (report.before, report.after, report.earlier_kb) == (None, migrate.head(), False)
    assert report.applied == REVISIONS and REVISIONS[0] == "0001_baseline"
    assert store.revision() == (migrate.head(), migrate.head())
    again = store.upgrade()  # a second start finds it current and does nothing
    assert (again.before, again.applied, again.changed) == (migrate.head(), [], False)
    store.add("sam", PASSWORD, "practitioner")
    assert store.authenticate("sam", PASSWORD).username == "sam"
    store.dispose()


def test_the_migrations_make_exactly_the_models_tables(database_url):
    """A model changed without a migration fails here: write the revision (docs/deploy.md says how)."""
    store = UserStore(database_url)
    store.upgrade()
    store.dispose()
    assert differences(database_url) == []


def test_an_empty_database_does_not_match_the_models(database_url):
    """The comparison above can fail: an empty database lacks every table."""
    missing = {diff[1].name for diff in differences(database_url) if diff[0] == "add_table"}
    assert missing == set(migrate.target_metadata().tables)


# --- up from an earlier kb ----------------------------------------------------------------------------------

def test_a_database_from_an_earlier_kb_is_recognised_upgraded_and_keeps_its_data(database_url):
    old = make_earlier_kb_database(database_url)
    store = UserStore(database_url)
    assert store.revision() == (None, migrate.head())
    report = store.upgrade()
    assert report.earlier_kb and report.before is None and report.applied == REVISIONS
    assert differences(database_url) == []
    user = store.authenticate("old", PASSWORD)
    assert (user.username, user.role, user.display_name) == ("old", "admin", "Old Admin")
    assert store.user_for_token(old["token"]).username == "old"
    assert store.sign_ins.check(old["key"], old["user_id"], timedelta(minutes=5), timedelta(hours=1))
    assert [e.target for e in store.audit_entries()] == ["note-2", "note-1", "note-0"]
    assert store.add("new", PASSWORD, "practitioner").id != old["user_id"]  # the ids go on after the old rows
    assert store.count() == 2
    store.dispose()


def test_an_older_partial_database_gets_the_missing_tables_and_indexes(database_url):
    """Before sign-ins were kept, only users and audit_log existed, the audit log without its indexes."""
    md = earlier_kb_schema()
    md.remove(md.tables["sign_ins"])
    md.remove(md.tables["api_tokens"])
    for index in list(md.tables["audit_log"].indexes):
        md.tables["audit_log"].indexes.discard(index)
    engine = sa.create_engine(database_url)
    md.create_all(engine)
    engine.dispose()
    store = UserStore(database_url)
    assert store.upgrade().earlier_kb
    store.dispose()
    assert differences(database_url) == []


# --- several starts at once, and a database from a newer kb -----------------------------------------------

def test_workers_starting_at_once_migrate_once(database_url):
    stores = [UserStore(database_url) for _ in range(4)]
    reports, errors = [], []
    barrier = threading.Barrier(len(stores))

    def start(store):
        try:
            barrier.wait()
            reports.append(store.upgrade())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(len(r.applied) for r in reports) == [0] * (len(stores) - 1) + [len(REVISIONS)]
    assert all(r.after == migrate.head() for r in reports)
    stores[0].add("sam", PASSWORD, "practitioner")
    assert stores[-1].by_username("sam") is not None
    for s in stores:
        s.dispose()


def test_a_database_upgraded_by_a_newer_kb_is_refused_clearly(database_url):
    store = UserStore(database_url)
    store.upgrade()
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_a_newer_kb'"))
    for call in (store.upgrade, store.revision):
        with pytest.raises(ConfigError, match="revision '9999_from_a_newer_kb', which this kb does not know"):
            call()
    store.dispose()


# --- the commands ---------------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path, monkeypatch, database_url):
    for key, sub in (("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"), ("KB_INSTANCE_DIR", "instance")):
        monkeypatch.setenv(key, str(tmp_path / sub))
    monkeypatch.setenv("KB_DATABASE_URL", database_url)
    monkeypatch.setenv("KB_ADMIN_PASSWORD", "a-long-admin-password")
    return database_url


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_kb_db_current_and_upgrade(env):
    before = run("db", "current")
    assert before.exit_code == 1 and "database: (none" in before.output and "needs `kb db upgrade`" in before.output
    done = run("db", "upgrade")
    assert done.exit_code == 0 and "Applied 0001_baseline" in done.output and "earlier kb" not in done.output
    assert "already at the newest revision" in run("db", "upgrade").output
    now = run("db", "current")
    assert now.exit_code == 0 and f"database: {migrate.head()}" in now.output


def test_kb_db_upgrade_says_it_found_an_earlier_kb(env):
    make_earlier_kb_database(env)
    result = run("db", "upgrade")
    assert result.exit_code == 0 and "Found a database made by an earlier kb" in result.output


def test_kb_init_migrates_the_database(env, tmp_path):
    import shutil
    shutil.copytree(SHIPPED, tmp_path / "content")
    result = run("init")
    assert result.exit_code == 0, result.output
    assert run("db", "current").exit_code == 0
    store = UserStore(env)
    assert store.authenticate("admin", "a-long-admin-password").role == "admin"
    store.dispose()


def test_rows_an_earlier_sqlite_database_left_dangling_do_not_block_the_upgrade(tmp_path):
    """kb migrates SQLite with its foreign-key checks off and refuses only what the migration itself breaks."""
    import sqlite3
    path = tmp_path / "old.sqlite"
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    earlier_kb_schema().create_all(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # foreign keys are off in a plain sqlite3 connection
        conn.execute("INSERT INTO api_tokens (user_id, label, token_hash, created, revoked) "
                     "VALUES (99, 'orphan', 'h', '2026-01-01 00:00:00', 0)")
    store = UserStore(url)
    assert store.upgrade().applied == REVISIONS
    assert store.revision()[0] == migrate.head()
    store.dispose()
