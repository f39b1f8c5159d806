"""A first start anywhere: `kb init` then `kb serve` from three empty folders, and every misconfiguration
ending with one line that says what to fix (exit 1, no traceback)."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.firststart import DEFAULT_TAXONOMY
from kb.users import UserStore

from .conftest import ROOT, SHIPPED, git
from .liveserver import Server


def test_the_default_taxonomy_is_the_shipped_one():
    assert DEFAULT_TAXONOMY.read_bytes() == (SHIPPED / "taxonomy.yml").read_bytes()


def kb_env(root: Path, **extra: str) -> dict[str, str]:
    """Only KB_* settings (plus what any program needs: PATH, HOME) — no other configuration."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "PYTHONPATH": str(ROOT),
           "KB_CONTENT_DIR": str(root / "content"), "KB_INDEX_DIR": str(root / "index"),
           "KB_INSTANCE_DIR": str(root / "instance")}
    env.update(extra)
    return env


def kb(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", *args], env=env, cwd=env["HOME"], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("secret", ["", "a-secret-key-from-the-environment"])
def test_init_then_serve_from_three_new_folders(tmp_path, secret):
    (tmp_path / "new").mkdir()  # holding three folders that do not exist yet
    env = kb_env(tmp_path / "new", KB_ADMIN_PASSWORD="a-long-admin-password",
                 **({"KB_SECRET_KEY": secret} if secret else {}))
    init = kb(env, "init")
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Traceback" not in init.stderr
    content = tmp_path / "new" / "content"
    assert (content / "taxonomy.yml").read_bytes() == DEFAULT_TAXONOMY.read_bytes()
    assert "taxonomy.yml" in git(content, "ls-files")  # committed, as the first revision
    assert (tmp_path / "new" / "instance" / "kb.sqlite").is_file()
    assert (tmp_path / "new" / "index" / "CURRENT").is_file()
    assert "Ready." in init.stdout
    users = UserStore(f"sqlite:///{tmp_path / 'new' / 'instance' / 'kb.sqlite'}")
    assert [(u.username, u.role) for u in users.list()] == [("admin", "admin")]
    users.dispose()
    if secret:
        return  # served once below, without it: the two starts differ only in where the key comes from

    server = Server(env)
    server.port = free_port()
    server.proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(server.port), "--workers", "1"],
                                   env=env, cwd=env["HOME"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
    with server:
        server.wait_ready("/", timeout=60)  # GET / answered 200


def test_init_adds_and_commits_the_default_taxonomy_to_an_existing_repository(tmp_path):
    env = kb_env(tmp_path, KB_ADMIN_PASSWORD="a-long-admin-password")
    content = tmp_path / "content"
    content.mkdir()
    (content / "readme.txt").write_text("notes go here\n")
    git(content, "init", "-q", "-b", "main")
    git(content, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(content, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    result = kb(env, "init")
    assert result.returncode == 0, result.stderr
    assert "default taxonomy" in result.stdout
    assert "taxonomy.yml" in git(content, "ls-files") and not git(content, "status", "--porcelain").strip()


# --- misconfigurations: one line, exit 1 ------------------------------------------------------------

@pytest.fixture
def env(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("KB_")]:
        monkeypatch.delenv(key)
    for key, sub in (("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"), ("KB_INSTANCE_DIR", "instance")):
        monkeypatch.setenv(key, str(tmp_path / sub))
    monkeypatch.setenv("KB_ADMIN_PASSWORD", "a-long-admin-password")
    return tmp_path


def one_line_failure(*args: str) -> str:
    """Run a kb command through the CLI; it must fail with exit 1 and a single 'Error: ...' line."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def default_content(root: Path) -> None:
    (root / "content").mkdir()
    (root / "content" / "taxonomy.yml").write_bytes(DEFAULT_TAXONOMY.read_bytes())


def bad_taxonomy(root: Path) -> None:
    (root / "content").mkdir()
    (root / "content" / "taxonomy.yml").write_text("regions: [\n  - name: Sahel\n")


CASES = {  # name: (make the mistake, environment, command, what the line must say)
    "content path is a file": (lambda r: (r / "content").write_text("x"), {}, ("init",),
                               "KB_CONTENT_DIR is {root}/content, which is a file, not a folder"),
    "content path below a file": (lambda r: (r / "afile").write_text("x"), {"KB_CONTENT_DIR": "{root}/afile/content"},
                                  ("init",), "KB_CONTENT_DIR is {root}/afile/content, which cannot be created"),
    "taxonomy not YAML (init)": (bad_taxonomy, {}, ("init",), "taxonomy.yml is not valid YAML"),
    "taxonomy not YAML (index)": (bad_taxonomy, {}, ("index", "rebuild"), "taxonomy.yml is not valid YAML"),
    "taxonomy not a taxonomy": (lambda r: (r / "content").mkdir() or (r / "content" / "taxonomy.yml").write_text(
        "- a list\n"), {}, ("init",), "malformed taxonomy"),
    "database of an unknown kind": (None, {"KB_DATABASE_URL": "nosuchdb://host/kb"}, ("init",),
                                    "KB_DATABASE_URL names an unknown kind of database ('nosuchdb'"),
    "database in a missing folder": (None, {"KB_DATABASE_URL": "sqlite:///{root}/nowhere/kb.sqlite"}, ("init",),
                                     "KB_DATABASE_URL: cannot open the database sqlite:///{root}/nowhere/kb.sqlite"),
    "database URL not a URL": (default_content, {"KB_DATABASE_URL": "kb.sqlite"}, ("user", "list"),
                               "KB_DATABASE_URL is not a database URL"),
    "database password never shown": (None, {"KB_DATABASE_URL": "nosuchdb://kb:hunter2@host/kb"}, ("init",),
                                      "nosuchdb://kb:***@host/kb"),
    "database that is not a database": (lambda r: default_content(r) or (r / "junk.sqlite").write_text("x" * 5000),
                                         {"KB_DATABASE_URL": "sqlite:///{root}/junk.sqlite"}, ("user", "list"),
                                         "KB_DATABASE_URL: cannot open the database sqlite:///{root}/junk.sqlite"),
    "PostgreSQL not reachable": (default_content, {"KB_DATABASE_URL": "postgresql+psycopg://kb:hunter2@127.0.0.1:1/kb"},
                                 ("user", "list"), "KB_DATABASE_URL: cannot open the database "
                                 "postgresql+psycopg://kb:***@127.0.0.1:1/kb (connection failed"),
    "instance path is a file": (lambda r: (r / "instance").write_text("x"), {}, ("init",),
                                "KB_INSTANCE_DIR is {root}/instance, where kb cannot keep its secret key"),
    "instance path is a file, key set": (lambda r: (r / "instance").write_text("x"), {"KB_SECRET_KEY": "k"},
                                         ("init",), "KB_INSTANCE_DIR is {root}/instance, which is a file"),
    "index path is a file": (lambda r: (r / "index").write_text("x"), {}, ("index", "rebuild"),
                             "KB_INDEX_DIR is {root}/index, which is a file, not a folder"),
    "a setting not a number": (None, {"KB_SESSION_MAX_HOURS": "twelve"}, ("user", "list"),
                               "KB_SESSION_MAX_HOURS must be a number"),
    # `kb serve` says what to fix itself (gunicorn's workers would only log a traceback each and stop)
    "serve: no content yet": (None, {}, ("serve",), "KB_CONTENT_DIR is {root}/content, which does not exist: "
                                                    "run `kb init` first."),
    "serve: taxonomy not YAML": (bad_taxonomy, {}, ("serve",), "taxonomy.yml is not valid YAML"),
    "serve: database of an unknown kind": (default_content, {"KB_DATABASE_URL": "nosuchdb://x"}, ("serve",),
                                           "KB_DATABASE_URL names an unknown kind of database"),
    "serve: index path is a file": (lambda r: default_content(r) or (r / "index").write_text("x"), {}, ("serve",),
                                    "KB_INDEX_DIR is {root}/index, which is a file, not a folder"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_misconfiguration_fails_with_one_line(env, monkeypatch, case):
    def no_exec(*args):
        raise AssertionError("kb serve started gunicorn despite the misconfiguration")
    monkeypatch.setattr(os, "execv", no_exec)  # were `kb serve` to get that far, the test would fail, not end
    make, settings, command, expected = CASES[case]
    if make:
        make(env)
    for key, value in settings.items():
        monkeypatch.setenv(key, value.format(root=env))
    line = one_line_failure(*command)
    assert expected.format(root=env) in line


def test_serve_says_what_to_fix_on_one_line_of_its_own(tmp_path):
    """Through the real `kb` process: stderr holds the one line, stdout nothing."""
    (tmp_path / "index").mkdir()
    bad_taxonomy(tmp_path)
    proc = kb(kb_env(tmp_path), "serve", "--port", str(free_port()), timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == f"Error: {tmp_path}/content/taxonomy.yml is not valid YAML: did not find expected node " \
        "content (line 2, column 3). Correct it.\n"


@contextlib.contextmanager
def unwritable(folder: Path):
    """Make a folder no one can write in — root included, so chattr +i when running as root (as in CI)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    else:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)],
                                                        capture_output=True).returncode:
            pytest.skip("running as root where chattr +i is not possible: no way to make a folder read-only")
        undo = ["chattr", "-i", str(folder)]
    try:
        with contextlib.suppress(OSError):
            (folder / "probe").touch()
            (folder / "probe").unlink()
            pytest.skip("this folder could not be made read-only here")
        yield folder
    finally:
        subprocess.run(undo, check=True)


@pytest.mark.parametrize("setting, sub", [("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"),
                                          ("KB_INSTANCE_DIR", "instance")])
def test_a_read_only_folder_fails_with_one_line(env, monkeypatch, setting, sub):
    monkeypatch.setenv("KB_SECRET_KEY", "k")  # so the instance folder is first written by the database
    with unwritable(env / sub):
        line = one_line_failure("init")
    assert f"{setting} is {env / sub}, which kb cannot write in" in line
