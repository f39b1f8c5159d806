"""Home page and note pages: read, raw source, history, one revision."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from ..errors import InvalidNote, NoteNotFound, RevisionNotFound
from ..model import check_slug, parse_note
from ..search import SearchQuery
from .helpers import current_wiki, ui_lang

bp = Blueprint("notes", __name__)


@bp.get("/")
def home():
    wiki = current_wiki()
    latest = wiki.search(current_user, SearchQuery(sort="newest", per_page=10, prefer_language=ui_lang()))
    return render_template("notes/home.html", latest=latest)


@bp.get("/notes/<slug>")
def show(slug: str):
    view = current_wiki().view(current_user, slug)
    return render_template("notes/show.html", view=view, note=view.note)


@bp.get("/notes/<slug>/raw")
def raw(slug: str):
    wiki = current_wiki()
    wiki.get_note(current_user, slug)
    return Response(wiki.store.read_bytes(slug), mimetype="text/markdown; charset=utf-8")


@bp.get("/notes/<slug>/history")
def history(slug: str):
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    return render_template("notes/history.html", note=note, revisions=wiki.history_of(current_user, slug))


@bp.get("/notes/<slug>/revisions/<rev>")
def revision(slug: str, rev: str):
    wiki = current_wiki()
    current = wiki.get_note(current_user, slug)
    try:
        data = wiki.history.show(rev, wiki.store.relpath(check_slug(slug)))
        old = parse_note(slug, data.decode("utf-8", errors="replace"), wiki.taxonomy)
    except (RevisionNotFound, InvalidNote):
        raise NoteNotFound(slug) from None
    if not wiki.can_read(current_user, old):
        abort(404)
    rendered = wiki.render(current_user, old)
    return render_template("notes/revision.html", note=old, current=current, rev=rev, rendered=rendered)
