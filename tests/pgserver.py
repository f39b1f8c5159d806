"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, started on a free loopback
port (and a unix socket in that folder), one fresh database per test or module, stopped at the end.

PostgreSQL refuses to run as root, so as root its programs run as the ``postgres`` system account (Debian's
package creates it) through ``runuser``. The server binaries are found in KB_TEST_PG_BINDIR, else the newest
/usr/lib/postgresql/*/bin, else beside ``initdb`` or ``pg_config --bindir`` on the PATH. Where there is none,
the PostgreSQL tests fail under CI (CI=true: .ci/run installs it) and are skipped elsewhere, with the reason.
"""
from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SERVER_SETTINGS = {  # a test server: durability off (it is thrown away), small, many short connections
    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "shared_buffers": "32MB",
    "max_connections": "200", "listen_addresses": "127.0.0.1",
}


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def find_bindir() -> Path:
    candidates = []
    if os.environ.get("KB_TEST_PG_BINDIR"):
        candidates.append(Path(os.environ["KB_TEST_PG_BINDIR"]))

    def version(p: Path) -> float:
        try:
            return float(p.parent.name)
        except ValueError:
            return 0.0
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise Unavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed: install Debian's "
                      "`postgresql` package (.ci/run does), or set KB_TEST_PG_BINDIR")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One server for the whole test session; ``new_database()`` gives a fresh, empty database's URL."""

    def __init__(self):
        self.bindir = find_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root, and there is no `postgres` system account to run "
                                  "PostgreSQL as (it refuses root)") from None
        self.root = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._names = itertools.count(1)
        self.running = False

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise Unavailable(f"{args[0]} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")

    def start(self) -> "PgServer":
        if self.as_root:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        for _attempt in range(3):  # a free port can be taken between choosing it and the server binding it
            self.port = _free_port()
            options = " ".join([f"-p {self.port}", f"-k {self.root}"] +
                               [f"-c {k}={v}" for k, v in SERVER_SETTINGS.items()])
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                          "-o", options, "start")
                self.running = True
                return self
            except Unavailable:
                continue
        raise Unavailable("the PostgreSQL server did not start: " + self.log()[-800:])

    def log(self) -> str:
        try:
            return (self.root / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def libpq_url(self, url: str) -> str:
        """The same database's address for libpq's own programs (pg_dump, pg_restore, psql)."""
        return "postgresql" + url[url.index("://"):]

    def new_database(self) -> str:
        """A fresh empty database on this server; its SQLAlchemy URL."""
        import psycopg
        name = f"kb_test_{next(self._names)}"
        with psycopg.connect(self.url(driver="postgresql"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.running:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            except Unavailable:
                pass
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)
