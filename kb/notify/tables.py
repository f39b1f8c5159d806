"""The notification tables, in the accounts database (SQLAlchemy, no Flask).

``subscriptions``: what a reader follows (a region, a country, a topic or one note) and how often they hear of
it. ``notify_prefs``: a reader's language for e-mails and how often they hear of what is addressed to them.
``notifications``: one item a reader is told of (in kb, and by e-mail when its frequency says so).
``notify_deliveries``: one e-mail, claimed before it is sent and marked sent right after the SMTP server took
it, so a run killed midway never sends an item twice. ``notify_state``: the audit-log cursor.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..accounts_model import Base, UTCDateTime, now_utc

FREQUENCIES = ("immediate", "daily", "weekly")
KINDS = ("region", "country", "topic", "note")


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value", name="uq_subscription"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # KINDS
    value: Mapped[str] = mapped_column(String(200))  # a place's name, a topic's key, a note's slug
    frequency: Mapped[str] = mapped_column(String(10))  # FREQUENCIES
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class NotifyPrefs(Base):
    __tablename__ = "notify_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    lang: Mapped[str | None] = mapped_column(String(5), nullable=True)  # e-mails' language; None: English
    direct: Mapped[str] = mapped_column(String(10), default="immediate")  # FREQUENCIES or "none" (kb only)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),
                      Index("ix_notifications_mail", "delivery_id", "frequency", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # "subscription", "review_waiting", or a caller's kind
    slug: Mapped[str] = mapped_column(String(200))
    text_key: Mapped[str] = mapped_column(String(300))  # an N_() message id; %(title)s is filled when shown
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON; never a note's text
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the audit entry it came from
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    frequency: Mapped[str | None] = mapped_column(String(10), nullable=True)  # None: in kb only, no e-mail
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # when its e-mail may go
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("notify_deliveries.id"), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Delivery(Base):
    __tablename__ = "notify_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    frequency: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), index=True)  # claimed, sent, failed, empty, abandoned
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(String(300), default="")


class NotifyState(Base):
    __tablename__ = "notify_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
