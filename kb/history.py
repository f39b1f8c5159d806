"""History in git: init, commit, log, show, last revisions. The only module that runs git."""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import inspect
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .errors import RevisionNotFound, StorageError
from .history_reads import _REV_RE, _SEP, HistoryReads, Revision

_SYSTEM = ("kb", "kb@localhost")
# git holds its lock files for milliseconds; one older than this was left by a process killed mid-commit
STALE_LOCK_SECONDS = 5.0
REWRITTEN = "kb-rewritten"  # a folder in .git: one stamp per file whose history was rewritten, named by its hash
# a path's `git log` slower than this: the history is large enough to keep a commit graph (kb keeps it current)
GRAPH_AFTER_SECONDS = 0.1

log = logging.getLogger(__name__)


class History(HistoryReads):
    """A git repository around the content folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._graph: bool | None = None  # a commit graph kept (None: not looked yet)

    def _git(self, *args: str, input: bytes | None = None, check: bool = True,
             timeout: float | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": _SYSTEM[0], "GIT_AUTHOR_EMAIL": _SYSTEM[1],
               "GIT_COMMITTER_NAME": _SYSTEM[0], "GIT_COMMITTER_EMAIL": _SYSTEM[1], **(env or {})}
        try:  # a timeout only for a remote (kb/history_remote.py), which may hang; an OSError (git missing, too
            proc = subprocess.run(["git", "-C", str(self.root), *args], input=input, capture_output=True, env=env,
                                  timeout=timeout)  # long a command line) is a storage error, undone as one
        except subprocess.TimeoutExpired:
            raise StorageError(f"git {args[0]} took longer than {timeout:.0f} s") from None
        except OSError as exc:
            raise StorageError(f"git {args[0]} could not run: {exc.strerror or exc}") from None
        if check and proc.returncode != 0:
            raise StorageError("git " + args[0] + " failed: " + proc.stderr.decode(errors="replace").strip()[:300])
        return proc

    def is_repo(self) -> bool:
        return (self.root / ".git").exists()

    def init(self) -> bool:
        """Create the repository if missing and commit what is there; True when it was created."""
        if self.is_repo():
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        self._git("init", "-q", "-b", "main")
        self._git("config", "user.name", _SYSTEM[0])
        self._git("config", "user.email", _SYSTEM[1])
        self.tune()
        self._git("add", "-A")
        if self._git("diff", "--cached", "--quiet", check=False).returncode != 0:
            self._git("commit", "-q", "-m", "Initial content")
        return True

    def tune(self) -> None:
        """Settings for a repository of many notes in one folder, set when kb creates it. Each save reads and
        writes git's staging file (10 MB at 100,000 notes) and writes a new root tree: version 4 of that
        file (paths prefix-compressed, `feature.manyFiles`) and a split one (a save writes only what
        changed) took a save's `add` from 130 to 80 ms; a root tree compressed at level 1 is written in
        0.24 s instead of 0.36 s at that size."""
        for key, value in (("feature.manyFiles", "true"), ("core.splitIndex", "true"),
                           ("core.looseCompression", "1")):
            self._git("config", key, value)

    def _with_paths(self, *args: str, paths: list[str], check: bool = True) -> subprocess.CompletedProcess:
        """git ARGS with these paths, given on standard input (any number: no "Argument list too long")."""
        data = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)
        return self._git(*args, "--pathspec-from-file=-", "--pathspec-file-nul", input=data, check=check)

    def _staged(self) -> set[str] | None:
        """The paths staged (differing from HEAD in the index); None when there is no HEAD yet."""
        out = self._git("diff-index", "--cached", "--name-only", "-z", "HEAD", check=False)
        return None if out.returncode else set(filter(None, out.stdout.decode("utf-8", "surrogateescape").split("\0")))

    def commit(self, paths: list[str], message: str, author: str = "kb", email: str | None = None) -> str | None:
        """Stage the paths (added, changed or removed), commit them alone: the commit id, None if no change. With
        nothing else staged (usually) plumbing commits the index: `commit -- paths` took seconds at 100k notes."""
        self.clear_stale_locks()
        staged_before = self._staged()
        present = [p for p in paths if (self.root / p).exists()]
        gone = [p for p in paths if p not in present]  # deleted, or moved away by move() (already staged)
        for args, group in ((("add", "-A"), present), (("rm", "-q", "-r", "--cached", "--ignore-unmatch"), gone)):
            if group:
                self._with_paths(*args, paths=group)
        email = email or f"{re.sub(r'[^A-Za-z0-9._-]', '', author) or 'kb'}@kb.invalid"
        if staged_before is not None and not (staged_before - set(paths)):
            head, head_tree = self._git("rev-parse", "HEAD", "HEAD^{tree}").stdout.decode().split()
            tree = self._git("write-tree").stdout.decode().strip()
            text = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", (message or "Update").replace("\r\n", "\n") + "\n")).strip("\n") + "\n"  # as commit -m
            if tree == head_tree:
                return None
            sign = ["-S"] * (self._git("config", "--bool", "commit.gpgsign", check=False).stdout.strip() == b"true")
            made = self._git("commit-tree", *sign, tree, "-p", head, "-F", "-", input=text.encode("utf-8"),
                             env={"GIT_AUTHOR_NAME": _clean(author), "GIT_AUTHOR_EMAIL": email})
            self._git("update-ref", "-m", "commit: " + text.split("\n")[0][:200], "HEAD", made.stdout.decode().strip(), head)
            self.graph_moved()
            return made.stdout.decode().strip()
        if (staged := self._staged()) is not None and not (staged & set(paths)):
            return None
        self._with_paths("commit", "-q", "--no-verify", "-m", message or "Update",
                         f"--author={_clean(author)} <{email}>", paths=paths)
        self.graph_moved()
        return self.head()

    # --- the commit graph: `git log -- path` in a large history -------------------------------------------
    def _graph_kept(self) -> bool:
        if self._graph is None:
            info = self.root / ".git" / "objects" / "info"
            self._graph = (info / "commit-graph").exists() or (info / "commit-graphs").is_dir()
        return self._graph

    def write_graph(self) -> None:
        """Write git's commit graph with changed-path Bloom filters, adding the new commits as a layer: a
        path's `git log` then skips the commits that did not touch it without comparing trees (in a flat
        folder of 100,000 notes every commit's tree has 100,000 entries: 715 ms for the last revision of a
        note, 23 ms with the graph; a layer for one new commit takes about 50 ms). A failure only leaves
        the log slower."""
        self._git("commit-graph", "write", "--reachable", "--changed-paths", "--split", check=False)
        self._graph = True

    def graph_moved(self) -> None:
        """The branch moved (a commit, a pull): a kept commit graph gets the new commits."""
        if self._graph_kept():
            self.write_graph()

    def drop_graph(self) -> None:
        """After a history rewrite: the graph names commits that are gone (written again when needed)."""
        info = self.root / ".git" / "objects" / "info"
        with contextlib.suppress(OSError):
            (info / "commit-graph").unlink()
        shutil.rmtree(info / "commit-graphs", ignore_errors=True)
        self._graph = None

    def unstage(self, paths: list[str]) -> None:
        """Take paths out of the staging area again (after a commit that failed)."""
        self._with_paths("reset", "-q", paths=paths, check=False)

    def head(self) -> str | None:
        proc = self._git("rev-parse", "--verify", "-q", "HEAD", check=False)
        return proc.stdout.decode().strip() or None

    def last_revision(self, path: str) -> str | None:
        """The id of the last commit that changed the file (slow in a large history: a commit graph is
        then kept, see ``write_graph``)."""
        started = time.perf_counter()
        proc = self._git("log", "-1", "--format=%H", "--", path, check=False)
        if time.perf_counter() - started > GRAPH_AFTER_SECONDS and not self._graph_kept():
            self.write_graph()
        return proc.stdout.decode().strip() or None

    def log(self, path: str | None = None, limit: int = 100) -> list[Revision]:
        """Revisions, newest first (following renames when a path is given)."""
        args = ["log", f"-n{int(limit)}", f"--format=%H{_SEP}%an{_SEP}%ae{_SEP}%aI{_SEP}%B%x1e"]
        if path:
            args += ["--follow", "--", path]
        proc = self._git(*args, check=False)
        out = []
        for record in proc.stdout.decode("utf-8", errors="replace").split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            rev, author, email, date, message = record.split(_SEP, 4)
            out.append(Revision(rev, author, email, dt.datetime.fromisoformat(date), message.strip()))
        return out

    def show(self, revision: str, path: str) -> bytes:
        """The file as it was at a revision; RevisionNotFound if the id or file is unknown there."""
        if not _REV_RE.match(revision or ""):
            raise RevisionNotFound(revision)
        proc = self._git("show", f"{revision}:{path}", check=False)
        if proc.returncode != 0:
            raise RevisionNotFound(revision)
        return proc.stdout

    def move(self, old: str, new: str) -> None:
        """Rename a file with `git mv`, so the history follows it; commit() records the change."""
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.clear_stale_locks()
        self._git("mv", "--", old, new)

    def clear_stale_locks(self) -> None:
        """Remove git lock files left behind by a process killed mid-commit (SIGKILL, power loss).

        Callers hold kb's content lock, so no other kb writer is running git here; a young lock may be a
        person running git by hand, so it is waited for (at most STALE_LOCK_SECONDS) and removed only once
        it is that old. A lock that keeps being renewed is left for git to report.
        """
        git_dir = self.root / ".git"
        deadline = time.monotonic() + STALE_LOCK_SECONDS + 1
        for lock in [git_dir / "index.lock", git_dir / "HEAD.lock", *git_dir.glob("refs/heads/**/*.lock")]:
            while True:
                try:
                    age = time.time() - lock.stat().st_mtime
                except FileNotFoundError:
                    break
                if age >= STALE_LOCK_SECONDS:
                    log.warning("removing %s, left by an interrupted git command %.0f s ago", lock, age)
                    with contextlib.suppress(FileNotFoundError):
                        lock.unlink()
                    break
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)

    def merge_file(self, base: bytes, ours: bytes, theirs: bytes,
                   labels: tuple[str, str, str] = ("ours", "base", "theirs")) -> tuple[bytes | None, bool]:
        """Three-way merge of texts with `git merge-file`: (merged text, clean). A clash is kept in the text
        between git's markers (ours, then theirs, labelled; never the base); (None, False) when git cannot
        merge them at all (binary data)."""
        git_dir = self.root / ".git"  # the texts may be restricted notes: keep them beside the repository
        with tempfile.TemporaryDirectory(prefix="kb-merge-", dir=git_dir if git_dir.is_dir() else None) as tmp:
            names = []
            for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
                path = Path(tmp) / name
                path.write_bytes(data)
                names.append(str(path))
            label_args = [arg for label in labels for arg in ("-L", _clean(label))]
            # kb's marks whatever the user's or system's git config says (diff3/zdiff3 would show the base)
            proc = self._git("-c", "merge.conflictStyle=merge", "merge-file", "-p", "-q", *label_args, *names,
                             check=False)
        if proc.returncode < 0 or proc.returncode > 127:  # git's error (e.g. binary files), or a signal
            return None, False
        return proc.stdout, proc.returncode == 0

    def is_revision_of(self, path: str, revision: str) -> str | None:
        """The full id if a commit changed this file under this name and it was not deleted since; else None
        (a name reused by another note after a deletion has revisions that are not this note's)."""
        revision = (revision or "").strip().lower()
        if not _REV_RE.match(revision):
            return None
        ids = self._git("log", "--format=%H", "--", path, check=False).stdout.decode().split()
        full = next((i for i in ids if i.startswith(revision)), None)
        if not full:
            return None
        deleted = self._git("log", "--diff-filter=D", "--format=%H", f"{full}..HEAD", "--", path, check=False)
        return None if deleted.returncode != 0 or deleted.stdout.strip() else full

    # --- rewriting history (redaction) ------------------------------------------------------------

    def rewrite_file_history(self, paths: list[str], pattern: bytes | None = None, marker: bytes = b"",
                             front_matter_marker: bytes = b"", blob: tuple[str, bytes] | None = None) -> None:
        """Rewrite every commit with git-filter-repo, then drop the old objects for good.

        In the versions of ``paths`` (one file under the names it had), the regex ``pattern`` becomes
        ``marker`` (``front_matter_marker`` inside a leading front-matter block) and, with ``blob`` =
        (blob id, new bytes), that blob is replaced whole; ``pattern`` also leaves every commit message.
        What is removed is written only to a private temporary file the filter reads, never to a command
        line (visible to other users in the process list) nor to a log. Afterwards the reflog is expired
        and unreachable objects pruned (filter-repo does both), and its metadata folder is removed.
        """
        spec = {"paths": sorted({p.encode("utf-8") for p in paths}), "pattern": pattern, "marker": marker,
                "fm_marker": front_matter_marker or marker, "blob": blob[0].encode("ascii") if blob else None,
                "new": blob[1] if blob else None}
        consts = "".join(f"{k.upper()} = {v!r}\n" for k, v in spec.items())
        func = inspect.getsource(redact_bytes)
        file_info = (consts + func + "if filename not in PATHS:\n    return (filename, mode, blob_id)\n"
                     "if BLOB is not None and blob_id == BLOB:\n"
                     "    return (filename, mode, value.insert_file_with_contents(NEW))\n"
                     "if PATTERN is None:\n    return (filename, mode, blob_id)\n"
                     "data = value.get_contents_by_identifier(blob_id)\n"
                     "new = redact_bytes(data, PATTERN, MARKER, FM_MARKER) if data is not None else None\n"
                     "if new is None or new == data:\n    return (filename, mode, blob_id)\n"
                     "return (filename, mode, value.insert_file_with_contents(new))\n")
        message = consts + "import re\nreturn message if PATTERN is None else re.sub(PATTERN, MARKER, message)\n"
        self.clear_stale_locks()
        with tempfile.TemporaryDirectory(prefix="kb-redact-") as tmp:  # mode 0700: private to kb's user
            files = []
            for name, code in (("file_info.py", file_info), ("message.py", message)):
                path = Path(tmp) / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(code)
                files.append(str(path))
            env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1"}
            cmd = [*_filter_repo_command(), "--force", "--quiet", "--file-info-callback", files[0],
                   "--message-callback", files[1]]
            proc = subprocess.run(cmd, cwd=self.root, capture_output=True, env=env, stdin=subprocess.DEVNULL)
        shutil.rmtree(self.root / ".git" / "filter-repo", ignore_errors=True)  # old commit ids, run markers
        self.drop_graph()
        with contextlib.suppress(OSError):
            stamps = self.root / ".git" / REWRITTEN
            stamps.mkdir(exist_ok=True)
            for p in paths:
                (stamps / _stamp_name(p)).write_text(dt.datetime.now(dt.timezone.utc).isoformat() + "\n")
        if proc.returncode != 0:
            # its output is not passed on: a traceback there could quote what was being removed
            raise StorageError(f"git filter-repo failed (exit status {proc.returncode}); see the repository")

    def rewritten_at(self, path: str) -> dt.datetime | None:
        """When this file's history was last rewritten (a redaction): commit dates stay as they were, so
        pages whose Last-Modified comes from them must also count this. Per file, so that a redaction of
        one note never changes the validators of another."""
        try:
            stamp = (self.root / ".git" / REWRITTEN / _stamp_name(path)).stat().st_mtime
        except OSError:
            return None
        # rounded up: HTTP dates have whole seconds, and a save in the same second must count as older
        return dt.datetime.fromtimestamp(int(stamp) + 1, dt.timezone.utc)

    def has_uncommitted_changes(self) -> bool:
        """Are tracked files changed in the working tree or staged (a rewrite's reset would lose that)?"""
        proc = self._git("status", "--porcelain", "--untracked-files=no", check=False)
        return proc.returncode != 0 or bool(proc.stdout.strip())

    def blob_id(self, revision: str, path: str) -> str | None:
        """The id of the blob a file had at a revision, or None."""
        if not _REV_RE.match(revision or ""):
            return None
        proc = self._git("rev-parse", "--verify", "-q", f"{revision}:{path}", check=False)
        return proc.stdout.decode().strip() or None

    def all_messages(self) -> list[str]:
        """The message of every commit reachable from any ref."""
        proc = self._git("log", "--all", "--format=%B%x1e", check=False)
        return [m for m in proc.stdout.decode("utf-8", errors="replace").split("\x1e") if m.strip()]


def redact_bytes(data, pattern, marker, fm_marker):
    """Replace ``pattern`` in a note file's bytes: by ``fm_marker`` in its front matter, ``marker`` after it.

    A match that crosses the end of the front matter is left (the caller checks that nothing is left).
    Copied as source into git-filter-repo's callback, so it uses only ``re`` and no kb name.
    """
    import re
    end = 0
    if data.startswith(b"---"):
        pos = data.find(b"\n") + 1
        while 0 < pos < len(data):
            nxt = data.find(b"\n", pos)
            line = data[pos:] if nxt < 0 else data[pos:nxt]
            if line.rstrip(b"\r") in (b"---", b"..."):
                end = pos
                break
            pos = nxt + 1 if nxt >= 0 else 0
    return re.sub(pattern, fm_marker, data[:end]) + re.sub(pattern, marker, data[end:])


def _filter_repo_command() -> list[str]:
    """git-filter-repo, run by the Python that runs kb (its module), else the script beside it or on PATH."""
    if importlib.util.find_spec("git_filter_repo") is not None:
        return [sys.executable, "-m", "git_filter_repo"]
    script = Path(sys.executable).with_name("git-filter-repo")
    if script.exists():
        return [str(script)]
    found = shutil.which("git-filter-repo")
    if found:
        return [found]
    raise StorageError("git-filter-repo is not installed (pip install git-filter-repo)")


def _stamp_name(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8"), usedforsecurity=False).hexdigest()


def _clean(name: str) -> str:
    return re.sub(r"[<>\n\r]", "", name).strip() or "kb"
