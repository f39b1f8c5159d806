"""Browsing by place and topic: /regions, /regions/<slug>, /topics, /topics/<topic>."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..search import SearchQuery
from .helpers import current_wiki, search_query_from_args, ui_lang

bp = Blueprint("browse", __name__)


@bp.get("/regions")
def regions():
    wiki = current_wiki()
    counts = wiki.search(current_user, SearchQuery(per_page=1, prefer_language=ui_lang())).facets.get("regions", {})
    return render_template("browse/regions.html", counts=counts)


@bp.get("/regions/<slug>")
def region(slug: str):
    wiki = current_wiki()
    place = wiki.taxonomy.by_slug(slug)
    if place is None:
        abort(404)
    query = replace(search_query_from_args(), q="", places=[place.name], sort="newest")
    results = wiki.search(current_user, query)
    return render_template("browse/region.html", place=place, results=results, query=query)


@bp.get("/topics")
def topics():
    wiki = current_wiki()
    counts = wiki.search(current_user, SearchQuery(per_page=1, prefer_language=ui_lang())).facets.get("topics", {})
    return render_template("browse/topics.html", counts=counts)


@bp.get("/topics/<topic>")
def topic(topic: str):
    wiki = current_wiki()
    if topic not in wiki.taxonomy.topics:
        abort(404)
    query = replace(search_query_from_args(), q="", topics=[topic], sort="newest")
    results = wiki.search(current_user, query)
    return render_template("browse/topic.html", topic=topic, results=results, query=query)
