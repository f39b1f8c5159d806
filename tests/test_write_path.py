"""The one write path (kb/wiki/writes.py): every change of a note is committed, indexed and audited in one
place, from the web, the API and the command line alike; when git refuses the commit, the files and moves
are put back and nothing is indexed or audited."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.errors import StorageError
from kb.search import SearchQuery

from .conftest import git
from .liveserver import site_env

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger, by moussa


@pytest.fixture
def wiki(app):
    return app.extensions["kb.wiki"]


@pytest.fixture
def who(app):
    return app.extensions["kb.users"].by_username


def entries(app, action: str) -> list:
    return [e for e in app.extensions["kb.users"].audit_entries(limit=1000) if e.action == action]


def refuse_commits(content: Path) -> None:
    """A real git failure: commits must be signed, and the signing program fails (kb passes --no-verify,
    so a hook would not do)."""
    git(content, "config", "commit.gpgsign", "true")
    git(content, "config", "gpg.program", "false")


def snapshot(content: Path) -> dict[str, bytes]:
    return {str(p.relative_to(content)): p.read_bytes() for p in content.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(content).parts}


def found(wiki, user, q: str) -> list[str]:
    return [h.slug for h in wiki.search(user, SearchQuery(q=q)).hits]


def test_kb_import_is_audited_like_a_change_on_the_web(site, tmp_path, app):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "water-points.md").write_text(
        "---\ntitle: Water points in Arlit\nlanguage: en\nregions: [Niger]\nstatus: draft\n---\nWells.\n",
        encoding="utf-8")
    assert entries(app, "note_import") == []
    result = CliRunner().invoke(cli, ["import", str(incoming)], env=site_env(site))
    assert result.exit_code == 0, result.output
    [entry] = entries(app, "note_import")
    assert entry.actor == "cli" and "1 added" in entry.detail and "water-points" in entry.detail
    again = CliRunner().invoke(cli, ["import", str(incoming)], env=site_env(site))
    assert again.exit_code == 0 and len(entries(app, "note_import")) == 1  # nothing changed, nothing recorded


def test_a_change_made_outside_the_web_is_audited_without_an_address(wiki, who, app):
    wiki.rename(who("moussa"), AGADEZ, "agadez-children", wiki.revision_of(AGADEZ))
    [entry] = entries(app, "note_rename")
    assert (entry.actor, entry.target, entry.detail, entry.address) == \
        ("moussa", AGADEZ, f"{AGADEZ} -> agadez-children", "")


def test_a_change_on_the_web_is_audited_once_with_the_client_address(as_user, app, wiki):
    from .conftest import csrf_token
    client = as_user("moussa")
    resp = client.post(f"/notes/{AGADEZ}/rename", data={
        "csrf_token": csrf_token(client, f"/notes/{AGADEZ}/rename"), "new_slug": "agadez-children",
        "base_revision": wiki.revision_of(AGADEZ)})
    assert resp.status_code == 303
    [entry] = entries(app, "note_rename")
    assert entry.actor == "moussa" and entry.address == "127.0.0.1"


@pytest.mark.parametrize("change", ["rename", "delete", "save"])
def test_a_refused_commit_puts_the_files_back(wiki, who, app, change):
    content = wiki.content_dir
    moussa = who("moussa")
    before, head = snapshot(content), git(content, "rev-parse", "HEAD")
    revision = wiki.revision_of(AGADEZ)
    refuse_commits(content)
    with pytest.raises(StorageError):
        if change == "rename":
            wiki.rename(moussa, AGADEZ, "agadez-children", revision)
        elif change == "delete":
            wiki.delete(moussa, AGADEZ, "duplicate", revision)
        else:
            note = wiki.get_note(moussa, AGADEZ)
            wiki.save(moussa, AGADEZ, note.meta, note.body + "\nMore.\n", revision)
    assert snapshot(content) == before  # the note under its name, no trash, no redirect, no new text
    assert git(content, "status", "--porcelain") == ""  # nothing left staged or moved
    assert git(content, "rev-parse", "HEAD") == head
    assert wiki.get_note(None, AGADEZ) and AGADEZ in found(wiki, None, "unaccompanied Agadez")
    assert wiki.redirect_map() == {}
    assert [e.action for e in app.extensions["kb.users"].audit_entries(limit=1000)
            if e.action.startswith("note_")] == []  # what did not happen is not recorded

    git(content, "config", "commit.gpgsign", "false")  # git accepts commits again: the same change works
    if change == "rename":
        assert wiki.rename(moussa, AGADEZ, "agadez-children", revision) == "agadez-children"
        assert not (content / f"{AGADEZ}.md").exists() and wiki.redirect_map() == {AGADEZ: "agadez-children"}
    elif change == "delete":
        wiki.delete(moussa, AGADEZ, "duplicate", revision)
        assert not (content / f"{AGADEZ}.md").exists()
    else:
        note = wiki.get_note(moussa, AGADEZ)
        wiki.save(moussa, AGADEZ, note.meta, note.body + "\nMore.\n", revision)
    assert git(content, "status", "--porcelain") == "" and git(content, "rev-parse", "HEAD") != head
    assert len([e for e in app.extensions["kb.users"].audit_entries(limit=1000) if e.action.startswith("note_")]) == 1


def test_a_refused_commit_on_undelete_puts_the_note_back_in_the_trash(wiki, who, app):
    content = wiki.content_dir
    admin = who("admin")
    trash_id = wiki.delete(who("moussa"), AGADEZ, "duplicate")
    before, head = snapshot(content), git(content, "rev-parse", "HEAD")
    refuse_commits(content)
    with pytest.raises(StorageError):
        wiki.undelete(admin, trash_id)
    assert snapshot(content) == before and git(content, "status", "--porcelain") == ""
    assert git(content, "rev-parse", "HEAD") == head
    assert [d.id for d in wiki.deleted_notes(admin)] == [trash_id]
    assert entries(app, "note_undelete") == []
