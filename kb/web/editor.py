"""Writing notes: the editor (new, edit, preview), status changes, the review queue.

Whatever goes wrong on a save — a field to fix, a note changed meanwhile, personal data to confirm, a
right missing, an expired form — the editor comes back with the text exactly as typed.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from .. import access
from ..errors import (EditConflict, InvalidNote, NoteExists, NoteNotFound, PermissionDenied, PersonalDataFound,
                      StorageError)
from ..wiki import OURS_LABEL, Note, diff_html, has_conflict_marks, meta_to_dict, normalise_body, practice_template
from ..wiki import title_name
from .helpers import current_wiki, ui_lang
from .messages import FIELDS, N_, field_label, translate

bp = Blueprint("editor", __name__)

TEXT_FIELDS = ("title", "language", "visibility", "status", "summary")
LIST_FIELDS = ("regions", "topics", "audience")
FIELD_LABELS = {k: FIELDS[k] for k in ("title", "language", "regions", "topics", "audience", "visibility", "status",
                                        "summary")}  # msgids, translated by the template


@dataclass
class Form:
    """The editor's fields as the writer left them."""
    values: dict
    body: str
    slug: str = ""
    base_revision: str = ""
    message: str = ""
    reason: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def meta_fields(self) -> dict:
        return {k: v for k, v in self.values.items() if k in TEXT_FIELDS + LIST_FIELDS}


def form_from_note(note: Note, base_revision: str) -> Form:
    data = meta_to_dict(note.meta)
    values = {k: data.get(k, "") for k in TEXT_FIELDS} | {k: list(data.get(k, [])) for k in LIST_FIELDS}
    return Form(values, note.body, note.slug, base_revision)


def form_from_request() -> Form:
    f = request.form
    values = {k: f.get(k, "").strip() for k in TEXT_FIELDS} | {k: [v for v in f.getlist(k) if v] for k in LIST_FIELDS}
    return Form(values, normalise_body(f.get("body", "")), f.get("slug", "").strip(),
                f.get("base_revision", "").strip(), f.get("message", "").strip(),
                f.get("confirm_personal_data", "").strip())


def preview_html(body: str, language: str) -> str:
    slug = request.form.get("note_slug", "") or (request.view_args or {}).get("slug", "")  # its files/ links
    return current_wiki().render_body(current_user, body, language, slug=slug[:200]).html


def render_editor(form: Form, note: Note | None, status: int = 200, may_preview: bool = True, **context):
    """The editor page; ``note`` is the note being edited (None: a new one).

    A preview is rendered only for a signed-in writer whose form passed the CSRF check: the signed-out and
    expired-form pages give the text back unrendered, so rendering costs an anonymous request nothing.
    """
    wiki = current_wiki()
    statuses = access.statuses_for(current_user, note.meta if note else None, wiki.taxonomy)
    if form.values.get("status") and form.values["status"] not in statuses:
        statuses.append(form.values["status"])
    form.errors = {f: [translate(m) for m in msgs] for f, msgs in form.errors.items()}  # domain messages
    if context.get("banner"):
        context["banner"] = translate(context["banner"])
    general = [(field_label(f), m) for f, msgs in form.errors.items() if f not in FIELD_LABELS and f != "slug"
               for m in msgs]
    if "preview" in request.form and may_preview and current_user.is_authenticated:
        context.setdefault("preview", preview_html(form.body, form.values.get("language") or ""))
    return render_template("editor/edit.html", form=form, note=note, statuses=statuses, general_errors=general,
                           field_labels=FIELD_LABELS, name_from_title=name_from_title(form.values.get("title", "")),
                           **context), status


def name_from_title(title: str) -> str:
    """The name a new note gets from its title when the writer gives none (before -2 if it is taken)."""
    return title_name(title)


