"""From the audit log to notifications: every change of a note, made on the web, through the API or on the
command line, is already recorded there by the write path, so the log is the one source of events, read
in order from a cursor (the last entry id seen). No Flask."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import access
from ..accounts_model import AuditEntry, User, now_utc
from ..errors import N_, KbError
from .tables import FREQUENCIES, Notification, NotifyPrefs, NotifyState, Subscription

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CURSOR = "audit_cursor"
BATCH = 500
NEW = N_("New note: %(title)s")
UPDATED = N_("Updated note: %(title)s")
REVIEW = N_("Waiting for your review: %(title)s")
_ACTIONS = {"note_create": NEW, "note_undelete": NEW, "note_import": NEW, "note_save": UPDATED,
            "note_restore": UPDATED, "note_rename": UPDATED, "status_change": UPDATED}
_IMPORTED = re.compile(r"with errors: (.*?)(?: \.\.\.)?$")


class AllSeeing:
    """The collector's reader: it looks at any note to decide who is told; readers are asked about after."""
    is_authenticated = True
    active = True
    username = ""
    role = "admin"
    regions: list[str] = []


def due_at(frequency: str | None, created: datetime) -> datetime | None:
    """When an item's e-mail may go: at once, at the next midnight (UTC), or at the next Monday's."""
    if frequency is None:
        return None
    if frequency == "immediate":
        return created
    midnight = created.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if frequency == "daily":
        return midnight
    return midnight + timedelta(days=(7 - midnight.weekday()) % 7)


def soonest(*frequencies: str | None) -> str | None:
    found = [f for f in frequencies if f in FREQUENCIES]
    return min(found, key=FREQUENCIES.index) if found else None


def mail_frequency(user: User, wanted: str | None) -> str | None:
    """Only an active reader with an e-mail address gets e-mails; the others see their items in kb."""
    return wanted if wanted in FREQUENCIES and user.active and user.email else None


@dataclass
class Event:
    id: int
    action: str
    actor: str
    slugs: list[str]
    detail: str


def _event(entry: AuditEntry) -> Event | None:
    if entry.action not in _ACTIONS:
        return None
    slugs = [entry.target]
    if entry.action == "note_rename":
        slugs = [entry.detail.rpartition(" -> ")[2].strip()]
    elif entry.action == "note_import":
        found = _IMPORTED.search(entry.detail or "")
        slugs = [s.strip() for s in found.group(1).split(",")] if found and found.group(1) else []
    return Event(entry.id, entry.action, entry.actor or "", [s for s in slugs if s], entry.detail or "")


def _kind_of_change(event: Event, status: str) -> str | None:
    """The subscribers' message for a change, None when it is not news (a note that is not published)."""
    if status != "published":
        return None
    if event.action == "status_change":
        return NEW if event.detail.endswith("-> published") else None
    return _ACTIONS[event.action]


def _waits_for_review(event: Event, status: str) -> bool:
    if status != "review":
        return False
    return (event.action == "status_change" and event.detail.endswith("-> review")) or \
        (event.action in ("note_create", "note_import") and (event.detail.endswith("as review")
                                                              or event.action == "note_import"))


