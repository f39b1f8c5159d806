"""A note's revisions: reading one (as the reader may), comparing two word by word, restoring one as a new
revision through the write path. Redaction, which rewrites them, is in redaction.py. No Flask."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import access, worddiff
from ..errors import InvalidNote, NoteNotFound, RevisionNotFound
from ..model import Note, parse_note
from .writes import SaveResult

if TYPE_CHECKING:
    from . import Wiki


@dataclass(frozen=True)
class Comparison:
    slug: str
    old: Note
    new: Note
    old_rev: str
    new_rev: str
    html: str  # word-level diff of the source text, safe HTML


def full_revision(wiki: "Wiki", slug: str, rev: str) -> str:
    """The full id of one of this note's revisions; RevisionNotFound if it is not one of them."""
    rev = (rev or "").strip().lower()
    for r in wiki.history.log(wiki.store.relpath(slug), limit=10_000):
        if len(rev) >= 7 and r.id.startswith(rev):
            return r.id
    raise RevisionNotFound(rev)


def _readable_revision(ids: list[str], rev: str) -> str:
    """The full id of one of the revisions the reader may read; RevisionNotFound (a 404) for any other, so
    an unknown id and one the reader may not see are answered alike."""
    rev = (rev or "").strip().lower()
    for full in ids:
        if len(rev) >= 7 and full.startswith(rev):
            return full
    raise RevisionNotFound(rev)


def source_at(wiki: "Wiki", slug: str, rev: str) -> bytes:
    """The note file at a revision, under whatever name it had then."""
    path = wiki.store.relpath(slug)
    try:
        return wiki.history.show(rev, path)
    except RevisionNotFound:
        old = wiki.history.path_at(path, rev)
        if not old:
            raise
        return wiki.history.show(rev, old)


def note_at(wiki: "Wiki", user: Any, slug: str, rev: str) -> Note:
    """A revision of a note the user may read now, if they may read that revision too; NoteNotFound else."""
    wiki.get_note(user, slug)
    access.require(user, "read_old_revisions", slug)  # earlier versions' text is for signed-in readers
    try:
        rev = full_revision(wiki, slug, rev)
        note = parse_note(slug, source_at(wiki, slug, rev).decode("utf-8", errors="replace"), wiki.taxonomy)
    except (RevisionNotFound, InvalidNote):
        raise NoteNotFound(slug) from None
    if not wiki.can_read(user, note):
        raise NoteNotFound(slug)
    note.revision = rev
    return note


def compare(wiki: "Wiki", user: Any, slug: str, old_rev: str | None, new_rev: str | None) -> Comparison:
    """Word-level diff between two revisions; by default the latest one against the one before."""
    revisions = wiki.history_of(user, slug, limit=10_000)
    if not revisions:
        raise NoteNotFound(slug)
    ids = [r.id for r in revisions]
    new_id = _readable_revision(ids, new_rev) if new_rev else ids[0]
    if old_rev:
        old_id = _readable_revision(ids, old_rev)
    else:
        i = ids.index(new_id)
        old_id = ids[i + 1] if i + 1 < len(ids) else new_id
    old, new = note_at(wiki, user, slug, old_id), note_at(wiki, user, slug, new_id)
    current = wiki.get_note(user, slug)
    shown = [wiki.source_for(user, current, readable(n)) for n in (old, new)]  # hidden link targets masked
    return Comparison(slug, old, new, old_id, new_id, worddiff.diff_html(*shown))


def readable(note: Note) -> str:
    """A note as text to compare: its fields one per line, then the body. Written the same way for every
    revision, so a diff shows what changed, not how the front matter happened to be formatted."""
    m = note.meta
    lines = [f"Title: {m.title}", f"Language: {m.language}", f"Regions: {', '.join(m.regions)}",
             f"Topics: {', '.join(m.topics)}", f"Audience: {', '.join(m.audience)}",
             f"Visibility: {m.visibility}", f"Status: {m.status}", f"Summary: {m.summary}",
             f"Authors: {', '.join(m.authors)}"]
    lines += [f"{key}: {value}" for key, value in sorted(m.extra.items())]
    return "\n".join(lines) + "\n\n" + note.body


def restore(wiki: "Wiki", user: Any, slug: str, rev: str, base_revision: str | None,
            confirm_personal_data: str = "") -> SaveResult:
    """Make an old revision's text the current one, as a new revision. The status and visibility stay as
    they are now: publishing is decided in the workflow, not by going back in time."""
    old = note_at(wiki, user, slug, rev)
    current = wiki.get_note(user, slug)
    meta = old.meta.copy(status=current.meta.status, visibility=current.meta.visibility,
                         authors=list(current.meta.authors), created=current.meta.created)
    return wiki.save(user, slug, meta, old.body, base_revision, confirm_personal_data=confirm_personal_data,
                     restored_from=old.revision or rev)