def _try_save(form: Form, note: Note | None):
    """Save the form; on any refusal, the editor again with the writer's text and what to do."""
    wiki = current_wiki()
    try:
        meta = wiki.new_meta(form.meta_fields(), note.meta if note else None)
        taken = ""
        if note is None:  # a name taken by a note the writer may not read is answered like a free one
            slug, taken = wiki.new_name(current_user, meta.title, form.slug)
        else:
            slug = note.slug
        result = wiki.save(current_user, slug, meta, form.body, form.base_revision or None, message=form.message,
                           create=note is None, confirm_personal_data=form.reason)
    except InvalidNote as exc:
        for f, m in exc.problems:
            form.errors.setdefault(f, []).append(m)
        return render_editor(form, note, 422)
    except NoteExists:
        form.errors["slug"] = [N_("A note with this name already exists; choose another name.")]
        return render_editor(form, note, 409)
    except PersonalDataFound as exc:
        return render_editor(form, note, 422, findings=exc.findings)
    except EditConflict as exc:
        try:
            return _conflict(form, note, exc)
        except NoteNotFound:
            return _gone(form)
    except NoteNotFound:
        return _gone(form)
    except PermissionDenied:
        return render_editor(form, note, 403, banner=N_("You may not save this note with these regions or "
                                                        "this status. Nothing was saved; your text is below."))
    except StorageError as exc:
        return render_editor(form, note, 503, banner=exc)
    if result.merged:
        flash(_("Saved. Someone else saved changes to this note after you opened it; yours were merged with "
                "theirs and both are kept. Check the note below."))
    if taken:
        flash(_("The name %(taken)s was taken, so we used %(used)s.", taken=taken, used=result.slug))
    return redirect(url_for("notes.show", slug=result.slug), 303)


def _gone(form: Form):
    """The note was deleted, renamed or closed to the writer meanwhile: keep the text, offer a new note."""
    form.slug, form.base_revision = "", ""
    return render_editor(form, None, 404, banner=N_("This note is no longer here (it was deleted, renamed or "
                                                    "closed to you). Your text is below: save it as a new note."))


def _conflict(form: Form, note: Note, exc: EditConflict):
    """Both versions and the differences; the next save starts from the current revision, knowingly. When the
    service could merge in part, the form holds the merged note, each clash in the text between marks."""
    wiki = current_wiki()
    theirs = wiki.get_note(current_user, note.slug)
    diff = diff_html(theirs.body, form.body, context=None)  # the saved text against the writer's own
    reason = None
    if exc.merged is not None:
        merged = form_from_note(exc.merged, "")
        form.values.update(merged.values)
        form.body = _translated_marks(merged.body)
        reason = "marks" if has_conflict_marks(merged.body) else "fields" if exc.fields else "readers"
    mine = form.meta_fields()
    saved = form_from_note(theirs, exc.current or "").values
    changed = [(FIELD_LABELS[k], saved.get(k), mine.get(k), k in exc.fields) for k in FIELD_LABELS
               if saved.get(k) != mine.get(k)]
    by = wiki.history_of(current_user, note.slug, limit=1)
    form.base_revision = exc.current or ""
    return render_editor(form, theirs, 409, conflict={
        "theirs": theirs, "revision": exc.current, "by": by[0] if by else None, "fields": changed,
        "diff": diff, "merged": reason, "clash": bool(exc.fields)})


_THEIRS_MARK = re.compile(r"^>>>>>>> saved by (.+?)(?: \((.+)\))?$", re.M)


def _translated_marks(body: str) -> str:
    """The labels of the service's conflict marks in the interface language (the marks stay as they are)."""
    body = body.replace("<<<<<<< " + OURS_LABEL, "<<<<<<< " + _("your version"))
    return _THEIRS_MARK.sub(lambda m: ">>>>>>> " + (_("saved by %(who)s (%(when)s)", who=m.group(1), when=m.group(2))
                                                    if m.group(2) else _("saved by %(who)s", who=m.group(1))), body)


def keeps_text_when_signed_out(view):
    """Like login_required, except that a form posted after the session ended comes back with its text."""
    @functools.wraps(view)
    def wrapper(**kwargs):
        if current_user.is_authenticated:
            return view(**kwargs)
        if request.method != "POST":
            return current_app.login_manager.unauthorized()
        note = None
        if "slug" in kwargs:
            try:
                note = current_wiki().get_note(current_user, kwargs["slug"])
            except NoteNotFound:
                note = None
        return render_editor(form_from_request(), note, 401, may_preview=False, action=request.path, signed_out=True,
                             banner=N_("You are signed out, so nothing was saved. Sign in in another tab "
                                       "or window, then come back and save: your text is below."))
    return wrapper


