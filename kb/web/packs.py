"""Offline region packs over the web: /regions/<slug>/export.zip is the public pack, whoever asks;
?internal=1 is a signed-in reader's own pack (what they may read), marked and recorded in the audit log."""
from __future__ import annotations

import tempfile

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user

from .helpers import active_values, current_wiki, record, ui_lang

bp = Blueprint("packs", __name__)
SPOOL_BYTES = 8 * 1024 * 1024  # larger packs go to a temporary file, not memory
YES = ("1", "true", "yes", "on")


@bp.get("/regions/<slug>/export.zip")
def region_pack(slug: str):
    wiki = current_wiki()
    place = wiki.taxonomy.by_slug(slug)
    if place is None:
        abort(404)
    internal = request.args.get("internal", "").strip().lower() in YES
    if internal and not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # to sign in, then back here
    topics = [t for t in active_values("topic") if t in wiki.taxonomy.topics][:20]
    languages = [lang for lang in active_values("lang") if lang in wiki.taxonomy.languages][:3]
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    report = wiki.build_pack(current_user, place.name, out, topics=topics, languages=languages,
                        ui_lang=ui_lang(), base_url=request.url_root, internal=internal)
    if internal:
        record("pack_internal", place.slug, f"{report.folder}.zip, {len(report.slugs)} notes")
    out.seek(0)
    response = send_file(out, mimetype="application/zip", as_attachment=True,
                         download_name=report.folder + ".zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"  # an internal pack is one reader's
    return response

