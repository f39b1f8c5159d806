"""The content repository's side that talks to the shared remote (KB_GIT_REMOTE): fetch, push, clone, and the
questions about the commit graph a sync asks. Part of the history engine: git runs through History's one
runner, here with a time limit, since a remote may hang."""
from __future__ import annotations

import contextlib
import logging
import re
import shutil

from .errors import N_, Message, RemoteUnavailable, StorageError
from .history import History

REMOTE = "origin"
BRANCH = "main"
TRACKING = f"refs/remotes/{REMOTE}/{BRANCH}"
NETWORK_SECONDS = 60.0
HEAD_FILE = "kb-remote-head"  # in .git: the remote's head as last seen
UNREACHABLE = N_("The shared content repository cannot be reached, so nothing can be saved right now. "
                 "Nothing was changed; reading goes on.")

log = logging.getLogger(__name__)


def shown(url: str) -> str:
    """The remote's address as kb may print or log it: a password or token in it is masked."""
    return re.sub(r"(//)[^/@\s]+@", r"\1***@", str(url))


class RemoteHistory:
    """The content repository with its one remote (``origin``, branch ``main``)."""

    def __init__(self, history: History, url: str):
        self.history, self.url = history, str(url)
        self._configured = False
        self.guard = contextlib.nullcontext  # the Wiki sets its Store's ``rewriting``

    def _run(self, *args: str) -> tuple[int, str]:
        proc = self.history._git(*args, check=False)
        return proc.returncode, proc.stdout.decode("utf-8", errors="replace").strip()

    def _net(self, *args: str):
        try:
            return self.history._git(*args, check=False, timeout=NETWORK_SECONDS)
        except StorageError as exc:  # a timeout
            log.warning("content remote: %s", exc)
            raise RemoteUnavailable(Message(UNREACHABLE)) from None

    @staticmethod
    def _unreachable(proc, what: str) -> RemoteUnavailable:
        log.warning("content remote: git %s failed: %s", what,
                    shown(proc.stderr.decode(errors="replace").strip()[:300]))
        return RemoteUnavailable(Message(UNREACHABLE))

    def configure(self, again: bool = False) -> None:
        """Make ``origin`` name the remote, once per process (``again`` after a history rewrite by
        git-filter-repo, which removes it)."""
        if self._configured and not again:
            return
        self._configured = True
        code, url = self._run("remote", "get-url", REMOTE)
        if code != 0:
            self.history._git("remote", "add", REMOTE, self.url)
        elif url != self.url:
            self.history._git("remote", "set-url", REMOTE, self.url)

    def remote_head(self) -> str | None:
        """The remote's head without fetching it; None when the remote has no commits yet."""
        proc = self._net("ls-remote", self.url, f"refs/heads/{BRANCH}")
        if proc.returncode != 0:
            raise self._unreachable(proc, "ls-remote")
        out = proc.stdout.decode().split()
        return out[0] if out else None

    def fetch(self) -> str | None:
        """Fetch the remote's branch; its head, or None when the remote is empty. RemoteUnavailable if unreachable."""
        args = ("fetch", "-q", "--prune", REMOTE, f"+refs/heads/*:refs/remotes/{REMOTE}/*")
        proc = self._net(*args)
        if proc.returncode != 0 and self._run("remote", "get-url", REMOTE)[0] != 0:
            self.configure(again=True)  # another process's history rewrite removed it
            proc = self._net(*args)
        if proc.returncode != 0:
            raise self._unreachable(proc, "fetch")
        head = self.tracking(fetched=True)
        self._remember(head)
        return head

    def tracking(self, fetched: bool = False) -> str | None:
        """The remote's head as last fetched or pushed. Also kept in a file of kb's own, since a history
        rewrite (git-filter-repo) deletes the remote's refs: what was pushed is still told from what was not."""
        code, out = self._run("rev-parse", "--verify", "-q", TRACKING)
        if code == 0 and out:
            return out
        if fetched:
            return None
        try:
            return (self.history.root / ".git" / HEAD_FILE).read_text().strip() or None
        except OSError:
            return None

    def _remember(self, head: str | None) -> None:
        path = self.history.root / ".git" / HEAD_FILE
        try:
            if head:
                path.write_text(head + "\n")
            else:
                path.unlink(missing_ok=True)
        except OSError:
            log.warning("content remote: cannot write %s", path)

    def push(self, lease: str | None = None) -> bool:
        """Push HEAD to the remote's branch: True when taken, False when rejected (the remote moved on).
        With ``lease``, replace the remote's history (a rewrite) only if its head is still that commit."""
        args = ["push", "--porcelain", REMOTE, f"HEAD:refs/heads/{BRANCH}"]
        if lease:
            args.insert(1, f"--force-with-lease=refs/heads/{BRANCH}:{lease}")
        proc = self._net(*args)
        if proc.returncode == 0:
            self.history._git("update-ref", TRACKING, "HEAD")
            self._remember(self.history.head())
            return True
        out = proc.stdout.decode(errors="replace")
        if any(line.startswith("!\t") for line in out.splitlines()):  # connected, and refused this ref
            return False
        raise self._unreachable(proc, "push")

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self._run("merge-base", "--is-ancestor", older, newer)[0] == 0

    def related(self, one: str, other: str) -> bool:
        """Do the two commits share any history?"""
        return self._run("merge-base", one, other)[0] == 0

    def commits(self, since: str, until: str) -> list[str]:
        """The commits in ``until`` and not in ``since``, oldest first."""
        code, out = self._run("rev-list", "--reverse", f"{since}..{until}")
        return out.split() if code == 0 else []

    def reset_to(self, revision: str) -> None:
        """The branch, the staging area and the working tree at this commit (files it lacks are removed);
        readers of notes wait while git rewrites the files (``guard``: the Store's ``rewriting``)."""
        self.history.clear_stale_locks()
        with self.guard():
            self.history._git("reset", "-q", "--hard", revision)
        self.history.graph_moved()

    def parent(self, commit: str) -> str | None:
        """A commit's (first) parent, None for the first commit."""
        code, out = self._run("rev-parse", "--verify", "-q", f"{commit}^")
        return out if code == 0 and out else None

    def commit_info(self, commit: str) -> tuple[str, str, str]:
        """(author name, author e-mail, message) of a commit."""
        out = self.history._git("log", "-1", "--format=%an%x1f%ae%x1f%B", commit).stdout.decode("utf-8", "replace")
        author, email, message = out.split("\x1f", 2)
        return author, email, message.strip()

    def forget_unreachable(self) -> None:
        """After the remote's history was rewritten (a redaction on another node): drop the old commits here
        too (the reflog expired, unreachable objects pruned), as the node that rewrote it did."""
        self._run("reflog", "expire", "--expire=now", "--all")
        self._run("gc", "-q", "--prune=now")

    def keep(self, name: str, revision: str) -> None:
        """Keep commits that could not be replayed on a branch of their own, for an administrator."""
        self.history._git("branch", "-f", name, revision)

    def changed_paths(self, old: str | None, new: str | None) -> list[str]:
        """Files added, changed or removed between two commits (a rename gives both names)."""
        if not new or old == new:
            return []
        if not old:
            code, out = self._run("ls-tree", "-r", "--name-only", new)
        else:
            code, out = self._run("diff", "--name-only", "--no-renames", old, new)
        return [line for line in out.split("\n") if line] if code == 0 else []

    def clone_into(self) -> None:
        """Make the content folder a clone of the remote (it must hold no file the remote has)."""
        root = self.history.root
        root.mkdir(parents=True, exist_ok=True)
        try:
            self.history._git("init", "-q", "-b", BRANCH)
            self.history._git("config", "user.name", "kb")
            self.history._git("config", "user.email", "kb@localhost")
            self.history.tune()
            self.configure()
            self.fetch()
            proc = self.history._git("checkout", "-q", "-B", BRANCH, TRACKING, check=False)
            if proc.returncode != 0:
                raise StorageError(f"KB_CONTENT_DIR ({root}) holds files the remote has too; move them away and "
                                   "run `kb init` again: " + proc.stderr.decode(errors="replace").strip()[:200])
        except BaseException:
            shutil.rmtree(root / ".git", ignore_errors=True)  # as it was: `kb init` can be run again
            raise
