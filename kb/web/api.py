"""JSON API for notes (bearer tokens or the session): read now; writes arrive with the publishing flow."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from .helpers import current_wiki

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/notes/<slug>")
def get_note(slug: str):
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    updated = wiki.updated_of(note)
    meta = note.meta
    return jsonify({
        "slug": note.slug,
        "meta": {"title": meta.title, "language": meta.language, "regions": meta.regions, "topics": meta.topics,
                 "audience": meta.audience, "visibility": meta.visibility, "status": meta.status,
                 "summary": meta.summary, "authors": meta.authors, "translations": meta.translations},
        "body": note.body,
        "html": wiki.render(current_user, note).html,
        "revision": wiki.revision_of(slug),
        "updated": updated.isoformat() if updated else None,
    })
