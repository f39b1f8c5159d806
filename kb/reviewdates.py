"""Review dates: when a note was last vouched for, when its next review falls due, and who reviews it.

Three front-matter keys, kept among a note's other keys (``NoteMeta.extra``) and validated here:
``reviewed`` (a date), ``review_every`` (days; the taxonomy's ``review_every`` when absent, 180 by default)
and ``reviewer`` (a username or a list of them; by default the focal points of the note's regions). Only a
published note falls due: drafts and notes in review have nothing vouched for yet. A note never reviewed
falls due one interval after it was created (or, lacking that date, last changed). No Flask, no git: pure
functions over dates, so the index, the service and the notifications compute the same thing.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable

from .errors import N_, Message

KEYS = ("reviewed", "review_every", "reviewer")
DEFAULT_EVERY = 180
EVERY_MAX = 3650  # ten years: past that, a "review interval" is a typing mistake
DUE_SOON = 30  # days: what /review lists ahead of the due date
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")  # the accounts' rule (kb/users.py)


def today() -> dt.date:
    """Today's date in UTC: what "overdue" is measured against, everywhere."""
    return dt.datetime.now(dt.timezone.utc).date()


def as_date(value: Any) -> dt.date | None:
    """A date from what YAML or JSON gives (a date, a datetime, ISO text); None when it is none of them."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo is None else value.astimezone(dt.timezone.utc)).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text[:10]) if len(text) == 10 else \
                dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc).date()
        except ValueError:
            return None
    return None


def problems(data: dict) -> tuple[dict, list[tuple[str, Message]]]:
    """Validate the review keys of front matter: (normalised values of those present, problems)."""
    out: dict[str, Any] = {}
    found: list[tuple[str, Message]] = []
    if data.get("reviewed") not in (None, ""):
        day = as_date(data["reviewed"])
        if day is None:
            found.append(("reviewed", Message(N_("must be a date like 2026-09-14"))))
        else:
            out["reviewed"] = day
    every = data.get("review_every")
    if every not in (None, ""):
        if isinstance(every, bool) or not isinstance(every, (int, str)) or not str(every).strip().isdigit() \
                or not 0 < int(every) <= EVERY_MAX:
            found.append(("review_every", Message(N_("must be a whole number of days from 1 to %(n)s"),
                                                  n=EVERY_MAX)))
        else:
            out["review_every"] = int(every)
    reviewer = data.get("reviewer")
    if reviewer not in (None, "", []):
        names = [reviewer] if isinstance(reviewer, str) else reviewer
        if not isinstance(names, (list, tuple)) or not names or \
                not all(isinstance(n, str) and _USERNAME.fullmatch(n.strip().lower()) for n in names):
            found.append(("reviewer", Message(N_("must be a username or a list of usernames"))))
        else:
            clean = list(dict.fromkeys(n.strip().lower() for n in names))
            out["reviewer"] = clean[0] if isinstance(reviewer, str) else clean
    return out, found


def check_on_save(extra: dict, before: dict | None, day: dt.date | None = None) -> list[tuple[str, Message]]:
    """What a save must not do: set ``reviewed`` to a date after today (a date already there is left alone)."""
    reviewed = as_date(extra.get("reviewed"))
    if reviewed is None or (before is not None and as_date(before.get("reviewed")) == reviewed):
        return []
    if reviewed > (day or today()) + dt.timedelta(days=1):  # a day's grace for the writer's time zone
        return [("reviewed", Message(N_("cannot be in the future")))]
    return []


def reviewed_on(meta: Any) -> dt.date | None:
    """The date the note was last reviewed (None: never)."""
    return as_date((getattr(meta, "extra", None) or {}).get("reviewed"))


def interval(meta: Any, default_days: int = DEFAULT_EVERY) -> int:
    """Days between reviews of this note."""
    every = (getattr(meta, "extra", None) or {}).get("review_every")
    return every if isinstance(every, int) and not isinstance(every, bool) and every > 0 else default_days


def review_due(meta: Any, default_days: int = DEFAULT_EVERY, fallback: dt.date | dt.datetime | None = None,
               day: dt.date | None = None) -> dt.date | None:
    """When the note's next review falls due: one interval after it was last reviewed (a date after ``day``,
    today by default, counts as ``day``), else after it was created, else after ``fallback`` (its last change).
    None for a note that is not published, or that has no date at all."""
    if getattr(meta, "status", "published") != "published":
        return None
    base = reviewed_on(meta) or as_date(getattr(meta, "created", None)) or as_date(fallback)
    if base is None:
        return None
    base = min(base, day or today())
    return base + dt.timedelta(days=interval(meta, default_days))


def is_current(reviewed: dt.date | None, due: dt.date | None, day: dt.date | None = None) -> bool:
    """Reviewed, and within its interval: what the trust score counts."""
    return reviewed is not None and due is not None and due >= (day or today())


def is_overdue(due: dt.date | None, day: dt.date | None = None) -> bool:
    return due is not None and due < (day or today())


def named_reviewers(meta: Any) -> list[str]:
    """The usernames the note's ``reviewer`` key names (none: its focal points review it)."""
    value = (getattr(meta, "extra", None) or {}).get("reviewer")
    names = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    return [n for n in names if isinstance(n, str) and n]


def reviewers(meta: Any, countries_of_note: frozenset[str], accounts: Iterable[Any],
              countries_of: Any) -> list[str]:
    """Who reviews the note: the usernames its ``reviewer`` key names, else the active focal points whose
    regions cover one of its countries (``countries_of(regions)`` expands an account's regions)."""
    named = named_reviewers(meta)
    if named:
        return named
    out = []
    for account in accounts:
        if getattr(account, "role", None) != "focal_point" or not getattr(account, "active", True):
            continue
        if countries_of(getattr(account, "regions", None) or []) & countries_of_note:
            out.append(account.username)
    return sorted(set(out))


_LINE = re.compile(r"reviewed[ \t]*:")


def with_reviewed(text: str, day: dt.date) -> str:
    """The note file's text with ``reviewed`` set to ``day`` and every other byte as it was: the key's line
    is replaced where it stands, or added as the front matter's last line. ValueError when the text has no
    front matter block kb can edit this way (the caller then writes the note out whole)."""
    lines = text.split("\n")
    start = 1 if lines and lines[0].lstrip("\ufeff").rstrip("\r") == "---" else None
    if start is None:
        raise ValueError("no front matter")
    end = next((i for i in range(start, len(lines)) if lines[i].rstrip("\r") in ("---", "...")), None)
    if end is None:
        raise ValueError("front matter not closed")
    crlf = lines[end].endswith("\r")  # the file's line endings, as its closing line has them
    new_line = f"reviewed: {day.isoformat()}" + ("\r" if crlf else "")
    at = [i for i in range(start, end) if _LINE.match(lines[i])]
    if len(at) > 1:
        raise ValueError("reviewed given twice")
    if at:
        i = at[0]
        if i + 1 < end and lines[i + 1][:1] in (" ", "\t"):  # a value spread over lines: not ours to edit
            raise ValueError("reviewed spans lines")
        lines[i] = new_line
    else:
        lines.insert(end, new_line)
    return "\n".join(lines)
