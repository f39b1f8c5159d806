"""Notifications: following regions, countries, topics and notes; the header count and /notifications; e-mails
sent by `kb notify send` to a real SMTP server on loopback (aiosmtpd), each item at most once, also when a run
is killed midway; retries; the signed unsubscribe link; the reader's language; /api/subscriptions."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import subprocess
import sys

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from kb.cli import cli

from .conftest import ROOT, csrf_token, site_config

BASE = "http://kb.example.test"
BODY = "## Context\n\nCommittees agree referral pathways with local authorities.\n"


class Inbox:
    """An SMTP server's handler: keeps what it accepts; refuses the next `refuse` e-mails with a 451."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = 0
        self.after_accept = None

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        if self.after_accept:
            self.after_accept()
        return "250 2.0.0 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


def reminders_made_until(app, day):
    """As if the daily review reminders had been made up to ``day``."""
    from kb.notify.reminders import REMINDED_ON
    from kb.notify.tables import NotifyState
    with app.extensions["kb.notify"].db.writing() as session:
        session.merge(NotifyState(name=REMINDED_ON, value=day.toordinal()))


@pytest.fixture
def mail_app(site):
    """The app of this site, every account with an e-mail address."""
    from kb import create_app
    app = create_app({**site_config(site), "KB_BASE_URL": BASE})
    users = app.extensions["kb.users"]
    for name in ("pat", "moussa", "amina", "layla", "admin"):
        users.update(name, email=f"{name}@example.test")
    yield app
    app.extensions["kb.wiki"].close()
    users.dispose()


@pytest.fixture
def app(mail_app):
    reminders_made_until(mail_app, dt.date.max)  # these tests follow subscriptions; test_notify_direct.py, reminders
    return mail_app


@pytest.fixture
def env(site, smtp, monkeypatch):
    """The command line's settings: this site, the loopback SMTP server."""
    for key, value in {**site_config(site), "KB_BASE_URL": BASE, "KB_SMTP_URL": smtp.url,
                       "KB_MAIL_FROM": "kb@example.test"}.items():
        if key.startswith("KB_"):
            monkeypatch.setenv(key, value)
    return site


def send():
    return CliRunner().invoke(cli, ["notify", "send"], catch_exceptions=False)


def write(app, author: str, slug: str, title: str, regions=("Mali",), topics=("child-protection",),
          visibility="public", status="published"):
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    meta = wiki.new_meta({"title": title, "language": "en", "regions": list(regions), "topics": list(topics),
                          "audience": ["ngo"], "visibility": visibility, "status": status, "summary": title}, None)
    wiki.save(users.by_username(author), slug, meta, BODY, None, create=True)


def follow(app, username: str, kind: str, value: str, frequency: str = "immediate"):
    users, notifier = app.extensions["kb.users"], app.extensions["kb.notify"]
    return notifier.subscribe(users.by_username(username), kind, value, frequency)


