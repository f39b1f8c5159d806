"""Redaction: a child's name published, then edited out, then redacted by an admin is gone from every revision,
diff, commit message, git object, the search index and offline packs; the audit log says who, when and why
but not what. Anonymous readers see a note's list of changes but no earlier text."""
import io
import logging
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.errors import InvalidNote
from kb.search import SearchQuery

from .conftest import csrf_token, git

SLUG = "reintegration-counselling-returnees-mali"  # public, published, English, Mali
NAME = "Aminata Traoré"
PASSAGE = "We met Aminata Traoré, 12, at the border post in Gogui.\nShe travels with her brother."


def everything_in_git(repo: Path) -> bytes:
    """Every commit shown with its patch, every message, and the content of every object the repo holds."""
    out = [subprocess.run(["git", "-C", str(repo), "log", "-p", "--all", "--format=%H%n%B"],
                          capture_output=True, check=True).stdout]
    for commit in git(repo, "log", "--all", "--format=%H").split():
        out.append(subprocess.run(["git", "-C", str(repo), "show", commit], capture_output=True, check=True).stdout)
    objects = git(repo, "rev-list", "--all", "--objects")
    ids = "".join(line.split()[0] + "\n" for line in objects.splitlines())
    out.append(subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], input=ids.encode(),
                              capture_output=True, check=True).stdout)
    out.append(subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
                              capture_output=True, check=True).stdout)
    return b"\n".join(out)


def index_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@pytest.fixture
def story(app, site):
    """The note published with a child's name, then two saves: the name edited out, then another change."""
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    moussa = users.by_username("moussa")
    note = wiki.get_note_and_revision(moussa, SLUG)
    wiki.save(moussa, SLUG, note.meta, note.body + "\n" + PASSAGE + "\n", note.revision,
              message=f"Add the case of {NAME}")
    note = wiki.get_note_and_revision(moussa, SLUG)
    wiki.save(moussa, SLUG, note.meta, note.body.replace("Aminata Traoré, 12", "a girl of 12"), note.revision,
              message="Take the name out")
    note = wiki.get_note_and_revision(moussa, SLUG)
    wiki.save(moussa, SLUG, note.meta, note.body + "\nFollow-up planned in June.\n", note.revision)
    assert NAME.encode() in everything_in_git(site / "content")
    assert NAME not in wiki.store.read_text(SLUG)
    return wiki


def redact_form(client, **fields):
    token = csrf_token(client, f"/notes/{SLUG}/redact")
    data = {"csrf_token": token, "mode": "passage", "reason": "a child's name", "confirm": "1", **fields}
    return client.post(f"/notes/{SLUG}/redact", data=data)


