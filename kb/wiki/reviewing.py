"""Review dates in the service: a note's review status, "still accurate" (a commit that changes only
``reviewed``), the notes falling due and their reviewers, and the trust score. The dates themselves are
computed by kb.reviewdates; who may do what is the policy's (access.can_mark_reviewed, review_due_clauses)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from .. import access, reviewdates
from ..errors import N_, InvalidNote, Message
from ..model import Note, dump_note, meta_to_dict, parse_note
from ..search import SearchQuery
from . import commits
from .writes import actor_of, change

if TYPE_CHECKING:
    from . import Wiki

TRAILER = "Reviewed"  # the review commit's trailer: "Reviewed: 2026-09-14"
NOT_PUBLISHED = N_("Only a published note is reviewed: publish it first.")


@dataclass(frozen=True)
class ReviewStatus:
    """What a note page says of the note's review, for this reader."""
    reviewed: dt.date | None
    review_due: dt.date | None
    overdue: bool
    by: str = ""  # who marked it, read from the review commit ("" when it was set another way)
    reviewers: list[str] = field(default_factory=list)  # named in front matter (none: its focal points)
    may_mark: bool = False


@dataclass(frozen=True)
class Marked:
    """What "still accurate" did: the note's new dates, and its commit (None: it was reviewed today already)."""
    slug: str
    reviewed: dt.date
    review_due: dt.date | None
    revision: str | None


@dataclass(frozen=True)
class DueReview:
    """A published note overdue or falling due soon, and who reviews it."""
    slug: str
    title: str
    language: str
    regions: list[str]
    reviewed: dt.date | None
    review_due: dt.date
    overdue: bool
    reviewers: list[str]


def due_of(wiki: "Wiki", note: Note, day: dt.date | None = None) -> dt.date | None:
    """The note's next review date, as the index computes it."""
    return reviewdates.review_due(note.meta, wiki.taxonomy.review_every, fallback=wiki.updated_of(note), day=day)


def reviewed_by(wiki: "Wiki", note: Note) -> str:
    """Who marked the note reviewed on its ``reviewed`` date: the author of the latest review commit saying
    that date ("" when the date was written another way, e.g. in the editor)."""
    day = reviewdates.reviewed_on(note.meta)
    if day is None:
        return ""
    wanted = f"{TRAILER}: {day.isoformat()}"
    for rev in wiki.history.log(wiki.store.relpath(note.slug), limit=50):
        if wanted in commits.trailers(rev.message):
            return rev.author
    return ""


def status(wiki: "Wiki", user: Any, note: Note, day: dt.date | None = None) -> ReviewStatus:
    """The review status of a note the caller has already read through the policy."""
    due = due_of(wiki, note, day)
    return ReviewStatus(reviewed=reviewdates.reviewed_on(note.meta), review_due=due,
                        overdue=reviewdates.is_overdue(due, day), by=reviewed_by(wiki, note),
                        reviewers=reviewdates.named_reviewers(note.meta),
                        may_mark=note.meta.status == "published"
                        and access.can_mark_reviewed(user, note.meta, wiki.taxonomy))


def _text_with(wiki: "Wiki", note: Note, raw: bytes, day: dt.date) -> bytes:
    """The note's file with ``reviewed`` set to ``day`` and every other byte kept; written out whole only
    when the file's front matter cannot be edited in place (the meaning is the same either way)."""
    expected = note.meta.copy(extra={**note.meta.extra, "reviewed": day})
    try:
        text = reviewdates.with_reviewed(raw.decode("utf-8"), day)
        again = parse_note(note.slug, text, wiki.taxonomy)
        if meta_to_dict(again.meta) == meta_to_dict(expected) and again.body == note.body:
            return text.encode("utf-8")
    except (ValueError, InvalidNote):  # UnicodeDecodeError is a ValueError
        pass
    return dump_note(Note(note.slug, expected, note.body)).encode("utf-8")


def mark_reviewed(wiki: "Wiki", user: Any, slug: str, day: dt.date | None = None) -> Marked:
    """"Still accurate": set the note's ``reviewed`` to today in one commit authored by the reviewer, audited,
    changing nothing else. NoteNotFound when the caller may not read the note, PermissionDenied when they
    may not vouch for it (admins and focal points of its regions may), InvalidNote when it is not published."""
    day = day or reviewdates.today()
    wiki.get_note(user, slug)  # 404 first: a hidden note is not there for them
    actor = actor_of(user)
    with change(wiki, actor) as ch:
        note = wiki._load(slug)  # under the lock: the text as it is now
        access.require(user, "mark_reviewed", slug, note.meta, wiki.taxonomy)
        if note.meta.status != "published":
            raise InvalidNote([("status", Message(NOT_PUBLISHED))])
        if reviewdates.reviewed_on(note.meta) == day:
            return Marked(slug, day, due_of(wiki, note, day), None)
        data = _text_with(wiki, note, wiki.store.read_bytes(slug), day)
        ch.write(slug, data)
        revision = ch.commit(f"Still accurate: {slug}\n\n{TRAILER}: {day.isoformat()}")
        ch.audit("note_review", slug, f"{(revision or '')[:10]} reviewed {day.isoformat()}")
    updated = dataclasses.replace(note, meta=note.meta.copy(extra={**note.meta.extra, "reviewed": day}))
    return Marked(slug, day, due_of(wiki, updated, day), revision)


