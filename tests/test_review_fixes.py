"""Regressions found by an independent review: history of a reused name, a note that went away
during an edit, a commit that fails after the file was written."""
from pathlib import Path

import pytest

from kb.errors import NoteNotFound, StorageError
from kb.model import NoteMeta

from .conftest import ACCOUNTS, git


class Reader:
    def __init__(self, username):
        self.username = username
        self.role, self.regions = ACCOUNTS[username]
        self.is_authenticated = True
        self.active = True


ADMIN, PAT = Reader("admin"), Reader("pat")


def meta(title, vis="public", status="published"):
    return NoteMeta(title=title, language="en", regions=["Niger"], visibility=vis, status=status)


def test_history_never_lists_revisions_of_a_hidden_note_that_had_the_same_name(app, client, as_user):
    wiki = app.extensions["kb.wiki"]
    wiki.save(ADMIN, "reused-name", meta("Secret LOCATIONZULU", "restricted"), "hidden text", None,
              message="add LOCATIONZULU", create=True)
    content = Path(app.config["KB_CONTENT_DIR"])
    git(content, "rm", "-q", "reused-name.md")
    git(content, "commit", "-q", "-m", "remove the hidden note")
    wiki.save(ADMIN, "reused-name", meta("Open note"), "open text", None, message="open version", create=True)
    as_user("pat")
    html = client.get("/notes/reused-name/history").get_data(as_text=True)
    assert "open version" in html
    assert "LOCATIONZULU" not in html
    assert len(wiki.history_of(ADMIN, "reused-name")) > len(wiki.history_of(PAT, "reused-name"))
    assert client.get("/notes/reused-name/diff").status_code == 200


def test_a_save_on_a_note_that_went_away_does_not_recreate_it(app):
    wiki = app.extensions["kb.wiki"]
    with pytest.raises(NoteNotFound):
        wiki.save(ADMIN, "ghost-note", meta("Ghost"), "text", "deadbeefdeadbeef")
    assert not wiki.store.exists("ghost-note")


def test_a_failed_commit_takes_the_written_text_back(app, monkeypatch):
    wiki = app.extensions["kb.wiki"]
    wiki.save(ADMIN, "kept-note", meta("Kept"), "first text", None, create=True)
    before = wiki.store.read_bytes("kept-note")
    base = wiki.revision_of("kept-note")

    def broken(*args, **kwargs):
        raise StorageError("git commit failed")

    monkeypatch.setattr(wiki.history, "commit", broken)
    with pytest.raises(StorageError):
        wiki.save(ADMIN, "kept-note", meta("Kept"), "second text", base)
    with pytest.raises(StorageError):
        wiki.save(ADMIN, "new-note", meta("New"), "text", None, create=True)
    monkeypatch.undo()
    assert wiki.store.read_bytes("kept-note") == before
    assert not wiki.store.exists("new-note")
    status = git(Path(app.config["KB_CONTENT_DIR"]), "status", "--porcelain", "--", "kept-note.md", "new-note.md")
    assert status.strip() == ""


def test_deleted_notes_page_is_a_404_for_the_public_like_the_rest_of_admin(client):
    assert client.get("/admin/deleted-notes").status_code == 404
    assert client.get("/admin/users").status_code == 404