def test_an_admin_redacts_a_name_from_the_whole_history(story, client, as_user, site, app, caplog):
    wiki = story
    caplog.set_level(logging.DEBUG)
    before = client.get(f"/notes/{SLUG}")
    last_modified = before.headers["Last-Modified"]
    assert client.get(f"/notes/{SLUG}", headers={"If-Modified-Since": last_modified}).status_code == 304
    # edited out, yet still in the index's files: an update only marks the old document deleted
    assert b"aminata" in index_bytes(site / "index").lower()
    as_user("admin")
    page = client.get(f"/notes/{SLUG}/redact").get_data(as_text=True)
    assert "history of the content repository" in page and 'name="reason"' in page
    resp = redact_form(client, passage=NAME)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/notes/{SLUG}/history")

    everything = everything_in_git(site / "content")
    assert NAME.encode() not in everything and b"[redacted]" in everything
    assert "Add the case of [redacted]" in git(site / "content", "log", "--all", "--format=%B")
    assert git(site / "content", "status", "--porcelain") == ""
    assert not (site / "content" / ".git" / "filter-repo").exists()

    history = client.get(f"/notes/{SLUG}/history").get_data(as_text=True)
    assert "The history was rewritten" in history
    revisions = [r.id for r in wiki.history_of(app.extensions["kb.users"].by_username("admin"), SLUG)]
    texts = [client.get(f"/notes/{SLUG}/revisions/{rev}").get_data(as_text=True) for rev in revisions]
    diffs = [client.get(f"/notes/{SLUG}/diff?to={rev}").get_data(as_text=True) for rev in revisions]
    assert all(NAME not in t for t in texts + diffs)
    assert any("We met [redacted], 12, at the border post" in t for t in texts)
    assert any("Aminata" in t for t in texts) is False

    admin = app.extensions["kb.users"].by_username("admin")
    assert wiki.search(admin, SearchQuery(q="Aminata")).total == 0
    assert wiki.search(admin, SearchQuery(q="Gogui")).total == 1  # the rest of the passage is still there
    assert b"aminata" not in index_bytes(site / "index").lower()

    with client.get("/regions/mali/export.zip") as pack:
        assert pack.status_code == 200
        data = pack.data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert any(SLUG in name for name in z.namelist())
        assert all(NAME.encode() not in z.read(name) for name in z.namelist())

    entry = next(e for e in app.extensions["kb.users"].audit_entries() if e.action == "note_redact")
    assert (entry.actor, entry.target) == ("admin", SLUG) and "a child's name" in entry.detail
    assert "Aminata" not in entry.detail
    assert "redacted a passage" in caplog.text and "Aminata" not in caplog.text

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    current = client.get(f"/notes/{SLUG}")
    assert current.status_code == 200 and "a girl of 12" in current.get_data(as_text=True)
    # The current text never held the name, so the page shows what it showed: its ETag (made from what the
    # page shows) may stay. Its Last-Modified counts the rewrite, so a date-validated copy is refreshed.
    assert NAME not in current.get_data(as_text=True)
    time.sleep(1)  # dates have whole seconds: a redaction counts from the second after it
    assert client.get(f"/notes/{SLUG}", headers={"If-Modified-Since": last_modified}).status_code == 200


def test_a_writer_whose_editor_predates_the_redaction_cannot_put_the_passage_back(story, client, as_user, site,
                                                                                   app):
    wiki = story
    moussa = app.extensions["kb.users"].by_username("moussa")
    stale = wiki.get_note_and_revision(moussa, SLUG)
    old_text = stale.body.replace("a girl of 12", NAME + ", 12")  # what the editor opened earlier still held
    as_user("admin")
    assert redact_form(client, passage=NAME).status_code == 303
    fingerprints = (site / "content" / ".git" / "kb-redacted.json").read_text()
    assert NAME not in fingerprints and "Aminata" not in fingerprints  # a keyed hash, never the text
    current = wiki.get_note_and_revision(moussa, SLUG)
    for body in (old_text, old_text.replace(NAME, NAME.upper()).replace("\n", "\n\n")):  # case and spacing
        with pytest.raises(InvalidNote) as exc:
            wiki.save(moussa, SLUG, current.meta, body, current.revision)
        assert "redacted" in str(exc.value)
    assert wiki.revision_of(SLUG) == current.revision and NAME.encode() not in everything_in_git(site / "content")
    # the rest of the note, and other notes, save as before
    wiki.save(moussa, SLUG, current.meta, current.body + "\nAnother line.\n", current.revision)


def test_a_passage_over_several_lines_and_a_name_in_the_title(story, client, as_user, site):
    wiki = story
    as_user("admin")
    resp = redact_form(client, passage="border post in\r\nGogui.   She travels with")  # wrapped differently
    assert resp.status_code == 303
    assert b"Gogui" not in everything_in_git(site / "content")
    before = git(site / "content", "log", "--all", "--format=%H")
    resp = redact_form(client, passage="Reintegration counselling")  # also in the note's name: kb cannot
    assert resp.status_code == 422 and "part of the note" in resp.get_data(as_text=True)
    assert git(site / "content", "log", "--all", "--format=%H") == before  # nothing rewritten
    resp = redact_form(client, passage="in Bamako and Kayes")  # the end of the title, in YAML
    assert resp.status_code == 303
    page = client.get(f"/notes/{SLUG}").get_data(as_text=True)
    assert "for returnees (redacted)" in wiki.get_note(None, SLUG).meta.title and "(redacted)" in page


