"""Comments on notes: the store (SQLAlchemy, in the accounts database) and the service the web layer calls.

Comments are never public. Every operation names the note first and asks the wiki for it as this reader
(``NoteNotFound``, a 404, when they may not read it), then asks the policy (``kb.access``) who may comment,
edit, delete and mark resolved. Bodies are Markdown rendered per reader through the notes' renderer and
sanitiser (``Wiki.render_body``), so a link to a note the reader may not open is masked exactly as in a note.

Personal data: comments are never public, so likely personal data (kb.pdscan) is not refused as it is for a
public note; the writer is warned (the findings come back with the saved comment) and may edit it away.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import func, select

from . import access, pdscan
from .accounts_model import now_utc
from .comments_model import TRASH_PREFIX, Comment
from .db import Database
from .errors import N_, KbError, Message, NoteNotFound, PermissionDenied
from .wiki import Note, Wiki

__all__ = ["CommentStore", "Comments", "CommentView", "CommentError", "Comment", "MAX_BODY", "MAX_LINKS", "shown_count"]
log = logging.getLogger(__name__)
MAX_BODY = 10_000  # characters of Markdown in one comment
MAX_LINKS = 50  # notes one comment links to: each is looked up for every reader on every view


class CommentError(KbError, ValueError):
    """Bad input to a comment (empty, too long, a reply to a reply...): a 400 with a message to act on."""


ReplyHook = Callable[[Comment, Comment], None]


class CommentStore:
    """The comments table: add, read, change; no policy here (``Comments`` asks it)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = now_utc):
        self.db = db
        self.clock = clock  # tests give another clock (the edit window) instead of sleeping
        # called as hook(reply, parent) after a reply is committed (notifications listen here)
        self.on_reply: list[ReplyHook] = []
        # called as hook(comment) after any new comment (a reply too) is committed
        self.on_comment: list[Callable[[Comment], None]] = []

    def add(self, slug: str, author: str, body: str, reply_to: int | None = None) -> Comment:
        with self.db.writing() as session:
            parent = None
            if reply_to is not None:
                parent = session.get(Comment, reply_to)
                if parent is None or parent.note_slug != slug or parent.deleted:
                    raise CommentError(Message(N_("there is no comment %(id)s on this note to reply to"),
                                               id=reply_to))
                if parent.reply_to is not None:
                    raise CommentError(Message(N_("replies go one level deep: reply to comment %(id)s, which "
                                                  "starts the thread"), id=parent.reply_to))
            comment = Comment(note_slug=slug, author=author, body=body, reply_to=reply_to, created=self.clock())
            session.add(comment)
        calls = [(hook, (comment,)) for hook in self.on_comment]
        calls += [(hook, (comment, parent)) for hook in self.on_reply] if parent is not None else []
        for hook, args in calls:
            try:
                hook(*args)
            except Exception:  # a listener's failure must not undo or refuse a saved comment
                log.exception("a comment hook failed for comment %s", comment.id)
        return comment

    def get(self, slug: str, comment_id: int) -> Comment | None:
        """The comment with this id on this note (deleted ones too), else None."""
        with self.db.reading() as session:
            comment = session.get(Comment, comment_id)
        return comment if comment is not None and comment.note_slug == slug else None

    def for_note(self, slug: str) -> list[Comment]:
        """Every comment of a note, deleted ones too, oldest first."""
        with self.db.reading() as session:
            return list(session.scalars(select(Comment).where(Comment.note_slug == slug).order_by(Comment.id)))

    def count(self, slug: str) -> int:
        """How many comments a note has (deleted ones not counted)."""
        with self.db.reading() as session:
            return int(session.scalar(select(func.count(Comment.id)).where(
                Comment.note_slug == slug, Comment.deleted_at.is_(None))) or 0)

    def _change(self, comment_id: int, **values: Any) -> Comment:
        with self.db.writing() as session:
            comment = session.get(Comment, comment_id)
            if comment is None:
                raise NoteNotFound(f"comment {comment_id}")
            for key, value in values.items():
                setattr(comment, key, value)
        return comment

    def edit(self, comment_id: int, body: str) -> Comment:
        return self._change(comment_id, body=body, edited=self.clock())

    def delete(self, comment_id: int, by: str) -> Comment:
        """Take a comment out: its text goes; the row stays so the thread's replies keep their place."""
        return self._change(comment_id, body="", deleted_by=by, deleted_at=self.clock())

    def set_resolved(self, comment_id: int, by: str | None) -> Comment:
        return self._change(comment_id, resolved_by=by, resolved_at=self.clock() if by else None)

    def note_moved(self, kind: str, old: str, new: str) -> None:
        """The wiki moved a note: "rename" (old name, new name), "delete" (name, trash id), "undelete" (trash
        id, name). The comments follow it; a deleted note's are parked where no note can reach them."""
        old_key = TRASH_PREFIX + old if kind == "undelete" else old
        new_key = TRASH_PREFIX + new if kind == "delete" else new
        with self.db.writing() as session:
            for comment in session.scalars(select(Comment).where(Comment.note_slug == old_key)):
                comment.note_slug = new_key


