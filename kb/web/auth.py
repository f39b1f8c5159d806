"""Sign in and sign out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .helpers import current_users

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def safe_next(target: str | None) -> str:
    """Only a local path may follow sign-in: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return url_for("notes.home")
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")) \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("notes.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        users = current_users()
        user = users.authenticate(form.username.data.strip().lower(), form.password.data)
        address = request.remote_addr or ""
        if user is None:
            users.audit("login_failed", actor=form.username.data.strip().lower()[:80], address=address)
            error = "Wrong username or password, or the account is disabled."
        else:
            session.clear()  # a fresh session on sign-in
            login_user(user)
            users.audit("login", actor=user.username, address=address)
            return redirect(safe_next(request.args.get("next") or request.form.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error,
                           next=request.args.get("next", "")), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        return render_template("auth/logout.html")
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("notes.home"))
