"""Sign in and sign out: throttled, CSRF-checked, a fresh session on sign-in, a safe place to go next.

Each sign-in is also a row in the accounts database (kb.signins): signing out ends it there, so a copied
session cookie stops working, and it expires after KB_SESSION_IDLE_MINUTES idle or KB_SESSION_MAX_HOURS.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..throttle import SignInThrottle
from .helpers import current_users

bp = Blueprint("auth", __name__)

# One message for a wrong password, an unknown account and a disabled one; one for every kind of throttling.
WRONG = _l("Wrong username or password, or the account is disabled.")
TOO_MANY = _l("Too many sign-in attempts. Please wait a few minutes and try again.")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def current_throttle() -> SignInThrottle:
    return current_app.extensions["kb.throttle"]


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For only when KB_TRUST_PROXY let ProxyFix read it)."""
    return request.remote_addr or ""


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        users, throttle, address = current_users(), current_throttle(), client_address()
        name = form.username.data
        wait = throttle.wait_seconds(name, address)
        if wait:  # refused before the password is even checked: no hashing work for a flood of guesses
            error, status, headers = TOO_MANY, 429, {"Retry-After": str(wait)}
        else:
            user = users.authenticate(name.strip().lower(), form.password.data)
            if user is None:
                throttle.failed(name, address)
                error, status = WRONG, 401
            else:
                sign_in(user)
                throttle.succeeded(user.username, address)
                return redirect(safe_next(request.args.get("next") or request.form.get("next")))
    return render_template("auth/login.html", form=form, error=error,
                           next=request.args.get("next", "")), status, headers


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        return render_template("auth/logout.html")
    current_users().sign_ins.end(session.get(SIGN_IN_KEY))  # a copy of the cookie is signed out too
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("notes.home"))
