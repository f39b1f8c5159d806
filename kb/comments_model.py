"""The comments table, in the accounts database (SQLAlchemy, no Flask), on the accounts' declarative Base so
that the migrations (kb/migrations, revision 0002) make it.

A comment belongs to a note by the note's name (``note_slug``): the service moves the comments when a note is
renamed, and parks them under ``trash:<trash id>`` when it is deleted (back again on undelete), so a new note
that takes a deleted note's name never shows its comments. Replies go one level deep (``reply_to`` names a
comment that starts a thread). A deleted comment that has replies keeps its row, with the text gone.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .accounts_model import Base, UTCDateTime, now_utc

TRASH_PREFIX = "trash:"  # note_slug of the comments of a deleted note: "trash:" + its trash id


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_note_slug_id", "note_slug", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_slug: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(40))  # a username, like the audit log's actor
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source; emptied when deleted
    reply_to: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), nullable=True, index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    edited: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    def __repr__(self) -> str:
        return f"<Comment {self.id} on {self.note_slug!r} by {self.author!r}>"