def _due_hits(wiki: "Wiki", clauses: list | None, within_days: int, day: dt.date | None):
    page = 1
    while True:
        query = SearchQuery(review="due", due_within=within_days, today=day, sort="due", per_page=100, page=page)
        results = wiki.index.search(query, clauses)
        yield from results.hits
        if page * 100 >= results.total or not results.hits:
            return
        page += 1


def reviews_due(wiki: "Wiki", within_days: int = reviewdates.DUE_SOON, user: Any = None,
                accounts: Iterable[Any] | None = (), day: dt.date | None = None) -> list[DueReview]:
    """Published notes overdue or due within ``within_days``, the longest overdue first, each with its
    reviewers (named in front matter, else the focal points among ``accounts`` whose regions cover it).
    With ``user``: only the notes whose reviews they look after (their regions; all for admins; none for
    others). Without: every note, for kb's own jobs, which must ask the policy before showing one to anyone.
    With ``accounts`` None, reviewers are not looked up (no note is read: a list for a page)."""
    clauses = access.review_due_clauses(user, wiki.taxonomy) if user is not None else None
    if clauses is not None and not clauses:
        return []
    accounts = None if accounts is None else list(accounts)
    out = []
    for hit in _due_hits(wiki, clauses, max(0, int(within_days)), day):
        note = wiki._load_any(hit.slug) if accounts is not None else None
        if hit.review_due is None or (note is None and accounts is not None):
            continue
        names = [] if note is None else reviewdates.reviewers(
            note.meta, wiki.taxonomy.countries_of(note.meta.regions), accounts, wiki.taxonomy.countries_of)
        out.append(DueReview(hit.slug, hit.title, hit.language, list(hit.regions), hit.reviewed, hit.review_due,
                             reviewdates.is_overdue(hit.review_due, day), names))
    return out


def trust_score(wiki: "Wiki", user: Any, place: str | None = None,
                day: dt.date | None = None) -> tuple[int, int]:
    """(published notes reviewed within their interval, published notes), among those this user may read
    (in ``place``, a region or country, when given)."""
    clauses = access.published_clauses(user, wiki.taxonomy)
    if not clauses:
        return 0, 0
    query = SearchQuery(places=[place] if place else [], per_page=1, today=day)
    total = wiki.index.search(query, clauses).total
    if not total:
        return 0, 0
    return wiki.index.search(dataclasses.replace(query, review="current"), clauses).total, total


class ReviewDates:
    """The Wiki facade's review-date methods (Wiki inherits them; the facade stays one door)."""

    def review_status(self: "Wiki", user: Any, note: Note) -> ReviewStatus:
        """A readable note's review: reviewed when and by whom, next due, may this reader mark it."""
        return status(self, user, note)

    def review_dates(self: "Wiki", note: Note) -> tuple[dt.date | None, dt.date | None]:
        """(reviewed, review_due) of a readable note."""
        return reviewdates.reviewed_on(note.meta), due_of(self, note)

    def mark_reviewed(self: "Wiki", user: Any, slug: str) -> Marked:
        """"Still accurate": a commit changing only the note's review date, by this reviewer."""
        return mark_reviewed(self, user, slug)

    def reviews_due(self: "Wiki", within_days: int = reviewdates.DUE_SOON, user: Any = None,
                    accounts: Iterable[Any] | None = (), day: dt.date | None = None) -> list[DueReview]:
        """Published notes overdue or due within N days with their reviewers (see reviewing.reviews_due)."""
        return reviews_due(self, within_days, user, accounts, day)

    def reviewers_of(self: "Wiki", slug: str, accounts: Iterable[Any]) -> list[str]:
        """Who looks after a note's reviews (named in front matter, else the focal points among ``accounts``
        whose regions cover it); [] when there is no such note. For kb's own jobs: no access check."""
        note = self._load_any(slug)
        if note is None:
            return []
        return reviewdates.reviewers(note.meta, self.taxonomy.countries_of(note.meta.regions), accounts,
                                     self.taxonomy.countries_of)

    def trust_score(self: "Wiki", user: Any, place: str | None = None) -> tuple[int, int]:
        """(reviewed within their interval, published) among the notes this user may read."""
        return trust_score(self, user, place)
