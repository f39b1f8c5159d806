"""Several nodes, one content remote (KB_GIT_REMOTE). No Flask.

- Before a change (``catch_up``, inside the write path, under the content lock): fetch and bring the clone up
  to the remote, so the change is checked and merged against what every node saved.
- After its commit (``publish``): push before answering. A push the remote rejects (another node saved
  meanwhile) takes the local commit back, brings the clone up to the remote and raises RemoteMovedOn; the
  facade's ``replayed`` runs the whole operation again on top, so it merges, or is refused with EditConflict
  (409), exactly as a stale edit on one node. A remote that cannot be reached takes the commit back too and
  refuses the write (RemoteUnavailable, a 503): nothing is changed.
- ``pull`` (`kb sync`, the background ``Syncer`` and ``catch_up``): fetch, fast-forward, re-index only the
  notes the new commits touched (``git diff --name-only`` old..new head: changes, deletions, both names of a
  rename). Commits a killed process made but never pushed (it never answered) are pushed, or replayed on top
  of the remote with the stale-edit rules (replaying.py); one that clashes is kept on a branch
  ``kb-unpushed-<time>`` for an administrator.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import N_, KbError, Message, RemoteMovedOn, StorageError
from ..history import History
from ..history_remote import RemoteHistory, shown
from ..store import SUFFIX
from . import replaying

if TYPE_CHECKING:
    from . import Wiki

log = logging.getLogger(__name__)
REPLAYS = 5  # a change pushed this many times while other nodes kept saving gives up (503, nothing changed)
PUSHES = 5
STOP_SECONDS = 5.0  # how long closing the service waits for a pull in progress
MOVED_ON = N_("Other people saved on another server at the same moment, again and again, so this could not be "
              "saved. Nothing was changed; please try again.")


@dataclass
class Pulled:
    """What a pull did: the heads before and after, the notes re-indexed."""
    before: str | None
    after: str | None
    notes: list[str] = field(default_factory=list)
    pushed: bool = False
    kept: str = ""  # a branch holding commits that could not be replayed


def _notes(paths: list[str]) -> list[str]:
    """The notes among changed paths (top-level <slug>.md; the trash and kb's own files are not notes)."""
    return sorted({p[: -len(SUFFIX)] for p in paths if p.endswith(SUFFIX) and "/" not in p})


def _reindex(wiki: "Wiki", remote: RemoteHistory, before: str | None, after: str | None) -> list[str]:
    slugs = _notes(remote.changed_paths(before, after))
    valid = []
    for slug in slugs:
        try:
            wiki.store.relpath(slug)
            valid.append(slug)
        except KbError:
            continue
    if valid:
        for problem in wiki.indexer.refresh(valid):
            log.warning("content remote: %s", problem)
    return valid


def pull(wiki: "Wiki") -> Pulled:
    """Bring the clone up to the remote (call it holding the content lock); RemoteUnavailable if unreachable."""
    remote = wiki.remote
    history: History = wiki.history
    remote.configure()
    before = history.head()
    result = Pulled(before, before)
    rewritten = False
    for attempt in range(PUSHES):
        tracked = remote.tracking()
        local = history.head() if attempt else before
        theirs = remote.fetch()
        if theirs is None:  # an empty remote: this node's content goes up first
            if local is None or remote.push():
                break
            continue
        if local is None or local == theirs or remote.is_ancestor(local, theirs):
            if local != theirs:
                remote.reset_to(theirs)  # a fast-forward (a clean tree: nothing is written outside a change)
            break
        if remote.is_ancestor(theirs, local):  # left unpushed by a process killed before its push ended
            result.pushed = True
            if remote.push():
                break
            continue
        if tracked is None and not remote.related(local, theirs):  # never synced with this remote
            raise StorageError(f"KB_CONTENT_DIR ({wiki.content_dir}) and KB_GIT_REMOTE hold different histories; "
                               "point KB_CONTENT_DIR at a new folder and run `kb init` to clone the remote")
        # diverged: the remote moved on, or was rewritten (a redaction) -- replay only what was never pushed
        if tracked is None:  # never fetched here: what the remote lacks is this clone's own
            unpushed = remote.commits(theirs, local)
        else:  # since the last fetch or push; none when this clone's history was rewritten and never pushed
            unpushed = remote.commits(tracked, local) if remote.is_ancestor(tracked, local) else []
        remote.reset_to(theirs)
        rewritten = bool(tracked) and not remote.is_ancestor(tracked, theirs)  # e.g. a redaction elsewhere
        if not unpushed:
            break
        if not replaying.replay(wiki, unpushed):
            result.kept = "kb-unpushed-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
            remote.keep(result.kept, local)
            log.warning("content remote: %d unpushed commit(s) clash with the remote; kept on branch %s",
                        len(unpushed), result.kept)
            break
        result.pushed = True
        if remote.push():
            break
    result.after = history.head()
    result.notes = _reindex(wiki, remote, before, result.after)
    if rewritten:  # the remote's history was rewritten: keep no copy of the old one here either
        remote.forget_unreachable()
    _stamp(wiki)
    return result


def catch_up(wiki: "Wiki") -> str | None:
    """Before a change: the clone brought up to the remote; the head the change starts from."""
    return pull(wiki).after


def publish(wiki: "Wiki", start: str | None) -> None:
    """After a change's commit: push it. Rejected: the clone is brought up to the remote and RemoteMovedOn
    raised (the operation runs again); unreachable: the commit is taken back and RemoteUnavailable raised."""
    remote, history = wiki.remote, wiki.history
    head = history.head()
    if head is None or head == start:
        return  # nothing was committed
    rewritten = start is not None and not remote.is_ancestor(start, head)  # a redaction rewrote history
    remote.configure(again=rewritten)
    try:
        if remote.push(lease=start if rewritten else None):
            return
    except StorageError:
        if start is not None and not rewritten:
            remote.reset_to(start)  # the commit taken back: working tree and staging area as they were
        raise
    try:
        theirs = remote.fetch()
    except StorageError:  # gone right after refusing the push: this change must not be pushed later either
        if start is not None and not rewritten:
            remote.reset_to(start)
        raise
    log.info("content remote: push of %s rejected, the remote is at %s: running the change again",
             head[:10], (theirs or "")[:10])
    if theirs is not None:
        remote.reset_to(theirs)
        _reindex(wiki, remote, start, theirs)  # the index still holds ``start``: this change was not indexed
    raise RemoteMovedOn(Message(MOVED_ON))


def replayed(method: Callable) -> Callable:
    """For the facade's writes: run the operation again when its push was rejected (another node saved);
    each run merges with what is there then, or is refused as a stale edit is."""
    @functools.wraps(method)
    def run(*args, **kwargs):
        for attempt in range(REPLAYS):
            try:
                return method(*args, **kwargs)
            except RemoteMovedOn:
                if attempt == REPLAYS - 1:
                    raise
    return run


def replays(*names: str) -> Callable[[type], type]:
    """A class decorator: these methods are ``replayed``."""
    def wrap(cls: type) -> type:
        for name in names:
            setattr(cls, name, replayed(getattr(cls, name)))
        return cls
    return wrap


def join(content_dir: Path, url: str) -> list[str]:
    """`kb init` with KB_GIT_REMOTE: clone the remote when it has commits and the folder has no repository;
    push a repository that is there to an empty remote. What was done, as lines."""
    Path(content_dir).mkdir(parents=True, exist_ok=True)  # git runs in it
    history = History(content_dir)
    remote = RemoteHistory(history, url)
    theirs = remote.remote_head()
    if not history.is_repo():
        if theirs is None:
            return []  # `kb init` creates the repository, then pushes it
        remote.clone_into()
        return [f"Cloned the content repository from KB_GIT_REMOTE into {content_dir}"]
    remote.configure()
    if theirs is None and history.head():
        if remote.push():
            return [f"Pushed the content repository to KB_GIT_REMOTE ({shown(url)})"]
    return []


def _stamp_path(wiki: "Wiki") -> Path:
    git = wiki.content_dir / ".git"
    return git / "kb-sync.stamp" if git.is_dir() else wiki.content_dir / ".kb-sync.stamp"


def _stamp(wiki: "Wiki") -> None:
    with contextlib.suppress(OSError):
        _stamp_path(wiki).touch()


class Syncer:
    """A node's background pull every ``seconds``: one thread per worker process; a file lock and the time
    of the node's last pull (a write's catch-up counts) make the workers of one node take turns, so a node
    pulls about once per interval and never holds what others saved much longer than that."""

    def __init__(self, wiki: "Wiki", seconds: float):
        self.wiki, self.seconds = wiki, float(seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-sync", daemon=True)
        self._failing = False

    def start(self) -> "Syncer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=STOP_SECONDS)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds / 4):  # a look at the stamp is cheap; a pull when due
            try:
                self.tick()
            except Exception:  # a background thread must live on; the log says why
                log.exception("content remote: the periodic pull failed")

    def tick(self) -> Pulled | None:
        """Pull, unless another worker of this node is pulling or pulled within the interval."""
        path = _stamp_path(self.wiki).with_name("kb-sync.lock")
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            try:
                with contextlib.suppress(OSError):
                    if time.time() - _stamp_path(self.wiki).stat().st_mtime < self.seconds * 0.75:
                        return None
                try:
                    with self.wiki.store.locked():
                        done = pull(self.wiki)
                except StorageError as exc:
                    if not self._failing:
                        log.warning("content remote: cannot pull: %s", exc)
                    self._failing = True
                    return None
                self._failing = False
                return done
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class SyncMethods:
    """The Wiki's methods for the content repository and its remote (KB_GIT_REMOTE)."""

    def init_repository(self: "Wiki") -> bool:
        """Create the content repository if missing (pushed to an empty content remote); True when created."""
        created = self.history.init()
        if created and self.remote:
            self.sync()
        return created

    def commit_taxonomy(self: "Wiki", message: str) -> None:
        """Record a changed taxonomy.yml in the content repository (kb init's default one)."""
        with self.store.locked():
            self.history.commit(["taxonomy.yml"], message, author="kb")
            if self.remote:
                pull(self)  # pushes it (replayed on top when the remote moved on)

    def sync(self: "Wiki") -> Pulled:
        """Pull what other nodes saved (and push what this one left unpushed); re-index what changed."""
        if not self.remote:
            raise KbError("KB_GIT_REMOTE is not set: there is no content remote to sync with.")
        with self.store.locked():
            return pull(self)

    def start_sync(self: "Wiki", seconds: float) -> None:
        """Pull every ``seconds`` in a background thread (one per worker process; a node's workers take turns)."""
        self.syncer = self.syncer or (Syncer(self, seconds).start() if self.remote else None)
