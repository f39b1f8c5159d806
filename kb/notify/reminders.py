"""What tells readers without their subscribing, beyond the audit log's news: a reply to their comment, and
the notes they review falling due, and a new comment on them. Both go through ``Notifier.notify``, so the policy is asked again when an
item is shown or mailed, and only a note's title and link ever leave kb. No Flask."""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import N_
from .events import encode_params
from .tables import Notification, NotifyState

if TYPE_CHECKING:
    from . import Notifier

log = logging.getLogger(__name__)
REPLY = N_("%(name)s replied to your comment on: %(title)s")
COMMENTED = N_("%(name)s commented on: %(title)s")
DUE = N_("Review due by %(day)s: %(title)s")
OVERDUE = N_("Review overdue since %(day)s: %(title)s")
REMINDED_ON = "reviews_reminded_on"  # notify_state: the day (ordinal) reminders were last made


def reply_hook(notifier: "Notifier") -> Callable[[Any, Any], None]:
    """For CommentStore.on_reply: the writer of a comment hears of each reply by someone else."""
    def on_reply(reply: Any, parent: Any) -> None:
        if parent.author != reply.author:
            notifier.notify(parent.author, "reply", reply.note_slug, REPLY, {"name": reply.author})
    return on_reply


def comment_hook(notifier: "Notifier") -> Callable[[Any], None]:
    """For CommentStore.on_comment: a new thread under a note reaches those who look after its reviews (its
    named reviewers, else the focal points of its regions), its writer excepted."""
    def on_comment(comment: Any) -> None:
        if comment.reply_to is not None:
            return
        accounts = [u for u in notifier.users.list() if u.active]
        for name in notifier.wiki.reviewers_of(comment.note_slug, accounts):
            if name != comment.author:
                notifier.notify(name, "comment", comment.note_slug, COMMENTED, {"name": comment.author})
    return on_comment


def remind_reviewers(notifier: "Notifier", day: dt.date | None = None) -> int:
    """Once a day: each reviewer of a published note overdue or due within 30 days hears of it, once per note
    and due date (a note reviewed again falls due on another day, and is told again then). How many items."""
    day = day or dt.datetime.now(dt.timezone.utc).date()
    try:
        with notifier.db.writing() as session:
            state = session.get(NotifyState, REMINDED_ON, with_for_update=True)
            if state is not None and state.value >= day.toordinal():
                return 0  # another process or an earlier run made today's
            if state is None:
                session.add(NotifyState(name=REMINDED_ON, value=day.toordinal()))
            else:
                state.value = day.toordinal()
    except IntegrityError:
        return 0  # another process took today's first, at the same moment
    accounts = [u for u in notifier.users.list() if u.active]
    made = 0
    for due in notifier.wiki.reviews_due(accounts=accounts, day=day):
        params = {"day": due.review_due.isoformat()}
        key = OVERDUE if due.overdue else DUE
        for name in due.reviewers:
            if not _told(notifier, name, due.slug, params) and notifier.notify(name, "review_due", due.slug, key,
                                                                                params):
                made += 1
    return made


def _told(notifier: "Notifier", username: str, slug: str, params: dict) -> bool:
    user = notifier.users.by_username(username)
    if user is None:
        return True  # no such reader: nobody to tell
    with notifier.db.reading() as session:
        return session.scalar(select(Notification.id).where(
            Notification.user_id == user.id, Notification.kind == "review_due", Notification.slug == slug,
            Notification.params == encode_params(params)).limit(1)) is not None
