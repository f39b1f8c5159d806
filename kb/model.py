"""Notes: metadata, slug rules, and front matter read/write with validation against the taxonomy."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from slugify import slugify as _transliterate

from . import reviewdates, yamlio
from .errors import N_, InvalidNote, InvalidSlug, Message
from .taxonomy import LANGUAGES, STATUSES, VISIBILITIES, Taxonomy

SLUG_MAX = 120
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Names the web routes use after /notes/ (or could one day): a note cannot take them.
RESERVED = frozenset({"new", "search", "edit", "preview", "history", "diff", "raw", "rename", "delete", "status",
                      "revisions", "restore", "export", "feeds", "api", "admin", "static"})
KNOWN_KEYS = ("title", "language", "regions", "topics", "audience", "visibility", "status", "summary",
              "authors", "created", "updated", "translations")
TITLE_MAX = 300
SUMMARY_MAX = 2000
# Limits checked before any parsing, so a hostile file costs kb no more than reading it.
BODY_MAX = 400_000            # characters of Markdown (render_limits.MAX_CHARS renders up to this)
FRONT_MATTER_MAX = 16_384     # characters of YAML between the '---' lines (kb writes ~1 kB)
FRONT_MATTER_KEYS = 50        # keys at the top level
FRONT_MATTER_DEPTH = 4        # nesting of lists and mappings (translations: 2)
FRONT_MATTER_VALUES = 500     # scalars in all
FRONT_MATTER_STRING = 4_000   # characters in one value


def check_slug(slug: Any) -> str:
    """Return the slug if it follows the rules, else raise InvalidSlug with a clear message."""
    if not isinstance(slug, str) or not slug:
        raise InvalidSlug(Message(N_("A note name (slug) cannot be empty.")))
    if len(slug) > SLUG_MAX:
        raise InvalidSlug(Message(N_("A note name (slug) has at most %(n)s characters."), n=SLUG_MAX))
    if not _SLUG_RE.fullmatch(slug):
        raise InvalidSlug(Message(N_("A note name (slug) uses only lowercase letters a-z, digits and single "
                                     "hyphens between them: %(name)s does not."), name=repr(slug[:60])))
    return slug


def slugify(text: str, max_len: int = SLUG_MAX) -> str:
    """Lowercase, each run of characters other than a-z and 0-9 becomes one hyphen, trimmed and cut.

    Text in another script is first transliterated to Latin letters (python-slugify with text-unidecode):
    "Déclaration à Tillabéri" gives declaration-a-tillaberi, an Arabic title a readable Latin name. ASCII text
    is left to the rule alone, so the names of existing notes and links keep resolving exactly as before.
    """
    if not text.isascii():
        text = _transliterate(text, entities=False, decimal=False, hexadecimal=False, lowercase=False,
                              separator=" ")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-")


@dataclass
class NoteMeta:
    title: str
    language: str
    regions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    visibility: str = "public"
    status: str = "published"
    summary: str = ""
    authors: list[str] = field(default_factory=list)
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    translations: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # keys kb does not know, kept as they are

    def copy(self, **changes) -> "NoteMeta":
        return replace(self, **changes)


@dataclass
class Note:
    slug: str
    meta: NoteMeta
    body: str
    revision: str | None = None  # the git commit that last changed the note


# --- parsing ----------------------------------------------------------------------------------

def split_front_matter(text: str) -> tuple[str, str]:
    """Split '---\\nYAML\\n---\\nbody'; raise InvalidNote when the block is missing or unclosed."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        raise InvalidNote([("front matter", "the file must start with a '---' line, then YAML, then '---'")])
    lines = text.split("\n")
    if lines[0].strip() != "---":
        raise InvalidNote([("front matter", "the first line must be exactly '---'")])
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r") in ("---", "..."):
            body = "\n".join(lines[i + 1:])
            return "\n".join(lines[1:i]), body
    raise InvalidNote([("front matter", "the closing '---' line is missing")])


