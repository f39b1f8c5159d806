"""Search: the HTML page /search and the JSON API /api/search take the same parameters."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, jsonify, render_template
from flask_login import current_user

from .helpers import current_wiki, search_query_from_args
from .messages import translate_sentences

bp = Blueprint("search", __name__)


@bp.get("/search")
def page():
    query = search_query_from_args()
    results = current_wiki().search(current_user, query)
    if results.message:  # the domain's English notices, in the interface language
        results = replace(results, message=translate_sentences(results.message))
    return render_template("search/results.html", results=results, query=query)


@bp.get("/api/search")
def api():
    query = search_query_from_args()
    r = current_wiki().search(current_user, query)
    return jsonify({
        "query": query.q, "total": r.total, "page": query.page, "per_page": query.per_page,
        "hits": [{"slug": h.slug, "title": h.title, "language": h.language, "regions": list(h.regions),
                  "topics": list(h.topics), "snippet": h.snippet, "found_in": h.found_in or None,
                  "updated": h.updated.isoformat() if h.updated else None, "score": round(h.score, 4),
                  "reviewed": h.reviewed.isoformat() if h.reviewed else None,
                  "review_due": h.review_due.isoformat() if h.review_due else None}
                 for h in r.hits],
        "facets": {k: r.facets.get(k, {}) for k in ("regions", "countries", "topics", "audience", "language")},
        "suggestion": r.suggestion, "message": r.message,
        "expanded": r.expanded, "other_languages": r.other_languages,
    })
