"""Sign in and sign out: throttled, CSRF-checked, a fresh session on sign-in, a safe place to go next.

Each sign-in is also a row in the accounts database (kb.signins): signing out ends it there, so a copied
session cookie stops working, and it expires after KB_SESSION_IDLE_MINUTES idle or KB_SESSION_MAX_HOURS.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .helpers import current_users
from .sessions import SIGN_IN_KEY, TOO_MANY, client_address, current_throttle, safe_next, sign_in

bp = Blueprint("auth", __name__)

# One message for a wrong password, an unknown account and a disabled one (TOO_MANY: for every throttling).
WRONG = _l("Wrong username or password, or the account is disabled.")
__all__ = ["bp", "WRONG", "TOO_MANY", "SIGN_IN_KEY", "client_address", "current_throttle", "safe_next", "sign_in"]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


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
