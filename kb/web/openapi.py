"""The JSON API described: an OpenAPI 3.1 document, served at /api/openapi.json.

Kept as data beside the routes it describes (api.py, search.py, comments.py); tests/test_openapi.py checks that every
/api/ route of the app is described, and fuzzes the API against this document on a live server.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from ..taxonomy import LANGUAGES

bp = Blueprint("openapi", __name__)

_SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 120}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_LANGUAGE = {"type": "string", "enum": list(LANGUAGES)}
_STATUS = {"type": "string", "enum": ["draft", "review", "published"]}
_VISIBILITY = {"type": "string", "enum": ["public", "internal", "restricted"]}
_DATE = {"type": ["string", "null"], "format": "date-time"}
_REVIEWED = {"type": ["string", "null"], "format": "date",
             "description": "the day the note was last reviewed (front matter `reviewed`); null: never"}
_REVIEW_DUE = {"type": ["string", "null"], "format": "date",
               "description": "the day its next review falls due: `reviewed` (else its creation) plus "
                              "`review_every` days (the taxonomy's default when absent, 180); null for a "
                              "note that is not published"}
_KIND = {"type": "string", "enum": ["region", "country", "topic", "note"]}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _errors(*statuses: int) -> dict:
    text = {400: "The request could not be understood (e.g. a cookie session without its CSRF token).",
            401: "Not signed in, or the bearer token is unknown, revoked or its account disabled.",
            403: "The caller may not do that (e.g. publish in regions they do not answer for).",
            404: "No note by that name that the caller may read (said alike for hidden and missing ones).",
            405: "That method is not allowed here.",
            409: "The base revision is stale (the note changed meanwhile), or the chosen name is taken by a "
                 "note the caller may read.",
            413: "The request is too large (a file over KB_MAX_UPLOAD_MB).",
            415: "The file's content is not an accepted type (JPEG, PNG, WebP, PDF, plain CSV).",
            422: "Some fields need attention: one entry per field in error.fields; or personal data needs "
                 "a confirmation (error.personal_data).",
            429: "Too many requests.",
            503: "The content store cannot save right now (a full disk; with several nodes, the shared content "
                 "remote cannot be reached); nothing was changed. Reads go on; try again later."}
    return {str(s): _error(text[s]) for s in statuses}


_META_PROPERTIES = {
    "title": {"type": "string"}, "language": _LANGUAGE, "regions": _STRINGS, "topics": _STRINGS,
    "audience": _STRINGS, "visibility": _VISIBILITY, "status": _STATUS, "summary": {"type": "string"},
    "translations": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": "language -> note name; entries naming a note the caller may not read "
                                    "are left out of answers, and kept as they are on an update"},
}

SPEC: dict = {
    "openapi": "3.1.0",
    "info": {"title": "kb JSON API", "version": "1",
             "description": "Read, search, create, update and review notes. Authenticate with "
                              "'Authorization: Bearer <token>' (kb token USERNAME), or a signed-in session "
                              "(writes then need the X-CSRFToken header). Every error has one shape: "
                              '{"error": {"status", "message", ...}}. What a caller may not read answers '
                              "exactly like what does not exist."},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {
                    "type": "object", "required": ["status", "message"],
                    "properties": {
                        "status": {"type": "integer"}, "message": {"type": "string"},
                        "fields": {"type": "array", "items": {
                            "type": "object", "required": ["field", "message"],
                            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                        "current_revision": {"type": ["string", "null"]},
                        "personal_data": {"type": "array", "items": {
                            "type": "object",
                            "required": ["field", "line", "column", "kind", "text", "message"],
                            "properties": {"field": {"type": "string"}, "line": {"type": "integer"},
                                           "column": {"type": "integer"}, "kind": {"type": "string"},
                                           "text": {"type": "string"}, "message": {"type": "string"}}}}}}}},
            "Note": {
                "type": "object",
                "required": ["slug", "meta", "body", "html", "revision", "updated", "reviewed", "review_due"],
                "properties": {
                    "slug": {"type": "string"},
                    "meta": {"type": "object",
                             "required": ["title", "language", "regions", "topics", "audience", "visibility",
                                          "status", "summary", "authors", "translations"],
                             "properties": {**_META_PROPERTIES, "authors": _STRINGS}},
                    "body": {"type": "string", "description": "Markdown"},
                    "html": {"type": "string", "description": "the body rendered, sanitised"},
                    "revision": {"type": ["string", "null"],
                                 "description": "the base revision for an update"},
                    "updated": _DATE, "reviewed": _REVIEWED, "review_due": _REVIEW_DUE}},
            "Reviewed": {"type": "object", "required": ["reviewed", "review_due"],
                         "properties": {"reviewed": {"type": "string", "format": "date"},
                                        "review_due": _REVIEW_DUE}},
            "Saved": {"type": "object", "required": ["slug", "revision"],
                      "properties": {"slug": {"type": "string"}, "revision": {"type": "string"}}},
            "Comment": {
                "type": "object",
                "required": ["id", "author", "body_html", "created", "edited", "reply_to", "resolved", "deleted",
                             "may_edit", "may_delete", "may_resolve"],
                "description": "A comment on a note, for signed-in readers of the note only (never public).",
                "properties": {
                    "id": {"type": "integer"},
                    "author": {"type": ["string", "null"], "description": "username; null once deleted"},
                    "body_html": {"type": "string", "description": "the Markdown rendered and sanitised as a "
                                  "note's body, links to notes the caller may not read masked"},
                    "body": {"type": "string", "description": "the Markdown source: for its writer only"},
                    "created": {"type": "string", "format": "date-time"}, "edited": _DATE,
                    "reply_to": {"type": ["integer", "null"],
                                 "description": "the comment that starts the thread; null for a thread's start"},
                    "resolved": {"type": "boolean"},
                    "deleted": {"type": "boolean", "description": "a deleted thread start kept for its replies"},
                    "may_edit": {"type": "boolean", "description": "its writer, 15 minutes after writing"},
                    "may_delete": {"type": "boolean"}, "may_resolve": {"type": "boolean"},
                    "replies": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"},
                                "description": "a thread start's replies (one level deep), oldest first"},
                    "personal_data": {"type": "array", "description": "on a new comment: likely personal data "
                                      "found in it, a warning (comments are never public, so it is saved)",
                                      "items": {"type": "object",
                                                "required": ["line", "column", "kind", "text", "message"],
                                                "properties": {"line": {"type": "integer"},
                                                               "column": {"type": "integer"},
                                                               "kind": {"type": "string"},
                                                               "text": {"type": "string"},
                                                               "message": {"type": "string"}}}}}},
            "MetaFields": {"type": "object", "properties": _META_PROPERTIES,
                           "description": "front matter fields; authors, created and updated belong to kb"},
            "Hit": {"type": "object",
                    "required": ["slug", "title", "language", "regions", "topics", "snippet", "updated", "score",
                                 "reviewed", "review_due"],
                    "properties": {"slug": {"type": "string"}, "title": {"type": "string"},
                                   "language": {"type": "string"}, "regions": _STRINGS, "topics": _STRINGS,
                                   "snippet": {"type": ["string", "null"], "description": "safe HTML"},
                                   "found_in": {"type": ["string", "null"],
                                                "description": "the attachment the snippet comes from"},
                                   "updated": _DATE, "score": {"type": "number"},
                                   "reviewed": _REVIEWED, "review_due": _REVIEW_DUE}},
            "Subscription": {"type": "object", "required": ["kind", "value"],
                             "properties": {"kind": _KIND, "value": {"type": "string", "maxLength": 200},
                                            "frequency": {"type": "string",
                                                          "enum": ["immediate", "daily", "weekly"]}}},
            "Attachment": {
                "type": "object", "required": ["name", "url", "size", "type", "sha256"],
                "properties": {"name": {"type": "string"}, "url": {"type": "string"},
                               "size": {"type": "integer", "minimum": 0}, "type": {"type": "string"},
                               "sha256": {"type": "string"}, "thumbnail": {"type": ["string", "null"]}}},
            "SearchResults": {
                "type": "object",
                "required": ["query", "total", "page", "per_page", "hits", "facets", "suggestion", "message"],
                "properties": {
                    "query": {"type": "string"}, "total": {"type": "integer", "minimum": 0},
                    "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
                    "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                    "facets": {"type": "object", "additionalProperties": {
                        "type": "object", "additionalProperties": {"type": "integer"}}},
                    "suggestion": {"type": ["string", "null"]}, "message": {"type": ["string", "null"]},
                    "expanded": {"type": "array", "description": "the glossary's terms the query was expanded "
                                 "with into the other languages", "items": {"type": "object", "properties": {
                                     "words": {"type": "string"}, "language": {"type": "string"},
                                     "terms": {"type": "object", "additionalProperties": _STRINGS}}}},
                    "other_languages": {"type": "integer", "minimum": 0,
                                        "description": "results in other languages than the reader's"}}},
        },
    },
    "security": [{}, {"bearer": []}],
    "paths": {
        "/api/notes/{slug}": {
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": _SLUG,
                            "example": "psychological-first-aid-training-lebanon"}],
            "get": {
                "operationId": "getNote", "summary": "A note the caller may read, with its base revision.",
                "responses": {"200": {"description": "The note.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Note"}}}},
                    "301": {"description": "An old name of a renamed note: the new address."},
                    **_errors(401, 404, 429)}},
            "put": {
                "operationId": "updateNote",
                "summary": "Update a note from the revision the change started from; fields left out stay.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["base_revision"],
                    "properties": {"base_revision": {"type": "string"},
                                   "meta": {"$ref": "#/components/schemas/MetaFields"},
                                   "body": {"type": "string"}, "message": {"type": "string"},
                                   "confirm_personal_data": {"type": "string"}}}}}},
                "responses": {"200": {"description": "Saved.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Saved"}}}},
                    **_errors(400, 401, 403, 404, 409, 413, 422, 429, 503)}},
        },
        "/api/notes/{slug}/review": {
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": _SLUG,
                            "example": "unaccompanied-children-best-interests-agadez"}],
            "post": {
                "operationId": "markReviewed",
                "summary": "Mark a published note as still accurate today: one commit that changes only its "
                           "`reviewed` date, by the caller, audited. For the focal points of the note's "
                           "regions and admins (others 403); a note reviewed today already is answered as is.",
                "responses": {"200": {"description": "Reviewed.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Reviewed"}}}},
                    **_errors(400, 401, 403, 404, 422, 429, 503)}},
        },
        "/api/notes": {
            "post": {
                "operationId": "createNote",
                "summary": "Create a note (a draft unless the status says otherwise). The name comes from "
                           "the title unless one is chosen; a name taken by a note the caller may not read "
                           "is answered like a free one, and the note is saved under the next free name "
                           "(name-2, ...), given back in slug and Location.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["meta"],
                    "properties": {"slug": _SLUG, "meta": {"$ref": "#/components/schemas/MetaFields"},
                                   "body": {"type": "string"}, "message": {"type": "string"},
                                   "confirm_personal_data": {"type": "string"}}}}}},
                "responses": {"201": {"description": "Created.",
                                      "headers": {"Location": {"schema": {"type": "string"}}},
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Saved"}}}},
                              **_errors(400, 401, 403, 409, 413, 422, 429, 503)}},
        },
        "/api/notes/{slug}/comments": {
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": _SLUG,
                            "example": "psychological-first-aid-training-lebanon"}],
            "get": {
                "operationId": "listComments",
                "summary": "The comment threads of a note the caller may read, oldest first (signed-in "
                           "readers only: the public gets 401, or 404 for a note it may not read).",
                "responses": {"200": {"description": "The threads.", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["slug", "count", "comments"],
                               "properties": {"slug": {"type": "string"},
                                              "count": {"type": "integer", "minimum": 0},
                                              "comments": {"type": "array", "items": {
                                                  "$ref": "#/components/schemas/Comment"}}}}}}},
                    **_errors(401, 404, 429)}},
            "post": {
                "operationId": "postComment",
                "summary": "Comment on a note the caller may read, or reply to a thread (reply_to: the id of "
                           "the comment that starts it; a reply to a reply is refused with 400, naming that "
                           "comment). Markdown, at most 10,000 characters.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["body"],
                    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": 10000},
                                   "reply_to": {"type": ["integer", "null"]}}}}}},
                "responses": {"201": {"description": "Posted.",
                                      "headers": {"Location": {"schema": {"type": "string"}}},
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Comment"}}}},
                              **_errors(400, 401, 403, 404, 413, 429)}},
        },
        "/api/search": {
            "get": {
                "operationId": "search",
                "summary": "Search the notes the caller may read; the same parameters as /search. Unknown "
                           "filter values are dropped, not errors.",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 150},
                     "description": "the words to find; kb searches up to 2,000 characters, but the "
                                    "server refuses a request line over 4 KB (400, not JSON)"},
                    *({"name": name, "in": "query", "schema": {"type": "string", "maxLength": 30},
                       "description": "one value, or several separated by commas"}
                      for name in ("region", "country", "topic", "audience", "lang")),
                    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "review", "in": "query", "schema": {"type": "string", "enum": ["overdue", "due"]},
                     "description": "overdue: published notes whose review fell due before today (UTC); due: "
                                    "those and the ones falling due within 30 days"},
                    {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["relevance", "newest"]}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                "responses": {"200": {"description": "Results.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/SearchResults"}}}},
                    **_errors(401, 429)}},
        },
        "/api/subscriptions": {
            "get": {
                "operationId": "listSubscriptions",
                "summary": "What the caller follows (notes they may no longer read are left out).",
                "responses": {"200": {"description": "The subscriptions.", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["subscriptions", "kinds", "frequencies"],
                               "properties": {"subscriptions": {"type": "array", "items": {
                                   "$ref": "#/components/schemas/Subscription"}},
                                   "kinds": _STRINGS, "frequencies": _STRINGS}}}}},
                    **_errors(401, 429)}},
            "post": {
                "operationId": "subscribe",
                "summary": "Follow a region, a country, a topic (their names in the taxonomy) or a note the "
                           "caller may read, immediate, daily (the default) or weekly; following it again "
                           "changes the frequency. A note the caller may not read is answered as a missing one.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Subscription"}}}},
                "responses": {"201": {"description": "Followed.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Subscription"}}}},
                    "200": {"description": "Already followed: its frequency changed.", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Subscription"}}}},
                    **_errors(400, 401, 404, 413, 422, 429)}},
            "delete": {
                "operationId": "unsubscribe",
                "summary": "Stop following (the kind and value may also come as query parameters); 404 when the "
                           "caller did not follow it.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["kind", "value"],
                    "properties": {"kind": _KIND, "value": {"type": "string"}}}}}},
                "responses": {"200": {"description": "No longer followed.", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["kind", "value", "followed"],
                               "properties": {"kind": _KIND, "value": {"type": "string"},
                                              "followed": {"type": "boolean", "const": False}}}}}},
                              **_errors(400, 401, 404, 413, 422, 429)}},
        },
        "/api/notes/{slug}/attachments": {
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": _SLUG}],
            "get": {
                "operationId": "listAttachments", "summary": "The files beside a note the caller may read.",
                "responses": {"200": {"description": "The files.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["attachments"], "properties": {"attachments": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}}}}}},
                    **_errors(401, 404, 429)}},
            "post": {
                "operationId": "addAttachment",
                "summary": "Add a file to a note the caller may edit: its type is decided by its content; "
                           "metadata (EXIF, XMP, IPTC, a PDF's document information, scripts, embedded "
                           "files) is removed before it is kept; a name clash gets a suffix.",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"},
                                   "confirm_personal_data": {"type": "string"}}}}}},
                "responses": {"201": {"description": "Added.",
                                      "headers": {"Location": {"schema": {"type": "string"}}},
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Attachment"}}}},
                              **_errors(400, 401, 403, 404, 413, 415, 422, 429, 503)}},
        },
        "/api/notes/{slug}/attachments/{name}": {
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": _SLUG},
                           {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "delete": {
                "operationId": "removeAttachment",
                "summary": "Remove a file from a note the caller may edit (the note's history keeps it).",
                "responses": {"200": {"description": "Removed.", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["revision"], "properties": {"revision": {"type": "string"}}}}}},
                    **_errors(400, 401, 403, 404, 429, 503)}},
        },
        "/api/openapi.json": {
            "get": {"operationId": "openapi", "summary": "This document.",
                    "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {
                        "schema": {"type": "object"}}}}, **_errors(401)}},
        },
    },
}


@bp.get("/api/openapi.json")
def document():
    return jsonify(SPEC)
