"""Domain errors and HTTP errors mapped once: one HTML error page, one JSON error shape."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..errors import (EditConflict, FileTooLarge, InvalidNote, InvalidSlug, KbError, Message, NoteExists, NoteNotFound,
                      PermissionDenied, PersonalDataFound, RevisionNotFound, StorageError, UnsupportedFile)
from .messages import problems_text, translate

log = logging.getLogger(__name__)
MERGED_FIELDS = ("title", "language", "regions", "topics", "audience", "visibility", "status", "summary")

_STATUS = [(NoteNotFound, 404), (RevisionNotFound, 404), (InvalidSlug, 404), (PermissionDenied, 403),
           (EditConflict, 409), (NoteExists, 409), (InvalidNote, 422), (PersonalDataFound, 422), (StorageError, 503),
           (FileTooLarge, 413), (UnsupportedFile, 415),
           (KbError, 400)]

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You may not do that."),
    404: _l("There is no page here. It may have been moved, or the address may be mistyped."),
    405: _l("That action is not allowed here."),
    409: _l("This note changed since you started; nothing was overwritten."),
    413: _l("That is too large."),
    415: _l("This type of file is not accepted."),
    422: _l("Some fields need attention."),
    429: _l("Too many attempts. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you did caused it."),
    503: _l("The service cannot save right now. Nothing was changed."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None, **extra):
    message = message or MESSAGES.get(status) or _("Error")
    if not isinstance(message, Message):  # a Message keeps its identifier for translate()
        message = str(message)
    if wants_json():
        return jsonify({"error": {"status": status, "message": message, **extra}}), status
    return render_template("error.html", status=status, message=translate(message)), status


def register(app: Flask) -> None:
    @app.errorhandler(KbError)
    def kb_error(exc: KbError):
        status = next(code for cls, code in _STATUS if isinstance(exc, cls))
        message = None if status == 404 else exc.message
        if not wants_json():  # the page speaks the interface language; the API keeps the domain's English
            if isinstance(exc, PermissionDenied):
                message = None  # its text is only the note's name
            elif isinstance(exc, InvalidNote):
                message = (exc.source + ": " if exc.source else "") + problems_text(exc.problems)
        extra = {}
        if isinstance(exc, InvalidNote):
            extra["fields"] = [{"field": f, "message": m} for f, m in exc.problems]
        if isinstance(exc, EditConflict):
            extra["current_revision"] = exc.current
            if exc.merged is not None:  # what a client resolves: the clashes between marks, the fields
                extra["merged_body"] = exc.merged.body
                extra["merged_meta"] = {k: getattr(exc.merged.meta, k) for k in MERGED_FIELDS}
                extra["conflicting_fields"] = list(exc.fields)
        if isinstance(exc, PersonalDataFound):
            extra["personal_data"] = [f.as_dict() for f in exc.findings]
        return error_response(status, message, **extra)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description if status in (400,) and getattr(exc, "description", None) else None
        return error_response(status, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return error_response(500)