def check_body(body: str) -> None:
    """InvalidNote when a body is past BODY_MAX (checked on save and import, before anything else)."""
    if len(body) > BODY_MAX:
        raise InvalidNote([("body", Message(N_("has at most %(n)s characters"), n=BODY_MAX))])


def _check_shape(data: Any) -> None:
    """InvalidNote when parsed front matter has too many keys, values, levels or characters."""
    if isinstance(data, dict) and len(data) > FRONT_MATTER_KEYS:
        raise InvalidNote([("front matter", Message(N_("has at most %(n)s keys"), n=FRONT_MATTER_KEYS))])
    count, chars = 0, 0
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list, tuple)):
            if depth >= FRONT_MATTER_DEPTH:
                raise InvalidNote([("front matter", Message(N_("nests lists and mappings at most %(n)s deep"),
                                                            n=FRONT_MATTER_DEPTH))])
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else list(value)
            stack.extend((item, depth + 1) for item in items)
            continue
        count += 1
        size = len(value) if isinstance(value, str) else 0
        chars += size
        if count > FRONT_MATTER_VALUES:
            raise InvalidNote([("front matter", Message(N_("has at most %(n)s values"), n=FRONT_MATTER_VALUES))])
        if size > FRONT_MATTER_STRING:
            raise InvalidNote([("front matter", Message(N_("values have at most %(n)s characters"),
                                                        n=FRONT_MATTER_STRING))])
        if chars > FRONT_MATTER_MAX:
            raise InvalidNote([("front matter", Message(N_("has at most %(n)s characters"), n=FRONT_MATTER_MAX))])


def parse_note(slug: str, text: str, taxonomy: Taxonomy, source: str = "") -> Note:
    """Parse a note file's text; raise InvalidNote listing every problem, with the file name."""
    source = source or f"{slug}.md"
    try:
        fm_text, body = split_front_matter(text)
        if len(fm_text) > FRONT_MATTER_MAX:  # before YAML sees it
            raise InvalidNote([("front matter", Message(N_("has at most %(n)s characters"), n=FRONT_MATTER_MAX))])
        try:
            data = yamlio.load(fm_text)
        except yamlio.YamlError as exc:
            raise InvalidNote([("front matter", f"invalid YAML: {exc}")]) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidNote([("front matter", "must be a mapping of keys to values")])
        meta = meta_from_dict(data, taxonomy)
    except InvalidNote as exc:
        raise InvalidNote(exc.problems, source) from None
    return Note(slug=slug, meta=meta, body=body.lstrip("\n"))


def _as_list(value: Any, fieldname: str, problems: list) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    problems.append((fieldname, Message(N_("must be a name or a list of names"))))
    return []


def _as_datetime(value: Any, fieldname: str, problems: list) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    problems.append((fieldname, Message(N_("must be a date like 2026-03-31 or 2026-03-31T14:05:00Z"))))
    return None


def _not_one_of(value, choices) -> Message:
    return Message(N_("%(value)s is not one of %(choices)s"), value=repr(value), choices=", ".join(choices))


