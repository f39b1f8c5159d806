"""git history: commits with authors, log, show, last changes."""
import pytest

from kb.errors import RevisionNotFound
from kb.history import History
from kb.store import Store


def test_history_after_several_saves(tmp_path):
    h, s = History(tmp_path), Store(tmp_path)
    assert h.init() is True and h.init() is False
    revs = []
    for i, who in enumerate(["amina", "moussa", "amina"]):
        s.write_text("n", f"version {i}\n")
        revs.append(h.commit(["n.md"], f"edit {i}", who))
    assert h.commit(["n.md"], "no change", "amina") is None
    log = h.log("n.md")
    assert [r.id for r in log] == revs[::-1]
    assert [r.author for r in log] == ["amina", "moussa", "amina"]
    assert [r.message for r in log] == ["edit 2", "edit 1", "edit 0"]
    assert h.show(revs[0], "n.md") == b"version 0\n"
    assert h.last_revision("n.md") == revs[-1]
    assert h.last_changes()["n.md"][0] == revs[-1]


@pytest.mark.parametrize("rev", ["HEAD", "--output=/tmp/x", "deadbeef" * 5, "", "abc"])
def test_show_refuses_unknown_or_odd_revisions(tmp_path, rev):
    h = History(tmp_path)
    h.init()
    Store(tmp_path).write_text("n", "x")
    h.commit(["n.md"], "m", "a")
    with pytest.raises(RevisionNotFound):
        h.show(rev, "n.md")


def test_author_names_cannot_inject(tmp_path):
    h = History(tmp_path)
    h.init()
    Store(tmp_path).write_text("n", "x")
    h.commit(["n.md"], "m", "evil <x@y>\nname")
    assert h.log("n.md")[0].author == "evil x@yname"


def test_a_moved_file_keeps_its_history_and_old_names(tmp_path):
    h, s = History(tmp_path), Store(tmp_path)
    h.init()
    s.write_text("old", "version 1\n")
    first = h.commit(["old.md"], "create", "amina")
    h.move("old.md", ".trash/old.20260101000000.md")
    moved = h.commit(["old.md", ".trash/old.20260101000000.md"], "delete", "amina")
    assert moved and not (tmp_path / "old.md").exists()
    assert [r.id for r in h.log(".trash/old.20260101000000.md")] == [moved, first]
    assert h.path_at(".trash/old.20260101000000.md", first) == "old.md"
    assert h.path_at(".trash/old.20260101000000.md", moved[:12]) == ".trash/old.20260101000000.md"
    assert h.path_at(".trash/old.20260101000000.md", "--all") is None
    assert h.commit(["old.md"], "nothing left to record", "amina") is None
