"""Redaction by an admin: /notes/<slug>/redact takes a passage, or a whole revision's text, out of a note's
entire history. Everyone else gets a 404, as on /admin."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access
from ..errors import InvalidNote, KbError
from .helpers import current_wiki
from .messages import translate

bp = Blueprint("redaction", __name__)

# domain messages (by identifier) the form says with more: that nothing was changed
MESSAGES = {
    "The passage was found in no version of this note.":
        _l("The passage was found in no version of this note. Nothing was changed."),
    "The content folder has uncommitted changes; commit or discard them, then redact.":
        _l("The content folder has uncommitted changes; commit or discard them, then redact. Nothing was changed."),
}


def _said(message) -> str:
    """A domain message as the form says it (some with more to say), in the interface language."""
    msgid = getattr(message, "msgid", message)
    return str(MESSAGES[msgid]) if msgid in MESSAGES else translate(message)


@bp.route("/notes/<slug>/redact", methods=["GET", "POST"])
def redact_note(slug: str):
    wiki = current_wiki()
    access.require(current_user, "administer", slug)  # nothing here exists for anyone else
    note = wiki.get_note(current_user, slug)
    revisions = wiki.redaction_choices(current_user, slug)
    form = {"mode": request.form.get("mode", "passage"), "passage": request.form.get("passage", ""),
            "revision": request.form.get("revision", request.args.get("revision", "")),
            "reason": request.form.get("reason", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not request.form.get("confirm"):
            errors["confirm"] = _("Confirm that the history is to be rewritten.")
        else:
            try:
                if form["mode"] == "revision":
                    wiki.redact_revision(current_user, slug, form["revision"], form["reason"])
                else:
                    wiki.redact_passage(current_user, slug, form["passage"], form["reason"])
            except InvalidNote as exc:
                errors = {field: _said(message) for field, message in exc.problems}
            except KbError as exc:  # the repository is not in a state to rewrite, or the rewrite failed
                errors = {"form": _said(exc.message)}
            else:  # the service's write path recorded who, when and why; never what was removed
                flash(_("The history was rewritten: what was removed is gone from every version."))
                return redirect(url_for("notes.history", slug=slug), 303)
    return render_template("notes/redact.html", note=note, revisions=revisions, form=form, errors=errors), \
        (409 if "form" in errors else 422) if errors else 200
