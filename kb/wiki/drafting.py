"""What a new note or a renamed one starts from: its name (free, not reserved, not a renamed note's old
name), its front matter laid over the current one, its body as stored and the practice-note template."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import N_, InvalidNote, InvalidSlug, Message, NoteExists, NoteNotFound
from ..model import RESERVED, NoteMeta, check_slug, meta_from_dict, meta_to_dict, slugify

if TYPE_CHECKING:
    from . import Wiki

RENAMED_AWAY = N_("this name leads to a renamed note; choose another name (an admin can free it)")


def normalise_body(body: str) -> str:
    """Browsers send textareas with CRLF; notes are stored with LF."""
    return str(body or "").replace("\r\n", "\n").replace("\r", "\n")


def check_new_slug(slug: str, wiki: "Wiki | None" = None, renaming: str | None = None, user: Any = None) -> str:
    """A name for a new or renamed note; InvalidNote on the "slug" field when it cannot be used.

    With ``wiki``, an old name that redirects to a renamed note is refused too (taking it would take over
    the redirect and every link to the old name), except when ``renaming`` that very note back.
    """
    try:
        check_slug(slug)
    except InvalidSlug as exc:
        raise InvalidNote([("slug", exc.message)]) from None
    if slug in RESERVED:
        raise InvalidNote([("slug", Message(N_("%(name)s is reserved; choose another name"), name=repr(slug)))])
    if wiki is not None:
        target = wiki.redirects.target(slug)
        # A redirect to a note this writer may not read is answered like a hidden note's name: the caller
        # picks the next free name, said to no one (``user`` None: the system, which may know everything).
        if target and target != renaming and (user is None or _readable(wiki, user, target)):
            raise InvalidNote([("slug", Message(RENAMED_AWAY))])
    return slug


def title_name(title: str) -> str:
    """The name a title gives a new note (before -2, -3, ... when it is taken); "" for no title."""
    base = slugify(title or "", 110)
    return base + "-note" if base in RESERVED else base


def free_slug(wiki: "Wiki", title: str) -> str:
    """A slug derived from the title, with -2, -3, ... when it is taken (by a note or a rename's redirect)."""
    return _unused(wiki, title_name(title) or "note")


def _readable(wiki: "Wiki", user: Any, slug: str) -> bool:
    try:
        wiki.get_note(user, slug)
    except NoteNotFound:
        return False
    return True


def _unused(wiki: "Wiki", base: str) -> str:
    """``base`` with -2, -3, ... until no note has the name and no renamed note's redirect holds it."""
    slug, n = base, 1
    redirects = wiki.redirects.load()
    while wiki.store.exists(slug) or slug in redirects:
        n += 1
        slug = f"{base}-{n}"
    return slug


def new_name(wiki: "Wiki", user: Any, title: str, wanted: str = "") -> tuple[str, str]:
    """The name a new note gets, and the name asked for when the writer may know it was taken ("" else).

    ``wanted`` (an explicit name) taken by a note the writer may read: NoteExists. Taken by one they may not
    read: the next free name (wanted-2, ...), said to no one, so the answer is the one a free name gets (a
    created note under the name it was given). Without ``wanted``, the name comes from the title, and a taken
    one is said only when the writer may read the note that has it.
    """
    base = check_new_slug(wanted, wiki, user=user) if wanted else (slugify(title, 110) or "note")
    if not wanted and base in RESERVED:
        base += "-note"
    if not wiki.store.exists(base) and not wiki.redirects.target(base):
        return base, ""
    readable = _readable(wiki, user, base)
    if wanted and readable:
        raise NoteExists(Message(N_("A note named %(name)s already exists."), name=repr(base)))
    return _unused(wiki, base), base if readable else ""


def new_meta(taxonomy: Any, fields: dict, current: NoteMeta | None) -> NoteMeta:
    """Front matter for a save from form or JSON fields laid over the current note's (new notes start as
    drafts). authors, created and updated belong to kb and are never taken from the fields."""
    data = meta_to_dict(current) if current else {"status": "draft"}
    for key, value in fields.items():
        if key in ("authors", "created", "updated") or (key == "status" and not value):
            continue  # an empty status must never fall back to the front matter default, "published"
        data[key] = value
    return meta_from_dict(data, taxonomy)


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
