"""Comments on notes, for signed-in readers of the note: the note page's section, its forms (post, reply, edit,
delete, mark resolved; no JavaScript needed) and the JSON API (/api/notes/<slug>/comments).

Every route asks for the note first, as this reader: a note they may not read answers 404 everywhere here.
The public is sent to sign in (pages) or answered 401 (API), and never sees a comment or a count."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..comments import CommentError, shown_count
from .errors import error_response
from .helpers import comment_threads, current_comments, record
from .messages import translate

bp = Blueprint("comments", __name__)
api_bp = Blueprint("comments_api", __name__, url_prefix="/api")


@bp.app_context_processor
def comment_globals() -> dict:
    return {"note_comments": comment_threads, "comment_count": shown_count,
            "fmt_when": lambda value: format_datetime(value, format="short"),
            "comment_edit_minutes": access.COMMENT_EDIT_MINUTES}


def _warn_personal_data(findings: list[dict]) -> None:
    """Comments are never public, so personal data is not refused; the writer is warned (see kb/comments.py)."""
    if findings:
        found = "; ".join(dict.fromkeys(_(f["message"]) for f in findings))
        flash(_("Your comment may contain personal data (%(found)s). Every reader of this note sees it: edit it "
                "out if it should not be there.", found=found))


def _page(slug: str, status: int = 200, error: str | None = None, text: str = "", reply_to: str = ""):
    """The comments page (what the note page shows, on its own): after a refused form, with the text kept."""
    comments = current_comments()
    note = comments.note_for(current_user, slug)
    return render_template("comments/page.html", note=note, threads=comment_threads(slug), error=error,
                           text=text, reply_to=reply_to), status


def _back(slug: str, comment_id: int | None = None):
    anchor = f"comment-{comment_id}" if comment_id else "comments"
    return redirect(url_for("notes.show", slug=slug, _anchor=anchor), 303)


@bp.get("/notes/<slug>/comments")
@login_required
def page(slug: str):
    return _page(slug)


@bp.post("/notes/<slug>/comments")
@login_required
def post(slug: str):
    text, reply_to = request.form.get("body", ""), request.form.get("reply_to", "")
    try:
        view, findings = current_comments().add(current_user, slug, text, reply_to or None)
    except CommentError as exc:
        return _page(slug, 400, translate(exc), text, reply_to)
    _warn_personal_data(findings)
    return _back(slug, view.id)


@bp.route("/notes/<slug>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, comment_id: int):
    comments = current_comments()
    view = comments.comment(current_user, slug, comment_id)  # 404: no such comment on a note they may read
    note = comments.note_for(current_user, slug)
    if not view.may_edit:
        return render_template("comments/edit.html", note=note, comment=view, closed=True), 403
    if request.method == "GET":
        return render_template("comments/edit.html", note=note, comment=view, text=view.body or "")
    text = request.form.get("body", "")
    try:
        view, findings = comments.edit(current_user, slug, comment_id, text)
    except CommentError as exc:
        return render_template("comments/edit.html", note=note, comment=view, text=text,
                               error=translate(exc)), 400
    _warn_personal_data(findings)
    return _back(slug, view.id)


@bp.post("/notes/<slug>/comments/<int:comment_id>/delete")
@login_required
def delete(slug: str, comment_id: int):
    gone = current_comments().delete(current_user, slug, comment_id)
    record("comment_delete", slug, f"comment {gone.id} by {gone.author}")
    flash(_("The comment was deleted."))
    return _back(slug, gone.reply_to)


@bp.post("/notes/<slug>/comments/<int:comment_id>/resolve")
@login_required
def resolve(slug: str, comment_id: int):
    resolved = request.form.get("resolved", "1") != "0"
    view = current_comments().resolve(current_user, slug, comment_id, resolved)
    return _back(slug, view.id)


# --- the JSON API ---------------------------------------------------------------------------------------

def _unauthenticated():
    return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")


@api_bp.get("/notes/<slug>/comments")
def api_list(slug: str):
    """The note's comment threads: {"count", "comments": [comment with its "replies"]}."""
    comments = current_comments()
    comments.note_for(current_user, slug)  # 404 for a note the caller may not read, signed in or not
    if not current_user.is_authenticated:
        return _unauthenticated()
    threads = comment_threads(slug)
    return jsonify({"slug": slug, "count": shown_count(threads),
                    "comments": [t.as_dict() for t in threads]})


@api_bp.post("/notes/<slug>/comments")
def api_post(slug: str):
    """Post a comment {"body", "reply_to"?}: 201 with the comment (and "personal_data" found in it, a warning)."""
    comments = current_comments()
    comments.note_for(current_user, slug)
    if not current_user.is_authenticated:
        return _unauthenticated()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(400, 'Send a JSON object {"body": "...", "reply_to": <comment id, optional>} '
                                   "with Content-Type: application/json.")
    try:
        view, findings = comments.add(current_user, slug, data.get("body"), data.get("reply_to"))
    except CommentError as exc:
        return error_response(400, exc.message)
    response = jsonify({**view.as_dict(), "personal_data": findings})
    response.headers["Location"] = url_for("comments_api.api_list", slug=slug) + f"#comment-{view.id}"
    return response, 201
