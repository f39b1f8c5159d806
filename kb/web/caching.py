"""Light and fast responses: gzip, validators with 304s, and long-lived static files with hashed URLs.

* gzip: text responses over 1 KB are compressed when the client accepts gzip (``Vary: Accept-Encoding``).
* Note pages get a weak ETag built *before* the page is rendered from what the page shows: the note's bytes
  and revision, its body as rendered for this reader, the backlinks, related notes and translations this
  reader may see, the reader's access context (session, role, regions, CSRF token) and the interface
  language; a match is answered with 304 without rendering the page. A reader who signs in, changes role
  or language never matches an older ETag; a save of a note the page does not show changes nothing.
* Feeds and other documents that are the same for every reader are validated by the hash of their body.
* ``url_for('static', …)`` adds ``?v=<sha1 of the file>``; a request whose ``v`` matches the file is
  served ``public, max-age=31536000, immutable``, so a changed file gets a new URL rather than a stale copy.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
from pathlib import Path

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.http import is_resource_modified
from werkzeug.security import safe_join

from ..errors import KbError
from ..wiki import content_hash
from .helpers import comment_threads, current_wiki, ui_lang

MIN_GZIP_BYTES = 1024
MAX_GZIP_BYTES = 8 * 1024 * 1024
YEAR = 31_536_000
COMPRESSIBLE = {"application/json", "application/javascript", "application/xml", "application/atom+xml",
                "application/opensearchdescription+xml", "image/svg+xml", "application/manifest+json"}
CONDITIONAL_ENDPOINTS = {"notes.show"}


def init_caching(app: Flask) -> None:
    """Register gzip, note-page validators and static-file versioning on the app."""
    app.extensions["kb.build"] = _build_id(app)
    app.extensions["kb.static_hashes"] = {}
    app.url_defaults(_static_version)
    app.before_request(_answer_not_modified)
    app.after_request(_validators_and_static_lifetimes)
    app.after_request(gzip_response)  # registered last, so it runs first: the others only set headers


# --- hashed static URLs ---------------------------------------------------------------------------------

def static_hash(filename: str) -> str | None:
    """The first 12 hex digits of the SHA-1 of a static file, cached per (size, mtime); None if missing."""
    path = safe_join(current_app.static_folder or "", filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    cache = current_app.extensions["kb.static_hashes"]
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in cache:
        cache[key] = hashlib.sha1(Path(path).read_bytes(), usedforsecurity=False).hexdigest()[:12]
    return cache[key]


def _static_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = static_hash(values["filename"])
        if digest:
            values["v"] = digest


# --- validators -----------------------------------------------------------------------------------------

def _build_id(app: Flask) -> str:
    """A digest of the templates, static files and translations: a new release changes every ETag."""
    h = hashlib.sha1(usedforsecurity=False)
    roots = [Path(app.template_folder or ""), Path(app.static_folder or ""), Path(app.root_path) / "translations"]
    for root in roots:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def reader_context() -> str:
    """Who is reading, as far as a page can differ: anonymous, or session + role + regions + CSRF token."""
    if not getattr(current_user, "is_authenticated", False):
        return "anonymous"
    generate_csrf()  # the page's forms will carry a token from this session secret: make sure it exists now
    secret = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), "")
    parts = [current_user.get_id(), getattr(current_user, "role", ""),
             ",".join(getattr(current_user, "regions", []) or []), str(secret)]
    parts += [state() for state in current_app.extensions.get("kb.reader_state", ())]  # e.g. unread notifications
    return "\x1f".join(str(p) for p in parts)


def make_etag(*parts: str) -> str:
    data = "\x1e".join([current_app.extensions["kb.build"], ui_lang(), *parts])
    return hashlib.sha1(data.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:32]


def _revalidate(response: Response, public: bool = False, max_age: int = 0) -> None:
    """Caches must check back (cheap with a 304); a signed-in reader's pages stay out of shared caches."""
    signed_in = getattr(current_user, "is_authenticated", False)
    cc = response.cache_control
    if signed_in:
        cc.private = True
    elif public:
        cc.public = True
    if max_age and not signed_in:
        cc.max_age = max_age
    else:
        cc.no_cache = True
    response.vary.update(("Cookie", "Accept-Language"))


def _hits_shown(hits) -> list[tuple]:
    """What a list of notes on the page shows of each (not the score, which moves with the whole index)."""
    return [(h.slug, h.title, h.language, list(h.regions), list(h.topics), list(h.audience), h.summary,
             h.updated.isoformat() if h.updated else "", h.reviewed, h.review_due) for h in hits]