@dataclass
class CommentView:
    """One comment as a reader is shown it, with what they may do to it."""
    id: int
    author: str
    body_html: str
    body: str | None  # the Markdown source, for its author only
    created: datetime
    edited: datetime | None
    reply_to: int | None
    resolved: bool
    resolved_by: str | None
    deleted: bool
    may_edit: bool = False
    may_delete: bool = False
    may_resolve: bool = False
    may_reply: bool = False
    replies: list["CommentView"] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The API's shape of a comment (its replies included for a thread's first comment)."""
        out = {"id": self.id, "author": None if self.deleted else self.author, "body_html": self.body_html,
               "created": self.created.isoformat(), "edited": self.edited.isoformat() if self.edited else None,
               "reply_to": self.reply_to, "resolved": self.resolved, "deleted": self.deleted,
               "may_edit": self.may_edit, "may_delete": self.may_delete, "may_resolve": self.may_resolve}
        if self.body is not None:
            out["body"] = self.body
        if self.reply_to is None:
            out["replies"] = [r.as_dict() for r in self.replies]
        return out


class Comments:
    """The comments service: every operation checks the note (as this reader) and the policy."""

    def __init__(self, wiki: Wiki, store: CommentStore):
        self.wiki, self.store = wiki, store

    # --- reading -----------------------------------------------------------------------------
    def note_for(self, user: Any, slug: str) -> Note:
        """The note, if this user may read it (NoteNotFound otherwise: no comment route tells more)."""
        return self.wiki.get_note(user, slug)

    def _commentable(self, user: Any, slug: str) -> Note:
        note = self.note_for(user, slug)
        if not access.can_comment(user, note.meta, self.wiki.taxonomy):
            raise PermissionDenied(Message(N_("sign in to read and write comments")))
        return note

    def threads(self, user: Any, slug: str) -> list[CommentView]:
        """The note's comment threads as this reader sees them, oldest first; [] for the public."""
        note = self.note_for(user, slug)
        if not access.can_comment(user, note.meta, self.wiki.taxonomy):
            return []
        comments = self.store.for_note(slug)
        render = self._renderer(user, note)  # one look-up per linked note for the whole page
        views = {c.id: self._view(user, note, c, render) for c in comments}
        top: list[CommentView] = []
        for c in comments:
            if c.reply_to is None:
                top.append(views[c.id])
            elif c.reply_to in views and not c.deleted:
                views[c.reply_to].replies.append(views[c.id])
        return [t for t in top if not t.deleted or t.replies]

    def count(self, user: Any, slug: str) -> int:
        """How many comments this reader is shown on the note (0 for the public)."""
        return shown_count(self.threads(user, slug))

    def comment(self, user: Any, slug: str, comment_id: Any) -> CommentView:
        """One comment of the note as this reader sees it; NoteNotFound when there is none."""
        note = self._commentable(user, slug)
        return self._view(user, note, self._get(slug, comment_id))

    def _get(self, slug: str, comment_id: Any) -> Comment:
        try:
            cid = int(comment_id)
        except (TypeError, ValueError):
            cid = 0
        comment = self.store.get(slug, cid) if 0 < cid < 2 ** 62 else None
        if comment is None or comment.deleted:
            raise NoteNotFound(f"comment {str(comment_id)[:20]}")
        return comment

    def _renderer(self, user: Any, note: Note) -> Callable[[Comment], str]:
        """Comment bodies rendered for this reader as ``Wiki.render`` renders a note's (links to notes they
        may not open masked, in the note's language); the Markdown and sanitising cached per comment text."""
        titles: dict[str, str | None] = {}

        def resolve(slug: str) -> str | None:
            if slug not in titles:
                titles[slug] = self.wiki.title_if_readable(user, slug)
            return titles[slug]

        missing = self.wiki.missing_link_text(note.meta.language)
        return lambda c: self.wiki.renderer.render(c.body, resolve, cache_key=f"comment:{c.id}", missing=missing).html

    def _view(self, user: Any, note: Note, c: Comment, render: Callable[[Comment], str] | None = None) -> CommentView:
        tax, mine = self.wiki.taxonomy, getattr(user, "username", None) == c.author
        html = "" if c.deleted else (render or self._renderer(user, note))(c)
        alive = not c.deleted
        return CommentView(
            id=c.id, author=c.author, body_html=html, body=c.body if mine and alive else None, created=c.created,
            edited=c.edited, reply_to=c.reply_to, resolved=c.resolved, resolved_by=c.resolved_by,
            deleted=c.deleted,
            may_edit=alive and access.can_edit_comment(user, c.author, c.created, self.store.clock()),
            may_delete=alive and access.can_delete_comment(user, c.author, note.meta, tax),
            may_resolve=alive and c.reply_to is None and access.can_resolve_comment(user, c.author, note.meta, tax),
            may_reply=alive and c.reply_to is None)

    # --- writing -----------------------------------------------------------------------------
    def _body(self, body: Any) -> str:
        if not isinstance(body, str):
            raise CommentError(Message(N_("the comment must be text")))
        text = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
        if not text:
            raise CommentError(Message(N_("the comment is empty: write something first")))
        if len(text) > MAX_BODY:
            raise CommentError(Message(N_("the comment is too long: at most %(n)s characters"), n=MAX_BODY))
        if len(self.wiki.renderer.render(text, lambda _slug: None).links) > MAX_LINKS:
            raise CommentError(Message(N_("the comment links to too many notes: at most %(n)s"), n=MAX_LINKS))
        return text

    @staticmethod
    def _reply_to(value: Any) -> int | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise CommentError(Message(N_("reply_to must be the number of a comment")))
        try:
            number = int(value)
        except ValueError:
            raise CommentError(Message(N_("reply_to must be the number of a comment"))) from None
        if not 0 < number < 2 ** 62:
            raise CommentError(Message(N_("there is no comment %(id)s on this note to reply to"), id=number))
        return number

    def add(self, user: Any, slug: str, body: Any, reply_to: Any = None) -> tuple[CommentView, list[dict]]:
        """Post a comment (or a reply); returns it with the likely personal data found in it (a warning)."""
        note = self._commentable(user, slug)
        text, parent = self._body(body), self._reply_to(reply_to)
        comment = self.store.add(slug, user.username, text, parent)
        return self._view(user, note, comment), personal_data(text)

    def edit(self, user: Any, slug: str, comment_id: Any, body: Any) -> tuple[CommentView, list[dict]]:
        """Change one's own comment, within the edit window after writing it."""
        note = self._commentable(user, slug)
        comment = self._get(slug, comment_id)
        if not access.can_edit_comment(user, comment.author, comment.created, self.store.clock()):
            raise PermissionDenied(Message(N_("a comment can be changed by its writer only, for %(n)s minutes "
                                              "after writing it"), n=access.COMMENT_EDIT_MINUTES))
        text = self._body(body)
        return self._view(user, note, self.store.edit(comment.id, text)), personal_data(text)

    def delete(self, user: Any, slug: str, comment_id: Any) -> Comment:
        """Delete a comment (its writer, the note's focal points, admins); returns it as it was."""
        note = self._commentable(user, slug)
        comment = self._get(slug, comment_id)
        if not access.can_delete_comment(user, comment.author, note.meta, self.wiki.taxonomy):
            raise PermissionDenied(Message(N_("you may not delete this comment")))
        self.store.delete(comment.id, user.username)
        return comment

    def resolve(self, user: Any, slug: str, comment_id: Any, resolved: bool = True) -> CommentView:
        """Mark a thread resolved, or open again (its writer, the note's focal points, admins)."""
        note = self._commentable(user, slug)
        comment = self._get(slug, comment_id)
        if comment.reply_to is not None:
            raise CommentError(Message(N_("only the comment that starts a thread is marked resolved")))
        if not access.can_resolve_comment(user, comment.author, note.meta, self.wiki.taxonomy):
            raise PermissionDenied(Message(N_("you may not mark this comment resolved")))
        return self._view(user, note, self.store.set_resolved(comment.id, user.username if resolved else None))


def shown_count(threads: list[CommentView]) -> int:
    """How many comments these threads show (a deleted thread start kept for its replies not counted)."""
    return sum(1 + len(t.replies) - t.deleted for t in threads)


def personal_data(text: str) -> list[dict]:
    """Likely personal data in a comment, as the API shows it (kind, line, column, text, message)."""
    return [{"kind": f.kind, "line": f.line, "column": f.column, "text": f.text, "message": f.message}
            for f in pdscan.scan(text)]
