"""The one write path. Every change of notes -- create, save (with its merge), import, rename, delete, undelete,
restore, redaction, a freed redirect, an attachment added or removed -- runs inside ``change()``:

    content lock -> write the files (or move them) -> one git commit -> re-index -> audit events

With a content remote (KB_GIT_REMOTE), the clone is first brought up to the remote, and the commit is pushed
before the change is indexed and answered (syncing.py: a rejected push runs the operation again on top).

When anything fails before the commit is made (a disk filling up, git refusing the commit), the files written
are put back and the moves undone, so no text stands that history does not hold. The audit events are emitted
here, once, so a change is audited alike from the web, the API and the command line. No Flask.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import KbError
from . import syncing

if TYPE_CHECKING:
    from . import Wiki

log = logging.getLogger(__name__)

# (action, actor, target, detail, address): the accounts store's audit() behind it, set by create_app
AuditSink = Callable[[str, str, str, str, str], None]

_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("kb_client_address", default="")


@contextlib.contextmanager
def client_address(address: str) -> Iterator[None]:
    """Changes made inside are audited with this client address (the web sets it for each request)."""
    token = _ADDRESS.set(address or "")
    try:
        yield
    finally:
        _ADDRESS.reset(token)


def set_client_address(address: str) -> contextvars.Token:
    """For a request's lifetime (the web sets it before each request and resets it after)."""
    return _ADDRESS.set(address or "")


def reset_client_address(token: contextvars.Token) -> None:
    _ADDRESS.reset(token)


def actor_of(user: Any, default: str = "kb") -> str:
    return getattr(user, "username", None) or default


class Change:
    """One change of notes in the making, under the content lock: what it wrote or moved (taken back, newest
    first, if the commit is not made), the notes to re-index and the audit events to record once committed."""

    def __init__(self, wiki: "Wiki", actor: str):
        self.store, self.history = wiki.store, wiki.history
        self.actor = actor
        self.paths: list[str] = []
        self.slugs: list[str] = []
        self.events: list[tuple[str, str, str]] = []
        self.committed = False
        self.revision: str | None = None
        self._undo: list[Callable[[], None]] = []

    def _path(self, path: str) -> None:
        if path not in self.paths:
            self.paths.append(path)

    def reindex(self, *slugs: str) -> None:
        """Re-index these notes once committed (removed from the index when they are gone)."""
        self.slugs += [s for s in slugs if s not in self.slugs]

    def write(self, slug: str, data: bytes) -> None:
        """Write a note's file (new or replaced)."""
        old = self.store.read_bytes(slug) if self.store.exists(slug) else None
        self._undo.append(lambda: self.store.delete(slug) if old is None else self.store.write_bytes(slug, old))
        self.store.write_bytes(slug, data)
        self._path(self.store.relpath(slug))
        self.reindex(slug)

    def write_aux(self, name: str, data: bytes) -> None:
        """Write one of kb's own files in the content folder (the redirects)."""
        path = self.store.root / name
        old = path.read_bytes() if path.exists() else None

        def undo() -> None:
            if old is None:
                path.unlink(missing_ok=True)
            else:
                self.store.write_aux(name, old)
        self._undo.append(undo)
        self.store.write_aux(name, data)
        self._path(name)

    def write_file(self, rel: str, data: bytes) -> None:
        """Write a file beside a note (an attachment, its thumbnail), new or replaced."""
        path = self.store.file_path(rel)
        old = path.read_bytes() if path.is_file() else None
        self._undo.append(lambda: self.store.remove_file(rel) if old is None else self.store.write_file(rel, old))
        self.store.write_file(rel, data)
        self._path(rel)

    def remove_file(self, rel: str) -> None:
        """Remove a file beside a note; history keeps it."""
        path = self.store.file_path(rel)
        if not path.is_file():
            return
        old = path.read_bytes()
        self._undo.append(lambda: self.store.write_file(rel, old))
        self.store.remove_file(rel)
        self._path(rel)

    def move(self, old: str, new: str) -> None:
        """Move a file with its history (git mv): a rename, a deletion into the trash, an undeletion."""
        self.history.move(old, new)
        self._undo.append(lambda: self.history.move(new, old))
        self._path(old)
        self._path(new)

    def include(self, *paths: str) -> None:
        """Commit these paths too, as they are on disk (nothing to take back)."""
        for p in paths:
            self._path(p)

    def audit(self, action: str, target: str, detail: str = "") -> None:
        """An audit event, recorded once the change is committed."""
        self.events.append((action, target, detail))

    def commit(self, message: str, author: str | None = None) -> str | None:
        """The one commit of this change; StorageError when git fails (the change is then taken back)."""
        self.revision = self.history.commit(self.paths, message, author or self.actor) if self.paths else None
        self.committed = True
        return self.revision

    def take_back(self) -> None:
        """Undo what was written or moved, newest first, and leave nothing staged."""
        for undo in reversed(self._undo):
            try:
                undo()
            except (KbError, OSError):
                log.exception("could not take back part of an uncommitted change by %s", self.actor)
        if self.paths:
            try:
                self.history.unstage(self.paths)
            except KbError:
                log.exception("could not unstage an uncommitted change")


@contextlib.contextmanager
def change(wiki: "Wiki", actor: str, lock: bool = True) -> Iterator[Change]:
    """The write path: under the content lock, the caller checks and writes through the Change and commits;
    if anything raises before the commit is made, everything written or moved is put back. Once committed,
    the notes are re-indexed and the audit events recorded."""
    with wiki.store.locked() if lock else contextlib.nullcontext():
        ch = Change(wiki, actor)
        # with a content remote: first up to what every node saved, and pushed before it answers
        start = syncing.catch_up(wiki) if wiki.remote else None
        try:
            yield ch
        except BaseException:
            if not ch.committed:
                ch.take_back()
            raise
        if wiki.remote and ch.committed:
            syncing.publish(wiki, start)  # rejected or unreachable: taken back, raises (see syncing.py)
        if ch.slugs:
            wiki.indexer.refresh(ch.slugs, ch.revision, ch.paths)
    emit(wiki, actor, ch.events)


def emit(wiki: "Wiki", actor: str, events: list[tuple[str, str, str]]) -> None:
    """Record audit events through the sink the service was given (none in Flask-free uses)."""
    if wiki.audit is None:
        return
    address = _ADDRESS.get()
    for action, target, detail in events:
        wiki.audit(action, actor, target, detail, address)


@dataclass(frozen=True)
class SaveResult:
    """What one save did: enough for the caller's answer and for the audit log."""
    slug: str
    revision: str
    created: bool
    status_before: str | None
    status_after: str
    personal_data_reason: str = ""  # set when findings were published on the writer's word
    restored_from: str = ""
    merged: bool = False  # saved from an older revision, merged with the changes saved meanwhile

    @property
    def status_changed(self) -> bool:
        return not self.created and self.status_before != self.status_after


def audit_events(result: SaveResult) -> list[tuple[str, str]]:
    """(action, detail) pairs the audit log records for a save."""
    if result.restored_from:
        events = [("note_restore", f"{result.revision[:10]} restores {result.restored_from[:10]}")]
    else:
        events = [("note_create" if result.created else "note_save",
                   f"{result.revision[:10]} as {result.status_after}")]
    if result.status_changed:
        events.append(("status_change", f"{result.status_before} -> {result.status_after}"))
    if result.personal_data_reason:
        events.append(("personal_data_confirmed", result.personal_data_reason))
    return events
