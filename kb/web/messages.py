"""Domain messages, translated where the web pages show them.

kb's domain code (model, the wiki service, users, store, pdscan) raises and returns English: the same text for
the command line, the API, the log and the tests. Each message it writes is a ``kb.errors.Message``: that
English text, plus its message identifier (the English with %(name)s placeholders, marked N_ where it is
written) and the values put in it. The pages translate by identifier, ``gettext(msgid) % params``, so a
reworded message keeps (or visibly loses, in tests/test_i18n.py) its translation; nothing matches English text.

Words the templates pass to ``_()`` as they are (a status, a field a personal-data finding is in, a finding's
message, an editor banner) are marked here with ``N_`` for extraction. The search's notices (kb/search*) are
still plain sentences, joined with spaces; ``translate_sentences`` matches those against their msgids.
"""
from __future__ import annotations

import re

from flask_babel import gettext

from ..errors import KbError, Message


def N_(message: str) -> str:
    """Mark a msgid for extraction (babel's default keywords include N_); it is translated where shown."""
    return message


# Used as msgids as they are: {{ _(note.meta.status) }}, {{ _(f.field|capitalize) }}, {{ _(f.message) }} ...
WORDS = (
    # statuses and visibilities (model.STATUSES, model.VISIBILITIES)
    N_("draft"), N_("review"), N_("published"),
    N_("public"), N_("internal"), N_("restricted"),
    # the fields personal-data findings are in (workflow.scan_note: every front-matter value), capitalised by
    # the template; the other keys' names are in FIELDS below; an extra key is shown as it is written
    N_("Title"), N_("Summary"), N_("Body"), N_("Regions"),
    # pdscan's findings
    N_("Looks like an e-mail address."), N_("Looks like exact GPS coordinates."),
    N_("Looks like a date of birth."), N_("Looks like a passport, ID or case number."),
    N_("Looks like a phone number."),
    # storage errors' reasons (store._describe)
    N_("the disk is full"), N_("the content folder is read-only"), N_("kb may not write to the content folder"),
    N_("the disk quota is used up"), N_("a storage error"),
)

# A note's fields by their front-matter key, as the editor and the error page name them.
FIELDS = {
    "title": N_("Title"), "language": N_("Language"), "regions": N_("Regions and countries"),
    "topics": N_("Topics"), "audience": N_("Audience"), "visibility": N_("Visibility"), "status": N_("Status"),
    "summary": N_("Summary"), "body": N_("Body"), "slug": N_("Address (note name)"),
    "message": N_("What did you change?"),
    "front matter": N_("Front matter"), "translations": N_("Translations"), "authors": N_("Authors"),
    "created": N_("Created"), "updated": N_("Updated"),
}

# Fixed sentences from Flask-WTF (forms posted without a valid CSRF token) and werkzeug (a bad request).
SENTENCES = (
    N_("The CSRF token is missing."), N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."), N_("The CSRF token is invalid."), N_("The CSRF tokens do not match."),
    N_("The referrer header is missing."), N_("The referrer does not match the host."),
    N_("CSRF validation failed."),
    N_("The browser (or proxy) sent a request that this server could not understand."),
)

# A search's notices (queryparse, search): several may be joined with spaces into one message.
SEARCH_SENTENCES = (
    N_("Your search was shortened to %(n)s characters."),
    N_("Your search was shortened to %(n)s words."),
    N_("Field searches (name:) are not supported; the words were searched for instead."),
    N_("Fuzzy (~) and boost (^) syntax is not supported; the words were searched for instead."),
    N_("Range searches are not supported; the words were searched for instead."),
    N_("A * prefix search needs at least %(n)s letters before the star, at the end of a word; "
       "other wildcards were ignored."),
    N_("A prefix matched many words; only the most common were searched."),
    N_("Your search had no words to look for, so all notes are shown."),
    N_("No note contains all of your words; showing notes with some of them."),
    N_("This search took too long; the results may be incomplete."),
    N_("The search index is being prepared; please try again shortly."),
    N_("Search is unavailable at the moment; please try again shortly."),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(msgid: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(msgid)  # literal, name, literal, name, ..., literal
    rx = "".join(re.escape(p) if i % 2 == 0 else (rf"(?P<{p}>\d+)" if p == "n" else rf"(?P<{p}>.+?)")
                 for i, p in enumerate(parts))
    return re.compile(rx, re.S)


_SEARCH_PATTERNS = [(_pattern(m), m) for m in SEARCH_SENTENCES if _PLACEHOLDER.search(m)]
_SEARCH_FIXED = [m for m in SEARCH_SENTENCES if not _PLACEHOLDER.search(m)]


def _translated(msgid: str, values: dict[str, str]) -> str:
    return gettext(msgid, **values)


def translate(text) -> str | None:
    """A domain message (or an error carrying one) in the interface language: a Message by its identifier,
    its values translated too when they are messages; any other text as a fixed msgid, or as it is."""
    if isinstance(text, KbError):
        text = text.message
    if not text:
        return text
    if isinstance(text, Message):
        params = {k: translate(v) if isinstance(v, Message) else v for k, v in text.params.items()}
        return gettext(text.msgid, **params) if params else gettext(text.msgid)
    return gettext(str(text))


def translate_sentences(text: str | None) -> str | None:
    """A search's notices, joined by spaces into one message, each translated."""
    if not text:
        return text
    text = str(text)
    for msgid in _SEARCH_FIXED:
        if msgid in text:
            text = text.replace(msgid, gettext(msgid))
    for rx, msgid in _SEARCH_PATTERNS:
        text = rx.sub(lambda m, msgid=msgid: _translated(msgid, m.groupdict()), text)
    return text


def field_label(key: str) -> str:
    """A note field's name in the interface language."""
    return gettext(FIELDS[key]) if key in FIELDS else key


def problems_text(problems) -> str:
    """An InvalidNote's problems as one line, translated: 'Title: is required; Summary: must be text'."""
    return "; ".join(f"{field_label(f)}: {translate(m)}" for f, m in problems)
