"""Redaction: taking a passage, or a whole revision's text, out of a note's entire history (admins only).

History keeps what an edit removed, so a name edited out stays readable in every earlier revision and in
git. A redaction rewrites the content repository's history (git-filter-repo, through kb/history.py): in
every version of the note, under every name it had, the passage becomes MARKER ("(redacted)" inside the
front matter, where brackets could break the YAML), and it leaves every commit message too. Then the old
objects are pruned, the search index is rebuilt and the render cache emptied. Commit ids change from the
first rewritten commit on, so note pages get new validators (their ETag includes the head commit, their
Last-Modified counts the time of the rewrite, kept in .git/kb-rewritten), links to
old revisions stop working and an editor opened before the redaction is told the note changed.

A whole revision: that version's file becomes its front matter and a notice. git stores identical
contents once, so every revision with exactly the same text is redacted with it.

It runs through the write path like every other change (kb/wiki/writes.py), which records the audit
entry (who, when, why); the passage itself is never logged, audited or written in a commit message. No Flask.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import access
from ..errors import N_, InvalidNote, KbError, Message, NoteNotFound, RevisionNotFound
from ..history import redact_bytes
from ..model import Note, dump_note, parse_note, slugify
from . import redacted
from .revisions import full_revision
from .writes import Change, actor_of, change

if TYPE_CHECKING:
    from . import Wiki

log = logging.getLogger(__name__)

MARKER = "[redacted]"
FRONT_MATTER_MARKER = "(redacted)"
REVISION_NOTICE = "*The text of this revision was removed by an administrator.*\n"
PASSAGE_MAX = 20_000
REASON_MAX = 500


@dataclass(frozen=True)
class RedactionResult:
    slug: str
    versions: int     # how many versions of the note's file were rewritten
    seconds: float


def _pattern(passage: str) -> bytes:
    """The passage as a regex over UTF-8 bytes: its words in order, any run of white space between them
    (a passage copied from the page may wrap where the source does not)."""
    words = passage.split()
    return rb"\s+".join(re.escape(w.encode("utf-8")) for w in words)


def _reason(reason: str) -> str:
    reason = " ".join(str(reason or "").split())[:REASON_MAX]
    if not reason:
        raise InvalidNote([("reason", Message(N_("Give the reason for the redaction.")))])
    return reason


def _check(wiki: "Wiki", user: Any, slug: str) -> None:
    access.require(user, "redact", slug)
    wiki.get_note(user, slug)  # NoteNotFound when there is no such note


def _versions(wiki: "Wiki", slug: str) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """Every version of the note's file, (revision, name then, bytes), newest first; and its commit messages."""
    entries = wiki.history.log_with_paths(wiki.store.relpath(slug), limit=1_000_000)
    datas = wiki.history.contents_at([(rev.id, name) for rev, name in entries])
    versions = [(rev.id, name, data) for (rev, name), data in zip(entries, datas) if name and data is not None]
    return versions, [rev.message for rev, _ in entries]


def _clean_tree(wiki: "Wiki") -> None:
    """Refuse while tracked files hold uncommitted changes: the rewrite resets the working tree."""
    if wiki.history.has_uncommitted_changes():
        raise KbError(Message(N_("The content folder has uncommitted changes; commit or discard them, then redact.")))


def _after(wiki: "Wiki", ch: Change, slug: str, what: str, versions: int, reason: str) -> None:
    """Bring everything derived from the history in step with the rewritten one; the audit entry says who,
    what kind of redaction and why, never the passage."""
    wiki.renderer.clear_cache()
    wiki.rebuild_index()
    ch.audit("note_redact", slug, f"{what}; {versions} version(s) rewritten; reason: {reason}")