@bp.route("/notes/new", methods=["GET", "POST"])
@keeps_text_when_signed_out
def new():
    access.require(current_user, "create", "new")
    if request.method == "GET":
        lang = request.args.get("language") or ui_lang()
        lang = lang if lang in current_wiki().taxonomy.languages else "en"
        body = practice_template(lang) if request.args.get("template") == "practice" else ""
        values = {k: "" for k in TEXT_FIELDS} | {k: [] for k in LIST_FIELDS}
        values.update(language=lang, visibility="public", status="draft")
        return render_editor(Form(values, body), None)
    form = form_from_request()
    if "preview" in request.form:
        return render_editor(form, None)
    return _try_save(form, None)


@bp.route("/notes/<slug>/edit", methods=["GET", "POST"])
@keeps_text_when_signed_out
def edit(slug: str):
    wiki = current_wiki()
    if request.method == "GET":
        note = wiki.get_note_and_revision(current_user, slug)  # the base is never ahead of the text
        access.require(current_user, "edit", slug, note.meta, wiki.taxonomy)
        return render_editor(form_from_note(note, note.revision or ""), note)
    form = form_from_request()
    try:
        note = wiki.get_note(current_user, slug)
    except NoteNotFound:
        return _gone(form)
    if "preview" in request.form:
        return render_editor(form, note)
    return _try_save(form, note)


@bp.post("/editor/preview")
@login_required
def preview():
    """The rendered body alone, for the editor's script to show without leaving the page."""
    body = normalise_body(request.form.get("body", ""))
    return Response(preview_html(body, request.form.get("language", "")),
                    mimetype="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store",
                             "X-Kb-Name": name_from_title(request.form.get("title", "")[:300])})


@bp.post("/notes/<slug>/status")
@login_required
def set_status(slug: str):
    """A workflow button on the note page: submit for review, publish, return to draft."""
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    form = form_from_note(note, request.form.get("base_revision", ""))
    form.values["status"] = request.form.get("status", "")
    form.reason = request.form.get("confirm_personal_data", "").strip()
    if form.values["status"] not in access.WORKFLOW:
        raise InvalidNote([("status", N_("choose draft, review or published"))])
    return _try_save(form, note)


@bp.get("/review")
@login_required
def review():
    wiki = current_wiki()
    return render_template("editor/review.html", waiting=wiki.review_queue(current_user),
                           mine=wiki.unfinished(current_user),
                           reviewer=access.is_reviewer(current_user, wiki.taxonomy))


@bp.errorhandler(CSRFError)
def expired_form(exc: CSRFError):
    """A form without a valid CSRF token saves nothing, but the text typed comes back with a fresh form."""
    if request.endpoint not in ("editor.new", "editor.edit"):
        return render_template("error.html", status=400, message=translate(exc.description)), 400
    note = None
    if request.endpoint == "editor.edit" and current_user.is_authenticated:
        try:
            note = current_wiki().get_note(current_user, request.view_args["slug"])
        except NoteNotFound:
            note = None
    return render_editor(form_from_request(), note, 400, may_preview=False,
                         banner=N_("This form had expired or was not sent from kb, so nothing was saved. "
                                   "Your text is below: check it and save again."))


@bp.app_context_processor
def editor_globals() -> dict:
    return {"note_actions": note_actions}


def note_actions(note: Note) -> dict | None:
    """What the signed-in reader may do to a note, for the note page's buttons."""
    if not current_user.is_authenticated:
        return None
    wiki = current_wiki()
    can_edit = wiki.can_edit(current_user, note)
    return {"edit": can_edit,
            "statuses": access.statuses_for(current_user, note.meta, wiki.taxonomy)[1:] if can_edit else [],
            "delete": access.can_delete(current_user, note.meta, wiki.taxonomy),
            "base_revision": wiki.revision_of(note.slug) or ""}
