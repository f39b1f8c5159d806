"""Offline region packs over the web: /regions/<slug>/export.zip holds what *this* reader may read."""
from __future__ import annotations

import tempfile

from flask import Blueprint, abort, request, send_file
from flask_login import current_user

from ..export import build_pack
from .helpers import active_values, current_wiki, ui_lang

bp = Blueprint("packs", __name__)
SPOOL_BYTES = 8 * 1024 * 1024  # larger packs go to a temporary file, not memory


@bp.get("/regions/<slug>/export.zip")
def region_pack(slug: str):
    wiki = current_wiki()
    place = wiki.taxonomy.by_slug(slug)
    if place is None:
        abort(404)
    topics = [t for t in active_values("topic") if t in wiki.taxonomy.topics][:20]
    languages = [lang for lang in active_values("lang") if lang in wiki.taxonomy.languages][:3]
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    report = build_pack(wiki, current_user, place.name, out, topics=topics, languages=languages,
                        ui_lang=ui_lang(), base_url=request.url_root)
    out.seek(0)
    response = send_file(out, mimetype="application/zip", as_attachment=True,
                         download_name=report.folder + ".zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"  # made for one reader's access
    return response
