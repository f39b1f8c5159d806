"""Files beside the notes over the web: served with their note's readers exactly (a hidden note's files are
404 like files that do not exist), uploaded from the editor (a plain form, no script needed) or the JSON
API, removed by whoever may edit the note. Served with nosniff, a sandbox for PDFs and tables, a safe
Content-Disposition, a strong ETag (the content's SHA-256) and, at a URL naming that hash, a year's caching."""
from __future__ import annotations

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..errors import FileTooLarge, KbError, NoteNotFound, PermissionDenied, PersonalDataFound, UnsupportedFile
from ..wiki import Attachment
from .errors import error_response
from .helpers import current_wiki
from .messages import translate
from .security import upload_bytes

bp = Blueprint("attachments", __name__)
api_bp = Blueprint("attachments_api", __name__, url_prefix="/api")
YEAR = 31_536_000


def file_url(item: Attachment, thumb: bool = False) -> str:
    """The URL of an attachment, naming its content's hash: a new content gets a new URL."""
    return url_for("attachments.thumb" if thumb else "attachments.file", slug=item.slug, name=item.name,
                   v=item.sha256[:16])


def size_text(size: int) -> str:
    """A size for people: '850 KB', '2.4 MB', in the interface language."""
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(max(1, round(size / 1024))))
    return _("%(n)s MB", n=format_decimal(round(size / 1024 / 1024, 1)))


def kind_text(kind: str) -> str:
    return {"jpeg": _("JPEG photo"), "png": _("PNG image"), "webp": _("WebP image"), "pdf": _("PDF document"),
            "csv": _("CSV table")}.get(kind, kind)


def _serve(slug: str, name: str, thumb: bool) -> Response:
    kept_in = request.args.get("rev", "")[:40] if not thumb else ""  # a removed file, for admins
    item, data = current_wiki().attachment(current_user, slug, name, thumb, kept_in)  # NoteNotFound: 404
    response = Response(data, mimetype=item.mimetype)  # at most KB_MAX_UPLOAD_MB
    response.set_etag(item.sha256 + ("-thumb" if thumb else ""))  # strong: these exact bytes
    disposition = "inline" if item.is_image else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{item.name}"'  # a safe slug name
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not item.is_image:  # a PDF or a table never runs a script or a form in kb's origin
        response.headers["Content-Security-Policy"] = "sandbox"
    cc = response.cache_control
    cc.private = True  # the note's readers may change: never in a shared cache
    if request.args.get("v") == item.sha256[:16] or kept_in:  # a URL naming the content: it never changes
        cc.max_age, cc.immutable = YEAR, True
    else:
        cc.no_cache = True
    response.vary.add("Cookie")
    return response.make_conditional(request)


@bp.get("/notes/<slug>/files/<name>")
def file(slug: str, name: str):
    return _serve(slug, name, thumb=False)


@bp.get("/notes/<slug>/thumbs/<name>")
def thumb(slug: str, name: str):
    return _serve(slug, name, thumb=True)


def _editable(slug: str):
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    access.require(current_user, "edit", slug, note.meta, wiki.taxonomy)
    return note


@bp.get("/notes/<slug>/files")
@login_required
def manage(slug: str):
    """The note's files, a form to add one and a button to remove each (works without a script)."""
    note = _editable(slug)
    wiki = current_wiki()
    return render_template("attachments/manage.html", note=note, files=wiki.attachments(current_user, slug),
                           removed=wiki.removed_attachments(current_user, slug))


def _back(slug: str):
    target = "editor.edit" if request.form.get("next") == "edit" else "attachments.manage"
    return redirect(url_for(target, slug=slug, _anchor="attachments"), 303)


