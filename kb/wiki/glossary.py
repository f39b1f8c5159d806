"""The cross-language glossary (content/glossary.yml) as the wiki keeps it: read by everyone, changed by
admins and focal points through the one write path (a commit, audited), checked before anything is written.
Searches pick the saved file up at their next query (kb.search's GlossaryFile reads it again when it
changes), so no restart is needed."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import access, pdguard
from ..errors import N_, InvalidGlossary, Message, RevisionNotFound
from ..history import Revision
from ..search import GlossaryError, parse_glossary
from .writes import actor_of, change

if TYPE_CHECKING:
    from . import Wiki

FILE = "glossary.yml"
MAX_BYTES = 512 * 1024  # a few thousand entries; the shipped one is 30 kB


@dataclass
class GlossaryView:
    """What the glossary page shows: the entries as saved, the file's text and revision."""
    entries: list[dict[str, list[str]]] = field(default_factory=list)
    text: str = ""
    revision: str | None = None
    error: str | None = None  # the saved file is invalid (edited outside kb): searches use the last good one
    can_edit: bool = False


def _text(wiki: "Wiki") -> str:
    path = wiki.store.root / FILE
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidGlossary(Message(N_("glossary.yml cannot be read: %(problem)s"), problem=str(exc))) from None


def view(wiki: "Wiki", user: Any) -> GlossaryView:
    """The glossary as it stands, for anyone."""
    text = _text(wiki)
    out = GlossaryView(text=text, revision=wiki.history.last_revision(FILE),
                       can_edit=access.can_edit_glossary(user))
    try:
        out.entries = parse_glossary(text).entries
    except GlossaryError as exc:
        out.error = exc.message
    return out


def check(text: str) -> None:
    """InvalidGlossary naming the line of the first problem, if ``text`` is not a valid glossary."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InvalidGlossary(Message(N_("The glossary is too long (at most %(n)s kB)."), n=MAX_BYTES // 1024))
    try:
        parse_glossary(text)
    except GlossaryError as exc:
        raise InvalidGlossary(exc.message) from None
    for finding in pdguard.scan_words("glossary", text)[:1]:  # the glossary is public: no personal data
        raise InvalidGlossary(Message(N_("glossary.yml line %(line)s: %(finding)s The glossary is public: "
                                         "take it out."), line=finding.line, finding=Message(finding.message)))


def save(wiki: "Wiki", user: Any, text: str, base_revision: str | None, message: str = "") -> str | None:
    """Replace the glossary with ``text`` (checked first; nothing is written when it is invalid, or when the
    glossary changed since ``base_revision``). Returns the commit, None when nothing changed."""
    access.require(user, "edit_glossary", FILE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    check(text)
    if pdguard.scan_words("message", message):
        raise InvalidGlossary(Message(N_("The change summary seems to contain personal data; it is public.")))
    with change(wiki, actor_of(user)) as ch:
        current = wiki.history.last_revision(FILE)
        if (base_revision or None) != current:
            raise InvalidGlossary(Message(N_("The glossary was changed by someone else since you opened it; "
                                             "your text is below: copy your change, reload, and save again.")))
        if text == _text(wiki):
            return None
        ch.write_aux(FILE, text.encode("utf-8"))
        summary = " ".join(str(message or "").split())[:200]
        revision = ch.commit("Glossary: " + (summary or "edited"))
        ch.audit("glossary_save", FILE, (revision or "")[:10] + (f" {summary}" if summary else ""))
    return revision


def history(wiki: "Wiki", limit: int = 100) -> list[Revision]:
    """The glossary's revisions, newest first (public, like the glossary)."""
    return wiki.history.log(FILE, limit=limit)


def at(wiki: "Wiki", revision: str) -> str:
    """The glossary's text at one of its revisions; KbError when it is not one."""
    if revision not in {r.id for r in history(wiki, limit=1000)}:
        raise RevisionNotFound(revision)
    return wiki.history.show(revision, FILE).decode("utf-8", errors="replace")


class GlossaryMethods:
    """The Wiki's glossary methods (content/glossary.yml): read by all, changed by admins and focal points."""

    def glossary(self: "Wiki", user: Any) -> GlossaryView:
        return view(self, user)

    def save_glossary(self: "Wiki", user: Any, text: str, base_revision: str | None, message: str = "") -> str | None:
        return save(self, user, text, base_revision, message)

    def glossary_history(self: "Wiki") -> list[Revision]:
        return history(self)

    def glossary_at(self: "Wiki", revision: str) -> str:
        return at(self, revision)
