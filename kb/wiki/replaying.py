"""Replaying commits a node made but never pushed (its process was killed before the push ended, so it never
answered) on top of what the remote holds now, with the stale-edit rules: a note merged field by field and
its body as text (notemerge), kb's other files as text; a clash, a change that would alter who may read a
note, or a file changed on one side and deleted on the other is not replayed. No Flask."""
from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from .. import notemerge
from ..errors import InvalidNote, KbError
from ..model import Note, dump_note, parse_note
from ..store import SUFFIX

if TYPE_CHECKING:
    from . import Wiki

log = logging.getLogger(__name__)


def _merge_note(wiki: "Wiki", path: str, base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    slug = path[: -len(SUFFIX)]
    try:
        b, o, t = (parse_note(slug, data.decode("utf-8", errors="replace"), wiki.taxonomy)
                   for data in (base, ours, theirs))
    except InvalidNote:
        return None
    result = notemerge.merge_note(b, o.meta, o.body, t, wiki.history.merge_file, "saved on another node")
    if result is None or not result.clean or notemerge.changes_readers(t.meta, result.meta):
        return None
    updated = max((d for d in (o.meta.updated, t.meta.updated) if d), default=None)
    return dump_note(Note(slug, result.meta.copy(updated=updated), result.body)).encode("utf-8")


def _merge(wiki: "Wiki", path: str, base: bytes | None, ours: bytes | None, theirs: bytes | None
           ) -> tuple[bool, bytes | None]:
    """(merged at all, the file's new bytes or None for no file)."""
    if theirs == base:
        return True, ours  # only this node changed it
    if ours == theirs:
        return True, theirs
    if base is None or ours is None or theirs is None:
        return False, None  # added on both sides differently, or changed on one and deleted on the other
    if path.endswith(SUFFIX) and "/" not in path:
        merged = _merge_note(wiki, path, base, ours, theirs)
        return merged is not None, merged
    merged, clean = wiki.history.merge_file(base, ours, theirs)
    return bool(clean and merged is not None), merged


def replay_commit(wiki: "Wiki", commit: str) -> bool:
    """Make ``commit``'s change again on top of HEAD, as a commit by the same author with the same message;
    False (with the files as they were) when it cannot be merged."""
    remote, history = wiki.remote, wiki.history
    parent, head = remote.parent(commit), history.head()
    paths = remote.changed_paths(parent, commit)
    if not paths or head is None:
        return True
    bases = history.contents_at([(parent, p) for p in paths]) if parent else [None] * len(paths)
    ours = history.contents_at([(commit, p) for p in paths])
    theirs = history.contents_at([(head, p) for p in paths])
    result: dict[str, bytes | None] = {}
    for path, b, o, t in zip(paths, bases, ours, theirs):
        ok, data = _merge(wiki, path, b, o, t)
        if not ok:
            log.warning("content remote: %s of unpushed commit %s clashes with the remote", path, commit[:10])
            return False
        if data != t:
            result[path] = data
    if not result:
        return True  # the remote holds this change already
    for path, data in result.items():
        target = wiki.content_dir / path
        if data is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    author, email, message = remote.commit_info(commit)
    try:
        history.commit(sorted(result), message, author, email)
    except KbError:
        remote.reset_to(head)
        raise
    return True


def replay(wiki: "Wiki", commits: list[str]) -> bool:
    """Replay these commits, oldest first; False, with HEAD as it was, when one cannot be."""
    start = wiki.history.head()
    for commit in commits:
        if not replay_commit(wiki, commit):
            if start:
                wiki.remote.reset_to(start)
            return False
    return True
