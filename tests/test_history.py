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


def test_a_large_history_keeps_a_commit_graph_and_last_revisions_stay_exact(tmp_path, monkeypatch):
    """A slow `git log -- path` (a large history) makes kb keep git's commit graph, extended after each commit;
    every note's last revision is the same with it as without it, and a history rewrite drops it."""
    import kb.history
    import subprocess
    h, s = History(tmp_path), Store(tmp_path)
    h.init()
    expected = {}
    for i in range(6):
        s.write_text(f"n{i % 3}", f"version {i}\n")
        expected[f"n{i % 3}.md"] = h.commit([f"n{i % 3}.md"], f"edit {i}", "amina")
    graphs = tmp_path / ".git" / "objects" / "info" / "commit-graphs"
    assert h.last_revision("n0.md") == expected["n0.md"] and not graphs.exists()  # fast: no graph
    monkeypatch.setattr(kb.history, "GRAPH_AFTER_SECONDS", 0.0)
    assert h.last_revision("n1.md") == expected["n1.md"]
    assert graphs.is_dir()  # slow: the graph is written
    monkeypatch.setattr(kb.history, "GRAPH_AFTER_SECONDS", 10.0)
    chain = (graphs / "commit-graph-chain").read_text()
    s.write_text("n2", "version 6\n")
    expected["n2.md"] = h.commit(["n2.md"], "edit 6", "moussa")
    assert (graphs / "commit-graph-chain").read_text() != chain  # a layer with the new commit
    verify = subprocess.run(["git", "-C", str(tmp_path), "commit-graph", "verify"], capture_output=True)
    assert verify.returncode == 0, verify.stderr
    listed = subprocess.run(["git", "-C", str(tmp_path), "log", "--format=%H"], capture_output=True, text=True)
    assert listed.stdout.split()[0] == expected["n2.md"]
    assert {p: h.last_revision(p) for p in expected} == expected
    assert History(tmp_path).last_revision("n2.md") == expected["n2.md"]  # another process finds it kept
    h.drop_graph()
    assert not graphs.exists()
    assert {p: h.last_revision(p) for p in expected} == expected
