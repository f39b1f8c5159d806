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
    (ADMIN, meta(regions=[]), True), (FP_SAHEL, None, True), (PRACT, None, False),
])
def test_can_edit(user, m, expected):
    assert access.can_edit(user, m, TAX) is expected
