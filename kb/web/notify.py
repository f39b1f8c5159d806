"""Notifications on the web: what a reader follows (/account/subscriptions, a Follow button on note, region and
topic pages), what they were told (/notifications, a count in the header), the unsubscribe link of e-mails,
and the JSON API /api/subscriptions. Every note named is one the reader may read at that moment."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, jsonify, make_response, redirect, render_template, request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import NoteNotFound
from ..notify import COUNT_CAP, DIRECT_CHOICES, FREQUENCIES, KINDS, Notifier, NotifyError
from ..taxonomy import LANGUAGES
from ..users import UserError
from .errors import error_response
from .helpers import client_address, current_users, current_wiki, record, ui_lang
from .messages import N_, translate
from .sessions import safe_next

bp = Blueprint("notify", __name__)
api_bp = Blueprint("notify_api", __name__, url_prefix="/api")
LABELS = {"immediate": N_("At once"), "daily": N_("Daily digest"), "weekly": N_("Weekly digest"),
          "none": N_("In kb only, no e-mail")}


def current_notifier() -> Notifier:
    return current_app.extensions["kb.notify"]


def unread() -> int:
    """The header's count, once per request."""
    if "kb_unread" not in g:
        g.kb_unread = current_notifier().unread_count(current_user)
    return g.kb_unread


@bp.app_context_processor
def notify_globals() -> dict:
    def notification_count() -> int:
        return unread()

    def following(kind: str, value: str):
        return current_notifier().following(current_user, kind, value)
    return {"notification_count": notification_count, "notification_cap": COUNT_CAP, "following": following,
            "frequency_labels": LABELS}


def _reader_state() -> str:
    """What a note page shows of notifications, for its ETag: the unread count, and whether it is followed."""
    slug = (request.view_args or {}).get("slug", "")
    sub = current_notifier().following(current_user, "note", slug) if slug else None
    return f"{unread()}:{sub.frequency if sub else ''}"


@bp.record_once
def _register_reader_state(state) -> None:
    state.app.extensions.setdefault("kb.reader_state", []).append(_reader_state)


@bp.after_app_request
def remember_language(response):
    """A signed-in reader who switches the interface language gets their e-mails in it from then on."""
    code = (request.view_args or {}).get("code")
    if request.endpoint == "i18n.switch" and code in LANGUAGES and current_user.is_authenticated:
        current_notifier().set_prefs(current_user.id, lang=code)
    return response


def _no_store(html: str, status: int = 200):
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # a reader's own list: never in a shared cache
    return response


# --- /notifications --------------------------------------------------------------------------------------------
@bp.get("/notifications")
@login_required
def notifications():
    items = current_notifier().items(current_user)
    texts = {}
    for item in items:
        try:
            texts[item.id] = _(item.text_key, **{**item.params, "title": item.title})
        except (KeyError, TypeError, ValueError):  # a caller's message whose values do not fit it
            texts[item.id] = item.title
    return _no_store(render_template("notify/notifications.html", items=items, texts=texts))


@bp.post("/notifications/read")
@login_required
def mark_read():
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()][:500]
    current_notifier().mark_read(current_user, ids or None)
    return redirect(url_for("notify.notifications"))


# --- /account/subscriptions ------------------------------------------------------------------------------------
def _subscriptions_page(status: int = 200, error: str | None = None):
    notifier = current_notifier()
    prefs, subs = notifier.prefs(current_user.id), notifier.subscriptions(current_user)
    titles = {s.value: (notifier.readable(current_user, s.value) or ("", s.value))[1] for s in subs
              if s.kind == "note"}
    html = render_template("notify/subscriptions.html", subscriptions=subs, note_titles=titles, prefs=prefs,
                           mail_lang=prefs.lang or ui_lang(), frequencies=FREQUENCIES,
                           direct_choices=DIRECT_CHOICES, languages=LANGUAGES, error=error)
    return _no_store(html, status)


@bp.get("/account/subscriptions")
@login_required
def subscriptions():
    return _subscriptions_page()


def _back(default_endpoint: str = "notify.subscriptions"):
    return redirect(safe_next(request.form.get("next")) if request.form.get("next") else url_for(default_endpoint))


