"""The personal-data guard: which likely personal data (pdscan) a save must have confirmed before a note
is public and published. Every front-matter value is read, not only the title, the summary and the body."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from . import pdscan
from .model import Note, NoteMeta, meta_to_dict


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


def scan_words(fieldname: str, text: str) -> list[PdFinding]:
    """Findings in a short text that leaves kb beside the note: a change summary (shown in the public
    history) or a note's name (in every URL), whose hyphens are read as spaces."""
    text = str(text or "")
    if fieldname == "slug":
        text = text.replace("-", " ")
    return [PdFinding(fieldname, f.line, f.column, f.kind, f.text, f.message) for f in pdscan.scan(text)]


def personal_data(meta: NoteMeta, body: str, previous: Note | None, message: str = "",
                  slug: str = "") -> list[PdFinding]:
    """Findings that need a confirmation: only when the save leaves the note public and published, and only
    those the already public version did not have (a confirmed note is not questioned again on every edit).
    Every front-matter value is read, not only the title, the summary and the body; and the change summary
    (every save has its own) and a new note's name, which leave kb with it (history, URLs)."""
    if not is_public(meta):
        return []
    extra = scan_words("message", message) + scan_words("slug", slug)
    was_public = previous is not None and is_public(previous.meta)
    if was_public and note_fields(previous.meta, previous.body) == note_fields(meta, body):
        return extra  # nothing else that is scanned changed (a scan of a long note costs tens of milliseconds)
    return extra + _fresh(meta, body, previous, was_public)


def _fresh(meta: NoteMeta, body: str, previous: Note | None, was_public: bool) -> list[PdFinding]:
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
