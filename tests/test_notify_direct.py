"""Told without subscribing: a comment's writer hears of replies; the reviewers of a note hear when its
review falls due, once per due date, and never of a note they may not read."""
from __future__ import annotations

import datetime as dt

import pytest

from .test_notify import BASE, Inbox, env, mail_app, send, smtp  # noqa: F401 (fixtures)

NOTE = "reintegration-counselling-returnees-mali"  # public, published, Mali; updated 2026-04-30, never reviewed
TITLE = "Reintegration counselling for returnees in Bamako and Kayes"


@pytest.fixture
def app(mail_app):
    return mail_app  # with the daily review reminders on


def items_of(app, name):
    users, notifier = app.extensions["kb.users"], app.extensions["kb.notify"]
    return notifier.items(users.by_username(name))


def test_a_reply_tells_the_comments_writer_and_no_one_else(app, as_user):
    users, comments = app.extensions["kb.users"], app.extensions["kb.comments"]
    pat, moussa = users.by_username("pat"), users.by_username("moussa")
    question, _ = comments.add(pat, NOTE, "Did the counselling work in Gao too?")
    comments.add(pat, NOTE, "Adding: we have three returnees waiting.", reply_to=question.id)
    assert [i for i in items_of(app, "pat") if i.kind == "reply"] == []  # their own reply: nothing
    comments.add(moussa, NOTE, "Yes, with a local counsellor.", reply_to=question.id)
    [told] = [i for i in items_of(app, "pat") if i.kind == "reply"]
    assert told.slug == NOTE and told.title == TITLE and told.params.get("name") == "moussa"
    assert not [i for i in items_of(app, "moussa") if i.kind == "reply"]
    [thread] = [i for i in items_of(app, "moussa") if i.kind == "comment"]  # Mali is moussa's: a new thread
    assert thread.slug == NOTE and thread.params.get("name") == "pat"
    assert not [i for i in items_of(app, "amina") if i.kind == "comment"]  # not amina's region
    page = as_user("pat").get("/notifications").get_data(as_text=True)
    assert "moussa replied to your comment on" in page and TITLE in page and f"/notes/{NOTE}" in page


def test_reviewers_hear_of_an_overdue_note_once_and_only_for_their_regions(app, env, smtp):
    result = send()
    assert result.exit_code == 0, result.output
    [mail] = smtp.to("moussa@example.test")  # focal point of the Sahel, Mali included
    text = Inbox.text(mail)
    assert TITLE in text and f"{BASE}/notes/{NOTE}" in text and "Review overdue since" in text
    for other in ("amina@example.test", "layla@example.test", "pat@example.test"):
        assert TITLE not in " ".join(Inbox.text(m) for m in smtp.to(other))  # not their regions
    assert [i for i in items_of(app, "moussa") if i.kind == "review_due" and i.slug == NOTE]
    again = send()  # the same day, and the day after: the same due date is not told twice
    assert again.exit_code == 0 and again.output.startswith("0 sent")
    from kb.notify.reminders import remind_reviewers
    assert remind_reviewers(app.extensions["kb.notify"], dt.date.today() + dt.timedelta(days=1)) == 0


def test_a_note_marked_still_accurate_is_not_told_again(app, env, smtp):
    users, wiki = app.extensions["kb.users"], app.extensions["kb.wiki"]
    wiki.mark_reviewed(users.by_username("moussa"), NOTE)
    assert send().exit_code == 0
    assert all(TITLE not in Inbox.text(m) for m in smtp.to("moussa@example.test"))
