"""A note's life after writing: compare revisions, restore one, rename (leaving a redirect), soft delete, and
the admins' list of deleted notes with undo."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import access
from ..errors import InvalidNote, NoteExists, PersonalDataFound
from .helpers import current_wiki, old_texts_for_signed_in
from .messages import translate

bp = Blueprint("manage", __name__)

# GET pages that follow a renamed note to its new name
FOLLOWS_RENAMES = {"notes.show", "notes.raw", "notes.history", "notes.revision", "manage.diff", "editor.edit",
                   "api.get_note", "attachments.file", "attachments.thumb"}


@bp.before_app_request
def follow_rename():
    """An old name of a renamed note answers with a permanent redirect (when the new one is readable)."""
    if request.method not in ("GET", "HEAD") or request.endpoint not in FOLLOWS_RENAMES:
        return None
    slug = (request.view_args or {}).get("slug")
    target = current_wiki().redirect_target(current_user, slug) if slug else None
    if not target:
        return None
    url = url_for(request.endpoint, **{**request.view_args, "slug": target})
    query = request.query_string.decode("latin-1")
    return redirect(url + ("?" + query if query else ""), 301)


@bp.get("/notes/<slug>/diff")
def diff(slug: str):
    if not access.can_read_old_revisions(current_user):
        return old_texts_for_signed_in(current_wiki().get_note(current_user, slug))  # 404 when not readable
    comparison = current_wiki().compare(current_user, slug, request.args.get("from") or None,
                                 request.args.get("to") or None)
    return render_template("editor/diff.html", c=comparison, note=comparison.new)


@bp.post("/notes/<slug>/revisions/<rev>/restore")
@login_required
def restore(slug: str, rev: str):
    wiki = current_wiki()
    base = request.form.get("base_revision", "").strip() or None
    reason = request.form.get("confirm_personal_data", "").strip()
    try:
        wiki.restore(current_user, slug, rev, base, reason)
    except PersonalDataFound as exc:
        old = wiki.note_at(current_user, slug, rev)
        return render_template("editor/restore.html", note=old, rev=old.revision, base_revision=base or "",
                               findings=exc.findings), 422
    return redirect(url_for("notes.history", slug=slug), 303)


@bp.route("/notes/<slug>/rename", methods=["GET", "POST"])
@login_required
def rename(slug: str):
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    access.require(current_user, "edit", slug, note.meta, wiki.taxonomy)
    new_slug = request.form.get("new_slug", "").strip()
    errors: list[str] = []
    if request.method == "POST":
        try:
            new_slug = wiki.rename(current_user, slug, new_slug, request.form.get("base_revision") or None)
        except InvalidNote as exc:
            errors = [translate(m) for _, m in exc.problems]
        else:
            return redirect(url_for("notes.show", slug=new_slug), 303)
    return render_template("editor/rename.html", note=note, new_slug=new_slug or slug, errors=errors,
                           base_revision=request.form.get("base_revision") or wiki.revision_of(slug) or ""), \
        422 if errors else 200


@bp.route("/notes/<slug>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str):
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    access.require(current_user, "delete", slug, note.meta, wiki.taxonomy)
    if request.method == "GET":
        return render_template("editor/delete.html", note=note, base_revision=wiki.revision_of(slug) or "")
    reason = request.form.get("reason", "").strip()
    wiki.delete(current_user, slug, reason, request.form.get("base_revision") or None)
    return redirect(url_for("notes.home"), 303)


@bp.get("/admin/deleted-notes")
def deleted():  # admins only, like every /admin page (helpers.admins_only)
    return render_template("editor/deleted.html", notes=current_wiki().deleted_notes(current_user),
                           error=None)


@bp.post("/admin/deleted-notes/<trash_id>/restore")
def undelete(trash_id: str):
    wiki = current_wiki()
    try:
        slug = wiki.undelete(current_user, trash_id)
    except NoteExists as exc:
        return render_template("editor/deleted.html", notes=wiki.deleted_notes(current_user),
                               error=translate(exc)), 409
    return redirect(url_for("notes.show", slug=slug), 303)
