"""Faults an operator meets: a process killed (SIGKILL) in the middle of a save, an import or an index
rebuild; a full disk or a read-only content folder; a damaged index directory.

After each, the service is started again as an operator would (create_app, `kb index check`): no note is
lost or half-written, git is sound, the index is repaired at start, and saving works again.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from kb import create_app
from kb.cli import cli
from kb.errors import StorageError
from kb.model import NoteMeta, parse_note
from kb.search import SearchQuery
from kb.store import Store
from kb.taxonomy import Taxonomy

from .conftest import ROOT, git, site_config
from .liveserver import Server, site_env

ADMIN = SimpleNamespace(is_authenticated=True, active=True, username="admin", role="admin", regions=[])
META = NoteMeta(title="Crash test note", language="en", regions=["Niger"], topics=["localisation"])
FILLER = "Protection teams met the families again and wrote down what had changed. " * 3000  # ~220 kB


def body(i: int) -> str:
    return f"version {i}\n\n{FILLER}\n\nend {i}\n"


# --- helpers ---------------------------------------------------------------------------------------------

def env_for(site: Path) -> dict[str, str]:
    return site_env(site)


def check_content(site: Path) -> dict[str, object]:
    """Every note file parses, git's object store is sound; return the notes by slug."""
    content = site / "content"
    tax = Taxonomy.load(content / "taxonomy.yml")
    notes = {}
    store = Store(content)
    for slug in store.slugs():
        notes[slug] = parse_note(slug, store.read_text(slug), tax)  # raises on a half-written file
    fsck = subprocess.run(["git", "-C", str(content), "fsck", "--no-dangling"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert git(content, "rev-parse", "HEAD").strip()
    return notes


def index_check(site: Path, *args: str):
    return CliRunner().invoke(cli, ["index", "check", *args], env=env_for(site), catch_exceptions=False)


def restart(site: Path):
    """What an operator does after a crash: start the app (it repairs the index), then `kb index check`."""
    app = create_app(site_config(site))
    wiki = app.extensions["kb.wiki"]
    result = index_check(site)
    assert result.exit_code == 0 and "The index matches content/." in result.output, result.output
    return app, wiki


def close(app) -> None:
    app.extensions["kb.wiki"].close()
    app.extensions["kb.users"].dispose()


def children_running(pgid: int, word: str) -> bool:
    """Is a process of this group running a command line containing ``word`` (e.g. git's 'commit')?"""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ProcessLookupError):
            continue
        if cmd and cmd[0].endswith(b"git") and word.encode() in cmd:
            return True
    return False


def kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


SAVE_LOOP = """
import sys
from types import SimpleNamespace
from pathlib import Path
from kb.wiki import Wiki
from tests.test_faults import ADMIN, META, body
root, slug = Path(sys.argv[1]), sys.argv[2]
wiki = Wiki(root / "content", root / "index")
for i in range(int(sys.argv[3]), int(sys.argv[3]) + 200):
    rev = wiki.revision_of(slug) if wiki.store.exists(slug) else None
    result = wiki.save(ADMIN, slug, META, body(i), rev, create=rev is None)
    print(i, result.revision, flush=True)
"""


def start_save_loop(site: Path, slug: str, first: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(site), slug, str(first)], cwd=ROOT,
                            env=env_for(site), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    line = proc.stdout.readline()  # one save done: the loop is warm
    assert line.split()[0] == str(first), proc.stderr.read()
    return proc


# --- SIGKILL during a save -------------------------------------------------------------------------------

# Where the kill lands: after a random-ish pause (anywhere in the write path), or exactly while git is
# staging or committing (the moment that can leave .git/index.lock behind).
KILL_POINTS = [("pause", 0.05), ("pause", 0.17), ("pause", 0.29), ("git", "add"), ("git", "commit-tree"),
               ("lock", "index.lock"), ("lock", "index.lock")]


def test_sigkill_during_saves_loses_nothing_and_saving_works_after_restart(site, monkeypatch):
    import kb.history
    monkeypatch.setattr(kb.history, "STALE_LOCK_SECONDS", 1.0)  # the real 5 s is tested below
    slug = "crash-note"
    first = 0
    locks_left = 0
    for how, arg in KILL_POINTS:
        proc = start_save_loop(site, slug, first)
        deadline = time.monotonic() + 20
        if how == "pause":
            time.sleep(arg)
        elif how == "git":
            while not children_running(proc.pid, arg) and time.monotonic() < deadline:
                pass  # a busy wait: git add/commit of one file lasts only milliseconds
        else:
            while not (site / "content" / ".git" / arg).exists() and time.monotonic() < deadline:
                pass
        assert time.monotonic() < deadline, f"{how} {arg} never seen"
        kill_group(proc)
        committed = [int(line.split()[0]) for line in proc.stdout.read().split("\n") if line]
        proc.stdout.close()
        proc.stderr.close()
        locks_left += (site / "content" / ".git" / "index.lock").exists()

        notes = check_content(site)  # nothing half-written, git sound
        note = notes[slug]
        n = int(note.body.split()[1])
        assert note.body == body(n), "the note on disk is one complete version"
        head_text = git(site / "content", "show", f"HEAD:{slug}.md")
        in_git = int(parse_note(slug, head_text, Taxonomy.load(site / "content" / "taxonomy.yml")).body.split()[1])
        assert in_git >= max([first, *committed])  # every save that returned is committed
        assert in_git <= n <= in_git + 1  # the disk is at most the one unfinished save ahead of git
        leftovers = [p.name for p in (site / "content").iterdir() if p.name.startswith(".tmp-")]
        assert all(s not in leftovers for s in notes)  # a temporary file is never taken for a note

        app, wiki = restart(site)  # the index now holds what is on disk
        hits = wiki.search(ADMIN, SearchQuery(q=f"end {n}", per_page=5))
        assert slug in [h.slug for h in hits.hits]
        first = n + 1
        result = wiki.save(ADMIN, slug, META, body(first), wiki.revision_of(slug))  # saving works again
        assert result.revision == git(site / "content", "rev-parse", "HEAD").strip()
        assert not (site / "content" / ".git" / "index.lock").exists()
        close(app)
        first += 1
    assert git(site / "content", "status", "--porcelain", "--", "*.md").strip() == ""
    assert locks_left >= 1  # the last kill point left git's lock behind, and saving recovered from it


def test_stale_git_lock_is_removed_and_a_fresh_one_is_waited_for(site, monkeypatch):
    import kb.history
    app = create_app(site_config(site))
    wiki = app.extensions["kb.wiki"]
    lock = site / "content" / ".git" / "index.lock"
    slug = "unaccompanied-children-best-interests-agadez"
    note = wiki.get_note(ADMIN, slug)

    lock.write_text("")  # left by a git killed a minute ago
    os.utime(lock, (time.time() - 60, time.time() - 60))
    wiki.save(ADMIN, slug, note.meta, note.body + "\nOne.\n", wiki.revision_of(slug))
    assert not lock.exists()

    monkeypatch.setattr(kb.history, "STALE_LOCK_SECONDS", 1.0)
    lock.write_text("")  # a person running git by hand right now: waited for, not removed
    started = time.monotonic()
    person = subprocess.Popen(["sh", "-c", f"sleep 0.3; rm -f '{lock}'"])
    wiki.save(ADMIN, slug, note.meta, note.body + "\nTwo.\n", wiki.revision_of(slug))
    assert 0.25 < time.monotonic() - started < 3.0  # waited for the person's git, not for the lock's age
    assert person.wait(timeout=5) == 0

    lock.write_text("")  # left just now by a killed save: removed once it is old enough
    started = time.monotonic()
    wiki.save(ADMIN, slug, note.meta, note.body + "\nThree.\n", wiki.revision_of(slug))
    assert 0.9 < time.monotonic() - started < 4.0 and not lock.exists()
    assert git(site / "content", "log", "-3", "--format=%s").count("\n") == 3
    close(app)


def test_sigkill_of_the_server_during_api_saves(site, tmp_path):
    """The real server (gunicorn, 2 workers) killed while PUT /api/notes/<slug> requests are being saved."""
    app = create_app(site_config(site))
    users = app.extensions["kb.users"]
    _, token = users.create_token("moussa", "fault test")
    close(app)
    slug = "unaccompanied-children-best-interests-agadez"
    acknowledged: list[int] = []
    for round_ in range(2):
        server = Server(site_env(site), workers=2, log=tmp_path / "server.log").start()
        try:
            proc = subprocess.Popen([sys.executable, "-c", API_WRITER, server.url, slug, token,
                                     str(round_ * 1000)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                    start_new_session=True)
            line = proc.stdout.readline()
            assert line.startswith("ok")  # one save acknowledged: the server is writing
            acknowledged.append(int(line.split()[1]))
            deadline = time.monotonic() + 20
            while not children_running(server.proc.pid, "commit-tree") and time.monotonic() < deadline:
                pass
            assert time.monotonic() < deadline, "no git commit seen"
            os.killpg(server.proc.pid, signal.SIGKILL)  # the whole server, mid-commit
            server.proc.wait(timeout=10)
            server.proc = None
            kill_group(proc)
            acknowledged += [int(line.split()[1]) for line in proc.stdout.read().split("\n") if line]
            proc.stdout.close()
        finally:
            server.stop()
        notes = check_content(site)
        text = notes[slug].body
        assert text.startswith("Edit ") and text.rstrip().endswith("end")
        assert int(text.split()[1]) >= max(acknowledged)  # no acknowledged save was lost
        log_text = git(site / "content", "log", "--format=%B", "--", f"{slug}.md")
        missing = [n for n in acknowledged if f"API edit {n}\n" not in log_text + "\n"]
        assert missing == []  # every acknowledged save is in the history
    with Server(site_env(site), workers=2).start() as server:  # restarted: the index was repaired at start
        with urllib.request.urlopen(f"{server.url}/api/search?q=end+Edit&per_page=50") as resp:
            assert slug in [h["slug"] for h in json.load(resp)["hits"]]
        proc = subprocess.run([sys.executable, "-c", API_WRITER, server.url, slug, token, "5000", "1"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and proc.stdout.startswith("ok 5000"), proc.stdout + proc.stderr
    assert index_check(site).exit_code == 0


API_WRITER = """
import json, sys, urllib.request
url, slug, token, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
count = int(sys.argv[5]) if len(sys.argv) > 5 else 200
auth = {"Authorization": "Bearer " + token}
filler = "Families were met again and what had changed was written down. " * 2000
for n in range(first, first + count):
    with urllib.request.urlopen(urllib.request.Request(f"{url}/api/notes/{slug}", headers=auth), timeout=30) as r:
        rev = json.load(r)["revision"]
    data = json.dumps({"base_revision": rev, "body": f"Edit {n}\\n\\n{filler}\\n\\nend\\n",
                       "message": f"API edit {n}"}).encode()
    req = urllib.request.Request(f"{url}/api/notes/{slug}", data=data, method="PUT",
                                 headers={**auth, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
    print("ok", n, flush=True)
"""


# --- SIGKILL during an import and during an index rebuild ------------------------------------------------

def many_notes(folder: Path, count: int, words: int = 1500) -> list[str]:
    """Valid notes with distinct words, written as files to import or to index."""
    folder.mkdir(parents=True, exist_ok=True)
    text = " ".join(f"word{i % 997}" for i in range(words))
    slugs = []
    for i in range(count):
        slug = f"bulk-note-{i:04d}"
        (folder / f"{slug}.md").write_text(
            f"---\ntitle: Bulk note {i}\nlanguage: en\nregions: [Mali]\ntopics: [localisation]\n"
            f"updated: 2026-01-01\n---\nmarker{i:04d} {text}\n", encoding="utf-8")
        slugs.append(slug)
    return slugs


def test_sigkill_during_import_then_import_again_completes_history(site, tmp_path):
    incoming = tmp_path / "incoming"
    slugs = many_notes(incoming, 300, words=300)
    content = site / "content"
    cmd = [sys.executable, "-m", "kb", "import", str(incoming)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env_for(site), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(content.glob("bulk-note-*.md"))) < 40 and time.monotonic() < deadline:
        time.sleep(0.001)
    kill_group(proc)  # mid-way through writing the files, before the one commit
    written = sorted(p.stem for p in content.glob("bulk-note-*.md"))
    assert 40 <= len(written) < len(slugs)
    notes = check_content(site)
    assert all(notes[s].body.startswith(f"marker{s[-4:]}") for s in written)

    app, wiki = restart(site)  # the index holds what is on disk, committed or not
    assert wiki.search(ADMIN, SearchQuery(q=f"marker{written[0][-4:]}")).total == 1
    close(app)

    again = subprocess.run(cmd, cwd=ROOT, env=env_for(site), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{len(slugs) - len(written)} added, {len(written)} unchanged, 0 with errors" in again.stdout
    tracked = set(git(content, "ls-files", "bulk-note-*").split())
    assert tracked == {f"{s}.md" for s in slugs}  # the interrupted import's files are in the history too
    assert git(content, "status", "--porcelain").strip() == ""
    assert index_check(site).exit_code == 0


@pytest.mark.parametrize("first_build", [False, True], ids=["over-a-live-index", "first-build"])
def test_sigkill_during_index_rebuild(site, first_build):
    content = site / "content"
    many_notes(content, 250, words=1000)
    git(content, "add", "-A")
    git(content, "commit", "-q", "-m", "many notes")
    index_dir = site / "index"
    if first_build:
        for path in index_dir.iterdir():
            subprocess.run(["rm", "-rf", str(path)], check=True)
    before = set(index_dir.glob("gen-*"))
    proc = subprocess.Popen([sys.executable, "-m", "kb", "index", "rebuild"], cwd=ROOT, env=env_for(site),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (set(index_dir.glob("gen-*")) - before) and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)  # into the build
    assert proc.poll() is None, "the rebuild finished before it could be killed"
    kill_group(proc)
    assert set(index_dir.glob("gen-*")) - before  # a half-built generation is left behind

    app, wiki = restart(site)  # repaired (or built) at start; `kb index check` is clean
    assert wiki.search(ADMIN, SearchQuery(q="marker0123")).total == 1
    assert wiki.index.doc_count() == len(wiki.store.slugs())
    close(app)
    result = CliRunner().invoke(cli, ["index", "rebuild"], env=env_for(site), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(list(index_dir.glob("gen-*"))) == 1  # the next rebuild clears what the killed one left


# --- a damaged index directory ---------------------------------------------------------------------------

def _damage(index_dir: Path, how: str) -> None:
    current = index_dir / (index_dir / "CURRENT").read_text().strip()
    if how == "garbage-files":
        for path in current.iterdir():
            path.write_bytes(b"\x00not an index\xff" * 50)
    elif how == "truncated-segments":
        for path in current.glob("*.seg"):
            with open(path, "r+b") as fh:
                fh.truncate(max(1, path.stat().st_size // 3))
    elif how == "pointer-garbage":
        (index_dir / "CURRENT").write_bytes(b"\xff\xfe../../etc\n")
    elif how == "generation-deleted":
        subprocess.run(["rm", "-rf", str(current)], check=True)
    elif how == "empty-directory":
        subprocess.run(["rm", "-rf", str(index_dir)], check=True)
        index_dir.mkdir()


@pytest.mark.parametrize("how", ["garbage-files", "truncated-segments", "pointer-garbage", "generation-deleted",
                                 "empty-directory"])
def test_damaged_index_is_rebuilt_at_start_and_search_works(site, how):
    _damage(site / "index", how)
    app, wiki = restart(site)
    client = app.test_client()
    html = client.get("/search?q=enfants+non+accompagnes&lang=fr").get_data(as_text=True)
    assert "/notes/enfants-non-accompagnes-interet-superieur-agadez-fr" in html
    assert wiki.index.doc_count() == len(wiki.store.slugs())
    close(app)


# --- a full disk or a read-only content folder -----------------------------------------------------------

class _FillingFile:
    """A file object that fails with ``err`` once more than ``room`` bytes in all were written to such files."""

    def __init__(self, fh, err: int, room: list[int]):
        self._fh, self._err, self._room = fh, err, room

    def write(self, data) -> int:
        if len(data) > self._room[0]:
            raise OSError(self._err, os.strerror(self._err))
        self._room[0] -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


def _fail_writes(monkeypatch, err: int, after_bytes: int = 0):
    """Simulate a full disk (ENOSPC once ``after_bytes`` were written) or a read-only folder (EROFS) in the
    calls kb's store makes to write a note (root ignores permission bits, and no small file system is at
    hand). Only files made by tempfile.mkstemp -- the store's temporary files -- are affected."""
    import tempfile
    real_mkstemp, real_fdopen = tempfile.mkstemp, os.fdopen
    ours: set[int] = set()
    room = [after_bytes]

    def mkstemp(*args, **kwargs):
        if err == errno.EROFS:
            raise OSError(err, os.strerror(err))
        fd, name = real_mkstemp(*args, **kwargs)
        ours.add(fd)
        return fd, name

    def fdopen(fd, *args, **kwargs):
        fh = real_fdopen(fd, *args, **kwargs)
        return _FillingFile(fh, err, room) if fd in ours else fh

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "fdopen", fdopen)


def _snapshot(content: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in content.iterdir() if p.is_file()}


@pytest.mark.parametrize("err,reason", [(errno.ENOSPC, "the disk is full"),
                                        (errno.EROFS, "the content folder is read-only")])
def test_save_on_a_full_disk_or_read_only_folder_fails_clearly_and_changes_nothing(app, err, reason, monkeypatch):
    wiki = app.extensions["kb.wiki"]
    content = Path(app.config["KB_CONTENT_DIR"])
    slug = "unaccompanied-children-best-interests-agadez"
    note = wiki.get_note(ADMIN, slug)
    files, head = _snapshot(content), git(content, "rev-parse", "HEAD")
    hashes = wiki.index.stored_hashes()
    _fail_writes(monkeypatch, err, after_bytes=1000)
    with pytest.raises(StorageError) as info:
        wiki.save(ADMIN, slug, note.meta, note.body + "\nMore text.\n" * 500, wiki.revision_of(slug))
    monkeypatch.undo()
    assert reason in str(info.value) and "Nothing was changed" in str(info.value)
    assert _snapshot(content) == files  # no partial file, no temporary file left
    assert git(content, "rev-parse", "HEAD") == head and wiki.index.stored_hashes() == hashes

    # through the web: the editor keeps the text and says why
    client = app.test_client()
    from .conftest import login
    login(client, "admin")
    _fail_writes(monkeypatch, err)
    resp = client.post(f"/notes/{slug}/edit", data={
        "csrf_token": _csrf(client, f"/notes/{slug}/edit"), "base_revision": wiki.revision_of(slug),
        "title": note.meta.title, "language": "en", "visibility": "public", "status": "published",
        "regions": note.meta.regions, "topics": note.meta.topics, "body": "My long edit.", "save": "1"})
    monkeypatch.undo()
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503 and reason in html and "My long edit." in html
    assert _snapshot(content) == files


def _csrf(client, path: str) -> str:
    from .conftest import csrf_token
    return csrf_token(client, path)


@pytest.mark.parametrize("err,reason", [(errno.ENOSPC, "the disk is full"),
                                        (errno.EROFS, "the content folder is read-only")])
def test_import_on_a_full_disk_fails_clearly_and_writes_nothing(site, tmp_path, err, reason, monkeypatch):
    incoming = tmp_path / "incoming"
    many_notes(incoming, 10, words=200)
    content = site / "content"
    files, head = _snapshot(content), git(content, "rev-parse", "HEAD")
    _fail_writes(monkeypatch, err, after_bytes=4 * (incoming / "bulk-note-0000.md").stat().st_size)
    result = CliRunner().invoke(cli, ["import", str(incoming)], env=env_for(site))
    monkeypatch.undo()
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and reason in last and "Nothing was changed" in last
    assert _snapshot(content) == files  # the files written before the disk filled were taken back
    assert git(content, "rev-parse", "HEAD") == head
    assert index_check(site).exit_code == 0