def test_bad_requests_change_nothing(story, client, as_user, site):
    as_user("admin")
    before = git(site / "content", "log", "--all", "--format=%H %B")
    cases = [({"passage": "   "}, "Give the passage to remove."),
             ({"passage": "Not in any version of this note"}, "found in no version of this note"),
             ({"passage": NAME, "reason": " "}, "Give the reason for the redaction."),
             ({"passage": NAME, "reason": f"the name {NAME}"}, "The reason must not repeat the passage."),
             ({"passage": NAME, "confirm": ""}, "Confirm that the history is to be rewritten."),
             ({"mode": "revision", "revision": "deadbeefdead"}, "Choose one of this note"),
             ({"mode": "revision", "revision": "--all"}, "Choose one of this note")]
    for fields, message in cases:
        resp = redact_form(client, **fields)
        assert resp.status_code == 422, fields
        assert message in resp.get_data(as_text=True).replace("&#39;", "'"), fields
    assert git(site / "content", "log", "--all", "--format=%H %B") == before
    assert NAME.encode() in everything_in_git(site / "content")


def test_uncommitted_changes_are_never_thrown_away(story, client, as_user, site):
    as_user("admin")
    before = git(site / "content", "log", "--all", "--format=%H")
    taxonomy = site / "content" / "taxonomy.yml"
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8") + "\n# a hand edit not committed yet\n",
                        encoding="utf-8")
    resp = redact_form(client, passage=NAME)
    assert resp.status_code == 409 and "uncommitted changes" in resp.get_data(as_text=True)
    assert "a hand edit" in taxonomy.read_text(encoding="utf-8")
    assert git(site / "content", "log", "--all", "--format=%H") == before


@pytest.mark.parametrize("who", [None, "moussa", "pat"])
def test_only_admins_find_the_redaction_page(story, client, as_user, site, who):
    data = {"passage": NAME, "reason": "x", "confirm": "1"}
    if who:
        as_user(who)
        data["csrf_token"] = csrf_token(client, "/")
    assert client.get(f"/notes/{SLUG}/redact").status_code == 404
    resp = client.post(f"/notes/{SLUG}/redact", data=data)
    assert resp.status_code == (404 if who else 400)  # the public has no session, so no CSRF token either
    assert "Redact…" not in client.get(f"/notes/{SLUG}/history").get_data(as_text=True)
    assert NAME.encode() in everything_in_git(site / "content")


def test_admins_see_the_redact_link_and_the_page_for_any_note(client, as_user):
    as_user("admin")
    assert f'href="/notes/{SLUG}/redact"' in client.get(f"/notes/{SLUG}/history").get_data(as_text=True)
    assert client.get("/notes/no-such-note/redact").status_code == 404


def test_whole_revision_redaction(story, client, as_user, site, app):
    wiki = story
    admin = app.extensions["kb.users"].by_username("admin")
    revisions = wiki.history_of(admin, SLUG)
    named = next(r for r in revisions if r.message.startswith("Add the case"))
    as_user("admin")
    resp = redact_form(client, mode="revision", revision=named.id[:12], reason="the whole case")
    assert resp.status_code == 303
    revisions = wiki.history_of(admin, SLUG)
    assert len(revisions) == 4  # the revision is still listed (when, who, why), its text is not
    texts = [client.get(f"/notes/{SLUG}/revisions/{r.id}").get_data(as_text=True) for r in revisions]
    assert sum("removed by an administrator" in t for t in texts) == 1
    assert "We met Aminata" not in "".join(texts)
    everything = everything_in_git(site / "content")
    assert b"We met Aminata" not in everything
    assert NAME.encode() in everything  # its commit message is another passage, not the revision's text
    entry = next(e for e in app.extensions["kb.users"].audit_entries() if e.action == "note_redact")
    assert "whole revision" in entry.detail and "the whole case" in entry.detail
    resp = redact_form(client, mode="revision", revision=revisions[2].id, reason="again")
    assert resp.status_code == 422 and "removed already" in resp.get_data(as_text=True)


