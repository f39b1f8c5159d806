"""English messages from the domain layer, translated where the web pages show them.

kb's domain code (model, publish, users, search, pdscan, store) raises and returns plain English: the same
text for the command line, the API, the log and the tests. The web pages translate what a reader can meet:

- words and fixed sentences the templates pass to ``_()`` as they are (a note's status and visibility, the
  field a personal-data finding is in, the finding's message, an editor banner) are marked here with ``N_``,
  so that extraction puts them in the catalogues;
- sentences with a value inside (``has at most 300 characters``, ``'x' is reserved; ...``) are matched
  against the msgid written with placeholders, and rebuilt from its translation with the same values.

A domain message this module does not know is shown as it is (in English). ``tests/test_i18n.py`` checks
that the domain's messages still match, so a reworded one is noticed.
"""
from __future__ import annotations

import re

from flask_babel import gettext


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
    "front matter": N_("Front matter"), "translations": N_("Translations"), "authors": N_("Authors"),
    "created": N_("Created"), "updated": N_("Updated"),
}

# Domain sentences, written as the domain writes them with each value replaced by a placeholder. A value
# quoted with repr() in the domain ('x') keeps its quotes inside the placeholder. Placeholders named n are
# numbers.
SENTENCES = (
    # note validation (model.meta_from_dict, model.check_slug, workflow.check, publish)
    N_("is required"),
    N_("has at most %(n)s characters"),
    N_("is required: one of %(choices)s"),
    N_("%(value)s is not one of %(choices)s"),
    N_("unknown region or country %(name)s"),
    N_("unknown topic %(name)s"),
    N_("unknown audience %(name)s; one of %(choices)s"),
    N_("must be text"),
    N_("must be a name or a list of names"),
    N_("must be a date like 2026-03-31 or 2026-03-31T14:05:00Z"),
    N_("must map a language to a note name, e.g. {fr: my-note-fr}"),
    N_("choose at least one region or country, so that its focal points can review the note"),
    N_("A note name (slug) cannot be empty."),
    N_("A note name (slug) has at most %(n)s characters."),
    N_("A note name (slug) uses only lowercase letters a-z, digits and single hyphens between them: "
       "%(name)s does not."),
    N_("%(name)s is reserved; choose another name"),
    N_("the new name is the same as the old one"),
    N_("a note named %(name)s already exists"),
    N_("choose draft, review or published"),
    N_("still holds conflict marks (<<<<<<<, =======, >>>>>>>): keep the text you want between them and remove "
       "the mark lines"),
    # limits checked before parsing (model.check_body, model._check_shape, publish.RENAMED_AWAY)
    N_("has at most %(n)s keys"),
    N_("has at most %(n)s values"),
    N_("nests lists and mappings at most %(n)s deep"),
    N_("values have at most %(n)s characters"),
    N_("this name leads to a renamed note; choose another name (an admin can free it)"),
    # other domain errors
    N_("A note named %(name)s already exists."),
    N_("A note named %(name)s exists now; rename it first, then undo the deletion."),
    N_("%(slug)s changed since revision %(base)s; it is now at %(current)s"),
    N_("The note seems to contain personal data (%(n)s finding(s)); change it, or confirm with a reason to "
       "publish it anyway."),
    N_("The note could not be saved: %(reason)s. Nothing was changed."),
    # accounts (users.UserStore)
    N_("invalid username %(name)s: 2-40 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    N_("password too short: at least %(n)s characters"),
    N_("password too long: at most %(n)s characters"),
    N_("unknown role %(name)s: choose one of %(choices)s"),
    N_("region names cannot contain commas: %(name)s"),
    N_("a focal point needs at least one region or country"),
    N_("invalid email address %(name)s"),
    N_("unknown user %(name)s"),
    N_("%(name)s is the last active admin; make another admin first"),
    N_("username %(name)s is taken"),
    N_("user %(name)s is disabled"),
    # forms posted without a valid CSRF token (flask_wtf), and werkzeug's bad request
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


_PATTERNS = [(_pattern(m), m) for m in SENTENCES + SEARCH_SENTENCES if _PLACEHOLDER.search(m)]
_SEARCH_PATTERNS = [(_pattern(m), m) for m in SEARCH_SENTENCES if _PLACEHOLDER.search(m)]
_SEARCH_FIXED = [m for m in SEARCH_SENTENCES if not _PLACEHOLDER.search(m)]
_REASON = "The note could not be saved: %(reason)s. Nothing was changed."


def _translated(msgid: str, values: dict[str, str]) -> str:
    if msgid == _REASON:  # the reason is itself a message
        values = {"reason": gettext(values["reason"])}
    return gettext(msgid, **values)


def translate(text: str | None) -> str | None:
    """One domain message in the interface language (unchanged when not known, or in English)."""
    if not text:
        return text
    text = str(text)
    for rx, msgid in _PATTERNS:
        m = rx.fullmatch(text)
        if m:
            return _translated(msgid, m.groupdict())
    return gettext(text)  # a fixed msgid, or the text as it is


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