class Collector:
    """Reads the audit log past the cursor and adds the notifications its note changes call for."""

    def __init__(self, db, wiki, settle: timedelta):
        self.db, self.wiki, self.settle = db, wiki, settle

    def start(self) -> None:
        """A new installation hears of what happens from now on, not of the whole past. Safe when several
        workers start at once: one of them sets the cursor, the others find it set."""
        try:
            with self.db.writing() as session:
                if session.get(NotifyState, CURSOR) is None:
                    last = session.scalar(select(func.max(AuditEntry.id))) or 0
                    session.add(NotifyState(name=CURSOR, value=last))
        except IntegrityError:
            pass  # another worker set it between our look and our insert

    def pending(self) -> bool:
        """Cheap: is there anything past the cursor?"""
        with self.db.reading() as session:
            cursor = session.get(NotifyState, CURSOR)
            last = session.scalar(select(func.max(AuditEntry.id))) or 0
        return cursor is None or last > cursor.value

    def collect(self, now: datetime | None = None) -> int:
        """Turn new audit entries into notifications; the cursor moves in the same transaction."""
        now = now or now_utc()
        added = 0
        while True:
            with self.db.writing() as session:
                state = session.get(NotifyState, CURSOR, with_for_update=True)
                if state is None:  # never started: from now on, not the whole past
                    last = session.scalar(select(func.max(AuditEntry.id))) or 0
                    session.add(NotifyState(name=CURSOR, value=last))
                    return added
                entries = list(session.scalars(
                    select(AuditEntry).where(AuditEntry.id > state.value, AuditEntry.at <= now - self.settle)
                    .order_by(AuditEntry.id).limit(BATCH)))
                if not entries:
                    return added
                context = _Context(session, now)
                for entry in entries:
                    event = _event(entry)
                    if event is not None:
                        added += self._handle(context, event)
                state.value = entries[-1].id
            if len(entries) < BATCH:
                return added

    def _note(self, slug: str):
        try:
            return self.wiki.get_note(AllSeeing(), slug)
        except KbError:
            return None

    def _handle(self, context: "_Context", event: Event) -> int:
        added = 0
        for slug in event.slugs:
            note = self._note(slug)
            if note is None:
                continue
            if event.action == "note_rename":
                context.renamed(event.detail.partition(" -> ")[0].strip(), slug)
            facts_places = self.wiki.taxonomy.places_of(note.meta.regions)
            text = _kind_of_change(event, note.meta.status)
            for sub in context.subscriptions:
                user = context.users.get(sub.user_id)
                if user is None or user.username == event.actor or not self._follows(sub, note, facts_places):
                    continue
                if sub.kind != "note" and text is None:
                    continue
                if self.wiki.can_read(user, note):
                    added += context.add(user, "subscription", slug, text or UPDATED, event.id, sub.frequency)
            if _waits_for_review(event, note.meta.status):
                countries = self.wiki.taxonomy.countries_of(note.meta.regions)
                for user in context.users.values():
                    if user.role == "focal_point" and user.username != event.actor and \
                            access.user_countries(user, self.wiki.taxonomy) & countries:
                        added += context.add(user, "review_waiting", slug, REVIEW, event.id,
                                             context.direct(user.id))
        return added

    @staticmethod
    def _follows(sub: Subscription, note: Any, places: frozenset[str]) -> bool:
        if sub.kind in ("region", "country"):
            return sub.value in places
        if sub.kind == "topic":
            return sub.value in note.meta.topics
        return sub.value == note.slug


class _Context:
    """What one batch needs, read once: the subscriptions, the active readers, their preferences."""

    def __init__(self, session: "Session", now: datetime):
        self.session, self.now = session, now
        self.waiting: dict[str, dict[tuple[int, str], Notification]] = {}  # slug -> (user, kind) -> item
        self.users = {u.id: u for u in session.scalars(select(User).where(User.active.is_(True)))}
        self.subscriptions = list(session.scalars(select(Subscription).order_by(Subscription.id)))
        self.prefs = {p.user_id: p for p in session.scalars(select(NotifyPrefs))}

    def direct(self, user_id: int) -> str | None:
        prefs = self.prefs.get(user_id)
        return prefs.direct if prefs is not None else "immediate"

    def renamed(self, old: str, new: str) -> None:
        for sub in self.subscriptions:
            if sub.kind == "note" and sub.value == old:
                sub.value = new

    def add(self, user: User, kind: str, slug: str, text_key: str, event_id: int, frequency: str | None) -> int:
        """One item, or the reader's waiting item on the same note made to say the latest (0 then)."""
        frequency = mail_frequency(user, frequency)
        if slug not in self.waiting:  # one query per note, not one per reader
            self.waiting[slug] = {(n.user_id, n.kind): n for n in self.session.scalars(select(Notification).where(
                Notification.slug == slug, Notification.delivery_id.is_(None), Notification.read_at.is_(None)))}
        waiting = self.waiting[slug].get((user.id, kind))
        if waiting is not None:
            waiting.event_id = event_id
            if text_key == NEW:
                waiting.text_key = NEW
            better = soonest(waiting.frequency, frequency)
            if better != waiting.frequency:
                waiting.frequency, waiting.due_at = better, due_at(better, self.now)
            return 0
        item = Notification(user_id=user.id, kind=kind, slug=slug, text_key=text_key, params="{}",
                            event_id=event_id, created=self.now, frequency=frequency, due_at=due_at(frequency, self.now))
        self.session.add(item)
        self.waiting[slug][(user.id, kind)] = item
        return 1


def encode_params(params: dict | None) -> str:
    return json.dumps({str(k): v for k, v in (params or {}).items()
                       if isinstance(v, (str, int, float)) and k != "title"}, ensure_ascii=False)[:4000]