def test_anonymous_readers_see_the_changes_but_not_earlier_text(story, client, as_user, app):
    wiki = story
    revisions = wiki.history_of(None, SLUG)
    assert len(revisions) == 4
    history = client.get(f"/notes/{SLUG}/history").get_data(as_text=True)
    assert "Take the name out" in history and revisions[0].id[:10] in history
    assert "/revisions/" not in history and "/diff" not in history
    assert "shown to signed-in readers" in history
    for url in [f"/notes/{SLUG}/revisions/{r.id}" for r in revisions] + \
               [f"/notes/{SLUG}/diff?to={r.id}" for r in revisions] + [f"/notes/{SLUG}/diff"]:
        resp = client.get(url)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 403 and "Aminata" not in page and "/login?next=" in page, url
    assert client.get("/notes/no-such-note/revisions/" + revisions[0].id).status_code == 404
    assert client.get(f"/notes/{SLUG}").status_code == 200  # the current version stays public
    for feed in ("/sitemap.xml", "/feeds/all.atom", "/feeds/regions/mali.atom"):
        body = client.get(feed).get_data(as_text=True)
        assert "/revisions/" not in body and "/diff" not in body
    as_user("pat")
    history = client.get(f"/notes/{SLUG}/history").get_data(as_text=True)
    assert "/revisions/" in history and "/diff" in history and "Redact…" not in history
    named = next(r for r in revisions if r.message.startswith("Add the case"))
    assert NAME in client.get(f"/notes/{SLUG}/revisions/{named.id}").get_data(as_text=True)
    assert "Aminata" in client.get(f"/notes/{SLUG}/diff?to={named.id}").get_data(as_text=True)


def test_internal_notes_stay_a_404_for_the_public(client, app):
    wiki = app.extensions["kb.wiki"]
    hidden = next(s for s in wiki.store.slugs() if wiki._load(s).meta.visibility != "public")
    rev = wiki.revision_of(hidden)
    assert client.get(f"/notes/{hidden}/revisions/{rev}").status_code == 404
    assert client.get(f"/notes/{hidden}/diff").status_code == 404
    assert client.get(f"/notes/{hidden}/history").status_code == 404


def test_the_command_line_redacts_and_records_who_and_why(story, site, monkeypatch, tmp_path, app):
    for key, sub in (("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"), ("KB_INSTANCE_DIR", "instance")):
        monkeypatch.setenv(key, str(site / sub))
    passage = tmp_path / "passage.txt"
    passage.write_text("Nobody of that name\n", encoding="utf-8")
    before = git(site / "content", "log", "--all", "--format=%H")
    result = CliRunner().invoke(cli, ["redact", SLUG, "--passage-file", str(passage), "--reason", "name"])
    assert result.exit_code == 1 and "found in no version" in result.output
    assert git(site / "content", "log", "--all", "--format=%H") == before
    result = CliRunner().invoke(cli, ["redact", SLUG, "--reason", "name"])
    assert result.exit_code == 2  # neither a passage nor a revision
    passage.write_text(NAME + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["redact", SLUG, "--passage-file", str(passage), "--reason", "a child's name"])
    assert result.exit_code == 0, result.output
    assert "Redacted" in result.output and NAME not in result.output
    assert NAME.encode() not in everything_in_git(site / "content")
    entry = next(e for e in app.extensions["kb.users"].audit_entries() if e.action == "note_redact")
    assert entry.actor == "admin" and "a child's name" in entry.detail and NAME not in entry.detail
    first = git(site / "content", "log", "--format=%H", "--", f"{SLUG}.md").split()[-1]
    result = CliRunner().invoke(cli, ["redact", SLUG, "--revision", first[:12], "--reason", "first text"])
    assert result.exit_code == 0, result.output
    oldest = git(site / "content", "log", "--format=%H", "--", f"{SLUG}.md").split()[-1]
    assert oldest != first  # a rewritten commit has a new id
    assert "removed by an administrator" in git(site / "content", "show", f"{oldest}:{SLUG}.md")
    result = CliRunner().invoke(cli, ["redact", SLUG, "--revision", "deadbeefdead", "--reason", "x"])
    assert result.exit_code == 1 and "Choose one of this note's revisions" in result.output