def redact_passage(wiki: "Wiki", user: Any, slug: str, passage: str, reason: str) -> RedactionResult:
    """Remove a passage from every version of a note and from every commit message.

    InvalidNote (field "passage") when it is empty or found in no version of the note, or when removing it
    would break a version's front matter; field "reason" when no reason is given. Nothing changes then.
    """
    _check(wiki, user, slug)
    passage = str(passage or "").replace("\r\n", "\n").strip()
    if not passage:
        raise InvalidNote([("passage", Message(N_("Give the passage to remove.")))])
    if len(passage) > PASSAGE_MAX:
        raise InvalidNote([("passage", Message(N_("The passage is too long; redact a whole revision instead.")))])
    reason = _reason(reason)
    name_words = slugify(passage)
    if name_words and f"-{name_words}-" in f"-{slug}-":  # a name lives on in paths, links and redirects
        raise InvalidNote([("passage", Message(N_(
            "The passage is part of the note's name (its address), which kb cannot take out of history. "
            "Nothing was changed. Ask the server's administrator to rewrite the content repository by hand.")))])
    pattern = _pattern(passage)
    rx = re.compile(pattern)
    if rx.search(reason.encode("utf-8")):  # the audit log keeps the reason: it must not say what was removed
        raise InvalidNote([("reason", Message(N_("The reason must not repeat the passage.")))])
    marker, fm_marker = MARKER.encode(), FRONT_MATTER_MARKER.encode()
    start = time.monotonic()
    with change(wiki, actor_of(user)) as ch:
        versions, messages = _versions(wiki, slug)
        hits = [(rev, name, data) for rev, name, data in versions if rx.search(data)]
        if not hits and not any(rx.search(m.encode("utf-8")) for m in messages):
            raise InvalidNote([("passage", Message(N_("The passage was found in no version of this note.")))])
        for rev, _, data in hits:  # try first: nothing is rewritten if one version would break
            new = redact_bytes(data, pattern, marker, fm_marker)
            if rx.search(new):
                raise InvalidNote([("passage", Message(N_("The passage runs across the end of the note's fields; "
                                               "remove a shorter passage.")))])
            _parses(wiki, slug, data, new)
        paths = sorted({name for _, name, _ in versions})
        _clean_tree(wiki)
        wiki.history.rewrite_file_history(paths, pattern=pattern, marker=marker, front_matter_marker=fm_marker)
        ch.committed = True  # the rewrite is the commit: nothing to take back after it
        _after(wiki, ch, slug, "a passage", len(hits), reason)
        left = [rev for rev, _, data in _versions(wiki, slug)[0] if rx.search(data)]
        if left or any(rx.search(m.encode("utf-8")) for m in wiki.history.all_messages()):
            raise KbError(Message(N_("The history was rewritten but the passage is still there; check the repository.")))
        redacted.remember(wiki.content_dir / ".git", slug, passage)  # so that no later save brings it back
    seconds = time.monotonic() - start
    log.info("redacted a passage from the history of %s (%d versions, %.1f s)", slug, len(hits), seconds)
    return RedactionResult(slug, len(hits), seconds)


def redact_revision(wiki: "Wiki", user: Any, slug: str, rev: str, reason: str) -> RedactionResult:
    """Replace the whole text of one revision of a note (its front matter stays) by a notice.

    InvalidNote (field "revision") when it is not one of the note's revisions or was redacted already;
    field "reason" when no reason is given.
    """
    _check(wiki, user, slug)
    reason = _reason(reason)
    start = time.monotonic()
    with change(wiki, actor_of(user)) as ch:
        try:
            rev = full_revision(wiki, slug, rev)
        except RevisionNotFound:
            raise InvalidNote([("revision", Message(N_("Choose one of this note's revisions.")))]) from None
        versions = _versions(wiki, slug)[0]
        found = next(((name, data) for r, name, data in versions if r == rev), None)
        blob = wiki.history.blob_id(rev, found[0]) if found else None
        if found is None or blob is None:
            raise InvalidNote([("revision", Message(N_("Choose one of this note's revisions.")))])
        try:
            then = parse_note(slug, found[1].decode("utf-8", errors="replace"), wiki.taxonomy)
        except InvalidNote:
            raise InvalidNote([("revision", Message(N_("This revision cannot be read; it cannot be redacted.")))]) from None
        if then.body == REVISION_NOTICE:
            raise InvalidNote([("revision", Message(N_("This revision's text was removed already.")))])
        new = dump_note(Note(slug, then.meta, REVISION_NOTICE)).encode("utf-8")
        same = sum(1 for _, _, data in versions if data == found[1])
        paths = sorted({name for _, name, _ in versions})
        _clean_tree(wiki)
        wiki.history.rewrite_file_history(paths, blob=(blob, new))
        ch.committed = True  # the rewrite is the commit: nothing to take back after it
        _after(wiki, ch, slug, f"whole revision {rev[:10]}", same, reason)
    seconds = time.monotonic() - start
    log.info("redacted a whole revision of %s (%d versions, %.1f s)", slug, same, seconds)
    return RedactionResult(slug, same, seconds)


def _parses(wiki: "Wiki", slug: str, before: bytes, after: bytes) -> None:
    """InvalidNote when a version that could be read cannot be after the redaction."""
    try:
        parse_note(slug, before.decode("utf-8", errors="replace"), wiki.taxonomy)
    except InvalidNote:
        return  # it was unreadable already
    try:
        parse_note(slug, after.decode("utf-8", errors="replace"), wiki.taxonomy)
    except InvalidNote:
        raise InvalidNote([("passage", Message(N_("Removing this passage would break the note's fields; "
                                       "remove a shorter passage.")))]) from None


def revision_choices(wiki: "Wiki", user: Any, slug: str) -> list:
    """The revisions an admin may choose from for a whole-revision redaction, newest first."""
    if not access.allowed(user, "redact"):
        raise NoteNotFound(slug)
    return wiki.history_of(user, slug, limit=10_000)
