"""The file store: safe paths, atomic writes, listing."""
import os

import pytest

from kb.errors import InvalidSlug, NoteNotFound, StorageError
from kb.store import Store


def test_write_read_list_delete(tmp_path):
    store = Store(tmp_path)
    store.write_text("b-note", "B")
    store.write_text("a-note", "A")
    (tmp_path / "Not A Slug.md").write_text("ignored")
    (tmp_path / "taxonomy.yml").write_text("x: 1")
    assert store.slugs() == ["a-note", "b-note"]
    assert store.read_text("a-note") == "A"
    store.delete("a-note")
    assert store.slugs() == ["b-note"]
    with pytest.raises(NoteNotFound):
        store.read_text("a-note")


@pytest.mark.parametrize("slug", ["../escape", "/etc/passwd", "a/../../b", ".."])
def test_paths_never_leave_the_folder(tmp_path, slug):
    with pytest.raises(InvalidSlug):
        Store(tmp_path / "c").write_text(slug, "x")
    assert not any(p.name == "escape.md" for p in tmp_path.rglob("*"))


def test_failed_write_leaves_old_file_intact(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write_text("n", "old text")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StorageError) as info:
        store.write_text("n", "new text")
    monkeypatch.undo()
    assert "disk is full" in str(info.value)
    assert store.read_text("n") == "old text"
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]  # no temporary file left behind


def test_read_only_folder_gives_a_clear_error(tmp_path, monkeypatch):
    # root ignores permission bits, so the read-only file system is simulated at the system call
    import errno
    import tempfile
    store = Store(tmp_path)
    store.write_text("n", "old")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(StorageError) as info:
        store.write_text("n", "new")
    monkeypatch.undo()
    assert "read-only" in str(info.value)
    assert store.read_text("n") == "old"


def test_lock_is_exclusive_across_processes(tmp_path):
    import multiprocessing as mp
    import time
    store = Store(tmp_path)
    ctx = mp.get_context("fork")
    q = ctx.Queue()

    def hold(tag):
        with Store(tmp_path).locked():
            q.put((tag, "in", time.monotonic()))
            time.sleep(0.3)
            q.put((tag, "out", time.monotonic()))

    procs = [ctx.Process(target=hold, args=(i,)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
    events = sorted([q.get() for _ in range(4)], key=lambda e: e[2])
    assert [e[1] for e in events] == ["in", "out", "in", "out"]
    assert store.slugs() == []


def test_trash_ids_and_kb_files_beside_the_notes(tmp_path):
    s = Store(tmp_path)
    s.write_aux(".redirects.yml", b"a: b\n")
    assert (tmp_path / ".redirects.yml").read_bytes() == b"a: b\n" and s.slugs() == []
    for bad in ("../x.yml", "notes.md", ".git/config", ".X.yml"):
        with pytest.raises(StorageError):
            s.write_aux(bad, b"")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / "n.20260101000000.md").write_text("x")
    (tmp_path / ".trash" / "n.20260301000000.md").write_text("x")
    (tmp_path / ".trash" / "junk.md").write_text("x")
    assert s.trashed() == [("n.20260301000000", "n"), ("n.20260101000000", "n")]
    assert s.trash_path("n.20260101000000") == ".trash/n.20260101000000.md"
    assert s.trash_relpath("n", "20260101000000") == ".trash/n.20260101000000.md"
    for bad in ("n.2026", "../n.20260101000000", "n.20260101000001", "N.20260101000000"):
        with pytest.raises(NoteNotFound):
            s.trash_path(bad)


def test_a_read_waits_while_a_pull_rewrites_the_working_tree(tmp_path):
    """git removes a changed file and writes it again; a reader in between must not find the note gone."""
    import threading
    (tmp_path / ".git").mkdir()
    store = Store(tmp_path)
    store.write_text("note", "---\ntitle: Old\n---\nold\n")
    got = []
    with store.rewriting():
        (tmp_path / "note.md").unlink()  # as git does, mid-reset
        reader = threading.Thread(target=lambda: got.append(store.read_bytes("note")))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive() and got == []  # it waits rather than answering "no such note"
        (tmp_path / "note.md").write_bytes(b"---\ntitle: New\n---\nnew\n")
    reader.join(5)
    assert got == [b"---\ntitle: New\n---\nnew\n"]
