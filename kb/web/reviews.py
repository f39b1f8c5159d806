"""Review dates on the web: "still accurate" (a form button and POST /api/notes/<slug>/review), the note page's
review line, the trust mark of listed notes, the trust score of regions and the admin home (/admin).
Who may mark a note is the policy's (access.can_mark_reviewed); the dates are kb.reviewdates'."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import access
from ..search import SearchQuery
from .errors import error_response
from .helpers import current_wiki

bp = Blueprint("reviews", __name__)
api_bp = Blueprint("reviews_api", __name__, url_prefix="/api")  # CSRF as the rest of /api/ (security.py)
TRUST_FLOOR = 80  # per cent: below it the score is shown as needing attention (Guru's recommended floor)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: dt.date | None) -> str:
    return format_date(value, format="medium") if value else ""


@bp.post("/notes/<slug>/review")
@login_required
def still_accurate(slug: str):
    """The note page's "Still accurate" button: a new review date, nothing else changed."""
    marked = current_wiki().mark_reviewed(current_user, slug)
    flash(_("Marked as still accurate on %(date)s. Next review by %(due)s.", date=_day(marked.reviewed),
            due=_day(marked.review_due)))
    return redirect(url_for("notes.show", slug=slug))


@api_bp.post("/notes/<slug>/review")
def api_review(slug: str):
    """Mark a note reviewed today: {"reviewed", "review_due"} (ISO dates)."""
    wiki = current_wiki()
    wiki.get_note(current_user, slug)  # 404 for a note the caller may not read, signed in or not
    if not current_user.is_authenticated:
        return error_response(401, "Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    marked = wiki.mark_reviewed(current_user, slug)
    return jsonify({"reviewed": _iso(marked.reviewed), "review_due": _iso(marked.review_due)})


@bp.get("/admin")
def admin_home():
    """The admin home: the trust score of the whole collection and of each region (admins only: the /admin
    guard in helpers.admins_only)."""
    wiki = current_wiki()
    regions = [(place, trust_score(place.name)) for place in wiki.taxonomy.regions()]
    overdue = wiki.search(current_user, SearchQuery(review="overdue", per_page=1)).total
    return render_template("reviews/admin.html", overall=trust_score(None), regions=regions, overdue=overdue)


def trust_score(place: str | None) -> dict:
    """The share of published notes (that the reader may see, in ``place``) reviewed within their interval."""
    current, total = current_wiki().trust_score(current_user, place)
    percent = round(100 * current / total) if total else None
    return {"current": current, "total": total, "percent": percent,
            "low": percent is not None and percent < TRUST_FLOOR}


def trust_mark(hit) -> tuple[str, str] | None:
    """(css class, words) of a listed note's review state; None for a note that is not published."""
    if getattr(hit, "review_due", None) is None:
        return None
    today = dt.datetime.now(dt.timezone.utc).date()
    if hit.review_due < today:
        return "overdue", _("Review overdue")
    if hit.reviewed is None:
        return "unreviewed", _("Not reviewed yet")
    return "reviewed", _("Reviewed")


def review_line(note) -> dict | None:
    """What the note page says of the note's review (None: a note not published has no review dates)."""
    status = current_wiki().review_status(current_user, note)
    if status.review_due is None:
        return None
    due, when, by = _day(status.review_due), _day(status.reviewed), status.by
    if status.reviewed is None:
        text = (_("Never reviewed · review overdue since %(due)s", due=due) if status.overdue
                else _("Not reviewed yet · first review due by %(due)s", due=due))
    elif status.overdue:
        text = (_("Reviewed %(date)s by %(name)s · review overdue since %(due)s", date=when, name=by, due=due) if by
                else _("Reviewed %(date)s · review overdue since %(due)s", date=when, due=due))
    else:
        text = (_("Reviewed %(date)s by %(name)s · next review by %(due)s", date=when, name=by, due=due) if by
                else _("Reviewed %(date)s · next review by %(due)s", date=when, due=due))
    return {"text": text, "overdue": status.overdue, "may_mark": status.may_mark,
            "reviewed": status.reviewed, "review_due": status.review_due}


def due_reviews() -> list:
    """The published notes of the reader's regions overdue or due within 30 days, oldest first."""
    if not access.is_reviewer(current_user, current_wiki().taxonomy):
        return []
    return current_wiki().reviews_due(30, user=current_user, accounts=None)


@bp.app_context_processor
def review_globals() -> dict:
    return {"trust_mark": trust_mark, "review_line": review_line, "trust_score": trust_score,
            "due_reviews": due_reviews, "review_day": _day}
