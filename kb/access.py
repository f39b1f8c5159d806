"""The access policy, decided here only: may this user read or edit a note, and which notes may they see.

Pure functions over plain data, no Flask. ``read_filter`` expresses the policy as data (clauses of
field -> allowed values, AND inside a clause, OR across clauses); ``can_read`` evaluates the very same
clauses against one note, and the search index applies them inside its queries. One rule, three uses.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from .errors import NoteNotFound, PermissionDenied
from .model import NoteMeta
from .taxonomy import ROLES, STATUSES, Taxonomy

Clause = dict[str, frozenset[str]]


class Reader(Protocol):
    is_authenticated: bool
    username: str
    role: str
    regions: list[str]


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "active", True))


def is_admin(user: Any) -> bool:
    return _signed_in(user) and getattr(user, "role", None) == "admin"


def user_countries(user: Any, taxonomy: Taxonomy) -> frozenset[str]:
    """Countries a focal point answers for (their regions expanded); empty for other roles."""
    if not _signed_in(user) or getattr(user, "role", None) != "focal_point":
        return frozenset()
    return taxonomy.countries_of(getattr(user, "regions", None) or [])


def note_facts(meta: NoteMeta, taxonomy: Taxonomy) -> dict[str, frozenset[str]]:
    """The facts about a note the policy looks at; the search index stores the same facts."""
    return {
        "status": frozenset([meta.status]),
        "visibility": frozenset([meta.visibility]),
        "authors": frozenset(meta.authors),
        "countries": taxonomy.countries_of(meta.regions),
    }


def read_filter(user: Any, taxonomy: Taxonomy) -> list[Clause] | None:
    """Which notes this user may read, as clauses; None means every note (admins)."""
    if is_admin(user):
        return None
    clauses: list[Clause] = [{"status": frozenset(["published"]), "visibility": frozenset(["public"])}]
    if _signed_in(user):
        clauses.append({"status": frozenset(["published"]), "visibility": frozenset(["internal"])})
        username = getattr(user, "username", None)
        if username:
            clauses.append({"authors": frozenset([username])})  # authors see their own notes
        countries = user_countries(user, taxonomy)
        if countries:
            clauses.append({"countries": countries})  # focal points see everything in their regions
    return clauses


def matches(clauses: list[Clause] | None, facts: dict[str, frozenset[str]]) -> bool:
    """Evaluate read_filter clauses against one note's facts."""
    if clauses is None:
        return True
    return any(all(facts.get(f, frozenset()) & allowed for f, allowed in clause.items()) for clause in clauses)


