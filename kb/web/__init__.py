"""The web layer: blueprints over the wiki service, one error mapping, security headers."""
from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, auth, browse, errors, i18n, notes, search
from .helpers import current_wiki, template_globals

LOCALES = i18n.LOCALES
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


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
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        return app.extensions["kb.users"].load_session_user(session_id)

    @login_manager.request_loader
    def load_from_token(req):
        header = req.headers.get("Authorization", "")
        if req.path.startswith("/api/") and header.startswith("Bearer "):
            user = app.extensions["kb.users"].user_for_token(header[7:].strip())
            if user is not None:
                g.token_auth = True
            return user
        return None

    for bp in (notes.bp, browse.bp, search.bp, auth.bp, api.bp, i18n.bp):
        app.register_blueprint(bp)
    csrf.exempt(api.bp)  # the API authenticates with bearer tokens, not cookies
    errors.register(app)
    app.context_processor(template_globals)
    app.after_request(security_headers)


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
