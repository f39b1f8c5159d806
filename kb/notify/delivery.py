"""Sending what is due, each item at most once, even when a run is killed midway.

Per e-mail: claim (a delivery row, and the items marked as its own, committed) -> ask the policy again which
of its notes the reader may read now -> hand it to the SMTP server -> mark it sent, committed at once. A run
killed between the claim and that mark leaves the delivery "claimed": it is never sent again (the server may
have taken it), and the next run reports it. A delivery the server refused, or that could not be handed over,
is "failed" and tried again on the next run (up to MAX_ATTEMPTS). No Flask.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ..accounts_model import User, now_utc
from ..auditlog import clip
from . import mail
from .smtp import Refused, SendFailure
from .tables import Delivery, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
STALE_CLAIM = timedelta(minutes=15)  # a claim this old belongs to a run that stopped


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    empty: int = 0  # every note in it was hidden from its reader by now: nothing was sent
    interrupted: list[int] = field(default_factory=list)  # deliveries an earlier run stopped in the middle of
    errors: list[str] = field(default_factory=list)


class Sender:
    """One run of ``kb notify send``."""

    def __init__(self, notifier, transport, mail_from: str, now: datetime | None = None):
        self.n, self.transport, self.mail_from = notifier, transport, mail_from
        self.now = now or now_utc()
        self.db = notifier.db
        self.report = SendReport()

    def run(self) -> SendReport:
        self._mark_interrupted()
        try:
            for delivery_id in self._failed():  # first those a server refused, or could not take, before
                if self._claim_again(delivery_id) and not self._deliver(delivery_id):
                    return self.report  # the server cannot be reached: the rest waits for the next run
            for user_id, frequency in self._due_groups():
                delivery_id = self._claim(user_id, frequency)
                if delivery_id is not None and not self._deliver(delivery_id):
                    return self.report  # what is not claimed yet waits for the next run, unclaimed
        finally:
            self.transport.close()
        return self.report

    # --- claims ----------------------------------------------------------------------------------------
    def _mark_interrupted(self) -> None:
        with self.db.writing() as session:
            stale = list(session.scalars(select(Delivery).where(
                Delivery.status == "claimed", Delivery.claimed_at < self.now - STALE_CLAIM)))
            for d in stale:
                d.status = "interrupted"
                self.report.interrupted.append(d.id)

    def _failed(self) -> list[int]:
        with self.db.reading() as session:
            return list(session.scalars(select(Delivery.id).where(Delivery.status == "failed")
                                        .order_by(Delivery.id)))

    def _claim_again(self, delivery_id: int) -> bool:
        with self.db.writing() as session:
            done = session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "failed")
                                   .values(status="claimed", claimed_at=self.now))
            return done.rowcount == 1  # another run took it first otherwise

    def _due_groups(self) -> list[tuple[int, str]]:
        with self.db.reading() as session:
            rows = session.execute(
                select(Notification.user_id, Notification.frequency).join(User, User.id == Notification.user_id)
                .where(Notification.delivery_id.is_(None), Notification.frequency.is_not(None),
                       Notification.due_at <= self.now, User.active.is_(True), User.email.is_not(None))
                .group_by(Notification.user_id, Notification.frequency)
                .order_by(Notification.user_id, Notification.frequency))
            return [(u, f) for u, f in rows]

    def _claim(self, user_id: int, frequency: str) -> int | None:
        """A delivery holding every due item of this reader and frequency, committed before anything is sent."""
        with self.db.writing() as session:
            delivery = Delivery(user_id=user_id, frequency=frequency, status="claimed", attempts=0,
                                claimed_at=self.now)
            session.add(delivery)
            session.flush()
            taken = session.execute(update(Notification).where(
                Notification.user_id == user_id, Notification.frequency == frequency,
                Notification.delivery_id.is_(None), Notification.due_at <= self.now).values(delivery_id=delivery.id))
            if taken.rowcount == 0:  # another run claimed them in between
                session.execute(delete(Delivery).where(Delivery.id == delivery.id))
                return None
            return delivery.id

    # --- one e-mail ----------------------------------------------------------------------------------------
    def _deliver(self, delivery_id: int) -> bool:
        """Send one claimed delivery; False when the server could not be reached (the run stops there)."""
        with self.db.reading() as session:
            delivery = session.get(Delivery, delivery_id)
            user = session.get(User, delivery.user_id)
            items = list(session.scalars(select(Notification).where(Notification.delivery_id == delivery_id)
                                         .order_by(Notification.id)))
        lines = self._lines(user, items) if user is not None and user.active and user.email else []
        if not lines:
            self._finish(delivery_id, "empty")
            self.report.empty += 1
            return True
        lang = self.n.language_of(user.id)
        message = mail.digest(lines=lines, lang=lang, frequency=delivery.frequency, to=user.email,
                              mail_from=self.mail_from, base_url=self.n.base_url,
                              unsubscribe_url=self.n.unsubscribe_url(user.id, delivery.frequency),
                              delivery_id=delivery_id)
        try:
            self.transport.send(message)
        except SendFailure as exc:
            reason = clip(" ".join(str(exc).split()) or exc.__class__.__name__, 300)
            self._finish(delivery_id, "failed", reason, attempt=True)
            self.report.failed += 1
            self.report.errors.append(f"{user.username}: {reason}")
            log.warning("notification e-mail %s to %s not sent: %s", delivery_id, user.username, reason)
            return isinstance(exc, Refused)
        self._finish(delivery_id, "sent", attempt=True)  # committed right after the server took it
        self.report.sent += 1
        return True

    def _lines(self, user: User, items: list[Notification]) -> list[mail.Line]:
        """The items whose note this reader may read now (the policy is asked again at sending)."""
        lines = []
        for item in items:
            shown = self.n.readable(user, item.slug)
            if shown is None:
                continue
            slug, title = shown
            try:
                params = json.loads(item.params or "{}")
            except ValueError:
                params = {}
            lines.append(mail.Line(item.text_key, params if isinstance(params, dict) else {}, slug, title))
        return lines

    def _finish(self, delivery_id: int, status: str, error: str = "", attempt: bool = False) -> None:
        with self.db.writing() as session:
            delivery = session.get(Delivery, delivery_id, with_for_update=True)
            delivery.attempts += 1 if attempt else 0
            if status == "failed" and delivery.attempts >= MAX_ATTEMPTS:
                status = "abandoned"
            delivery.status, delivery.error = status, error
            if status == "sent":
                delivery.sent_at = now_utc()