# --- the digest ----------------------------------------------------------------------------------------------
def test_a_digest_holds_a_new_public_note_and_not_a_new_restricted_one(app, env, smtp, as_user):
    client = as_user("pat")
    token = csrf_token(client, "/account/subscriptions")
    resp = client.post("/account/subscriptions", data={"csrf_token": token, "what": "region:Sahel",
                                                       "frequency": "immediate"})
    assert resp.status_code == 302
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    write(app, "moussa", "case-conference-gao", "Case conference notes from Gao", visibility="restricted")
    write(app, "amina", "tunis-shelters", "Shelters in Tunis", regions=("Tunisia",))  # not in the Sahel
    result = send()
    assert result.exit_code == 0, result.output
    [mail] = smtp.to("pat@example.test")
    text = Inbox.text(mail)
    assert "Well water committees in Gao" in text and f"{BASE}/notes/well-water-committees" in text
    assert "Case conference" not in text and "case-conference-gao" not in text
    assert "Tunis" not in text
    assert mail["List-Unsubscribe"].startswith(f"<{BASE}/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "kb" in mail["Subject"] and mail["From"] == "kb@example.test"


def test_send_twice_sends_once(app, env, smtp):
    follow(app, "pat", "topic", "mhpss")
    write(app, "moussa", "listening-circles", "Listening circles", topics=("mhpss",))
    assert send().exit_code == 0
    again = send()
    assert again.exit_code == 0 and again.output.startswith("0 sent")
    assert len(smtp.to("pat@example.test")) == 1


def test_a_run_killed_after_the_first_of_three_mails_sends_the_other_two_only(app, env, smtp):
    for name in ("pat", "amina", "layla"):
        follow(app, name, "topic", "mhpss")
    write(app, "moussa", "listening-circles", "Listening circles", topics=("mhpss",))
    command = [sys.executable, "-m", "kb", "notify", "send"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def kill():  # the server took the first e-mail; the process dies before it can go on
        run.kill()
        run.wait()
    smtp.after_accept = kill
    run.communicate(timeout=120)
    assert run.returncode != 0 and len(smtp.messages) == 1
    first = smtp.messages[0]["To"]
    smtp.after_accept = None
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "2 sent" in again.stdout
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == sorted(f"{n}@example.test" for n in ("pat", "amina", "layla"))
    assert first in recipients
    assert subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120).stdout.startswith("0 sent")


def test_a_refused_delivery_is_tried_again_on_the_next_run(app, env, smtp):
    follow(app, "pat", "country", "Mali")
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    smtp.refuse = 1
    first = send()
    assert first.exit_code == 1 and "tried again on the next run" in first.output and not smtp.messages
    second = send()
    assert second.exit_code == 0 and second.output.startswith("1 sent")
    assert "Well water committees in Gao" in Inbox.text(smtp.to("pat@example.test")[0])
    assert send().output.startswith("0 sent") and len(smtp.messages) == 1


def test_a_daily_digest_goes_once_the_day_is_over_with_every_item_of_the_day(app, smtp):
    from datetime import datetime, timedelta, timezone
    follow(app, "pat", "region", "Sahel", "daily")
    follow(app, "amina", "topic", "mhpss", "weekly")
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    write(app, "moussa", "listening-circles", "Listening circles in Niamey", regions=("Niger",), topics=("mhpss",))
    notifier = app.extensions["kb.notify"]
    wednesday = datetime(2030, 1, 2, 10, 0, tzinfo=timezone.utc)  # the items' time (later than the changes)
    notifier.collect(now=wednesday)
    assert notifier.send(smtp.url, "kb@example.test", now=wednesday + timedelta(hours=13)).sent == 0
    assert notifier.send(smtp.url, "kb@example.test", now=datetime(2030, 1, 3, 0, 0, 1, tzinfo=timezone.utc)).sent == 1
    [daily] = smtp.to("pat@example.test")
    assert "daily digest: 2 notifications" in daily["Subject"]
    assert "Well water committees" in Inbox.text(daily) and "Listening circles" in Inbox.text(daily)
    assert notifier.send(smtp.url, "kb@example.test", now=datetime(2030, 1, 6, 23, 0, tzinfo=timezone.utc)).sent == 0
    assert notifier.send(smtp.url, "kb@example.test", now=datetime(2030, 1, 7, 0, 0, 1, tzinfo=timezone.utc)).sent == 1
    [weekly] = smtp.to("amina@example.test")
    assert "weekly digest: 1 notification" in weekly["Subject"] and "Well water" not in Inbox.text(weekly)


def test_a_note_hidden_before_sending_is_not_named(app, env, smtp):
    follow(app, "pat", "region", "Sahel")
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    app.extensions["kb.notify"].collect()
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    note = wiki.get_note_and_revision(users.by_username("moussa"), "well-water-committees")
    wiki.save(users.by_username("moussa"), note.slug, note.meta.copy(visibility="restricted"), note.body,
              note.revision)
    result = send()
    assert result.exit_code == 0 and "1 with nothing left to show" in result.output
    assert smtp.messages == []


def test_mail_in_french_for_a_reader_who_reads_kb_in_french(app, env, smtp, as_user):
    client = as_user("pat")
    client.get("/lang/fr")
    follow(app, "pat", "region", "Sahel")
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    assert send().exit_code == 0
    [mail] = smtp.to("pat@example.test")
    assert mail["Content-Language"] == "fr"
    assert "Nouvelle note : Well water committees in Gao" in Inbox.text(mail)
    assert "notification" in mail["Subject"] and "kb" in mail["Subject"]


def test_focal_points_hear_of_notes_waiting_for_their_review(app, env, smtp):
    write(app, "pat", "water-point-mapping", "Water point mapping in Mopti", status="review")
    assert send().exit_code == 0
    assert [m["To"] for m in smtp.messages] == ["moussa@example.test"]  # Mali is moussa's, not amina's
    assert "Water point mapping in Mopti" in Inbox.text(smtp.messages[0])


def test_the_direct_entry_point_tells_one_reader_in_kb_and_by_mail(app, env, smtp, as_user):
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    notifier = app.extensions["kb.notify"]
    assert notifier.notify("pat", "comment_reply", "well-water-committees", "Updated note: %(title)s")
    assert not notifier.notify("nobody-here", "comment_reply", "well-water-committees", "Updated note: %(title)s")
    client = as_user("pat")
    assert "Updated note: Well water committees in Gao" in client.get("/notifications").get_data(as_text=True)
    assert send().exit_code == 0
    [mail] = smtp.to("pat@example.test")
    assert "Updated note: Well water committees in Gao" in Inbox.text(mail)


def test_following_a_note_survives_its_rename(app, env, smtp):
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    follow(app, "pat", "note", "well-water-committees")
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    moussa = users.by_username("moussa")
    wiki.rename(moussa, "well-water-committees", "gao-water-committees", wiki.revision_of("well-water-committees"))
    note = wiki.get_note_and_revision(moussa, "gao-water-committees")
    wiki.save(moussa, note.slug, note.meta.copy(summary="Committees for wells"), note.body, note.revision)
    assert send().exit_code == 0
    [mail] = smtp.to("pat@example.test")
    assert f"{BASE}/notes/gao-water-committees" in Inbox.text(mail)
    pat = users.by_username("pat")
    assert [(s.kind, s.value) for s in app.extensions["kb.notify"].subscriptions(pat)] == \
        [("note", "gao-water-committees")]


# --- unsubscribe -----------------------------------------------------------------------------------------------
def _unsubscribe_path(mail) -> str:
    return re.search(r"<(\S+)>", mail["List-Unsubscribe"]).group(1).removeprefix(BASE)


def test_unsubscribe_by_the_link_asks_first_then_stops_the_mails(app, env, smtp):
    follow(app, "pat", "region", "Sahel")
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    assert send().exit_code == 0
    path = _unsubscribe_path(smtp.messages[0])
    assert path in Inbox.text(smtp.messages[0])
    client = app.test_client()  # not signed in: the link alone is enough
    assert client.get(path).status_code == 200
    assert app.extensions["kb.notify"].subscriptions(app.extensions["kb.users"].by_username("pat"))
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, no cookie, no CSRF token
    assert done.status_code == 200
    assert app.extensions["kb.notify"].subscriptions(app.extensions["kb.users"].by_username("pat")) == []
    write(app, "moussa", "gao-second-note", "A second note from Gao")
    assert send().output.startswith("0 sent") and len(smtp.messages) == 1
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.get(tampered).status_code == 404 and client.post(tampered).status_code == 404


# --- in kb -----------------------------------------------------------------------------------------------------
def _count(html: str) -> str | None:
    found = re.search(r'class="count-badge"[^>]*>([^<]+)<', html)
    return found.group(1) if found else None


def test_the_header_counts_unread_notifications_about_readable_notes(app, as_user):
    client = as_user("pat")
    assert _count(client.get("/").get_data(as_text=True)) is None
    follow(app, "pat", "region", "Sahel", "daily")
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    write(app, "moussa", "case-conference-gao", "Case conference notes from Gao", visibility="restricted")
    assert _count(client.get("/").get_data(as_text=True)) == "1"
    page = client.get("/notifications").get_data(as_text=True)
    assert "Well water committees in Gao" in page and "Case conference" not in page
    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")})
    assert _count(client.get("/").get_data(as_text=True)) is None
    assert "Well water committees in Gao" in client.get("/notifications").get_data(as_text=True)


def test_follow_buttons_on_region_topic_and_note_pages(app, as_user):
    write(app, "moussa", "well-water-committees", "Well water committees in Gao")
    client = as_user("pat")
    for page, kind, value in (("/regions/sahel", "region", "Sahel"), ("/topics/mhpss", "topic", "mhpss"),
                              ("/notes/well-water-committees", "note", "well-water-committees")):
        html = client.get(page).get_data(as_text=True)
        assert f'name="kind" value="{kind}"' in html and "Follow" in html
        token = csrf_token(client, page)
        resp = client.post("/account/subscriptions", data={"csrf_token": token, "kind": kind, "value": value,
                                                           "frequency": "daily", "next": page})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(page)
        assert "Stop following" in client.get(page).get_data(as_text=True)
    listed = client.get("/account/subscriptions").get_data(as_text=True)
    assert "Well water committees in Gao" in listed and "Sahel" in listed


def test_email_address_on_the_profile_page_is_checked(app, as_user):
    client = as_user("pat")
    token = csrf_token(client, "/account")
    refused = client.post("/account/email", data={"csrf_token": token, "email": "not an address"})
    assert "invalid email" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert app.extensions["kb.users"].by_username("pat").email == "pat@example.test"  # unchanged
    client.post("/account/email", data={"csrf_token": token, "email": "pat@field.example"})
    assert app.extensions["kb.users"].by_username("pat").email == "pat@field.example"
    assert 'value="pat@field.example"' in client.get("/account").get_data(as_text=True)


# --- the API ---------------------------------------------------------------------------------------------------
@pytest.fixture
def api(app):
    token = app.extensions["kb.users"].create_token("pat", "test")[1]
    client = app.test_client()

    def call(method: str, body=None):
        return client.open("/api/subscriptions", method=method, json=body,
                           headers={"Authorization": f"Bearer {token}"})
    return call


def test_api_subscriptions(app, api):
    assert api("POST", {"kind": "region", "value": "sahel", "frequency": "weekly"}).status_code == 201
    again = api("POST", {"kind": "region", "value": "Sahel", "frequency": "daily"})
    assert again.status_code == 200 and again.get_json() == {"kind": "region", "value": "Sahel", "frequency": "daily"}
    assert api("POST", {"kind": "region", "value": "Mali", "frequency": "daily"}).status_code == 422  # a country
    assert api("POST", {"kind": "topic", "value": "mhpss", "frequency": "hourly"}).status_code == 422
    assert api("POST", {"kind": "planet", "value": "Mars"}).status_code == 422
    assert api("GET").get_json()["subscriptions"] == [{"kind": "region", "value": "Sahel", "frequency": "daily"}]
    assert api("DELETE", {"kind": "region", "value": "Sahel"}).get_json() == {"kind": "region", "value": "Sahel",
                                                                               "followed": False}
    assert api("DELETE", {"kind": "region", "value": "Sahel"}).status_code == 404
    assert app.test_client().get("/api/subscriptions").status_code == 401


def test_api_a_hidden_note_is_answered_as_a_missing_one(app, api):
    write(app, "moussa", "case-conference-gao", "Case conference notes from Gao", visibility="restricted")
    hidden = api("POST", {"kind": "note", "value": "case-conference-gao", "frequency": "daily"})
    missing = api("POST", {"kind": "note", "value": "no-such-note-here", "frequency": "daily"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["error"].keys() == missing.get_json()["error"].keys()
    assert hidden.get_json()["error"]["message"] == missing.get_json()["error"]["message"]
    assert "case-conference" not in hidden.get_data(as_text=True)


# --- the command line ------------------------------------------------------------------------------------------
def test_user_add_with_an_email(env):
    runner = CliRunner()
    bad = runner.invoke(cli, ["user", "add", "fatou", "--role", "practitioner", "--email", "fatou@"],
                        input="a-long-password-1\n")
    assert bad.exit_code == 1 and "invalid email" in bad.output
    assert "fatou" not in runner.invoke(cli, ["user", "list"]).output
    good = runner.invoke(cli, ["user", "add", "fatou", "--role", "practitioner", "--email", "fatou@ngo.example"],
                         input="a-long-password-1\n")
    assert good.exit_code == 0, good.output
    from kb.users import UserStore
    store = UserStore(f"sqlite:///{env / 'instance' / 'kb.sqlite'}")
    assert store.by_username("fatou").email == "fatou@ngo.example"
    store.dispose()