@bp.post("/notes/<slug>/files")
@login_required
def upload(slug: str):
    wiki = current_wiki()
    note = _editable(slug)
    sent = request.files.get("file")
    reason = request.form.get("confirm_personal_data", "").strip()
    if sent is None or not sent.filename:
        return _manage_again(note, 400, _("Choose a file to upload."))
    try:
        item = wiki.upload(current_user, slug, sent.filename, sent.read(upload_bytes(current_app) + 1),
                           upload_bytes(current_app), confirm=reason)
    except (FileTooLarge, UnsupportedFile) as exc:
        return _manage_again(note, 413 if isinstance(exc, FileTooLarge) else 415, translate(exc))
    except PersonalDataFound as exc:
        return _manage_again(note, 422, _("This file may contain personal data, and the note is public. Check "
                                          "the items below, then choose the file again and confirm with a reason, "
                                          "or upload a changed file."), findings=exc.findings, reason=reason)
    snippet = f"![{item.name}](files/{item.name})" if item.is_image else f"[{item.name}](files/{item.name})"
    flash(_("Added %(name)s. To show it in the text, write %(markdown)s.", name=item.name, markdown=snippet))
    return _back(slug)


def _manage_again(note, status: int, error: str, **context):
    files = current_wiki().attachments(current_user, note.slug)
    return render_template("attachments/manage.html", note=note, files=files, error=error, **context), status


@bp.post("/notes/<slug>/files/<name>/delete")
@login_required
def remove(slug: str, name: str):
    current_wiki().remove_attachment(current_user, slug, name)
    flash(_("Removed %(name)s. The note's history keeps it.", name=name))
    return _back(slug)


# --- the JSON API ----------------------------------------------------------------------------------------------

def as_json(item: Attachment) -> dict:
    return {"name": item.name, "url": file_url(item), "size": item.size, "type": item.mimetype,
            "sha256": item.sha256, "thumbnail": file_url(item, thumb=True) if item.thumb else None}


def _signed_in():
    if not current_user.is_authenticated:
        return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    return None


@api_bp.get("/notes/<slug>/attachments")
def api_listing(slug: str):
    return jsonify({"attachments": [as_json(i) for i in current_wiki().attachments(current_user, slug)]})


@api_bp.post("/notes/<slug>/attachments")
def api_upload(slug: str):
    """Add a file (multipart field ``file``): 201 {"name", "url", "size", "type", "sha256"}."""
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)  # 404 for a note the caller may not read
    refused = _signed_in()
    if refused:
        return refused
    access.require(current_user, "edit", slug, note.meta, wiki.taxonomy)
    sent = request.files.get("file")
    if sent is None:
        return error_response(400, "Send the file as the multipart/form-data field 'file'.")
    item = wiki.upload(current_user, slug, sent.filename or "file", sent.read(upload_bytes(current_app) + 1),
                       upload_bytes(current_app), confirm=request.form.get("confirm_personal_data", ""))
    response = jsonify(as_json(item))
    response.headers["Location"] = file_url(item)
    return response, 201


@api_bp.delete("/notes/<slug>/attachments/<name>")
def api_delete(slug: str, name: str):
    """Remove a file: 200 {"revision"}; the note's history keeps it."""
    current_wiki().get_note(current_user, slug)
    refused = _signed_in()
    if refused:
        return refused
    return jsonify({"revision": current_wiki().remove_attachment(current_user, slug, name)})


@bp.app_context_processor
def attachment_globals() -> dict:
    return {"file_url": file_url, "size_text": size_text, "kind_text": kind_text, "note_files": _note_files,
            "pack_size": _pack_size}


def _note_files(slug: str) -> list[Attachment]:
    try:
        return current_wiki().attachments(current_user, slug)
    except (NoteNotFound, PermissionDenied):
        return []


def _pack_size(place: str, internal: bool = False, topics=(), languages=()) -> str:
    """About how large a region's pack is, shown before the download."""
    try:
        size = current_wiki().pack_size(current_user, place, topics=topics, languages=languages, internal=internal)
    except KbError:  # a size is a courtesy: the page never fails for want of one
        return ""
    return size_text(size) if size else ""
