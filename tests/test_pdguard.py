"""The personal-data guard around the scanner: every front-matter value is read on every save that leaves a
note public and published, and `kb import` brings such files in as drafts, saying why."""

import pytest
from click.testing import CliRunner

from kb import pdguard
from kb.cli import cli
from kb.errors import PersonalDataFound
from kb.model import NoteMeta

from .conftest import git
from .test_export import env  # noqa: F401 (a fixture: the CLI's folders on a copy of the shipped notes)


def meta(**changes):
    base = dict(title="Water points in Arlit", language="en", regions=["Niger"], topics=["community-planning"],
                visibility="public", status="published", summary="Short.")
    return NoteMeta(**{**base, **changes})


def test_scan_note_reads_every_front_matter_value_including_extra_keys_and_lists():
    m = meta(authors=["moussa", "ali.b@example.org"],
             extra={"contact": "96 12 34 56", "date_of_birth": "2009-03-12", "source": "interview, case LBY-2024/0153",
                    "people": ["Ali", {"phone": "+218 91 234 5678"}], "reviewed": True, "pages": 12})
    got = {(f.field, f.line, f.kind, f.text) for f in pdguard.scan_note(m, "Nothing here.")}
    assert got == {("authors", 2, "email", "ali.b@example.org"),
                   ("contact", 1, "phone", "96 12 34 56"),
                   ("date_of_birth", 1, "birth_date", "date of birth: 2009-03-12"),
                   ("source", 1, "id_number", "case LBY-2024/0153"),
                   ("people", 2, "phone", "+218 91 234 5678")}
    contact = next(f for f in pdguard.scan_note(m, "") if f.field == "contact")
    assert contact.column == 1  # counted in the value, not in the "contact: " the scan puts before it


def test_clean_extra_values_give_nothing():
    m = meta(extra={"source": "Law No. 2016-33", "year": 2023, "kit": "B2", "tags": ["form IR-3", "hotline 1515"]})
    assert pdguard.scan_note(m, "1,234 children in 2023.") == []


@pytest.fixture
def wiki(app):
    return app.extensions["kb.wiki"]


def test_an_extra_key_blocks_publication_and_an_edit_of_a_public_note_is_asked_again(app, wiki):
    moussa = app.extensions["kb.users"].by_username("moussa")
    with pytest.raises(PersonalDataFound) as exc:
        wiki.save(moussa, "pd-extra", meta(extra={"contact": "22 123 456"}), "Body.", None, create=True)
    assert [(f.field, f.kind) for f in exc.value.findings] == [("contact", "phone")]
    first = wiki.save(moussa, "pd-extra", meta(extra={"contact": "22 123 456"}), "Body.", None, create=True,
                      confirm_personal_data="the office's public number")
    # an edit of the already public note that adds new personal data anywhere is asked again ...
    with pytest.raises(PersonalDataFound) as exc:
        wiki.save(moussa, "pd-extra", meta(extra={"contact": "22 123 456", "notes": ["tazkira 1399-0101-12345"]}),
                  "Body.", first.revision)
    assert [(f.field, f.line, f.kind) for f in exc.value.findings] == [("notes", 1, "id_number")]
    with pytest.raises(PersonalDataFound):
        wiki.save(moussa, "pd-extra", meta(extra={"contact": "22 123 456"}, summary="Born on 3 March 2009."),
                  "Body.", first.revision)
    # ... while what was confirmed before is not, and drafts are not scanned at all
    again = wiki.save(moussa, "pd-extra", meta(extra={"contact": "22 123 456"}), "Body, edited.", first.revision)
    assert again.personal_data_reason == ""
    wiki.save(moussa, "pd-extra", meta(status="draft", extra={"phone": "0912345678"}), "Body.", again.revision)


