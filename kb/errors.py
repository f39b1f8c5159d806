"""Domain errors. They carry no HTTP knowledge; the web layer maps them once.

Their messages are Message strings: the English text the API, the command line and the log show, which also
carries its message identifier (the English text with %(name)s placeholders, marked N_ for extraction) and
the values put in it, so that the web translates it by identifier (gettext(msgid) % params) and a reworded
message can never silently lose its translation (tests/test_i18n.py checks each has one)."""
from __future__ import annotations

from typing import Any


def N_(msgid: str) -> str:
    """Mark a message identifier for extraction (babel's default keywords include N_)."""
    return msgid


class Message(str):
    """A domain message: the English text, with ``msgid`` and ``params`` to translate it by."""
    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> "Message":
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid, self.params = msgid, params
        return self


class KbError(Exception):
    """Base class of every error kb reports to a user."""

    @property
    def message(self) -> str:
        """The message as raised (a Message when the domain wrote one), else the error's text."""
        first = self.args[0] if len(self.args) == 1 else None
        return first if isinstance(first, Message) else str(self)


class NoteNotFound(KbError):
    """No note by that slug, or none the reader may see (the two are never told apart)."""


class InvalidSlug(KbError):
    """A slug that breaks the slug rules."""


class InvalidNote(KbError):
    """A note whose front matter or body is invalid; ``problems`` lists (field, message)."""

    def __init__(self, problems: list[tuple[str, str]], source: str = ""):
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(f"{f}: {m}" for f, m in self.problems))


class EditConflict(KbError):
    """The note changed since the revision the edit started from. When the two could be merged in part,
    ``merged`` is the merged note (clashes in its body between conflict marks, the writer's value in each
    field of ``fields``, the front matter fields changed differently on both sides)."""

    def __init__(self, slug: str, base: str | None, current: str | None, merged: object = None,
                 fields: list[str] | None = None):
        self.slug, self.base, self.current = slug, base, current
        self.merged, self.fields = merged, list(fields or [])
        super().__init__(Message(N_("%(slug)s changed since revision %(base)s; it is now at %(current)s"),
                                 slug=slug, base=base or "(none)", current=current))


class NoteExists(KbError):
    """A new note would overwrite an existing one."""


class PermissionDenied(KbError):
    """The user may read the note but not do this to it."""


class StorageError(KbError):
    """The content store could not be written (disk full, read-only, ...); nothing was changed."""


class RemoteUnavailable(StorageError):
    """The shared content remote (KB_GIT_REMOTE) cannot be reached: writes are refused, reads go on."""


class RemoteMovedOn(StorageError):
    """Another node saved while this change was being pushed; the change was taken back (the write path runs
    the operation again on top of it, and says this only when it kept moving)."""


class RevisionNotFound(KbError):
    """No such revision of that note."""


class TaxonomyError(KbError):
    """content/taxonomy.yml is missing or malformed."""


class InvalidGlossary(KbError):
    """A glossary that cannot be saved: invalid (the message names the line) or changed meanwhile."""


class PersonalDataFound(KbError):
    """Publishing a public note that seems to contain personal data needs a change or a confirmed reason."""

    def __init__(self, findings: list):
        self.findings = list(findings)
        super().__init__(Message(N_("The note seems to contain personal data (%(n)s finding(s)); change it, or "
                                    "confirm with a reason to publish it anyway."), n=len(self.findings)))


class ConfigError(KbError, ValueError):
    """A setting or a folder kb cannot work with; the message says what to fix, on one line."""


class UnsupportedFile(KbError):
    """An uploaded file whose content is not one of the accepted types (decided by the bytes, not the name)."""


class FileTooLarge(KbError):
    """An uploaded file over the size limit (KB_MAX_UPLOAD_MB); nothing was written."""