def meta_from_dict(data: dict, taxonomy: Taxonomy) -> NoteMeta:
    """Validate front matter (a mapping) against the taxonomy; raise InvalidNote listing every problem."""
    _check_shape(data)
    problems: list[tuple[str, str]] = []
    title = data.get("title")
    if not isinstance(title, (str, int, float)) or not str(title).strip():
        problems.append(("title", Message(N_("is required"))))
        title = ""
    title = str(title).strip()
    if len(title) > TITLE_MAX:
        problems.append(("title", Message(N_("has at most %(n)s characters"), n=TITLE_MAX)))
    language = data.get("language")
    if language is None or language == "":
        problems.append(("language", Message(N_("is required: one of %(choices)s"), choices=", ".join(LANGUAGES))))
    elif language not in LANGUAGES:
        problems.append(("language", _not_one_of(language, LANGUAGES)))

    regions = []
    for name in _as_list(data.get("regions"), "regions", problems):
        canonical = taxonomy.canonical_place(name)
        if canonical is None:
            problems.append(("regions", Message(N_("unknown region or country %(name)s"), name=repr(name))))
        elif canonical not in regions:
            regions.append(canonical)
    topics = _as_list(data.get("topics"), "topics", problems)
    for t in topics:
        if t not in taxonomy.topics:
            problems.append(("topics", Message(N_("unknown topic %(name)s"), name=repr(t))))
    audience = _as_list(data.get("audience"), "audience", problems)
    for a in audience:
        if a not in taxonomy.audiences:
            problems.append(("audience", Message(N_("unknown audience %(name)s; one of %(choices)s"), name=repr(a),
                                                choices=", ".join(taxonomy.audiences))))
    visibility = data.get("visibility") or "public"
    if visibility not in VISIBILITIES:
        problems.append(("visibility", _not_one_of(visibility, VISIBILITIES)))
    status = data.get("status") or "published"
    if status not in STATUSES:
        problems.append(("status", _not_one_of(status, STATUSES)))
    summary = data.get("summary") or ""
    if not isinstance(summary, str):
        problems.append(("summary", Message(N_("must be text"))))
        summary = ""
    elif len(summary) > SUMMARY_MAX:
        problems.append(("summary", Message(N_("has at most %(n)s characters"), n=SUMMARY_MAX)))
    authors = _as_list(data.get("authors"), "authors", problems)
    created = _as_datetime(data.get("created"), "created", problems)
    updated = _as_datetime(data.get("updated"), "updated", problems)
    translations = data.get("translations") or {}
    if not isinstance(translations, dict):
        problems.append(("translations", Message(N_("must map a language to a note name, e.g. {fr: my-note-fr}"))))
        translations = {}
    else:
        for lang, target in translations.items():
            if lang not in LANGUAGES:
                problems.append(("translations", _not_one_of(lang, LANGUAGES)))
            try:
                check_slug(target)
            except InvalidSlug as exc:
                problems.append(("translations", exc.message))
    review, review_problems = reviewdates.problems(data)  # reviewed, review_every, reviewer
    problems += review_problems
    if problems:
        raise InvalidNote(problems)
    extra = {k: review.get(k, v) for k, v in data.items() if k not in KNOWN_KEYS}
    return NoteMeta(title=title, language=language, regions=regions, topics=list(dict.fromkeys(topics)),
                    audience=list(dict.fromkeys(audience)), visibility=visibility, status=status,
                    summary=summary.strip(), authors=authors, created=created, updated=updated,
                    translations={str(k): str(v) for k, v in translations.items()}, extra=extra)


# --- writing ----------------------------------------------------------------------------------

def _date_out(value: dt.datetime | None):
    if value is None:
        return None
    value = value.astimezone(dt.timezone.utc)
    if value.time() == dt.time(0, 0):
        return value.date()
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def meta_to_dict(meta: NoteMeta) -> dict[str, Any]:
    """Front matter as a mapping: known keys in a stable order, empty ones left out, extras kept."""
    out: dict[str, Any] = {"title": meta.title, "language": meta.language}
    for key in ("regions", "topics", "audience"):
        if getattr(meta, key):
            out[key] = list(getattr(meta, key))
    out["visibility"] = meta.visibility
    out["status"] = meta.status
    if meta.summary:
        out["summary"] = meta.summary
    if meta.authors:
        out["authors"] = list(meta.authors)
    for key in ("created", "updated"):
        if getattr(meta, key):
            out[key] = _date_out(getattr(meta, key))
    if meta.translations:
        out["translations"] = dict(meta.translations)
    for k, v in meta.extra.items():
        out.setdefault(k, v)
    return out


def dump_note(note: Note) -> str:
    """The note as file text: front matter block, then the body."""
    body = note.body if note.body.endswith("\n") or not note.body else note.body + "\n"
    return "---\n" + yamlio.dump(meta_to_dict(note.meta)) + "---\n" + body