def can_read(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user read the note? The one question every page, list and export asks."""
    return matches(read_filter(user, taxonomy), note_facts(meta, taxonomy))


def _covers(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """A focal point whose regions include one of the note's countries."""
    return bool(taxonomy.countries_of(meta.regions) & user_countries(user, taxonomy))


def can_create(user: Any) -> bool:
    """May this user start notes at all? Every signed-in role may: practitioners write drafts."""
    return _signed_in(user) and getattr(user, "role", None) in ROLES


def can_edit(user: Any, meta: NoteMeta | None, taxonomy: Taxonomy) -> bool:
    """May this user change the note (or, with meta None, create notes at all)?

    Admins change everything, focal points the notes of their regions, and authors their own notes while
    they are drafts or waiting for review.
    """
    if is_admin(user):
        return True
    if meta is None:
        return can_create(user)
    if _covers(user, meta, taxonomy):
        return True
    return (_signed_in(user) and meta.status in ("draft", "review")
            and getattr(user, "username", None) in meta.authors)


def can_publish(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user publish or unpublish the note? Admins, and focal points of its regions."""
    return is_admin(user) or _covers(user, meta, taxonomy)


# draft -> review -> published, and back to draft; a focal point may also publish a draft directly.
WORKFLOW: dict[str, tuple[str, ...]] = {"draft": ("review", "published"), "review": ("draft", "published"),
                                        "published": ("draft",)}


def can_set_status(user: Any, before: NoteMeta | None, after: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user move a note from ``before`` (None: a new note) to ``after``'s status?"""
    old, new = (before.status if before else None), after.status
    if old == new and before is not None:
        return True
    if is_admin(user):
        return True
    if old is not None and new not in WORKFLOW.get(old, ()):
        return False
    if new == "published":
        return can_publish(user, after, taxonomy)
    if old == "published":
        return can_publish(user, before, taxonomy)
    return True  # draft <-> review: whoever may edit the note (checked with can_edit)


def statuses_for(user: Any, before: NoteMeta | None, taxonomy: Taxonomy) -> list[str]:
    """The statuses this user may give the note next (its current one first), for forms.

    For a new note the regions are not chosen yet: focal points are offered "published", and the save
    checks it against the regions they pick.
    """
    if before is None:
        may_publish = is_admin(user) or bool(user_countries(user, taxonomy))
        return ["draft", "review", *(["published"] if may_publish else [])] if can_create(user) else []
    options = [before.status]
    for status in STATUSES:
        if status != before.status and can_set_status(user, before, before.copy(status=status), taxonomy):
            options.append(status)
    return options


def can_delete(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user (soft-)delete the note? Those who may publish it."""
    return can_publish(user, meta, taxonomy)


def can_undelete(user: Any) -> bool:
    """Only admins bring deleted notes back."""
    return is_admin(user)


def can_read_old_revisions(user: Any) -> bool:
    """The text of a note's earlier versions (and diffs) is for signed-in readers: an edit that took a
    name out must not leave it one click away for the public. The list of changes stays public."""
    return _signed_in(user)


def can_redact(user: Any) -> bool:
    """Only admins rewrite history to take a passage out of every version of a note."""
    return is_admin(user)


def can_edit_glossary(user: Any) -> bool:
    """The cross-language glossary (content/glossary.yml) is the programme's vocabulary: admins and focal
    points change it; everyone reads it."""
    return is_admin(user) or (_signed_in(user) and getattr(user, "role", None) == "focal_point")


def is_reviewer(user: Any, taxonomy: Taxonomy) -> bool:
    """Does this user review notes at all? Admins, and focal points of some region."""
    return is_admin(user) or bool(user_countries(user, taxonomy))


def review_clauses(user: Any, taxonomy: Taxonomy) -> list[Clause]:
    """The notes waiting for this user's review, as read_filter clauses: in review, in their regions
    (every region for admins); none for other users."""
    if is_admin(user):
        return [{"status": frozenset(["review"])}]
    countries = user_countries(user, taxonomy)
    return [{"status": frozenset(["review"]), "countries": countries}] if countries else []


def can_mark_reviewed(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user mark the note as still accurate (a new review date, nothing else changed)? Admins, and
    focal points of its regions: those who vouch for what is published there."""
    return is_admin(user) or _covers(user, meta, taxonomy)


def review_due_clauses(user: Any, taxonomy: Taxonomy) -> list[Clause]:
    """The published notes whose review dates this user looks after, as read_filter clauses: those of their
    regions (every one for admins); none for other users."""
    if is_admin(user):
        return [{"status": frozenset(["published"])}]
    countries = user_countries(user, taxonomy)
    return [{"status": frozenset(["published"]), "countries": countries}] if countries else []


def published_clauses(user: Any, taxonomy: Taxonomy) -> list[Clause]:
    """The published notes this user may read, as clauses (what a trust score counts)."""
    allowed = read_filter(user, taxonomy)
    published = frozenset(["published"])
    if allowed is None:
        return [{"status": published}]
    return [{**c, "status": c.get("status", published) & published} for c in allowed
            if c.get("status", published) & published]


def unfinished_clauses(user: Any) -> list[Clause]:
    """A writer's own notes not published yet (drafts and notes waiting for review); none for readers."""
    name = getattr(user, "username", None)
    if not can_create(user) or not name:
        return []
    return [{"status": frozenset(["draft", "review"]), "authors": frozenset([name])}]


# --- comments: never public; signed-in readers of the note write them -----------------------------------
COMMENT_EDIT_MINUTES = 15


def can_comment(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user read and write comments on the note? Signed-in readers of it; never the public."""
    return _signed_in(user) and can_read(user, meta, taxonomy)


def can_moderate_comments(user: Any, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user delete anyone's comment on the note and mark its threads resolved? Admins, and the
    focal points of the note's regions."""
    return is_admin(user) or _covers(user, meta, taxonomy)


def can_edit_comment(user: Any, author: str, created: dt.datetime, now: dt.datetime) -> bool:
    """May this user change a comment? Its writer, for COMMENT_EDIT_MINUTES after writing it."""
    return (_signed_in(user) and getattr(user, "username", None) == author
            and now - created <= dt.timedelta(minutes=COMMENT_EDIT_MINUTES))


def can_delete_comment(user: Any, author: str, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user delete a comment? Its writer, and those who moderate the note's comments."""
    return _signed_in(user) and (getattr(user, "username", None) == author
                                 or can_moderate_comments(user, meta, taxonomy))


def can_resolve_comment(user: Any, author: str, meta: NoteMeta, taxonomy: Taxonomy) -> bool:
    """May this user mark a comment thread resolved (or open it again)? Whoever started the thread, and
    those who moderate the note's comments."""
    return can_delete_comment(user, author, meta, taxonomy)


# --- require: the one way to demand a permission ------------------------------------------------------

# Actions whose object does not exist for those who may not take them (a 404): the admin pages (everything
# under /admin, the redaction page), and the text of earlier versions, which the public is not shown at all
HIDDEN = frozenset(["administer", "read_old_revisions"])


def allowed(user: Any, action: str, meta: NoteMeta | None = None, taxonomy: Taxonomy | None = None) -> bool:
    """May this user take the action (on the note whose front matter is ``meta``)?"""
    if action == "administer":
        return is_admin(user)
    if action == "create":
        return can_create(user)
    if action == "undelete":
        return can_undelete(user)
    if action == "redact":
        return can_redact(user)
    if action == "read_old_revisions":
        return can_read_old_revisions(user)
    if action == "review":
        return is_reviewer(user, taxonomy)
    if action == "edit_glossary":
        return can_edit_glossary(user)
    if meta is None or taxonomy is None:
        raise ValueError(f"the action {action!r} is asked about a note")
    checks = {"read": can_read, "edit": can_edit, "publish": can_publish, "delete": can_delete,
              "mark_reviewed": can_mark_reviewed}
    return checks[action](user, meta, taxonomy)


def require(user: Any, action: str, target: str = "", meta: NoteMeta | None = None,
            taxonomy: Taxonomy | None = None) -> None:
    """Demand a permission: NoteNotFound (a 404) when the user may not read the note or the action is one of
    HIDDEN (nothing there exists for them), PermissionDenied (a 403) otherwise."""
    if allowed(user, action, meta, taxonomy):
        return
    if action in HIDDEN or action == "read":
        raise NoteNotFound(target or action)
    raise PermissionDenied(target or action)