def _note_validator() -> tuple[str, dt.datetime | None] | None:
    """(ETag, Last-Modified) of the note page asked for, when the reader may read it; else None.

    Both are built from what the page shows this reader and nothing else: the note's bytes and its own
    revision, the body as rendered for them (their wiki links' titles), the backlinks, related notes and
    translations they may see, and the reader's context. Not the repository's head: a save of any note,
    hidden ones included, must not change a page that does not show it.
    """
    if request.endpoint not in CONDITIONAL_ENDPOINTS or request.method not in ("GET", "HEAD"):
        return None
    if "_flashes" in session:  # a pending message must be shown, not skipped by a 304
        return None
    wiki, slug = current_wiki(), (request.view_args or {}).get("slug", "")
    try:
        view = wiki.view(current_user, slug)  # the policy decides before anything is revealed
        file_hash, rewritten = wiki.page_facts(slug)
    except KbError:
        return None  # the view answers with its 404
    g.kb_note_view = view  # the page shows exactly what was validated
    shown = repr((view.rendered.html, view.rendered.toc, _hits_shown(view.backlinks), _hits_shown(view.related),
                  sorted(view.translations.items()), view.newer_translations, view.can_edit, view.attachments,
                  dt.datetime.now(dt.timezone.utc).date(),  # review marks turn "overdue" with the date
                  wiki.revision_of(slug) if getattr(current_user, "is_authenticated", False) else "",
                  comment_threads(slug)))  # signed-in readers' comments, with what they may do to each
    dates = [view.updated, *(h.updated for h in (*view.backlinks, *view.related)),
             rewritten]  # a redaction keeps commit dates
    updated = max([d for d in dates if d], default=None)
    if updated is not None:
        updated = min(updated, dt.datetime.now(dt.timezone.utc))
    etag = make_etag("note", slug, file_hash, content_hash(shown.encode("utf-8", "surrogatepass")),
                     reader_context())
    return etag, updated


def _answer_not_modified():
    validator = _note_validator()
    g.kb_validator = validator
    if validator and not is_resource_modified(request.environ, etag=validator[0], last_modified=validator[1]):
        response = current_app.response_class(status=304)
        _apply(response, *validator)
        return response
    return None


def _apply(response: Response, etag: str, last_modified: dt.datetime | None) -> None:
    response.set_etag(etag, weak=True)
    if last_modified is not None:
        response.last_modified = last_modified
    _revalidate(response)


def conditional(response: Response, scope: str, last_modified: dt.datetime | None = None,
                max_age: int = 0) -> Response:
    """Validate a document that is the same for every reader by the hash of its body; 304 on a match."""
    digest = hashlib.sha1(response.get_data(), usedforsecurity=False).hexdigest()
    response.set_etag(make_etag(scope, digest), weak=True)
    if last_modified is not None:
        response.last_modified = min(last_modified, dt.datetime.now(dt.timezone.utc))
    _revalidate(response, public=True, max_age=max_age)
    return response.make_conditional(request)


def _validators_and_static_lifetimes(response: Response) -> Response:
    validator = g.get("kb_validator")
    if validator and response.status_code == 200:
        _apply(response, *validator)
    if request.endpoint == "static" and response.status_code in (200, 304):
        filename = (request.view_args or {}).get("filename", "")
        version = request.args.get("v")
        if version and version == static_hash(filename):
            cc = response.cache_control
            cc.no_cache = None
            cc.public, cc.max_age, cc.immutable = True, YEAR, True
    return response


# --- gzip -----------------------------------------------------------------------------------------------

def _compressible(response: Response) -> bool:
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        return False  # a download (an attachment) goes byte for byte as kept, under its strong ETag (its SHA-256)
    mimetype = response.mimetype or ""
    return mimetype.startswith("text/") or mimetype in COMPRESSIBLE


def gzip_response(response: Response) -> Response:
    """Compress a text response over MIN_GZIP_BYTES when the client accepts gzip."""
    if not _compressible(response) or response.status_code in (204, 206, 304) \
            or "Content-Encoding" in response.headers or "Content-Range" in response.headers:
        return response
    response.vary.add("Accept-Encoding")
    if request.accept_encodings.quality("gzip") <= 0:
        return response
    if response.direct_passthrough:  # a static file: small ones are read and compressed too
        if not response.content_length or response.content_length > MAX_GZIP_BYTES:
            return response
        response.direct_passthrough = False
    elif response.is_streamed:  # a generator: sent as it comes
        return response
    data = response.get_data()
    if len(data) <= MIN_GZIP_BYTES or len(data) > MAX_GZIP_BYTES:
        return response
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    if len(packed) >= len(data):
        return response
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:  # a strong ETag names exact bytes; these are other bytes
        response.set_etag(etag, weak=True)
    return response
