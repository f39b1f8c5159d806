"""Account administration under /admin/users: list, create, edit, reset passwords, disable, enable.

Admins only (the one /admin guard, helpers.admins_only); for everyone else every URL here is the same 404
as a page that does not exist.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from .. import access
from ..taxonomy import ROLES
from ..users import MIN_PASSWORD, UserError
from .helpers import ROLE_LABELS, client_address, current_users, current_wiki
from .messages import translate

bp = Blueprint("admin", __name__, url_prefix="/admin")


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[Length(max=80)])
    email = StringField(_l("Email"), validators=[Length(max=254)])
    # plain values (any wtforms version), labels in the template; a new account is not an admin by default
    role = SelectField(_l("Role"), choices=list(ROLES), default="practitioner")
    regions = SelectMultipleField(_l("Regions and countries (focal points)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions.choices = list(current_wiki().taxonomy.places)


class NewUserForm(ProfileForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)])


class ButtonForm(FlaskForm):
    """A form that is only a button: it carries the CSRF token."""


@bp.after_request
def not_stored(response):
    response.headers["Cache-Control"] = "no-store"  # accounts' names, emails and tokens stay out of caches
    return response


@bp.app_context_processor
def admin_link() -> dict:
    return {"can_administer": access.is_admin(current_user)}


def _audit(action: str, target: str, detail: str = "") -> None:
    current_users().audit(action, actor=current_user.username, target=target, detail=detail,
                          address=client_address())


def _describe(role: str, regions) -> str:
    return role + (": " + ", ".join(regions) if regions else "")


def _account(username: str):
    user = current_users().by_username(username)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
def users():
    return render_template("admin/users.html", accounts=current_users().list(), role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form, status = NewUserForm(), 200
    if form.validate_on_submit():
        try:
            user = current_users().add(form.username.data, form.password.data, form.role.data,
                                       regions=form.regions.data, display_name=form.display_name.data,
                                       email=form.email.data)
        except UserError as exc:
            _place_error(form, exc)
        else:
            _audit("user_add", user.username, _describe(user.role, user.regions))
            flash(_("The account was created."))
            return redirect(url_for("admin.edit_user", username=user.username))
    if form.is_submitted():
        status = 422
    return render_template("admin/user_new.html", form=form, role_labels=ROLE_LABELS,
                           min_password=MIN_PASSWORD), status


_FIELD_OF_ERROR = (("invalid username", "username"), ("username", "username"), ("password", "password"),
                   ("invalid email", "email"), ("unknown role", "role"), ("unknown region", "regions"),
                   ("region names", "regions"), ("a focal point needs", "regions"))


def _place_error(form: NewUserForm, message) -> None:
    """A refusal (a domain error or message) beside the field it is about (else above the form), translated."""
    name = next((f for start, f in _FIELD_OF_ERROR if str(message).startswith(start)), None)
    field = getattr(form, name, None) if name else None
    if field is None or name in ("role", "regions"):
        form.form_errors.append(translate(message))
    else:
        field.errors = [*field.errors, translate(message)]


def _edit_page(user, form: ProfileForm | None = None, password_form: PasswordForm | None = None,
               status: int = 200, error: str | None = None):
    if form is None:
        form = ProfileForm(data={"display_name": user.display_name, "email": user.email or "", "role": user.role,
                                 "regions": user.regions})
    return render_template("admin/user_edit.html", account=user, form=form,
                           password_form=password_form or PasswordForm(), button=ButtonForm(),
                           tokens=current_users().tokens(user.username), role_labels=ROLE_LABELS,
                           error=error, min_password=MIN_PASSWORD), status


@bp.route("/users/<username>", methods=["GET", "POST"])
def edit_user(username: str):
    user = _account(username)
    form = ProfileForm()
    if not form.is_submitted():
        return _edit_page(user)
    if form.validate():
        try:
            user, changes = current_users().edit(user.username, display_name=form.display_name.data,
                                                 email=form.email.data, role=form.role.data,
                                                 regions=form.regions.data)
        except UserError as exc:
            form.form_errors.append(translate(exc))
        else:
            if "role" in changes or "regions" in changes:
                old_role = changes.get("role", (user.role,))[0]
                old_regions = changes.get("regions", (user.regions,))[0]
                _audit("role", user.username,
                       f"{_describe(old_role, old_regions)} -> {_describe(user.role, user.regions)}")
            profile = [k for k in ("display_name", "email") if k in changes]
            if profile:
                _audit("user_update", user.username, "changed " + ", ".join(profile))
            flash(_("The account was saved.") if changes else _("Nothing changed."))
            return redirect(url_for("admin.edit_user", username=user.username))
    return _edit_page(user, form=form, status=422)


@bp.post("/users/<username>/password")
def reset_password(username: str):
    """Set a new password; the account is signed out everywhere."""
    user = _account(username)
    form = PasswordForm()
    if not form.validate_on_submit():
        return _edit_page(user, password_form=form, status=422)
    try:
        current_users().set_password(user.username, form.password.data)
    except UserError as exc:
        form.password.errors.append(translate(exc))
        return _edit_page(user, password_form=form, status=422)
    _audit("password_reset", user.username)
    flash(_("The password was changed; the account was signed out everywhere."))
    return redirect(url_for("admin.edit_user", username=user.username))


@bp.post("/users/<username>/<any(disable, enable):action>")
def set_active(username: str, action: str):
    user = _account(username)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if action == "disable" and user.id == current_user.id:
        return _edit_page(user, status=422, error=_("You cannot disable your own account."))
    try:
        current_users().set_active(user.username, action == "enable")
    except UserError as exc:
        return _edit_page(user, status=422, error=translate(exc))
    _audit(f"user_{action}", user.username)
    flash(_("The account was enabled.") if action == "enable" else
          _("The account was disabled; its sessions and tokens no longer work."))
    return redirect(url_for("admin.edit_user", username=user.username))


@bp.post("/users/<username>/tokens/<int:token_id>/revoke")
def revoke_token(username: str, token_id: int):
    user = _account(username)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        current_users().revoke_token(token_id, username=user.username)
    except UserError:
        abort(404)
    _audit("token_revoke", user.username, f"token {token_id}")
    flash(_("The token was revoked."))
    return redirect(url_for("admin.edit_user", username=user.username))
