"""The test PostgreSQL server itself (tests/pgserver.py): missing server programs fail the run under CI and
skip it elsewhere, with the reason; the fixture's databases are fresh and apart."""
from __future__ import annotations

import pytest

from tests import conftest, pgserver


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_no_postgresql_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="PostgreSQL tests cannot run: no initdb here"):
        conftest._postgres_unavailable("no initdb here")


def test_missing_server_programs_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_TEST_PG_BINDIR", str(tmp_path))
    monkeypatch.setattr(pgserver.Path, "glob", lambda self, pattern: iter(()))
    monkeypatch.setattr(pgserver.shutil, "which", lambda name: None)
    with pytest.raises(pgserver.Unavailable, match="install Debian's `postgresql` package"):
        pgserver.find_bindir()


def test_each_postgres_url_is_a_fresh_database_of_its_own(pg_server):
    import sqlalchemy as sa
    first, second = pg_server.new_database(), pg_server.new_database()
    assert first != second and first.startswith("postgresql+psycopg://")
    engine = sa.create_engine(first)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x int)"))
    engine.dispose()
    engine = sa.create_engine(second)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


def test_a_postgresql_url_without_a_driver_uses_the_one_kb_installs(pg_server):
    from kb.users import UserStore
    url = pg_server.new_database().replace("postgresql+psycopg://", "postgresql://")
    store = UserStore(url)
    store.upgrade()
    store.audit("x")
    assert store.engine.url.drivername == "postgresql+psycopg" and len(store.audit_entries()) == 1
    store.dispose()
