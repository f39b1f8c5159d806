"""The access policy, decided here only: may this user read or edit a note, and which notes may they see.

Pure functions over plain data, no Flask. ``read_filter`` expresses the policy as data (clauses of
field -> allowed values, AND inside a clause, OR across clauses); ``can_read`` evaluates the very same
clauses against one note, and the search index applies them inside its queries. One rule, three uses.
"""
from __future__ import annotations

from typing import Any, Protocol

from .model import NoteMeta
from .taxonomy import Taxonomy

ROLES = ("admin", "focal_point", "practitioner")

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


def can_edit(user: Any, meta: NoteMeta | None, taxonomy: Taxonomy) -> bool:
    """May this user change the note (or, with meta None, create notes at all)?"""
    if is_admin(user):
        return True
    countries = user_countries(user, taxonomy)
    if not countries:
        return False
    if meta is None:
        return True
    return bool(taxonomy.countries_of(meta.regions) & countries)
