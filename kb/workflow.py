"""The publishing workflow's rules as plain data and functions: what a save records, the personal-data guard,
the starting template of a practice note. No Flask, no git; the wiki's write path calls these."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass

from . import pdscan
from .errors import InvalidNote
from .model import Note, NoteMeta, meta_to_dict

MESSAGE_MAX = 200
REASON_MAX = 500
_STATUS_RE = re.compile(r"Status: (?:(draft|review|published) -> )?(draft|review|published)")
_REASON_RE = re.compile(r"Personal-data-confirmed: (.*)")
_RESTORED_RE = re.compile(r"Restored-from: ([0-9a-f]{7,40})")
_VERBS = {"published": "Publish", "review": "Submit for review", "draft": "Return to draft"}


@dataclass(frozen=True)
class PdFinding:
    """A likely piece of personal data, located in a field of the note: "title", "summary", "body", or any other
    front-matter key, kb's own ("authors") or an extra one ("contact"); in a list, line N is the N-th item."""
    field: str
    line: int
    column: int
    kind: str
    text: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SaveResult:
    """What one save did: enough for the caller's answer and for the audit log."""
    slug: str
    revision: str
    created: bool
    status_before: str | None
    status_after: str
    personal_data_reason: str = ""  # set when findings were published on the writer's word
    restored_from: str = ""
    merged: bool = False  # saved from an older revision, merged with the changes saved meanwhile

    @property
    def status_changed(self) -> bool:
        return not self.created and self.status_before != self.status_after


@dataclass(frozen=True)
class RevisionInfo:
    """What a commit message says about a revision, for the history page."""
    summary: str
    status_from: str | None
    status_to: str | None
    personal_data_reason: str
    restored_from: str


def normalise_body(body: str) -> str:
    """Browsers send textareas with CRLF; notes are stored with LF."""
    return str(body or "").replace("\r\n", "\n").replace("\r", "\n")


