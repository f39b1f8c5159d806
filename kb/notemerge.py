"""Three-way merge of a note saved from an older revision: the front matter field by field, the body as text.

No git here: the body's text merge is the caller's ``merge_text`` (History.merge_file). A clash in the body
stays in the text between git's conflict marks, labelled, for the writer to resolve; a save still holding
such marks is refused (``has_conflict_marks``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from .model import Note, NoteMeta

OURS_LABEL = "your version"
# The fields a save takes from the writer; kb's own (authors, created, updated) are merged apart.
FIELDS = ("title", "language", "regions", "topics", "audience", "visibility", "status", "summary", "translations")
# Who may read the note: never changed by a merge over changes the writer has not seen.
READERS_FIELDS = ("status", "visibility")
_MISSING = object()

MergeText = Callable[..., tuple["bytes | None", bool]]


@dataclass
class MergeResult:
    meta: NoteMeta
    body: str
    body_clean: bool
    fields: list[str] = field(default_factory=list)  # front matter changed differently on both sides

    @property
    def clean(self) -> bool:
        return self.body_clean and not self.fields


def theirs_label(author: str, when: dt.datetime | None) -> str:
    """The label of the saved side of a clash: who saved it, and when (UTC)."""
    stamp = f" ({when.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)" if when else ""
    return f"saved by {author}{stamp}"


def _pick(base: Any, ours: Any, theirs: Any) -> tuple[Any, bool]:
    """(value, clash): a side that changed wins; both changed alike is no clash; differently is one
    (then the writer's value is kept, for them to decide against the saved one)."""
    if ours == base:
        return theirs, False
    if theirs in (base, ours):
        return ours, False
    return ours, True


def merge_meta(base: NoteMeta, ours: NoteMeta, theirs: NoteMeta) -> tuple[NoteMeta, list[str]]:
    """Front matter merged field by field; the names of the fields changed differently on both sides."""
    changes: dict[str, Any] = {}
    clashes: list[str] = []
    for name in FIELDS:
        changes[name], clash = _pick(getattr(base, name), getattr(ours, name), getattr(theirs, name))
        if clash:
            clashes.append(name)
    extra: dict[str, Any] = {}
    for key in dict.fromkeys([*theirs.extra, *ours.extra, *base.extra]):
        value, clash = _pick(base.extra.get(key, _MISSING), ours.extra.get(key, _MISSING),
                             theirs.extra.get(key, _MISSING))
        if clash:
            clashes.append(key)
        if value is not _MISSING:
            extra[key] = value
    changes["extra"] = extra
    changes["authors"] = [*theirs.authors, *(a for a in ours.authors if a not in theirs.authors)]
    changes["created"] = theirs.created or ours.created
    changes["updated"] = theirs.updated  # the save sets it anyway
    return theirs.copy(**changes), clashes


def _text(body: str) -> bytes:
    return (body if body.endswith("\n") or not body else body + "\n").encode("utf-8")


def merge_note(base: Note, ours_meta: NoteMeta, ours_body: str, theirs: Note, merge_text: MergeText,
               label: str) -> MergeResult | None:
    """The writer's note (ours) merged with the saved one (theirs) from the revision both started at (base);
    None when the bodies cannot be merged as text at all."""
    meta, clashes = merge_meta(base.meta, ours_meta, theirs.meta)
    if ours_body == base.body or ours_body == theirs.body:
        body, clean = theirs.body, True
    elif theirs.body == base.body:
        body, clean = ours_body, True
    else:
        merged, clean = merge_text(_text(base.body), _text(ours_body), _text(theirs.body),
                                   labels=(OURS_LABEL, "base", label))
        if merged is None:
            return None
        body = merged.decode("utf-8", errors="replace")
    return MergeResult(meta, body, clean, clashes)


def changes_readers(before: NoteMeta, after: NoteMeta) -> bool:
    """Whether a merged save would change who may read the note (its status or visibility)."""
    return any(getattr(before, name) != getattr(after, name) for name in READERS_FIELDS)


# The lines kb's merge writes around a clash (git merge-file's marks; '|||||||' only in git's diff3 style,
# which kb does not use, but a copy from elsewhere may hold it). A bare '=======' is a setext heading's underline.
MARK_PREFIXES = ("<<<<<<< ", ">>>>>>> ", "||||||| ")


def _mark_lines(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in (text or "").split("\n"):
        line = line.rstrip("\r")
        if line.startswith(MARK_PREFIXES):
            counts[line] = counts.get(line, 0) + 1
    return counts


def new_conflict_marks(text: str, saved: str | None = None) -> list[str]:
    """The clash mark lines ('<<<<<<< ', '>>>>>>> ', '||||||| ' at a line's start) in ``text`` that the saved
    note (``saved``) did not hold, each as often as it is new. Deleting only some of a clash's marks leaves
    the others, so a save is refused on any new mark line; lines the saved note already held stay allowed."""
    before = _mark_lines(saved or "")
    return [line for line, count in _mark_lines(text).items() for _ in range(count - before.get(line, 0))]


def has_conflict_marks(text: str, saved: str | None = None) -> bool:
    """Whether a text holds any clash mark line ('<<<<<<< ', '>>>>>>> ' or '||||||| ' at a line's start) not
    in ``saved``; even one line left of a clash counts. A '=======' line alone is a Markdown heading's
    underline, not a mark."""
    return bool(new_conflict_marks(text, saved))
