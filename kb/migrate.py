"""Schema migrations of the accounts database, run through Alembic from code (no alembic.ini, no Flask).

``upgrade`` brings any database to the newest revision: an empty one from nothing, one made by an earlier
kb (tables but no ``alembic_version``) through the baseline, which creates only what is missing. It is safe
when several workers or nodes start at once: the first takes a lock (PostgreSQL: an advisory lock;
SQLite: the write lock, ``BEGIN IMMEDIATE``), migrates inside one transaction and commits; the others wait,
then find the database current and do nothing. A database already current costs one small read.

A new revision: see "Changing the database" in docs/deploy.md.
"""
from __future__ import annotations

import importlib
import re
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from .errors import ConfigError

SCRIPTS = Path(__file__).resolve().parent / "migrations"
# Every module that declares tables on accounts_model.Base: the migrations and their tests compare against
# all of them, so a module with new tables is listed here.
MODEL_MODULES = ("kb.accounts_model", "kb.comments_model", "kb.notify.tables")
BASELINE_TABLES = {"users", "api_tokens", "sign_ins", "audit_log"}  # what a kb before migrations made
LOCK_KEY = 0x6B62_6D69_6772  # "kbmigr": the advisory lock every kb process takes to migrate (PostgreSQL)


@dataclass
class Upgrade:
    """What ``upgrade`` found and did."""
    before: str | None  # the revision the database was at (None: empty, or made by an earlier kb)
    after: str
    earlier_kb: bool = False  # it had kb's tables but no revision: recognised and brought to the baseline
    applied: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def target_metadata():
    """The tables kb's models declare (every module in MODEL_MODULES imported): what the newest revision makes."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    from .accounts_model import Base
    return Base.metadata


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    """The revisions kb ships (read once per process)."""
    return ScriptDirectory.from_config(_config())


def head() -> str:
    return scripts().get_current_head()


def _revision(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def _check_known(revision: str | None, shown_url: str) -> None:
    if revision is None:
        return
    try:
        known = scripts().get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise ConfigError(f"KB_DATABASE_URL: the database {shown_url} is at schema revision {revision!r}, which this "
                          "kb does not know (a newer kb upgraded it): run the same kb version on every node.")


def current(engine: Engine, shown_url: str = "") -> str | None:
    """The database's revision; None for an empty database or one made before migrations."""
    with engine.connect() as conn:
        revision = _revision(conn)
    _check_known(revision, shown_url)
    return revision


def _sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    # SQLite changes a table by copying it; with foreign keys on, dropping the old copy would check (or
    # cascade to) the rows that refer to it. The pragma works only outside a transaction, so it is sent
    # on the driver's connection before SQLAlchemy begins one (and set back after the commit).
    conn.connection.driver_connection.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _dangling(conn: Connection) -> set[tuple]:
    """SQLite rows whose foreign key names no row (the checks are off while migrating)."""
    return {tuple(row) for row in conn.exec_driver_sql("PRAGMA foreign_key_check")}


def upgrade(engine: Engine, shown_url: str = "") -> Upgrade:
    """Bring the database to the newest revision (see the module's doc)."""
    target = head()
    if current(engine, shown_url) == target:
        return Upgrade(before=target, after=target)
    sqlite = engine.dialect.name == "sqlite"
    with engine.execution_options(kb_write=True).connect() as conn:
        if sqlite:
            _sqlite_foreign_keys(conn, on=False)
        try:
            with conn.begin():  # SQLite: BEGIN IMMEDIATE (kb.db), so one process migrates at a time
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                before = _revision(conn)  # again, under the lock: another process may have done it
                _check_known(before, shown_url)
                report = Upgrade(before=before, after=target)
                if before is None:
                    report.earlier_kb = bool(BASELINE_TABLES & set(inspect(conn).get_table_names()))
                if before != target:
                    dangling = _dangling(conn) if sqlite else set()
                    path = scripts().iterate_revisions(target, before or "base")
                    report.applied = [s.revision for s in reversed(list(path))]
                    command.upgrade(_config(conn), "head")
                    new = _dangling(conn) - dangling if sqlite else set()
                    if new:
                        raise ConfigError(f"KB_DATABASE_URL: the upgrade would leave rows of {sorted(new)[0][0]} "
                                          "referring to rows that do not exist; nothing was changed.")
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)
    return report


def draft(message: str) -> Path:
    """Write a new revision's draft, NNNN_words.py, from what the models have and the newest revision lacks
    (Alembic's autogenerate against a scratch SQLite database); a person then reads and completes it."""
    words = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:27].strip("_") or "change"
    number = len(list(scripts().walk_revisions())) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/draft.sqlite")
        try:
            upgrade(engine)
            with engine.connect() as conn, conn.begin():
                cfg = _config(conn)
                cfg.set_main_option("file_template", "%%(rev)s")
                script = command.revision(cfg, message=message, autogenerate=True, rev_id=f"{number:04d}_{words}")
        finally:
            engine.dispose()
    return Path(script.path)


if __name__ == "__main__":  # python -m kb.migrate new "what changes" (for developers; see docs/deploy.md)
    if len(sys.argv) != 3 or sys.argv[1] != "new":
        sys.exit('usage: python -m kb.migrate new "what the revision changes"')
    print(f"Wrote {draft(sys.argv[2])}: read it, complete it, then run tests/test_migrations.py.")
