"""The signed-in user's own page: change the password, sign out elsewhere, and manage API tokens."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..users import MIN_PASSWORD, UserError
from .helpers import ROLE_LABELS, client_address, current_users
from .sessions import TOO_MANY, current_throttle, sign_in
from .messages import translate

bp = Blueprint("account", __name__, url_prefix="/account")
class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new", _l("The two new passwords differ."))])


class TokenForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Length(max=80)])


class ButtonForm(FlaskForm):
    """A form that is only a button: it carries the CSRF token."""


@bp.before_request
@login_required
def signed_in_only():
    return None


def _page(status: int = 200, password_form: PasswordForm | None = None, token_form: TokenForm | None = None,
          new_token: str | None = None, error: str | None = None):
    user = current_user
    html = render_template("account/profile.html", account=user, tokens=current_users().tokens(user.username),
                           password_form=password_form or PasswordForm(), token_form=token_form or TokenForm(),
                           button=ButtonForm(), new_token=new_token, error=error, min_password=MIN_PASSWORD,
                           role_labels=ROLE_LABELS)
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # a new token is on this page once, and never cached
    return response


@bp.get("")
def profile():
    return _page()


@bp.post("/password")
def change_password():
    """Needs the current password; then every other session ends and this one starts afresh."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(422, password_form=form)
    users, throttle, address = current_users(), current_throttle(), client_address()
    name = current_user.username
    wait = throttle.wait_seconds(name, address)
    if wait:
        return _page(429, password_form=form, error=TOO_MANY)
    if users.authenticate(name, form.current.data) is None:
        throttle.failed(name, address, detail="password change")
        form.current.errors.append(_("The current password is wrong."))
        return _page(422, password_form=form)
    try:
        user = users.set_password(name, form.new.data)
    except UserError as exc:
        form.new.errors.append(translate(exc))
        return _page(422, password_form=form)
    users.audit("password_change", actor=name, target=name, address=address)
    sign_in(user)
    flash(_("Your password was changed. You were signed out everywhere else."))
    return redirect(url_for("account.profile"))


@bp.post("/sessions")
def end_other_sessions():
    if not ButtonForm().validate_on_submit():
        return _page(400)
    users = current_users()
    user = users.end_sessions(current_user.username)
    users.audit("sessions_end", actor=user.username, target=user.username, address=client_address())
    sign_in(user)
    flash(_("You were signed out everywhere else."))
    return redirect(url_for("account.profile"))


@bp.post("/tokens")
def create_token():
    """The token is shown in this response only; the database keeps its hash."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(422, token_form=form)
    users = current_users()
    row, plaintext = users.create_token(current_user.username, form.label.data or "")
    users.audit("token_create", actor=current_user.username, target=current_user.username,
                detail=f"token {row.id}", address=client_address())
    return _page(201, new_token=plaintext)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    if not ButtonForm().validate_on_submit():
        return _page(400)
    users = current_users()
    try:
        users.revoke_token(token_id, username=current_user.username)
    except UserError:
        return _page(404, error=_("There is no such token."))
    users.audit("token_revoke", actor=current_user.username, target=str(token_id), address=client_address())
    flash(_("The token was revoked."))
    return redirect(url_for("account.profile"))
