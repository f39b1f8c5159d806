"""Home page and note pages: read, raw source, history, one revision."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, g, render_template, request, session
from flask_login import current_user

from .. import access
from ..search import SearchQuery
from .helpers import current_wiki, old_texts_for_signed_in, ui_lang

bp = Blueprint("notes", __name__)


@bp.get("/")
def home():
    wiki = current_wiki()
    mine = None
    regions = list(getattr(current_user, "regions", None) or [])
    latest = wiki.search(current_user, SearchQuery(sort="newest", per_page=15 if regions else 10,
                                                   prefer_language=ui_lang()))
    if regions:  # a focal point sees first what is new in the regions they answer for; "latest" the rest
        mine = wiki.search(current_user, SearchQuery(sort="newest", per_page=5, places=regions,
                                                     prefer_language=ui_lang()))
        shown = {h.slug for h in mine.hits}
        latest = replace(latest, hits=[h for h in latest.hits if h.slug not in shown][:10])
    return render_template("notes/home.html", latest=latest, mine=mine, my_region=regions[0] if regions else "")


@bp.get("/notes/<slug>")
def show(slug: str):
    view = g.pop("kb_note_view", None) or current_wiki().view(current_user, slug)  # caching built it already
    # an anonymous reader's page is the same for every anonymous reader (one reader class, no session, no
    # form token): kept with the view's cached parts, and dropped with them when a note it shows changes
    key = None if getattr(current_user, "is_authenticated", False) or "_flashes" in session else \
        (ui_lang(), request.host_url, request.full_path)
    page = view.shared.get(key) if key is not None else None
    if page is None:
        page = render_template("notes/show.html", view=view, note=view.note)
        if key is not None and hasattr(view.shared, "keep"):
            view.shared.keep(key, page)
    return page


@bp.get("/notes/<slug>/raw")
def raw(slug: str):
    return Response(current_wiki().raw_source(current_user, slug), mimetype="text/markdown; charset=utf-8")


@bp.get("/notes/<slug>/history")
def history(slug: str):
    wiki = current_wiki()
    note = wiki.get_note(current_user, slug)
    revisions = wiki.revisions_with_info(current_user, slug)
    return render_template("notes/history.html", note=note, revisions=revisions,
                           can_edit=wiki.can_edit(current_user, note),
                           old_texts=access.can_read_old_revisions(current_user),
                           can_redact=access.can_redact(current_user))


@bp.get("/notes/<slug>/revisions/<rev>")
def revision(slug: str, rev: str):
    wiki = current_wiki()
    current = wiki.get_note(current_user, slug)
    if not access.can_read_old_revisions(current_user):
        return old_texts_for_signed_in(current)
    old = wiki.note_at(current_user, slug, rev)  # follows renames; NoteNotFound for what may not be read
    rendered = wiki.render(current_user, old)
    return render_template("notes/revision.html", note=old, current=current, rev=old.revision, rendered=rendered,
                           can_edit=wiki.can_edit(current_user, current),
                           base_revision=wiki.revision_of(slug) or "")
