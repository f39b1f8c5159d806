"""Interface language: a switch kept in a cookie (else the browser's Accept-Language)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request

from ..taxonomy import LANGUAGES
from .sessions import safe_next

bp = Blueprint("i18n", __name__)

LOCALES = LANGUAGES  # the interface speaks every language notes are written in
NAMES = {"en": "English", "fr": "Français", "ar": "العربية"}


@bp.get("/lang/<code>")
def switch(code: str):
    if code not in LOCALES:
        abort(404)
    response = redirect(safe_next(request.args.get("next")))
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response