def test_the_change_summary_and_a_new_notes_name_are_read_too(app, wiki, client):
    """Both leave kb with a public note: the summary in its public history, the name in every URL."""
    moussa = app.extensions["kb.users"].by_username("moussa")
    first = wiki.save(moussa, "pd-summary", meta(), "Body.", None, create=True)
    with pytest.raises(PersonalDataFound) as exc:
        wiki.save(moussa, "pd-summary", meta(), "Body, edited.", first.revision,
                  message="Removed the number 76 45 12 38 of Awa, case MLI-GAO-24-0173")
    assert sorted((f.field, f.kind) for f in exc.value.findings) == [("message", "id_number"), ("message", "phone")]
    assert wiki.revision_of("pd-summary") == first.revision  # nothing saved
    history = client.get("/notes/pd-summary/history").get_data(as_text=True)
    assert "76 45 12 38" not in history
    with pytest.raises(PersonalDataFound) as exc:
        wiki.save(moussa, "awa-diallo-76451238", meta(), "Body.", None, create=True)
    assert [f.field for f in exc.value.findings] == ["slug"]
    # a draft's summary and name are not public: not asked
    wiki.save(moussa, "draft-76451238", meta(status="draft"), "Body.", None, create=True, message="call 76 45 12 38")


# --- kb import -------------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CLEAN = "---\ntitle: Clean\nlanguage: en\nregions: [Niger]\n---\nIn 2023, 1,234 children; Law No. 2016-33.\n"
PHONE = ("---\ntitle: Host families\nlanguage: fr\nregions: [Niger]\nstatus: published  # ready\n---\n\n"
         "Les familles d'accueil.\n\nJoindre Aïcha au 96 12 34 56 après 18h.\n")
FRONT = ("---\ntitle: Returnees\nlanguage: en\nregions: [Mali]\nwitnesses:\n  - Ali\n  - tazkira 1399-0101-12345\n"
         "---\nNothing in the body.\n")
INTERNAL = "---\ntitle: Inside\nlanguage: en\nvisibility: internal\n---\nCall 0912345678.\n"


def test_import_brings_files_with_personal_data_in_as_drafts_and_says_where(env):  # noqa: F811
    run("init")
    src = env / "incoming"
    write(src / "clean.md", CLEAN), write(src / "inside.md", INTERNAL)
    phone, front = write(src / "phone.md", PHONE), write(src / "front.md", FRONT)
    result = run("import", str(src))
    assert result.exit_code == 0, result.output
    assert f"imported as draft: {phone}: phone at line 10" in result.output
    assert f"imported as draft: {front}: id_number at line 6" in result.output
    assert "inside.md" not in result.output and "clean.md" not in result.output  # internal, or nothing found
    assert "4 added, 0 unchanged, 0 with errors" in result.output
    content = env / "content"
    assert (content / "clean.md").read_text(encoding="utf-8") == CLEAN  # files without findings: as they were
    assert (content / "inside.md").read_text(encoding="utf-8") == INTERNAL
    # the one status line changed (or added), the rest as written
    assert (content / "phone.md").read_text(encoding="utf-8") == PHONE.replace("status: published  # ready",
                                                                               "status: draft")
    assert (content / "front.md").read_text(encoding="utf-8") == FRONT.replace("---\nNothing", "status: draft\n---\nNothing")
    listing = git(content, "show", "--stat", "HEAD")
    assert "phone.md" in listing and "front.md" in listing
    again = run("import", str(src))
    assert "0 added, 4 unchanged" in again.output and "imported as draft" not in again.output


def test_the_editor_names_the_front_matter_key_a_finding_is_in(app, wiki, as_user):
    import html

    from .conftest import csrf_token
    moussa = app.extensions["kb.users"].by_username("moussa")
    draft = wiki.save(moussa, "host-families", meta(status="draft", extra={"contact": "Aïcha, 96 12 34 56"}),
                      "Body.", None, create=True)
    client = as_user("moussa")
    form = {"title": "Water points in Arlit", "language": "en", "regions": ["Niger"], "topics": ["community-planning"],
            "visibility": "public", "status": "published", "summary": "Short.", "body": "Body.",
            "base_revision": draft.revision}
    token = csrf_token(client, "/notes/host-families/edit")
    resp = client.post("/notes/host-families/edit", data={"csrf_token": token, **form})
    page = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "may contain personal data" in page
    assert "Contact, line 1" in page and "96 12 34 56" in page
    assert wiki.get_note(moussa, "host-families").meta.status == "draft"
