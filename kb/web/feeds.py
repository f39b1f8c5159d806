"""Feeds and discovery: Atom feeds, sitemap.xml, the OpenSearch description, and the <link>s that announce them.

Everything here is read as the anonymous reader through the wiki service, so a feed or the sitemap
holds public, published notes only, whoever asks for it (an admin gets the very same bytes). Entries
carry the note's summary and, as ``content type="html"``, its whole sanitised body rendered for that
anonymous reader (links to notes the public may not read are shown as missing), with links made
absolute so the entry reads the same in any feed reader.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin

from ..errors import NoteNotFound
from ..search import Hit, SearchQuery
from ..taxonomy import LANGUAGES
from .caching import conditional
from .helpers import current_wiki, text_dir, ui_lang

bp = Blueprint("feeds", __name__)

PUBLIC = AnonymousUserMixin()  # the reader every feed is written for: public, published notes only
FEED_SIZE = 50
SITEMAP_MAX = 50_000  # the sitemap protocol's limit per file
ATOM = "application/atom+xml; charset=utf-8"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # "updated" of an empty feed: stable, so cacheable
# Characters XML 1.0 forbids even as references; front matter could carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


def xml_text(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def rfc3339(value: dt.datetime | None) -> str:
    value = value or EPOCH
    value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Entry:
    url: str
    title: str
    language: str
    updated: str
    published: str | None
    summary: str
    content: str  # sanitised HTML (escaped again by the template, as content type="html" wants)
    authors: list[str]
    categories: list[tuple[str, str]]  # (term, label)


def _entry(hit: Hit, root: str) -> Entry | None:
    wiki = current_wiki()
    try:
        note = wiki.get_note(PUBLIC, hit.slug)  # the policy again, on the file itself
    except NoteNotFound:
        return None  # the index lags behind a change
    lang, url = ui_lang(), url_for("notes.show", slug=note.slug, _external=True)
    body = _ROOT_RELATIVE.sub(lambda m: m.group(1) + root + "/", " " + wiki.render(PUBLIC, note).html)[1:]
    body = body.replace(' href="#', f' href="{url}#')  # footnotes: relative to the note, not the feed
    body = f'<div lang="{note.meta.language}" dir="{text_dir(note.meta.language)}">{body}</div>'
    cats = [(r, wiki.taxonomy.label("place", r, lang)) for r in note.meta.regions]
    cats += [(t, wiki.taxonomy.label("topic", t, lang)) for t in note.meta.topics]
    return Entry(url=url, title=xml_text(note.meta.title),
                 language=note.meta.language, updated=rfc3339(hit.updated or wiki.updated_of(note)),
                 published=rfc3339(note.meta.created) if note.meta.created else None,
                 summary=xml_text(note.meta.summary), content=xml_text(body),
                 authors=[xml_text(a) for a in note.meta.authors],
                 categories=[(xml_text(t), xml_text(lbl)) for t, lbl in cats])


def _feed(title: str, page_url: str, **filters) -> Response:
    """The newest public notes matching the filters, as an Atom 1.0 feed with validators."""
    root = request.url_root.rstrip("/")
    results = current_wiki().search(PUBLIC, SearchQuery(sort="newest", per_page=FEED_SIZE, **filters))
    entries = [e for e in (_entry(h, root) for h in results.hits) if e is not None]
    updated = max((e.updated for e in entries), default=rfc3339(None))
    body = render_template("feeds/atom.xml", title=xml_text(title), entries=entries, updated=updated,
                           feed_id=request.base_url, self_url=request.base_url, page_url=page_url,
                           root=root + "/", lang=ui_lang())
    response = Response(body, mimetype="application/atom+xml")
    response.content_type = ATOM
    response.vary.add("Accept")
    if request.accept_mimetypes.best_match(["application/atom+xml", "text/html"]) == "text/html":
        response.content_type = "application/xml; charset=utf-8"  # a browser: shown through feed.xsl
    last_modified = dt.datetime.fromisoformat(updated.replace("Z", "+00:00"))
    return conditional(response, "feed", last_modified=last_modified, max_age=300)


@bp.get("/feeds/all.atom")
def all_notes():
    return _feed(_("kb: latest practice notes"), url_for("notes.home", _external=True))


@bp.get("/feeds/regions/<slug>.atom")
def region(slug: str):
    place = current_wiki().taxonomy.by_slug(slug)
    if place is None:
        abort(404)
    name = current_wiki().taxonomy.label("place", place.name, ui_lang())
    return _feed(_("kb: practice notes for %(place)s", place=name),
                 url_for("browse.region", slug=slug, _external=True), places=[place.name])


@bp.get("/feeds/topics/<topic>.atom")
def topic(topic: str):
    taxonomy = current_wiki().taxonomy
    if topic not in taxonomy.topics:
        abort(404)
    name = taxonomy.label("topic", topic, ui_lang())
    return _feed(_("kb: practice notes on %(topic)s", topic=name),
                 url_for("browse.topic", topic=topic, _external=True), topics=[topic])


def public_hits(**filters) -> list[Hit]:
    """Every public, published note matching the filters, newest first (up to SITEMAP_MAX)."""
    wiki, hits, page = current_wiki(), [], 1
    while len(hits) < SITEMAP_MAX:
        results = wiki.search(PUBLIC, SearchQuery(sort="newest", per_page=100, page=page, **filters))
        hits += results.hits
        if not results.hits or len(hits) >= results.total:
            break
        page += 1
    return hits[:SITEMAP_MAX]


@bp.get("/sitemap.xml")
def sitemap():
    taxonomy = current_wiki().taxonomy
    pages = [(url_for("notes.home", _external=True), None), (url_for("browse.regions", _external=True), None),
             (url_for("browse.topics", _external=True), None)]
    pages += [(url_for("browse.region", slug=p.slug, _external=True), None) for p in taxonomy.places.values()]
    pages += [(url_for("browse.topic", topic=t, _external=True), None) for t in taxonomy.topics]
    pages += [(url_for("notes.show", slug=h.slug, _external=True), rfc3339(h.updated)[:10]) for h in public_hits()]
    body = render_template("feeds/sitemap.xml", pages=pages)
    response = Response(body, mimetype="application/xml")
    return conditional(response, "sitemap", max_age=300)


@bp.get("/opensearch.xml")
def opensearch():
    search = url_for("search.page", _external=True)
    body = render_template("feeds/opensearch.xml", search_url=search + "?q={searchTerms}",
                           self_url=request.base_url, description=_("Search practice notes on migrant protection"),
                           languages=LANGUAGES)
    response = Response(body, mimetype="application/opensearchdescription+xml")
    return conditional(response, "opensearch", max_age=86400)


@bp.app_context_processor
def discovery():
    """feed_links(): the Atom feeds a page announces in its <head> (all notes; its region or topic)."""
    def feed_links() -> list[tuple[str, str]]:
        links = [(_("Latest notes (Atom)"), url_for("feeds.all_notes"))]
        args = request.view_args or {}
        if request.endpoint == "browse.region" and "slug" in args:
            place = current_wiki().taxonomy.by_slug(args["slug"])
            if place is not None:
                label = current_wiki().taxonomy.label("place", place.name, ui_lang())
                links.append((_("%(place)s (Atom)", place=label), url_for("feeds.region", slug=place.slug)))
        elif request.endpoint == "browse.topic" and args.get("topic") in current_wiki().taxonomy.topics:
            label = current_wiki().taxonomy.label("topic", args["topic"], ui_lang())
            links.append((_("%(topic)s (Atom)", topic=label), url_for("feeds.topic", topic=args["topic"])))
        return links
    return {"feed_links": feed_links}
