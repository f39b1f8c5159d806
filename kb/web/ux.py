"""What helps a reader find their way: list marks, plural-aware words, active filters as chips, help, about
and follow pages, the favicon. Template helpers only; every decision about access stays with the policy."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, g, render_template, request, send_from_directory
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..errors import KbError
from .helpers import _url_with, active_values, current_wiki

bp = Blueprint("ux", __name__)

FILTER_PARAMS = ("region", "country", "topic", "audience", "lang")
_SKIPPED = re.compile(r'<span class="skipped">\u2026 (\d+) \u2026</span>')


def note_marks(hit: Any) -> list[tuple[str, str]]:
    """(css class, translated word) for what a listed note is besides public and published: draft, in
    review, internal, restricted. Visitors only ever list public, published notes, so nothing is read; a
    search hit carries its status and visibility as indexed, else the note is read (once per page)."""
    if not current_user.is_authenticated:
        return []
    status, visibility = getattr(hit, "status", None), getattr(hit, "visibility", None)
    if status is None or visibility is None:
        slug = getattr(hit, "slug", hit)
        cache = g.setdefault("kb_marks", {})
        if slug not in cache:
            try:
                meta = current_wiki().get_note(current_user, slug).meta
                cache[slug] = (meta.status, meta.visibility)
            except KbError:
                cache[slug] = ("", "")
        status, visibility = cache[slug]
    marks = []
    if status == "draft":
        marks.append(("draft", _("Draft")))
    elif status == "review":
        marks.append(("review", _("In review")))
    if visibility == "internal":
        marks.append(("internal", _("Internal")))
    elif visibility == "restricted":
        marks.append(("restricted", _("Restricted")))
    return marks


def active_filters() -> list[tuple[str, str, str]]:
    """(parameter, value, URL without it) for each filter in the current URL, for the removable chips."""
    out = []
    for param in FILTER_PARAMS:
        for value in active_values(param):
            args = MultiDict(request.args)
            args.poplist(param)
            args.pop("page", None)
            for v in active_values(param):
                if v != value:
                    args.add(param, v)
            out.append((param, value, _url_with(args)))
    return out


def without_filters() -> str:
    """The current URL with every filter removed (the words and the order are kept)."""
    args = MultiDict(request.args)
    for param in (*FILTER_PARAMS, "page", "since"):
        args.poplist(param)
    return _url_with(args)


def without_param(param: str) -> str:
    """The current URL without one filter (all its values), back on page 1."""
    args = MultiDict(request.args)
    args.poplist(param)
    args.pop("page", None)
    return _url_with(args)


def unchanged_lines(diff_html: str) -> Markup:
    """The diff's "… 20 …" marks as words: "20 unchanged lines" (plural forms of the interface language)."""
    def words(m) -> str:
        said = ngettext("%(num)d unchanged line", "%(num)d unchanged lines", int(m.group(1)))
        return f'<span class="skipped">{Markup.escape(said)}</span>'
    text = _SKIPPED.sub(words, str(diff_html))
    # diff_html is worddiff's output, escaped there; the one thing added is the escaped count sentence
    return Markup(text)  # nosec B704


@functools.lru_cache(maxsize=1)
def map_shapes() -> dict:
    """The countries' outlines (tools/make_map.py made them from Natural Earth), read once when first drawn."""
    with open(Path(__file__).with_name("map_shapes.json"), encoding="utf-8") as f:
        return json.load(f)


def shade(n: int, most: int) -> int:
    """0 (no note) to 4 (the most notes), for the map's colours."""
    return 0 if n <= 0 or most <= 0 else 1 + min(3, (4 * n - 1) // most)


@bp.app_context_processor
def ux_globals() -> dict:
    return {"map_shapes": map_shapes, "shade": shade, "note_marks": note_marks, "active_filters": active_filters,
            "without_filters": without_filters, "without_param": without_param}


@bp.app_template_filter("unchanged_lines")
def _unchanged_lines_filter(value: str) -> Markup:
    return unchanged_lines(value)


@bp.get("/help")
def help_page():
    return render_template("ux/help.html")


@bp.get("/about")
def about():
    return render_template("ux/about.html")


@bp.get("/follow")
def follow():
    wiki = current_wiki()
    return render_template("ux/follow.html", regions=wiki.taxonomy.regions(), topics=wiki.taxonomy.topics)


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(bp.root_path + "/../static", "favicon.ico", mimetype="image/x-icon",
                               max_age=7 * 24 * 3600)

