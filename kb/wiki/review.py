"""The review workflow's lists and rule: the notes waiting for a reviewer, a writer's unfinished notes, and
what a note sent for review must say. Whose review a note waits for is the policy's (access.review_clauses)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import access, reviewdates
from ..errors import N_, InvalidNote, Message
from ..model import NoteMeta
from ..search import Hit, SearchQuery

if TYPE_CHECKING:
    from . import Wiki


def check(meta: NoteMeta, before: NoteMeta | None = None) -> None:
    """A note sent for review must say whose review: at least one region or country; and a save may not
    date a review in the future."""
    if meta.status == "review" and not meta.regions:
        raise InvalidNote([("regions", Message(N_("choose at least one region or country, so that its focal "
                                                  "points can review the note")))])
    problems = reviewdates.check_on_save(meta.extra, before.extra if before else None)
    if problems:
        raise InvalidNote(problems)


def _listing(wiki: "Wiki", clauses: list[access.Clause]) -> list[Hit]:
    if not clauses:
        return []
    return wiki.index.search(SearchQuery(sort="newest", per_page=100), clauses).hits


def review_queue(wiki: "Wiki", user: Any) -> list[Hit]:
    """Notes waiting for this user's review: in their regions (every region for admins)."""
    return _listing(wiki, access.review_clauses(user, wiki.taxonomy))


def unfinished(wiki: "Wiki", user: Any) -> list[Hit]:
    """This user's own drafts and notes waiting for review."""
    return _listing(wiki, access.unfinished_clauses(user))
