"""The cross-language glossary's pages: /glossary for every reader, its edit form for admins and focal points
(a commit through the one write path, checked first: a bad line is named and nothing is written), and its
history. Searches use a saved glossary from their next query."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..errors import InvalidGlossary
from ..taxonomy import LANGUAGES
from .helpers import current_wiki
from .messages import translate

bp = Blueprint("glossary", __name__)
MAX_FORM_TEXT = 600_000  # characters: above the service's byte limit, so the service says what is wrong


@bp.get("/glossary")
def page():
    return render_template("glossary/page.html", g=current_wiki().glossary(current_user), languages=LANGUAGES,
                           error=None)


@bp.route("/glossary/edit", methods=["GET", "POST"])
@login_required
def edit():
    access.require(current_user, "edit_glossary", "glossary")
    wiki = current_wiki()
    if request.method == "GET":
        g = wiki.glossary(current_user)
        return render_template("glossary/edit.html", text=g.text, base_revision=g.revision or "", message="",
                               error=None)
    text = request.form.get("text", "")[:MAX_FORM_TEXT]
    base = request.form.get("base_revision", "").strip() or None
    message = request.form.get("message", "")[:200]
    try:
        revision = wiki.save_glossary(current_user, text, base, message)
    except InvalidGlossary as exc:
        return render_template("glossary/edit.html", text=text, base_revision=base or "", message=message,
                               error=translate(exc)), 422
    flash(_("The glossary was saved; searches use it now.") if revision else _("Nothing changed."))
    return redirect(url_for("glossary.page"), 303)


@bp.get("/glossary/history")
def history():
    return render_template("glossary/history.html", revisions=current_wiki().glossary_history())


@bp.get("/glossary/history/<rev>")
def revision(rev: str):
    if len(rev) > 64:
        abort(404)
    return render_template("glossary/revision.html", rev=rev, text=current_wiki().glossary_at(rev))