@bp.post("/account/subscriptions")
@login_required
def follow():
    """Follow a region, a country, a topic or a note ("kind:value" in `what`, or `kind` and `value`)."""
    kind, _sep, value = (request.form.get("what") or "").partition(":")
    kind, value = (kind, value) if _sep else (request.form.get("kind", ""), request.form.get("value", ""))
    notifier = current_notifier()
    try:
        notifier.subscribe(current_user, kind, value, request.form.get("frequency", "daily"))
    except NotifyError as exc:
        return _subscriptions_page(422, translate(exc.message))
    if notifier.prefs(current_user.id).lang is None:
        notifier.set_prefs(current_user.id, lang=ui_lang())  # e-mails in the language they read kb in
    if not request.form.get("next"):  # a Follow button's page shows the new state itself
        flash(_("You follow it now."))
    return _back()


@bp.post("/account/subscriptions/remove")
@login_required
def unfollow():
    current_notifier().unsubscribe(current_user, request.form.get("kind", ""), request.form.get("value", ""))
    if not request.form.get("next"):
        flash(_("You no longer follow it."))
    return _back()


@bp.post("/account/notify-settings")
@login_required
def settings():
    try:
        current_notifier().set_prefs(current_user.id, lang=request.form.get("lang") or None,
                                     direct=request.form.get("direct") or None)
    except NotifyError as exc:
        return _subscriptions_page(422, translate(exc.message))
    flash(_("Your notification settings were saved."))
    return redirect(url_for("notify.subscriptions"))


@bp.post("/account/email")
@login_required
def set_email():
    """The reader's own e-mail address (from the profile page); empty clears it."""
    users = current_users()
    try:
        changes = users.edit(current_user.username, email=request.form.get("email", "")[:300])[1]
    except UserError as exc:
        flash(translate(exc.message))
        return redirect(url_for("account.profile"))
    if "email" in changes:
        record("user_update", current_user.username, "changed email")
        flash(_("Your e-mail address was saved."))
    return redirect(url_for("account.profile"))


# --- the unsubscribe link of every e-mail ---------------------------------------------------------------------
@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """A GET only asks (mail scanners open links); the button, or a one-click POST (RFC 8058), does it."""
    target = current_notifier().unsubscribe_link_target(token)
    if target is None:
        return error_response(404)
    return _no_store(render_template("notify/unsubscribe.html", frequency=target[1], done=False, token=token))


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str):
    done = current_notifier().unsubscribe_by_link(token)
    if done is None:
        return error_response(404)
    user, frequency, _count = done
    current_users().audit("unsubscribe", actor=user.username, target=user.username, detail=frequency,
                          address=client_address())
    return _no_store(render_template("notify/unsubscribe.html", frequency=frequency, done=True, token=token))


# --- /api/subscriptions ------------------------------------------------------------------------------------------
def _as_json(sub) -> dict:
    return {"kind": sub.kind, "value": sub.value, "frequency": sub.frequency}


def _body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@api_bp.get("/subscriptions")
def api_list():
    if not current_user.is_authenticated:
        return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    return jsonify({"subscriptions": [_as_json(s) for s in current_notifier().subscriptions(current_user)],
                    "kinds": list(KINDS), "frequencies": list(FREQUENCIES)})


@api_bp.post("/subscriptions")
def api_subscribe():
    """201 with the subscription (200 when it only changed frequency); a note the reader may not read is
    answered as a note that does not exist."""
    if not current_user.is_authenticated:
        return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    data, notifier = _body(), current_notifier()
    kind, value = data.get("kind"), data.get("value")
    if not isinstance(kind, str) or not isinstance(value, str):
        return error_response(422, "Send a JSON object {\"kind\", \"value\", \"frequency\"}; kind is one of "
                              + ", ".join(KINDS) + ".")
    existed = notifier.following(current_user, kind, value) is not None
    try:
        sub = notifier.subscribe(current_user, kind, value, data.get("frequency", "daily"))
    except NotifyError as exc:
        return error_response(422, str(exc))
    return jsonify(_as_json(sub)), 200 if existed else 201


@api_bp.delete("/subscriptions")
def api_unsubscribe():
    if not current_user.is_authenticated:
        return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    data = _body()
    kind, value = data.get("kind", request.args.get("kind")), data.get("value", request.args.get("value"))
    if not isinstance(kind, str) or not isinstance(value, str) or kind not in KINDS:
        return error_response(422, "Say which subscription: {\"kind\", \"value\"}; kind is one of "
                              + ", ".join(KINDS) + ".")
    try:
        gone = current_notifier().unsubscribe(current_user, kind, value)
    except NotifyError as exc:
        return error_response(422, str(exc))
    if not gone:
        raise NoteNotFound(value)  # followed or not, existing or hidden: the same 404
    return jsonify({"kind": kind, "value": value, "followed": False})
