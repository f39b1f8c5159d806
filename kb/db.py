"""The accounts database connection: one SQLAlchemy engine, short read and write sessions (no Flask).

Every operation opens its own short session, so one ``Database`` serves many threads; with SQLite, WAL
plus a busy timeout (and writes that take the write lock up front) let several processes share one file.
"""
from __future__ import annotations

import weakref
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from . import migrate
from .errors import ConfigError

LOCKED_RETRIES = 5  # a start that finds the SQLite file locked by another starting worker tries again
DatabaseFailure = sa_exc.SQLAlchemyError  # what the CLI turns into one line; callers need not import SQLAlchemy


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # A write transaction that starts as a read cannot always upgrade under WAL (SQLITE_BUSY without
    # waiting), so writers take the lock at BEGIN, where busy_timeout applies.
    write = conn.get_execution_options().get("kb_write")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """An engine for any SQLAlchemy URL, with ``reading()`` and ``writing()`` sessions."""

    def __init__(self, database_url: str):
        try:
            url = make_url(database_url)
        except sa_exc.ArgumentError:
            raise ConfigError("KB_DATABASE_URL is not a database URL (e.g. sqlite:////srv/kb/kb.sqlite): "
                              "correct it, or unset it for SQLite in the instance folder.") from None
        if url.drivername == "postgresql":  # no driver named: the one kb installs (SQLAlchemy's default is psycopg2)
            url = url.set(drivername="postgresql+psycopg")
        self.shown_url = url.render_as_string(hide_password=True)
        kwargs: dict = {}
        sqlite = url.get_backend_name() == "sqlite"
        if sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
            if url.database in (None, "", ":memory:"):
                kwargs["poolclass"] = StaticPool  # one shared connection, or each would see its own empty DB
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine = create_engine(url, **kwargs)
        except sa_exc.NoSuchModuleError:
            raise ConfigError(f"KB_DATABASE_URL names an unknown kind of database ({url.drivername!r} in "
                              f"{self.shown_url}): use e.g. sqlite:// or postgresql://.") from None
        except ImportError as exc:
            raise ConfigError(f"KB_DATABASE_URL needs a database driver that is not installed ({exc}): "
                              "install it, or use another URL.") from None
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        weakref.finalize(self, self.engine.dispose)  # pooled connections closed, not just dropped, when unused
        self.reading = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(kb_write=True), expire_on_commit=False)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in a write transaction, committed on leaving the block."""
        with self._write() as session, session.begin():
            yield session

    def upgrade(self):
        """Bring the schema to the newest migration (kb.migrate): from nothing, from a database made by an
        earlier kb, or from an older revision; safe when several processes start at once."""
        for attempt in range(LOCKED_RETRIES + 1):
            try:
                return migrate.upgrade(self.engine, self.shown_url)
            except sa_exc.DBAPIError as exc:  # cannot connect, or cannot write: a setting to fix, not a bug
                # ...unless SQLite is locked by another worker starting at once: done in milliseconds, try again
                if attempt == LOCKED_RETRIES or "database is locked" not in str(exc.orig):
                    raise self._cannot_open(exc) from None
                time.sleep(0.2 * (attempt + 1))

    def revision(self) -> tuple[str | None, str]:
        """The database's schema revision (None before the first upgrade) and the newest this kb knows."""
        try:
            return migrate.current(self.engine, self.shown_url), migrate.head()
        except sa_exc.DBAPIError as exc:
            raise self._cannot_open(exc) from None

    def _cannot_open(self, exc: sa_exc.DBAPIError) -> ConfigError:
        reason = " ".join(str(exc.orig).split())[:200]
        return ConfigError(f"KB_DATABASE_URL: cannot open the database {self.shown_url} ({reason}): check the "
                           "URL, and that its folder exists and is writable.")

    def dispose(self) -> None:
        self.engine.dispose()
