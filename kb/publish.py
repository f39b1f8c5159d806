"""Publishing beyond a plain save: revisions (read, compare, restore), rename with a redirect, soft delete
and undelete, the review queue. No Flask. Every write holds the content lock, commits and refreshes the
index, like Wiki.save; every read passes the access policy."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from . import access, worddiff
from .errors import (EditConflict, InvalidNote, InvalidSlug, KbError, NoteExists, NoteNotFound,
                     PermissionDenied, RevisionNotFound)
from .model import RESERVED, Note, NoteMeta, check_slug, meta_from_dict, meta_to_dict, parse_note, slugify
from .redirects import FILE as REDIRECTS_FILE
from .search import Hit, SearchQuery
from .wiki import Wiki
from .workflow import SaveResult

RENAMED_AWAY = "this name leads to a renamed note; choose another name (an admin can free it)"


@dataclass(frozen=True)
class Trashed:
    """A soft-deleted note, as the admin list shows it."""
    id: str
    slug: str
    title: str
    deleted_by: str
    deleted_at: dt.datetime | None
    message: str


@dataclass(frozen=True)
class Comparison:
    slug: str
    old: Note
    new: Note
    old_rev: str
    new_rev: str
    html: str  # word-level diff of the source text, safe HTML


def check_new_slug(slug: str, wiki: Wiki | None = None, renaming: str | None = None) -> str:
    """A name for a new or renamed note; InvalidNote on the "slug" field when it cannot be used.

    With ``wiki``, an old name that redirects to a renamed note is refused too (taking it would take over
    the redirect and every link to the old name), except when ``renaming`` that very note back.
    """
    try:
        check_slug(slug)
    except InvalidSlug as exc:
        raise InvalidNote([("slug", str(exc))]) from None
    if slug in RESERVED:
        raise InvalidNote([("slug", f"{slug!r} is reserved; choose another name")])
    if wiki is not None:
        target = wiki.redirects.target(slug)
        if target and target != renaming:
            raise InvalidNote([("slug", RENAMED_AWAY)])
    return slug


def free_slug(wiki: Wiki, title: str) -> str:
    """A slug derived from the title, with -2, -3, ... when it is taken (by a note or a rename's redirect)."""
    base = slugify(title, 110) or "note"
    if base in RESERVED:
        base += "-note"
    slug, n = base, 1
    redirects = wiki.redirects.load()
    while wiki.store.exists(slug) or slug in redirects:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _readable(wiki: Wiki, user: Any, slug: str) -> bool:
    try:
        wiki.get_note(user, slug)
    except NoteNotFound:
        return False
    return True


def _unused(wiki: Wiki, base: str) -> str:
    """``base`` with -2, -3, ... until no note has the name and no renamed note's redirect holds it."""
    slug, n = base, 1
    redirects = wiki.redirects.load()
    while wiki.store.exists(slug) or slug in redirects:
        n += 1
        slug = f"{base}-{n}"
    return slug


def new_name(wiki: Wiki, user: Any, title: str, wanted: str = "") -> tuple[str, str]:
    """The name a new note gets, and the name asked for when the writer may know it was taken ("" else).

    ``wanted`` (an explicit name) taken by a note the writer may read: NoteExists. Taken by one they may not
    read: the next free name (wanted-2, ...), said to no one, so the answer is the one a free name gets (a
    created note under the name it was given). Without ``wanted``, the name comes from the title, and a taken
    one is said only when the writer may read the note that has it.
    """
    base = check_new_slug(wanted, wiki) if wanted else (slugify(title, 110) or "note")
    if not wanted and base in RESERVED:
        base += "-note"
    if not wiki.store.exists(base) and not wiki.redirects.target(base):
        return base, ""
    readable = _readable(wiki, user, base)
    if wanted and readable:
        raise NoteExists(f"A note named {base!r} already exists.")
    return _unused(wiki, base), base if readable else ""


# --- revisions -------------------------------------------------------------------------------------

def full_revision(wiki: Wiki, slug: str, rev: str) -> str:
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


def source_at(wiki: Wiki, slug: str, rev: str) -> bytes:
    """The note file at a revision, under whatever name it had then."""
    path = wiki.store.relpath(slug)
    try:
        return wiki.history.show(rev, path)
    except RevisionNotFound:
        old = wiki.history.path_at(path, rev)
        if not old:
            raise
        return wiki.history.show(rev, old)


def note_at(wiki: Wiki, user: Any, slug: str, rev: str) -> Note:
    """A revision of a note the user may read now, if they may read that revision too; NoteNotFound else."""
    wiki.get_note(user, slug)
    if not access.can_read_old_revisions(user):  # earlier versions' text is for signed-in readers
        raise NoteNotFound(slug)
    try:
        rev = full_revision(wiki, slug, rev)
        note = parse_note(slug, source_at(wiki, slug, rev).decode("utf-8", errors="replace"), wiki.taxonomy)
    except (RevisionNotFound, InvalidNote):
        raise NoteNotFound(slug) from None
    if not wiki.can_read(user, note):
        raise NoteNotFound(slug)
    note.revision = rev
    return note


def compare(wiki: Wiki, user: Any, slug: str, old_rev: str | None, new_rev: str | None) -> Comparison:
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


def restore(wiki: Wiki, user: Any, slug: str, rev: str, base_revision: str | None,
            confirm_personal_data: str = "") -> SaveResult:
    """Make an old revision's text the current one, as a new revision. The status and visibility stay as
    they are now: publishing is decided in the workflow, not by going back in time."""
    old = note_at(wiki, user, slug, rev)
    current = wiki.get_note(user, slug)
    meta = old.meta.copy(status=current.meta.status, visibility=current.meta.visibility,
                         authors=list(current.meta.authors), created=current.meta.created)
    return wiki.save(user, slug, meta, old.body, base_revision, confirm_personal_data=confirm_personal_data,
                     restored_from=old.revision or rev)


# --- rename, delete, undelete ----------------------------------------------------------------------

def _editable(wiki: Wiki, user: Any, slug: str, base_revision: str | None, allowed) -> Note:
    current = wiki.get_note(user, slug)
    if not allowed(user, current.meta, wiki.taxonomy):
        raise PermissionDenied(slug)
    head = wiki.revision_of(slug)
    if base_revision is not None and base_revision != head:
        raise EditConflict(slug, base_revision, head)
    return current


def rename(wiki: Wiki, user: Any, slug: str, new_slug: str, base_revision: str | None) -> str:
    """Rename a note with `git mv` (its history follows) and leave a redirect from the old name; returns the
    name used. A name taken by a note the writer may not read is answered like a free one: the note gets
    the next free name (new-2, ...) instead, said to no one."""
    new_slug = check_new_slug((new_slug or "").strip())
    author = getattr(user, "username", "kb")
    with wiki.store.locked():
        _editable(wiki, user, slug, base_revision, access.can_edit)
        if new_slug == slug:
            raise InvalidNote([("slug", "the new name is the same as the old one")])
        check_new_slug(new_slug, wiki, renaming=slug)  # not another renamed note's old name
        if wiki.store.exists(new_slug):
            if _readable(wiki, user, new_slug):
                raise InvalidNote([("slug", f"a note named {new_slug!r} already exists")])
            new_slug = _unused(wiki, new_slug)
        old_rel, new_rel = wiki.store.relpath(slug), wiki.store.relpath(new_slug)
        wiki.history.move(old_rel, new_rel)
        wiki.redirects.write(wiki.redirects.after_rename(slug, new_slug))
        wiki.history.commit([old_rel, new_rel, REDIRECTS_FILE], f"Rename {slug} to {new_slug}", author)
        wiki.indexer.refresh([slug, new_slug])
    return new_slug


def drop_redirect(wiki: Wiki, old: str, author: str = "kb") -> str:
    """Free a renamed note's old name (an admin's decision, from the command line): the redirect goes, links
    to the old name stop leading to the note, and a new note may take the name. Returns the commit."""
    with wiki.store.locked():
        mapping = wiki.redirects.load()
        if old not in mapping:
            raise KbError(f"no renamed note leads from {str(old)[:120]!r}")
        target = mapping.pop(old)
        wiki.redirects.write(mapping)
        rev = wiki.history.commit([REDIRECTS_FILE], f"Free the old name {old} (it led to {target})", author)
    return rev or ""


def delete(wiki: Wiki, user: Any, slug: str, reason: str = "", base_revision: str | None = None) -> str:
    """Soft delete: move the note into content/.trash/ (history kept); it leaves the index and every page."""
    author = getattr(user, "username", "kb")
    with wiki.store.locked():
        _editable(wiki, user, slug, base_revision, access.can_delete)
        now = dt.datetime.now(dt.timezone.utc)
        while True:
            trash_rel = wiki.store.trash_relpath(slug, now.strftime("%Y%m%d%H%M%S"))
            if not (wiki.store.root / trash_rel).exists():
                break
            now += dt.timedelta(seconds=1)
        rel = wiki.store.relpath(slug)
        wiki.history.move(rel, trash_rel)
        reason = " ".join(str(reason or "").split())[:500]
        wiki.history.commit([rel, trash_rel], f"Delete {slug}" + (f"\n\nReason: {reason}" if reason else ""),
                            author)
        wiki.indexer.refresh([slug])
    return trash_rel.rsplit("/", 1)[1][: -len(".md")]


def deleted_notes(wiki: Wiki, user: Any) -> list[Trashed]:
    """Every soft-deleted note, newest deletion first (admins only)."""
    if not access.can_undelete(user):
        raise PermissionDenied("deleted notes")
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


def undelete(wiki: Wiki, user: Any, trash_id: str) -> str:
    """Bring a deleted note back under its name (admins only); NoteExists if the name is taken meanwhile."""
    if not access.can_undelete(user):
        raise PermissionDenied(trash_id)
    with wiki.store.locked():
        rel = wiki.store.trash_path(trash_id)
        slug = trash_id.split(".", 1)[0]
        if wiki.store.exists(slug):
            raise NoteExists(f"A note named {slug!r} exists now; rename it first, then undo the deletion.")
        wiki.history.move(rel, wiki.store.relpath(slug))
        wiki.history.commit([rel, wiki.store.relpath(slug)], f"Undelete {slug}", getattr(user, "username", "kb"))
        wiki.indexer.refresh([slug])
    return slug


# --- lists -----------------------------------------------------------------------------------------

def _listing(wiki: Wiki, clauses: list[dict]) -> list[Hit]:
    return wiki.index.search(SearchQuery(sort="newest", per_page=100), clauses).hits


def review_queue(wiki: Wiki, user: Any) -> list[Hit]:
    """Notes waiting for this user's review: in their regions (every region for admins)."""
    if access.is_admin(user):
        return _listing(wiki, [{"status": frozenset(["review"])}])
    countries = access.user_countries(user, wiki.taxonomy)
    if not countries:
        return []
    return _listing(wiki, [{"status": frozenset(["review"]), "countries": countries}])


def unfinished(wiki: Wiki, user: Any) -> list[Hit]:
    """This user's own drafts and notes waiting for review."""
    name = getattr(user, "username", None)
    if not access.can_create(user) or not name:
        return []
    return _listing(wiki, [{"status": frozenset(["draft", "review"]), "authors": frozenset([name])}])


def new_meta(taxonomy: Any, fields: dict, current: NoteMeta | None) -> NoteMeta:
    """Front matter for a save from form or JSON fields laid over the current note's (new notes start as
    drafts). authors, created and updated belong to kb and are never taken from the fields."""
    data = meta_to_dict(current) if current else {"status": "draft"}
    for key, value in fields.items():
        if key in ("authors", "created", "updated") or (key == "status" and not value):
            continue  # an empty status must never fall back to the front matter default, "published"
        data[key] = value
    return meta_from_dict(data, taxonomy)