def one_line(text: str, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def check(meta: NoteMeta) -> None:
    """Workflow rules beyond the front matter's own: a note sent for review must say whose review."""
    if meta.status == "review" and not meta.regions:
        raise InvalidNote([("regions", "choose at least one region or country, so that its focal points "
                                       "can review the note")])


def is_public(meta: NoteMeta) -> bool:
    return meta.status == "published" and meta.visibility == "public"


_NOT_SCANNED = ("created", "updated")  # kb's own timestamps, always valid dates
_DEPTH_MAX = 5


def _value_lines(value, depth: int = 0) -> list[str]:
    """A front-matter value as lines of text: one per list item, "key: value" per mapping entry."""
    if value is None or isinstance(value, bool) or depth > _DEPTH_MAX:
        return []
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            inner = _value_lines(v, depth + 1)
            # the key goes along: "date of birth: 2009-03-12" is a birth date, "2009-03-12" alone is not
            out += [f"{_key_words(k)}: {line}" for line in inner] or [_key_words(k)]
        return out
    if isinstance(value, (list, tuple, set)):
        return [line for item in value for line in _value_lines(item, depth + 1)]
    return str(value).split("\n")


def _key_words(key) -> str:
    return str(key).replace("_", " ").replace("-", " ")


def note_fields(meta: NoteMeta, body: str) -> list[tuple[str, str, int]]:
    """What the guard reads: every front-matter value (kb's keys and extra ones) as text, then the body; each
    with the length of the "key: " put before an extra key's single value (the key as the keyword, see above)."""
    fields = []
    for key, value in meta_to_dict(meta).items():
        if key in _NOT_SCANNED:
            continue
        if key in meta.extra and not isinstance(value, (list, tuple, set, dict)):
            lines = _value_lines(value)
            if lines:
                prefix = f"{_key_words(key)}: "
                fields.append((str(key), prefix + "\n".join(lines), len(prefix)))
        else:
            fields.append((str(key), "\n".join(_value_lines(value)), 0))
    fields.append(("body", body, 0))
    return fields


def scan_note(meta: NoteMeta, body: str) -> list[PdFinding]:
    out = []
    for fieldname, text, prefix in note_fields(meta, body):
        for f in pdscan.scan(text) if text else ():
            column = max(1, f.column - prefix) if f.line == 1 else f.column
            out.append(PdFinding(fieldname, f.line, column, f.kind, f.text, f.message))
    return out


def personal_data(meta: NoteMeta, body: str, previous: Note | None) -> list[PdFinding]:
    """Findings that need a confirmation: only when the save leaves the note public and published, and only
    those the already public version did not have (a confirmed note is not questioned again on every edit).
    Every front-matter value is read, not only the title, the summary and the body."""
    if not is_public(meta):
        return []
    was_public = previous is not None and is_public(previous.meta)
    if was_public and note_fields(previous.meta, previous.body) == note_fields(meta, body):
        return []  # nothing that is scanned changed (a scan of a long note costs tens of milliseconds)
    findings = scan_note(meta, body)
    if not findings or not was_public:
        return findings
    known = Counter((f.kind, f.text) for f in scan_note(previous.meta, previous.body))
    fresh = []
    for f in findings:
        if known[(f.kind, f.text)] > 0:
            known[(f.kind, f.text)] -= 1
        else:
            fresh.append(f)
    return fresh


def commit_message(slug: str, message: str, before: str | None, after: str, reason: str = "",
                   restored_from: str = "", merged_with: str = "") -> str:
    """The writer's one-line summary (or a default), then trailers the history page reads back."""
    summary = one_line(message, MESSAGE_MAX)
    if not summary:
        if before is None:
            summary = f"Create {slug}"
        elif restored_from:
            summary = f"Restore {slug} to revision {restored_from[:10]}"
        elif before != after:
            summary = f"{_VERBS[after]} {slug}"
        elif merged_with:
            summary = f"Edit {slug}, merged with the changes saved meanwhile"
        else:
            summary = f"Edit {slug}"
    trailers = []
    if before != after:
        trailers.append(f"Status: {after}" if before is None else f"Status: {before} -> {after}")
    if restored_from:
        trailers.append(f"Restored-from: {restored_from}")
    if merged_with:
        trailers.append(f"Merged-with: {merged_with}")
    if reason:
        trailers.append(f"Personal-data-confirmed: {one_line(reason, REASON_MAX)}")
    return summary + ("\n\n" + "\n".join(trailers) if trailers else "")


def trailers(message: str) -> list[str]:
    """The trailer block kb writes: the last paragraph after the one-line summary (as git interpret-trailers
    reads it), never the summary itself; a block with a line that is not "Key: value" is no trailer block."""
    _, _, rest = (message or "").partition("\n")
    paragraphs = [p for p in rest.strip("\n").split("\n\n") if p.strip()]
    if not paragraphs:
        return []
    lines = paragraphs[-1].strip("\n").split("\n")
    return lines if all(re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*: .*", line) for line in lines) else []


def parse_message(message: str) -> RevisionInfo:
    """Read back what commit_message wrote (other commits give just their first line). Status changes and
    confirmations come from the trailers kb set, so a summary that imitates one is shown as plain text."""
    text = message or ""
    status = reason = restored = None
    for line in trailers(text):
        status = status or _STATUS_RE.fullmatch(line)
        reason = reason or _REASON_RE.fullmatch(line)
        restored = restored or _RESTORED_RE.fullmatch(line)
    return RevisionInfo(summary=text.split("\n", 1)[0], status_from=status.group(1) if status else None,
                        status_to=status.group(2) if status else None,
                        personal_data_reason=reason.group(1) if reason else "",
                        restored_from=restored.group(1) if restored else "")


def audit_events(result: SaveResult) -> list[tuple[str, str]]:
    """(action, detail) pairs the audit log records for a save."""
    if result.restored_from:
        events = [("note_restore", f"{result.revision[:10]} restores {result.restored_from[:10]}")]
    else:
        events = [("note_create" if result.created else "note_save",
                   f"{result.revision[:10]} as {result.status_after}")]
    if result.status_changed:
        events.append(("status_change", f"{result.status_before} -> {result.status_after}"))
    if result.personal_data_reason:
        events.append(("personal_data_confirmed", result.personal_data_reason))
    return events


# The structured start of a practice note, in the note's language.
TEMPLATE_SECTIONS = {
    "en": ("Context", "What was done", "Results", "Lessons", "Contacts and references"),
    "fr": ("Contexte", "Ce qui a été fait", "Résultats", "Leçons", "Contacts et références"),
    "ar": ("السياق", "ما تم إنجازه", "النتائج", "الدروس المستفادة", "جهات الاتصال والمراجع"),
}


def practice_template(language: str) -> str:
    """A body with the practice-note sections as headings, ready to fill in."""
    sections = TEMPLATE_SECTIONS.get(language, TEMPLATE_SECTIONS["en"])
    return "\n".join(f"## {title}\n\n" for title in sections)
