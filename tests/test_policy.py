"""The policy's one way to demand a permission (access.require), its review clauses, and the tie between
the facts it reads about a note and the fields the search index stores for it."""
from dataclasses import fields
from pathlib import Path

import pytest

from kb import access
from kb.errors import NoteNotFound, PermissionDenied
from kb.model import parse_note
from kb.render import Renderer
from kb.search import IndexDoc
from kb.taxonomy import Taxonomy
from kb.wiki.indexing import build_doc

from .test_access import ADMIN, ANON, DISABLED_ADMIN, FP_MALI, FP_NA, FP_SAHEL, PRACT, meta

SHIPPED = Path(__file__).resolve().parent.parent / "content"
TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")
USERS = [ANON, PRACT, FP_SAHEL, FP_MALI, FP_NA, ADMIN, DISABLED_ADMIN]
NOTES = [parse_note(p.stem, p.read_text(encoding="utf-8"), TAX) for p in sorted(SHIPPED.glob("*.md"))]


def clause_fields() -> set[str]:
    """Every field any of the policy's clauses (read, review, unfinished) asks the index about."""
    out: set[str] = set()
    for user in USERS:
        for clauses in (access.read_filter(user, TAX), access.review_clauses(user, TAX),
                        access.unfinished_clauses(user)):
            for clause in clauses or []:
                out |= set(clause)
    return out


def test_the_index_stores_the_facts_the_policy_reads():
    facts = set(access.note_facts(NOTES[0].meta, TAX))
    assert clause_fields() == facts  # the clauses ask about the note facts, and about nothing else
    assert facts <= {f.name for f in fields(IndexDoc)}
    renderer = Renderer()
    for note in NOTES:
        doc = build_doc(note, b"", TAX, renderer)
        stored = {k: frozenset([v] if isinstance(v, str) else v) for k, v in vars(doc).items() if k in facts}
        assert stored == access.note_facts(note.meta, TAX), note.slug


@pytest.mark.parametrize("user, action, note, raises", [
    (PRACT, "create", None, None),
    (ANON, "create", None, PermissionDenied),
    (PRACT, "edit", meta(status="draft", authors=["pat"]), None),
    (PRACT, "edit", meta(), PermissionDenied),
    (FP_SAHEL, "delete", meta(), None),
    (FP_NA, "delete", meta(), PermissionDenied),
    (FP_NA, "publish", meta(status="review"), PermissionDenied),
    (ANON, "read", meta("internal"), NoteNotFound),  # a note one may not read does not exist for them
    (PRACT, "read", meta("internal"), None),
    (ADMIN, "administer", None, None),
    (FP_SAHEL, "administer", None, NoteNotFound),  # an admin page does not exist for anyone else
    (DISABLED_ADMIN, "administer", None, NoteNotFound),
    (ANON, "read_old_revisions", None, NoteNotFound),
    (FP_SAHEL, "undelete", None, PermissionDenied),
    (FP_SAHEL, "redact", None, PermissionDenied),
    (ADMIN, "redact", None, None),
])
def test_require_answers_as_allowed_says(user, action, note, raises):
    assert access.allowed(user, action, note, TAX) is (raises is None)
    if raises is None:
        access.require(user, action, "n", note, TAX)
    else:
        with pytest.raises(raises):
            access.require(user, action, "n", note, TAX)


def test_review_clauses_cover_the_reviewers_regions_only():
    assert access.review_clauses(ADMIN, TAX) == [{"status": frozenset(["review"])}]
    [clause] = access.review_clauses(FP_MALI, TAX)
    assert clause["countries"] == frozenset(["Mali"]) and clause["status"] == frozenset(["review"])
    assert access.review_clauses(PRACT, TAX) == [] and access.review_clauses(ANON, TAX) == []
    assert access.unfinished_clauses(ANON) == []
    assert access.unfinished_clauses(PRACT) == [{"status": frozenset(["draft", "review"]),
                                                 "authors": frozenset(["pat"])}]
