"""Moving notes, through the write path: rename (git mv, leaving a redirect from the old name), soft delete
into content/.trash/ and undelete; the admins' list of deleted notes; freeing a renamed note's old name."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import access
from ..errors import N_, EditConflict, InvalidNote, KbError, Message, NoteExists
from ..model import Note, parse_note
from ..redirects import FILE as REDIRECTS_FILE
from .attachments import carry, folder, trash_folder
from .drafting import _readable, _unused, check_new_slug
from .writes import actor_of, change

if TYPE_CHECKING:
    from . import Wiki

log = logging.getLogger(__name__)


def _moved(wiki: "Wiki", kind: str, old: str, new: str) -> None:
    """Tell what lives beside the notes (comments) that a note moved: once the move is committed, still under
    the content lock (no note can take the old name meanwhile)."""
    for hook in list(getattr(wiki, "move_hooks", ())):
        try:
            hook(kind, old, new)
        except Exception:  # the move stands; what failed to follow it is logged
            log.exception("a move hook failed after %s %s -> %s", kind, old, new)


@dataclass(frozen=True)
class Trashed:
    """A soft-deleted note, as the admin list shows it."""
    id: str
    slug: str
    title: str
    deleted_by: str
    deleted_at: dt.datetime | None
    message: str


def _editable(wiki: "Wiki", user: Any, slug: str, base_revision: str | None, action: str) -> Note:
    current = wiki.get_note(user, slug)
    access.require(user, action, slug, current.meta, wiki.taxonomy)
    head = wiki.revision_of(slug)
    if base_revision is not None and base_revision != head:
        raise EditConflict(slug, base_revision, head)
    return current


def rename(wiki: "Wiki", user: Any, slug: str, new_slug: str, base_revision: str | None) -> str:
    """Rename a note with `git mv` (its history follows) and leave a redirect from the old name; returns the
    name used. A name taken by a note the writer may not read is answered like a free one: the note gets
    the next free name (new-2, ...) instead, said to no one."""
    new_slug = check_new_slug((new_slug or "").strip())
    with change(wiki, actor_of(user)) as ch:
        _editable(wiki, user, slug, base_revision, "edit")
        if new_slug == slug:
            raise InvalidNote([("slug", Message(N_("the new name is the same as the old one")))])
        check_new_slug(new_slug, wiki, renaming=slug, user=user)  # not another renamed note's old name
        if wiki.redirects.target(new_slug) not in (None, slug):  # the old name of a note they may not read
            new_slug = _unused(wiki, new_slug)
        elif wiki.store.exists(new_slug):
            if _readable(wiki, user, new_slug):
                raise InvalidNote([("slug", Message(N_("a note named %(name)s already exists"), name=repr(new_slug)))])
            new_slug = _unused(wiki, new_slug)
        mapping = wiki.redirects.after_rename(slug, new_slug)
        ch.move(wiki.store.relpath(slug), wiki.store.relpath(new_slug))
        carry(wiki, ch, folder(slug), folder(new_slug))  # its files go with it
        ch.write_aux(REDIRECTS_FILE, wiki.redirects.serialise(mapping))
        ch.reindex(slug, new_slug)
        ch.commit(f"Rename {slug} to {new_slug}")
        ch.audit("note_rename", slug, f"{slug} -> {new_slug}")
        _moved(wiki, "rename", slug, new_slug)
    return new_slug


def drop_redirect(wiki: "Wiki", old: str, author: str = "kb") -> str:
    """Free a renamed note's old name (an admin's decision, from the command line): the redirect goes, links
    to the old name stop leading to the note, and a new note may take the name. Returns the commit."""
    with change(wiki, author) as ch:
        mapping = wiki.redirects.load()
        if old not in mapping:
            raise KbError(f"no renamed note leads from {str(old)[:120]!r}")
        target = mapping.pop(old)
        ch.write_aux(REDIRECTS_FILE, wiki.redirects.serialise(mapping))
        rev = ch.commit(f"Free the old name {old} (it led to {target})")
        ch.audit("redirect_drop", old, f"it led to {target}")
    return rev or ""


def delete(wiki: "Wiki", user: Any, slug: str, reason: str = "", base_revision: str | None = None) -> str:
    """Soft delete: move the note into content/.trash/ (history kept); it leaves the index and every page."""
    with change(wiki, actor_of(user)) as ch:
        _editable(wiki, user, slug, base_revision, "delete")
        now = dt.datetime.now(dt.timezone.utc)
        while True:
            trash_rel = wiki.store.trash_relpath(slug, now.strftime("%Y%m%d%H%M%S"))
            if not (wiki.store.root / trash_rel).exists():
                break
            now += dt.timedelta(seconds=1)
        ch.move(wiki.store.relpath(slug), trash_rel)
        trash_id = trash_rel.rsplit("/", 1)[1][: -len(".md")]
        carry(wiki, ch, folder(slug), trash_folder(trash_id))  # its files go into the trash with it
        ch.reindex(slug)
        reason = " ".join(str(reason or "").split())[:500]
        ch.commit(f"Delete {slug}" + (f"\n\nReason: {reason}" if reason else ""))
        ch.audit("note_delete", slug, f"{trash_id} {reason}".strip())
        _moved(wiki, "delete", slug, trash_id)
    return trash_id


def deleted_notes(wiki: "Wiki", user: Any) -> list[Trashed]:
    """Every soft-deleted note, newest deletion first (admins only)."""
    access.require(user, "undelete", "deleted notes")
    out = []
    for trash_id, slug in wiki.store.trashed():
        rel = wiki.store.trash_path(trash_id)
        try:
            title = parse_note(slug, (wiki.store.root / rel).read_text(encoding="utf-8", errors="replace"),
                               wiki.taxonomy).meta.title
        except (KbError, OSError):
            title = slug
        last = wiki.history.log(rel, limit=1)
        out.append(Trashed(trash_id, slug, title, last[0].author if last else "",
                           last[0].date if last else None, last[0].message if last else ""))
    return out


def undelete(wiki: "Wiki", user: Any, trash_id: str) -> str:
    """Bring a deleted note back under its name (admins only); NoteExists if the name is taken meanwhile."""
    access.require(user, "undelete", trash_id)
    with change(wiki, actor_of(user)) as ch:
        rel = wiki.store.trash_path(trash_id)
        slug = trash_id.split(".", 1)[0]
        if wiki.store.exists(slug):
            raise NoteExists(Message(N_("A note named %(name)s exists now; rename it first, then undo the deletion."),
                                     name=repr(slug)))
        ch.move(rel, wiki.store.relpath(slug))
        carry(wiki, ch, trash_folder(trash_id), folder(slug))
        ch.reindex(slug)
        ch.commit(f"Undelete {slug}")
        ch.audit("note_undelete", slug, trash_id)
        _moved(wiki, "undelete", trash_id, slug)
    return slug
