"""Notifications: the one door for the web and the command line (no Flask).

Readers follow a region, a country, a topic or one note, each immediate, daily or weekly; focal points hear of
notes waiting for their review without following anything; other parts of kb tell a reader something with
``notify()``. Events come from the audit log (``events``); items are shown in kb and sent by e-mail
(``delivery``, ``mail``, ``smtp``); whichever way, only notes the reader may read at that moment are named.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from ..accounts_model import User, now_utc
from ..errors import N_, KbError, Message, NoteNotFound
from ..taxonomy import LANGUAGES
from . import mail
from .delivery import SendReport, Sender
from .events import Collector, due_at, encode_params, mail_frequency
from .reminders import remind_reviewers
from .smtp import SmtpTransport
from .tables import FREQUENCIES, KINDS, Notification, NotifyPrefs, Subscription

__all__ = ["Notifier", "NotifyError", "FREQUENCIES", "KINDS", "DIRECT_CHOICES", "COUNT_CAP", "SendReport", "Shown"]

DIRECT_CHOICES = (*FREQUENCIES, "none")
MAX_SUBSCRIPTIONS = 200
COUNT_CAP = 20  # the header says "20+" beyond: each note counted is read to ask the policy


class NotifyError(KbError, ValueError):
    """A subscription or preference that cannot be: the message says why, in one line."""


@dataclass(frozen=True)
class Shown:
    """One notification as a reader sees it: about a note they may read now."""
    id: int
    kind: str
    text_key: str
    params: dict
    slug: str
    title: str
    created: datetime
    read: bool


class Notifier:
    def __init__(self, users: Any, wiki: Any, secret_key: str, base_url: str = ""):
        self.users, self.wiki, self.db = users, wiki, users.db
        self.secret_key, self.base_url = secret_key, (base_url or "").rstrip("/")
        sqlite = self.db.engine.url.get_backend_name() == "sqlite"  # SQLite commits in id order
        self.collector = Collector(self.db, wiki, timedelta(0) if sqlite else timedelta(seconds=5))

    def start(self) -> None:
        """Set the cursor at the audit log's end, the first time (the tables come with the migrations)."""
        self.collector.start()

    # --- subscriptions ------------------------------------------------------------------------------------
    def _canonical(self, user: Any, kind: str, value: Any) -> str:
        """The value as stored: a place's or topic's name in the taxonomy, a readable note's name."""
        tax = self.wiki.taxonomy
        value = str(value or "").strip()[:200]
        if kind in ("region", "country"):
            name = tax.canonical_place(value) or (tax.by_slug(value).name if tax.by_slug(value) else None)
            if name is None or tax.places[name].kind != kind:
                msgid = N_("unknown region %(name)s") if kind == "region" else N_("unknown country %(name)s")
                raise NotifyError(Message(msgid, name=repr(value[:80])))
            return name
        if kind == "topic":
            if value not in tax.topics:
                raise NotifyError(Message(N_("unknown topic %(name)s"), name=repr(value[:80])))
            return value
        if kind == "note":
            return self.wiki.get_note(user, value).slug  # NoteNotFound: as for a note that does not exist
        raise NotifyError(Message(N_("unknown kind %(name)s: choose one of %(choices)s"),
                                  name=repr(str(kind)[:20]), choices=", ".join(KINDS)))

    @staticmethod
    def _frequency(frequency: Any) -> str:
        if frequency not in FREQUENCIES:
            raise NotifyError(Message(N_("unknown frequency %(name)s: choose one of %(choices)s"),
                                      name=repr(str(frequency)[:20]), choices=", ".join(FREQUENCIES)))
        return frequency

    def subscribe(self, user: Any, kind: str, value: Any, frequency: str) -> Subscription:
        """Follow something (or change how often); NoteNotFound for a note this reader may not read."""
        frequency = self._frequency(frequency)
        value = self._canonical(user, kind, value)
        with self.db.writing() as session:
            sub = session.scalars(select(Subscription).where(
                Subscription.user_id == user.id, Subscription.kind == kind, Subscription.value == value)).first()
            if sub is None:
                count = len(session.scalars(select(Subscription.id).where(Subscription.user_id == user.id)).all())
                if count >= MAX_SUBSCRIPTIONS:
                    raise NotifyError(Message(N_("you follow %(n)s things already, the most kb keeps"),
                                              n=MAX_SUBSCRIPTIONS))
                sub = Subscription(user_id=user.id, kind=kind, value=value, frequency=frequency, created=now_utc())
                session.add(sub)
            sub.frequency = frequency
        return sub

    def unsubscribe(self, user: Any, kind: str, value: Any) -> bool:
        """Stop following; False when the reader did not follow it (or may not read that note)."""
        try:
            value = self._canonical(user, kind, value)
        except NoteNotFound:
            return False
        with self.db.writing() as session:
            done = session.execute(delete(Subscription).where(
                Subscription.user_id == user.id, Subscription.kind == kind, Subscription.value == value))
            return done.rowcount > 0

    def subscriptions(self, user: Any) -> list[Subscription]:
        """What the reader follows; a note they may no longer read is left out (it still exists for them
        only if they may read it)."""
        with self.db.reading() as session:
            subs = list(session.scalars(select(Subscription).where(Subscription.user_id == user.id)
                                        .order_by(Subscription.kind, Subscription.value)))
        return [s for s in subs if s.kind != "note" or self.readable(user, s.value) is not None]

    def following(self, user: Any, kind: str, value: str) -> Subscription | None:
        if not getattr(user, "is_authenticated", False):
            return None
        with self.db.reading() as session:
            return session.scalars(select(Subscription).where(
                Subscription.user_id == user.id, Subscription.kind == kind, Subscription.value == value)).first()

    # --- preferences --------------------------------------------------------------------------------------
    def prefs(self, user_id: int) -> NotifyPrefs:
        with self.db.reading() as session:
            prefs = session.get(NotifyPrefs, user_id)
        return prefs or NotifyPrefs(user_id=user_id, lang=None, direct="immediate")

    def language_of(self, user_id: int) -> str:
        return self.prefs(user_id).lang or "en"

    def set_prefs(self, user_id: int, *, lang: str | None = None, direct: str | None = None) -> NotifyPrefs:
        """The e-mails' language, and how often the reader hears of what is addressed to them."""
        if lang is not None and lang not in LANGUAGES:
            raise NotifyError(Message(N_("unknown language %(name)s"), name=repr(str(lang)[:20])))
        if direct is not None and direct not in DIRECT_CHOICES:
            raise NotifyError(Message(N_("unknown frequency %(name)s: choose one of %(choices)s"),
                                      name=repr(str(direct)[:20]), choices=", ".join(DIRECT_CHOICES)))
        with self.db.writing() as session:
            prefs = session.get(NotifyPrefs, user_id, with_for_update=True)
            if prefs is None:
                prefs = NotifyPrefs(user_id=user_id, lang=None, direct="immediate")
                session.add(prefs)
            if lang is not None:
                prefs.lang = lang
            if direct is not None:
                prefs.direct = direct
        return prefs

    # --- telling a reader ---------------------------------------------------------------------------------
    def notify(self, recipient: str, kind: str, slug: str, text_key: str, params: dict | None = None,
               frequency: str | None = None) -> bool:
        """Tell one reader (by username) something about a note: ``text_key`` is an N_() message id whose
        ``%(title)s`` is the note's title, filled in only when shown to a reader who may read the note then;
        ``params`` (short values, never a note's text) fill its other placeholders. By e-mail at the reader's
        frequency for what is addressed to them, unless ``frequency`` is given. False: no such active reader."""
        user = self.users.by_username(recipient)
        if user is None or not user.active:
            return False
        wanted = frequency if frequency in FREQUENCIES else self.prefs(user.id).direct
        now = now_utc()
        mailed = mail_frequency(user, wanted)
        with self.db.writing() as session:
            session.add(Notification(user_id=user.id, kind=str(kind)[:30], slug=str(slug)[:200],
                                     text_key=str(text_key)[:300], params=encode_params(params), created=now,
                                     frequency=mailed, due_at=due_at(mailed, now)))
        return True

    def collect(self, now: datetime | None = None) -> int:
        """Turn the audit log's new note changes into notifications; how many were added."""
        return self.collector.collect(now)

    # --- in kb --------------------------------------------------------------------------------------------
    def readable(self, user: Any, slug: str) -> tuple[str, str] | None:
        """(name, title) of the note if this reader may read it now (after a rename too), else None."""
        try:
            note = self.wiki.get_note(user, slug)
        except KbError:
            target = self.wiki.redirect_target(user, slug) if isinstance(slug, str) else None
            if not target:
                return None
            try:
                note = self.wiki.get_note(user, target)
            except KbError:
                return None
        return note.slug, note.meta.title

    def _refresh(self) -> None:
        if self.collector.pending():
            self.collect()

    def items(self, user: Any, limit: int = 100) -> list[Shown]:
        """The reader's notifications, newest first, about notes they may read now."""
        self._refresh()
        with self.db.reading() as session:
            rows = list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                        .order_by(Notification.id.desc()).limit(max(1, min(int(limit), 500)))))
        out = []
        for row in rows:
            shown = self.readable(user, row.slug)
            if shown is None:
                continue
            try:
                params = json.loads(row.params or "{}")
            except ValueError:
                params = {}
            out.append(Shown(row.id, row.kind, row.text_key, params if isinstance(params, dict) else {},
                             shown[0], shown[1], row.created, row.read_at is not None))
        return out

    def unread_count(self, user: Any) -> int:
        """Unread notifications about notes the reader may read now (at most COUNT_CAP + 1 are looked at)."""
        if not getattr(user, "is_authenticated", False):
            return 0
        self._refresh()
        with self.db.reading() as session:
            slugs = list(session.scalars(select(Notification.slug).where(
                Notification.user_id == user.id, Notification.read_at.is_(None))
                .order_by(Notification.id.desc()).limit(COUNT_CAP + 1)))
        seen: dict[str, bool] = {}
        for slug in slugs:
            if slug not in seen:
                seen[slug] = self.readable(user, slug) is not None
        return sum(1 for slug in slugs if seen[slug])

    def mark_read(self, user: Any, ids: list[int] | None = None) -> int:
        """Mark these notifications of the reader read (all of them when ids is None)."""
        query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        if ids is not None:
            query = query.where(Notification.id.in_([int(i) for i in ids][:500]))
        with self.db.writing() as session:
            return session.execute(query.values(read_at=now_utc())).rowcount

    # --- by e-mail ----------------------------------------------------------------------------------------
    def unsubscribe_url(self, user_id: int, frequency: str) -> str:
        return f"{self.base_url}/unsubscribe/{mail.unsubscribe_token(self.secret_key, user_id, frequency)}"

    def unsubscribe_link_target(self, token: str) -> tuple[User, str] | None:
        """(reader, frequency) of a signed unsubscribe link; None when kb did not sign it."""
        found = mail.read_unsubscribe_token(self.secret_key, token)
        if found is None or found[1] not in FREQUENCIES:
            return None
        user = self.users.get(found[0])
        return (user, found[1]) if user is not None else None

    def unsubscribe_by_link(self, token: str) -> tuple[User, str, int] | None:
        """Stop the e-mails of a link's frequency: its subscriptions end, what is addressed to the reader stays
        in kb only if it came at that frequency, and items not mailed yet stay in kb only."""
        target = self.unsubscribe_link_target(token)
        if target is None:
            return None
        user, frequency = target
        with self.db.writing() as session:
            gone = session.execute(delete(Subscription).where(Subscription.user_id == user.id,
                                                              Subscription.frequency == frequency)).rowcount
            prefs = session.get(NotifyPrefs, user.id, with_for_update=True)
            if prefs is None:
                prefs = NotifyPrefs(user_id=user.id, lang=None, direct="immediate")
                session.add(prefs)
            if prefs.direct == frequency:
                prefs.direct = "none"
            session.execute(update(Notification).where(
                Notification.user_id == user.id, Notification.frequency == frequency,
                Notification.delivery_id.is_(None)).values(frequency=None, due_at=None))
        return user, frequency, gone

    def send(self, smtp_url: str, mail_from: str, now: datetime | None = None, transport: Any = None) -> SendReport:
        """Collect, then send every e-mail that is due (see ``delivery``)."""
        if not self.base_url:
            raise NotifyError("KB_BASE_URL is not set: e-mails need the site's address for their links.")
        if not mail_from or "@" not in mail_from:
            raise NotifyError("KB_MAIL_FROM is not set: give the sender's address, e.g. kb@example.org.")
        transport = transport or SmtpTransport(smtp_url)
        remind_reviewers(self, now.date() if now else None)  # once a day: reviews falling due
        self.collect(now)
        return Sender(self, transport, mail_from, now).run()

