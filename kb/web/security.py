"""Sessions, cookies and who a request acts as: the cookie session, or a bearer token on /api/.

Cookies are HttpOnly and SameSite=Lax always, and Secure whenever the request came over HTTPS (behind a
proxy, only when KB_TRUST_PROXY lets ProxyFix believe X-Forwarded-Proto), so one deployment serves both
http://localhost in development and https:// in production without a setting to forget.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, g, request, session
from flask_babel import gettext
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_login.utils import encode_cookie
from flask_wtf.csrf import CSRFProtect

from ..throttle import SignInThrottle
from .sessions import SIGN_IN_KEY, session_limits
from .errors import error_response
from .messages import N_

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
UPLOADS = {"attachments.upload", "attachments_api.api_upload"}  # the endpoints that take a file
UPLOAD_FORM_BYTES = 1024 * 1024  # the form around the file (its fields, the multipart boundaries)


def upload_bytes(app: Flask) -> int:
    """The largest file an upload may hold (KB_MAX_UPLOAD_MB)."""
    return int(float(app.config.get("KB_MAX_UPLOAD_MB") or 10) * 1024 * 1024)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure when this request is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


class KbLoginManager(LoginManager):
    """flask-login, with the remember cookie marked Secure when this request is HTTPS.

    kb offers no "remember me" (a session ends when the browser closes: shared computers are common in
    the field), but should one ever be issued it gets the same flags as the session cookie.
    """

    def _set_cookie(self, response):
        config = current_app.config
        if "_remember_seconds" in session:
            duration = timedelta(seconds=session["_remember_seconds"])
        else:
            duration = config.get("REMEMBER_COOKIE_DURATION", timedelta(days=14))
            duration = timedelta(seconds=duration) if isinstance(duration, int) else duration
        response.set_cookie(
            config.get("REMEMBER_COOKIE_NAME", "remember_token"),
            value=encode_cookie(str(session["_user_id"])),
            expires=datetime.now(timezone.utc) + duration,
            domain=config.get("REMEMBER_COOKIE_DOMAIN"),
            path=config.get("REMEMBER_COOKIE_PATH", "/"),
            secure=bool(config.get("REMEMBER_COOKIE_SECURE")) or request.is_secure,
            httponly=True,
            samesite=config.get("REMEMBER_COOKIE_SAMESITE", "Lax"),
        )


def _invalid_token():
    response, status = error_response(401, gettext("The API token is missing, unknown, revoked, or its account is "
                                                   "disabled."))
    response.status_code = status
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def refuse_large_bodies():
    """413 before anything reads a body larger than MAX_CONTENT_LENGTH (as announced by Content-Length);
    werkzeug stops a body without one at the same size while it is read."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.endpoint in UPLOADS:  # a file upload may be larger: up to KB_MAX_UPLOAD_MB and its form
        limit = max(limit, upload_bytes(current_app) + UPLOAD_FORM_BYTES)
        request.max_content_length = limit  # werkzeug stops a body past it while the form is read
    if limit and (request.content_length or 0) > limit:
        return error_response(413, gettext("The request is larger than %(n)s MB, so it was not read. Nothing "
                                           "was changed.", n=f"{limit / 1024 / 1024:g}"))
    return None


def init_security(app: Flask, login_manager: LoginManager, csrf: CSRFProtect) -> None:
    """Cookie flags, the user loaders, bearer tokens on /api/, and the sign-in throttle."""
    users = app.extensions["kb.users"]
    app.session_interface = SessionInterface()
    # Flask's own defaults (SameSite None) are already in app.config, so set these outright
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Strict", "Lax"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.extensions.setdefault("kb.throttle", SignInThrottle(users.audit_log))
    login_manager.login_message = N_("Please sign in to see this page.")  # translated when flashed
    login_manager.localize_callback = gettext

    @login_manager.user_loader
    def load_user(session_id: str):
        if "token_user" in g:  # an explicit bearer token wins over a cookie sent along with it
            return g.token_user
        user = users.load_session_user(session_id)
        if user is None or not users.sign_ins.check(session.get(SIGN_IN_KEY), user.id, *session_limits()):
            return None  # signed out, expired, or a cookie from before sign-ins were kept: sign in again
        return user

    @login_manager.request_loader
    def load_from_token(_request):
        return g.get("token_user")

    @app.before_request
    def api_credentials():
        """/api/ acts as a bearer token's user; without one, a cookie session must pass CSRF like a form."""
        if not request.path.startswith("/api/"):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            user = users.user_for_token(credentials.strip())
            if user is None:
                return _invalid_token()
            g.token_user, g.token_auth = user, True
            return None
        if request.method not in SAFE_METHODS and app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        return None
