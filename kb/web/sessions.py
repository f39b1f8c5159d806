"""Sessions and the client, shared by the blueprints: the client's address, a safe place to go after sign-in,
starting a fresh signed-in session, and its limits."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from ..throttle import SignInThrottle
from .helpers import client_address, current_users

__all__ = ["TOO_MANY", "SIGN_IN_KEY", "client_address", "current_throttle", "safe_next", "session_limits",
           "sign_in"]

# One message for every kind of throttling.
TOO_MANY = _l("Too many sign-in attempts. Please wait a few minutes and try again.")


def current_throttle() -> SignInThrottle:
    return current_app.extensions["kb.throttle"]


def safe_next(target: str | None) -> str:
    """Only a local path may follow sign-in: no scheme, no host, no protocol-relative or backslash tricks."""
    home = url_for("notes.home")
    if not target or len(target) > 2000:
        return home
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(c.isspace() or not c.isprintable() for c in target):
        return home  # browsers drop tabs and newlines inside URLs, so "/\t/evil.com" would become "//evil.com"
    return target


SIGN_IN_KEY = "kb_sign_in"  # the session's key to its row in the sign-ins table


def session_limits() -> tuple[timedelta, timedelta]:
    """(idle, maximum age) of a sign-in, from the settings."""
    config = current_app.config
    return (timedelta(minutes=config["KB_SESSION_IDLE_MINUTES"]), timedelta(hours=config["KB_SESSION_MAX_HOURS"]))


def sign_in(user) -> None:
    """Start a fresh session for the user: nothing from before sign-in carries over."""
    session.clear()
    session[SIGN_IN_KEY] = current_users().sign_ins.start(user.id, session_limits()[1])
    login_user(user)
