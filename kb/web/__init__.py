"""The web layer: blueprints over the wiki service, one error mapping, security headers."""
from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import account, admin, api, auth, browse, errors, i18n, notes, search
from .helpers import admins_only, audit_address_end, audit_address_start, current_wiki, template_globals
from . import attachments, audit, comments, editor, feeds, glossary, manage, notify, openapi, packs, redaction, reviews, ux
from .caching import init_caching
from .security import KbLoginManager, init_security, refuse_large_bodies

LOCALES = i18n.LOCALES
csrf = CSRFProtect()
babel = Babel()
login_manager = KbLoginManager()


def _select_locale() -> str:
    chosen = request.cookies.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "en"


def init_web(app: Flask) -> None:
    if app.config.get("KB_TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.before_request(refuse_large_bodies)  # first: before the CSRF check reads the form
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    init_security(app, login_manager, csrf)
    app.before_request(admins_only)  # one guard for every /admin page
    app.before_request(audit_address_start)  # the write path audits changes with the client's address
    app.teardown_request(audit_address_end)

    for bp in (notes.bp, browse.bp, search.bp, auth.bp, account.bp, admin.bp, api.bp, i18n.bp):
        app.register_blueprint(bp)
    app.register_blueprint(openapi.bp)  # /api/openapi.json describes the JSON API
    csrf.exempt(api.bp)  # bearer tokens need no CSRF token; cookie sessions on /api/ are checked in security.py
    errors.register(app)
    app.context_processor(template_globals)
    app.after_request(security_headers)
    for bp in (feeds.bp, packs.bp):  # feeds, sitemap, OpenSearch; offline region packs
        app.register_blueprint(bp)
    for bp in (editor.bp, manage.bp, audit.bp):  # publishing: editor, revisions/rename/delete, audit log
        app.register_blueprint(bp)
    app.register_blueprint(redaction.bp)  # admins take a passage out of a note's whole history
    app.register_blueprint(ux.bp)  # list marks, filter chips, help, about, follow, favicon
    app.register_blueprint(comments.bp)  # comments on notes, for signed-in readers of the note
    app.register_blueprint(comments.api_bp)
    csrf.exempt(comments.api_bp)  # like the API's: cookie sessions on /api/ are checked in security.py

    for bp in (reviews.bp, reviews.api_bp):  # review dates: still accurate, trust marks and scores, /admin
        app.register_blueprint(bp)
    csrf.exempt(reviews.api_bp)  # like api.bp: security.py checks cookie sessions on /api/
    for bp in (notify.bp, notify.api_bp):  # subscriptions, /notifications, unsubscribe links, /api/subscriptions
        app.register_blueprint(bp)
    csrf.exempt(notify.api_bp)  # like api.bp: bearer tokens, and cookie sessions checked in security.py
    csrf.exempt(notify.unsubscribe)  # RFC 8058: a mail client POSTs the signed link, with no cookie or form
    app.register_blueprint(attachments.bp)  # files beside the notes: served, uploaded, removed
    app.register_blueprint(attachments.api_bp)
    csrf.exempt(attachments.api_bp)  # as the API: tokens need none; cookie sessions are checked in security.py
    app.register_blueprint(glossary.bp)  # the cross-language glossary: read by all, edited by focal points
    init_caching(app)  # gzip, ETag/304, hashed static URLs


def security_headers(response):
    """A strict CSP (no inline script or style) is the second wall behind the sanitiser."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


__all__ = ["init_web", "current_wiki"]
