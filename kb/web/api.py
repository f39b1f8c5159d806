"""JSON API for notes (bearer tokens or the session): read, create, update."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user

from ..errors import InvalidNote
from .errors import error_response
from .helpers import current_wiki

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/notes/<slug>")
def get_note(slug: str):
    wiki = current_wiki()
    note = wiki.get_note_and_revision(current_user, slug)  # a base revision never ahead of the body
    updated = wiki.updated_of(note)
    meta = note.meta
    reviewed, review_due = wiki.review_dates(note)
    return jsonify({
        "slug": note.slug,
        "meta": {"title": meta.title, "language": meta.language, "regions": meta.regions, "topics": meta.topics,
                 "audience": meta.audience, "visibility": meta.visibility, "status": meta.status,
                 "summary": meta.summary, "authors": meta.authors,
                 "translations": wiki.followable_translations(current_user, note)},
        "body": wiki.source_for(current_user, note, note.body),  # exact for those who may edit it
        "html": wiki.render(current_user, note).html,
        "revision": note.revision,
        "updated": updated.isoformat() if updated else None,
        "reviewed": reviewed.isoformat() if reviewed else None,
        "review_due": review_due.isoformat() if review_due else None,
    })


def _write_request() -> tuple[dict, dict, str | None, list[tuple[str, str]]]:
    """The JSON object of a write: (object, meta fields, body or None, problems)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidNote([("request", "send a JSON object with Content-Type: application/json")])
    problems = []
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        problems.append(("meta", "must be an object of front matter fields"))
        meta = {}
    body = data.get("body")
    if body is not None and not isinstance(body, str):
        problems.append(("body", "must be text"))
        body = None
    for key in ("message", "confirm_personal_data"):
        if not isinstance(data.get(key, ""), str):
            problems.append((key, "must be text"))
    return data, meta, body, problems


def _unauthenticated():
    return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")


def _meta(current, fields: dict, problems: list):
    try:
        return current_wiki().new_meta(fields, current)
    except InvalidNote as exc:
        problems.extend(exc.problems)
        return None


@bp.post("/notes")
def create_note():
    """Create a note: 201 {"slug", "revision"}; the slug is derived from the title when absent."""
    if not current_user.is_authenticated:
        return _unauthenticated()
    wiki = current_wiki()
    data, fields, body, problems = _write_request()
    meta = _meta(None, fields, problems)
    wanted = data.get("slug")
    if wanted is not None:
        try:
            wanted = wiki.check_new_slug(wanted if isinstance(wanted, str) else "", current_user)
        except InvalidNote as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidNote(problems)
    # a name taken by a note the caller may not read is answered like a free one (see docs/security.md)
    slug, _ = wiki.new_name(current_user, meta.title, wanted or "")
    result = wiki.save(current_user, slug, meta, body or "", None, message=data.get("message", ""), create=True,
                       confirm_personal_data=data.get("confirm_personal_data", ""))
    response = jsonify({"slug": result.slug, "revision": result.revision})
    response.headers["Location"] = url_for("api.get_note", slug=result.slug)
    return response, 201


@bp.put("/notes/<slug>")
def update_note(slug: str):
    """Update a note from the revision it started from: 200 {"slug", "revision", "merged"} (merged: it was
    saved from an older revision and combined with the changes saved since); 409 when those clash, with the
    merged text ("merged_body", clashes between conflict marks) to resolve and send from current_revision."""
    wiki = current_wiki()
    current = wiki.get_note(current_user, slug)  # 404 for a note the caller may not read
    if not current_user.is_authenticated:
        return _unauthenticated()
    data, fields, body, problems = _write_request()
    base = data.get("base_revision")
    if not isinstance(base, str) or not base.strip():
        problems.append(("base_revision", "is required: the revision the change started from "
                                          "(GET /api/notes/<slug> gives it)"))
    if isinstance(fields.get("translations"), dict):  # entries the caller was not shown are kept as they are
        shown = wiki.followable_translations(current_user, current)
        kept = {k: v for k, v in current.meta.translations.items() if k not in shown}
        fields = {**fields, "translations": {**kept, **fields["translations"]}}
    meta = _meta(current.meta, fields, problems)
    if problems:
        raise InvalidNote(problems)
    result = wiki.save(current_user, slug, meta, current.body if body is None else body, base.strip(),
                       message=data.get("message", ""), confirm_personal_data=data.get("confirm_personal_data", ""))
    return jsonify({"slug": result.slug, "revision": result.revision, "merged": result.merged})
