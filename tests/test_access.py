"""The policy table: who may read and edit which note; read_filter and can_read always agree."""
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kb import access
from kb.model import NoteMeta
from kb.taxonomy import Taxonomy

TAX = Taxonomy.load(Path(__file__).resolve().parent.parent / "content" / "taxonomy.yml")


@dataclass
class U:
    username: str
    role: str
    regions: list = field(default_factory=list)
    is_authenticated: bool = True
    active: bool = True


ANON = None
PRACT = U("pat", "practitioner")
FP_SAHEL = U("moussa", "focal_point", ["Sahel"])
FP_MALI = U("mali-fp", "focal_point", ["Mali"])
FP_NA = U("amina", "focal_point", ["North Africa"])
ADMIN = U("root", "admin")
DISABLED_ADMIN = U("old", "admin", active=False)


def meta(vis="public", status="published", regions=("Niger",), authors=()):
    return NoteMeta(title="t", language="en", regions=list(regions), visibility=vis, status=status,
                    authors=list(authors))


CASES = [
    # (user, meta, can_read)
    (ANON, meta(), True),
    (ANON, meta("internal"), False),
    (ANON, meta("restricted"), False),
    (ANON, meta(status="draft"), False),
    (PRACT, meta("internal"), True),
    (PRACT, meta("restricted"), False),
    (PRACT, meta(status="review"), False),
    (PRACT, meta("restricted", authors=["pat"]), True),
    (PRACT, meta(status="draft", authors=["pat"]), True),
    (FP_SAHEL, meta("restricted"), True),               # Niger is in the Sahel
    (FP_SAHEL, meta("restricted", regions=["Sahel"]), True),
    (FP_MALI, meta("restricted", regions=["Sahel"]), True),   # a Sahel note concerns Mali too
    (FP_MALI, meta("restricted", regions=["Niger"]), False),
    (FP_NA, meta("restricted"), False),
    (FP_NA, meta(status="draft"), False),
    (FP_SAHEL, meta(status="draft"), True),
    (FP_NA, meta("internal"), True),
    (ADMIN, meta("restricted", status="draft", regions=[]), True),
    (DISABLED_ADMIN, meta("internal"), False),
    (U("x", "admin", is_authenticated=False), meta("internal"), False),
]


@pytest.mark.parametrize("user, m, expected", CASES)
def test_can_read(user, m, expected):
    assert access.can_read(user, m, TAX) is expected
    # the search filter and can_read are the same rule
    assert access.matches(access.read_filter(user, TAX), access.note_facts(m, TAX)) is expected


@pytest.mark.parametrize("user, m, expected", [
    (ANON, meta(), False), (PRACT, meta(), False), (FP_SAHEL, meta(), True), (FP_NA, meta(), False),
    (ADMIN, meta(regions=[]), True), (FP_SAHEL, None, True), (PRACT, None, True), (ANON, None, False),
    # authors keep their own notes while they are drafts or waiting for review, not once published
    (PRACT, meta(status="draft", authors=["pat"]), True), (PRACT, meta(status="review", authors=["pat"]), True),
    (PRACT, meta(authors=["pat"]), False), (PRACT, meta(status="draft", authors=["amina"]), False),
])
def test_can_edit(user, m, expected):
    assert access.can_edit(user, m, TAX) is expected


def m(status, regions=("Niger",), authors=("pat",)):
    return meta(status=status, regions=regions, authors=authors)


@pytest.mark.parametrize("user, before, after, expected", [
    (PRACT, None, m("draft"), True),                     # practitioners write drafts...
    (PRACT, None, m("review"), True),
    (PRACT, m("draft"), m("review"), True),              # ...and submit them for review
    (PRACT, m("review"), m("draft"), True),              # or withdraw them
    (PRACT, None, m("published"), False),                # but never publish
    (PRACT, m("review"), m("published"), False),
    (FP_SAHEL, m("review"), m("published"), True),       # the focal point of the note's region publishes
    (FP_NA, m("review"), m("published"), False),         # another region's does not
    (FP_SAHEL, m("published"), m("draft"), True),        # and may take it back to draft
    (FP_NA, m("published"), m("draft"), False),
    (FP_SAHEL, m("draft"), m("published"), True),        # a focal point may publish a draft directly
    (FP_SAHEL, m("published"), m("review"), False),      # not part of the workflow
    (ADMIN, m("published"), m("review"), True),          # admins may do everything
    (FP_SAHEL, m("draft"), m("draft"), True),
])
def test_can_set_status(user, before, after, expected):
    assert access.can_set_status(user, before, after, TAX) is expected


@pytest.mark.parametrize("user, before, expected", [
    (PRACT, None, ["draft", "review"]), (FP_SAHEL, None, ["draft", "review", "published"]),
    (PRACT, m("draft"), ["draft", "review"]), (FP_SAHEL, m("review"), ["review", "draft", "published"]),
    (FP_SAHEL, m("published"), ["published", "draft"]), (ANON, None, []),
])
def test_statuses_offered_in_forms(user, before, expected):
    assert access.statuses_for(user, before, TAX) == expected


def test_delete_and_undelete_rights():
    assert access.can_delete(FP_SAHEL, meta(), TAX) and access.can_delete(ADMIN, meta(), TAX)
    assert not access.can_delete(FP_NA, meta(), TAX) and not access.can_delete(PRACT, m("draft"), TAX)
    assert access.can_undelete(ADMIN) and not access.can_undelete(FP_SAHEL)
