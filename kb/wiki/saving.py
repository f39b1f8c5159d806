"""Saving a note (create, edit, status change, restore) through the write path: the rights, the workflow, the
personal-data guard and, for a save from an older revision, the three-way merge with what was saved since."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .. import access, notemerge, pdguard
from ..errors import (N_, EditConflict, InvalidNote, Message, NoteExists, NoteNotFound, PermissionDenied,
                      PersonalDataFound, RevisionNotFound)
from ..model import Note, NoteMeta, check_body, check_slug, dump_note, parse_note
from . import attachments, commits, redacted, review
from .drafting import normalise_body
from .writes import SaveResult, actor_of, audit_events, change

if TYPE_CHECKING:
    from . import Wiki

REDACTED_BACK = N_("holds a passage an administrator redacted from this note's history: remove it, then save")
CONFLICT_MARKS = N_("still holds conflict marks (<<<<<<<, =======, >>>>>>>): keep the text you want between "
                    "them and remove the mark lines")


def _refuse_conflict_marks(body: str, current: Note | None) -> None:
    """A body holding a clash's mark line that the saved note did not hold is not saved."""
    if notemerge.has_conflict_marks(body, current.body if current else None):
        raise InvalidNote([("body", Message(CONFLICT_MARKS))])


def save(wiki: "Wiki", user: Any, slug: str, meta: NoteMeta, body: str, base_revision: str | None,
         message: str = "", create: bool = False, confirm_personal_data: str = "",
         restored_from: str = "") -> SaveResult:
    """Write a note through the one write path; a save from an older revision is merged with the changes
    saved since, and refused with EditConflict when they clash (or cannot be merged).

    Under the content lock: check the base revision (merging), the rights (edit, status change), the workflow
    and the personal-data guard, then write atomically, commit (status change and any confirmation recorded
    in the message), update the index, record the audit events.
    """
    check_slug(slug)
    check_body(body)
    author = actor_of(user)
    body = normalise_body(body)
    merged_with = ""
    with change(wiki, author) as ch:
        current = None
        if wiki.store.exists(slug):
            if create:  # said alike whether or not the user may read that note
                raise NoteExists(Message(N_("A note named %(name)s already exists."), name=repr(slug)))
            current = wiki._load_any(slug)
            if current is not None:
                access.require(user, "read", slug, current.meta, wiki.taxonomy)
                access.require(user, "edit", slug, current.meta, wiki.taxonomy)
            _refuse_conflict_marks(body, current)
            head = wiki.revision_of(slug)
            if base_revision != head:
                merge = _merge(wiki, slug, current, meta, body, base_revision, head, restored_from)
                meta, body, merged_with = merge.meta, merge.body, head or ""
        elif not create:  # the note went away (deleted, renamed) since the edit began
            raise NoteNotFound(slug)
        else:
            access.require(user, "create", slug)
            _refuse_conflict_marks(body, None)
        if author not in meta.authors and author != "kb":
            meta = meta.copy(authors=[*meta.authors, author])
        before = current.meta if current else None
        if not access.can_edit(user, meta, wiki.taxonomy) or \
                not access.can_set_status(user, before, meta, wiki.taxonomy):
            raise PermissionDenied(slug)
        review.check(meta, before)
        if redacted.holds_redacted(wiki.content_dir / ".git", slug, meta.title, meta.summary, body):
            raise InvalidNote([("body", Message(REDACTED_BACK))])  # an editor opened before a redaction
        findings = pdguard.personal_data(meta, body, current, message=message, slug="" if current else slug)
        findings += attachments.findings_on_publish(wiki, slug, meta, current)  # a PDF's text, a CSV's cells
        reason = commits.one_line(confirm_personal_data, commits.REASON_MAX) if findings else ""
        if findings and not reason:
            raise PersonalDataFound(findings)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        meta = meta.copy(updated=now, created=meta.created or now)
        ch.write(slug, dump_note(Note(slug, meta, body)).encode("utf-8"))
        rev = ch.commit(commits.commit_message(slug, message, before.status if before else None, meta.status,
                                               reason, restored_from, merged_with))
        result = SaveResult(slug, rev or wiki.revision_of(slug) or "", created=current is None,
                            status_before=before.status if before else None, status_after=meta.status,
                            personal_data_reason=reason, restored_from=restored_from, merged=bool(merged_with))
        for action, detail in audit_events(result):
            ch.audit(action, slug, detail)
    return result


def _merge(wiki: "Wiki", slug: str, current: Note | None, meta: NoteMeta, body: str, base_revision: str | None,
           head: str | None, restored_from: str) -> notemerge.MergeResult:
    """The writer's note merged with the one saved since their base revision; EditConflict when the base
    is not a revision of this note, the two clash, or the merge would change who may read the note."""
    path = wiki.store.relpath(slug)
    base_id = wiki.history.is_revision_of(path, base_revision or "") if current and not restored_from else None
    if not base_id:  # a restore is always made knowingly, from the current revision
        raise EditConflict(slug, base_revision, head)
    try:
        base = parse_note(slug, wiki.history.show(base_id, path).decode("utf-8", errors="replace"), wiki.taxonomy)
    except (RevisionNotFound, InvalidNote):
        raise EditConflict(slug, base_revision, head) from None
    last = wiki.history.log(path, limit=1)
    label = notemerge.theirs_label(last[0].author, last[0].date) if last else "saved version"
    result = notemerge.merge_note(base, meta, body, current, wiki.history.merge_file, label)
    if result is None:
        raise EditConflict(slug, base_revision, head)
    if not result.clean or notemerge.changes_readers(current.meta, result.meta):
        raise EditConflict(slug, base_revision, head, merged=Note(slug, result.meta, result.body),
                           fields=result.fields)
    return result
