"""Publishing in the domain, on a real git store and index (the `wiki` service alone, no Flask): workflow
rights, the personal-data guard, no lost edits, restore, rename with redirects, soft delete and undelete,
the review queue."""
import pytest

from kb.errors import EditConflict, InvalidNote, NoteExists, NoteNotFound, PermissionDenied, PersonalDataFound
from kb.model import NoteMeta
from kb.search import SearchQuery
from kb.wiki import commits, drafting

from .conftest import git

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger, by moussa


@pytest.fixture
def who(accounts):
    return lambda name: None if name is None else accounts.by_username(name)


def meta(status="draft", regions=("Niger",), visibility="public", title="Water points in Arlit"):
    return NoteMeta(title=title, language="en", regions=list(regions), topics=["community-planning"],
                    visibility=visibility, status=status, summary="Short.")


def found(wiki, user, q):
    return [h.slug for h in wiki.search(user, SearchQuery(q=q)).hits]


def test_practitioner_draft_goes_to_review_and_the_regions_focal_point_publishes_it(wiki, who):
    pat, moussa, amina = who("pat"), who("moussa"), who("amina")
    r1 = wiki.save(pat, "arlit", meta(), "Committees repaired 12 wells.", None, create=True)
    assert r1.created and r1.status_after == "draft"
    assert wiki.get_note(pat, "arlit").meta.authors == ["pat"]
    with pytest.raises(NoteNotFound):
        wiki.get_note(None, "arlit")  # a draft is nobody's business but its author's and reviewers'
    r2 = wiki.save(pat, "arlit", meta("review"), "Committees repaired 12 wells.", r1.revision)
    assert r2.status_changed and (r2.status_before, r2.status_after) == ("draft", "review")
    with pytest.raises(PermissionDenied):
        wiki.save(pat, "arlit", meta("published"), "x", r2.revision)
    with pytest.raises(NoteNotFound):  # North Africa's focal point does not even see a Sahel draft
        wiki.save(amina, "arlit", meta("published"), "x", r2.revision)
    r3 = wiki.save(moussa, "arlit", meta("published"), "Committees repaired 12 wells.", r2.revision)
    assert wiki.get_note(None, "arlit").meta.status == "published"
    assert "arlit" in found(wiki, None, "wells")
    log = wiki.history_of(moussa, "arlit")
    assert [commits.parse_message(r.message).status_to for r in log] == ["published", "review", "draft"]
    assert [r.author for r in log] == ["moussa", "pat", "pat"] and log[0].id == r3.revision
    with pytest.raises(PermissionDenied):  # published: the practitioner may no longer change it
        wiki.save(pat, "arlit", meta("published"), "changed", r3.revision)


def test_a_note_goes_to_review_only_with_a_region_to_review_it(wiki, who):
    with pytest.raises(InvalidNote) as exc:
        wiki.save(who("pat"), "nowhere", meta("review", regions=()), "x", None, create=True)
    assert exc.value.problems[0][0] == "regions"


def test_focal_points_publish_only_in_their_regions(wiki, who):
    with pytest.raises(PermissionDenied):
        wiki.save(who("amina"), "niger-note", meta("published"), "x", None, create=True)
    assert wiki.save(who("moussa"), "niger-note", meta("published"), "x", None, create=True).revision
    assert wiki.save(who("admin"), "anywhere", meta("published", regions=()), "x", None, create=True).revision


def test_a_stale_base_is_refused_and_nothing_is_overwritten(wiki, who):
    moussa = who("moussa")
    base = wiki.revision_of(AGADEZ)
    note = wiki.get_note(moussa, AGADEZ)
    first = wiki.save(moussa, AGADEZ, note.meta, note.body + "\nFirst writer.\n", base)
    with pytest.raises(EditConflict) as exc:
        wiki.save(who("admin"), AGADEZ, note.meta, note.body + "\nSecond writer.\n", base)
    assert exc.value.current == first.revision
    with pytest.raises(EditConflict):
        wiki.save(moussa, AGADEZ, note.meta, "no base", None)
    body = wiki.get_note(moussa, AGADEZ).body
    assert "First writer." in body and "Second writer." not in body


def test_personal_data_blocks_public_publication_until_confirmed_with_a_reason(wiki, who):
    moussa = who("moussa")
    body = "Intro.\n\nCall Ali on +218 91 234 5678 or ali.b@example.org.\n"
    draft = wiki.save(moussa, "pd", meta("draft"), body, None, create=True)  # drafts are not scanned
    with pytest.raises(PersonalDataFound) as exc:
        wiki.save(moussa, "pd", meta("published"), body, draft.revision)
    assert {(f.kind, f.field, f.line) for f in exc.value.findings} == {("phone", "body", 3), ("email", "body", 3)}
    internal = wiki.save(moussa, "pd", meta("published", visibility="internal"), body, draft.revision)
    assert internal.personal_data_reason == ""  # signed-in readers only: no confirmation needed
    ok = wiki.save(moussa, "pd", meta("published"), body, internal.revision,
                   confirm_personal_data="  the ministry's public\nhotline  ")
    assert ok.personal_data_reason == "the ministry's public hotline"
    info = commits.parse_message(wiki.history_of(moussa, "pd")[0].message)
    assert info.personal_data_reason == "the ministry's public hotline" and info.status_to is None
    # confirmed findings are not asked about again; a new one is
    again = wiki.save(moussa, "pd", meta("published"), body + "\nMore text.\n", ok.revision)
    assert again.personal_data_reason == ""
    with pytest.raises(PersonalDataFound) as exc:
        wiki.save(moussa, "pd", meta("published"), body + "\nBorn 12/03/1990.\n", again.revision)
    assert [f.kind for f in exc.value.findings] == ["birth_date"]
    with pytest.raises(PersonalDataFound) as exc:  # the title is scanned too
        wiki.save(moussa, "pd", meta("published", title="Case of passport no. A1234567"), body, again.revision)
    assert exc.value.findings[0].field == "title"


def test_restore_is_a_new_revision_with_the_old_text_and_the_current_status(wiki, who):
    moussa = who("moussa")
    r1 = wiki.save(moussa, "r", meta("draft"), "Version one.", None, create=True)
    r2 = wiki.save(moussa, "r", meta("published", title="Renamed title"), "Version two.", r1.revision)
    restored = wiki.restore(moussa, "r", r1.revision, r2.revision)
    note = wiki.get_note(moussa, "r")
    assert note.body.strip() == "Version one." and note.meta.title == "Water points in Arlit"
    assert note.meta.status == "published" and restored.restored_from == r1.revision
    log = wiki.history_of(moussa, "r")
    assert len(log) == 3 and commits.parse_message(log[0].message).restored_from == r1.revision
    with pytest.raises(EditConflict):
        wiki.restore(moussa, "r", r1.revision, r2.revision)  # stale base again
    with pytest.raises(NoteNotFound):
        wiki.restore(moussa, "r", "0" * 40, restored.revision)


def test_rename_keeps_the_history_and_leaves_a_redirect(wiki, who):
    moussa = who("moussa")
    old_log = wiki.history_of(moussa, AGADEZ)
    wiki.rename(moussa, AGADEZ, "agadez-children", wiki.revision_of(AGADEZ))
    new_log = wiki.history_of(moussa, "agadez-children")
    assert [r.id for r in new_log[1:]] == [r.id for r in old_log]  # old revisions still there, readable
    assert wiki.note_at(moussa, "agadez-children", old_log[-1].id).meta.title
    assert wiki.redirect_target(None, AGADEZ) == "agadez-children"
    assert wiki.title_if_readable(None, AGADEZ)  # wiki links to the old name still resolve
    assert found(wiki, None, "unaccompanied Agadez")[0] == "agadez-children"
    assert AGADEZ not in found(wiki, None, "unaccompanied Agadez")
    wiki.rename(moussa, "agadez-children", "agadez", wiki.revision_of("agadez-children"))
    assert wiki.redirects.load() == {AGADEZ: "agadez", "agadez-children": "agadez"}  # chains collapse
    wiki.rename(moussa, "agadez", AGADEZ, wiki.revision_of("agadez"))
    assert wiki.redirects.load() == {"agadez": AGADEZ, "agadez-children": AGADEZ}
    status = git(wiki.content_dir, "status", "--porcelain")
    assert status == ""  # every rename committed, redirects file included
    for bad in ("new", "Bad Name", "tazkira-documentation-returnees-afghanistan"):
        with pytest.raises(InvalidNote):
            wiki.rename(moussa, AGADEZ, bad, wiki.revision_of(AGADEZ))
    with pytest.raises(PermissionDenied):
        wiki.rename(who("amina"), AGADEZ, "x", wiki.revision_of(AGADEZ))


def test_soft_delete_hides_everywhere_and_an_admin_can_undo(wiki, who):
    moussa, admin = who("moussa"), who("admin")
    assert AGADEZ in found(wiki, None, "unaccompanied Agadez")
    with pytest.raises(PermissionDenied):
        wiki.delete(who("amina"), AGADEZ)
    trash_id = wiki.delete(moussa, AGADEZ, "duplicate of the French note")
    for user in (None, moussa, admin):
        with pytest.raises(NoteNotFound):
            wiki.get_note(user, AGADEZ)
    assert AGADEZ not in found(wiki, admin, "unaccompanied Agadez")
    with pytest.raises(PermissionDenied):
        wiki.deleted_notes(moussa)
    [gone] = wiki.deleted_notes(admin)
    assert (gone.id, gone.slug, gone.deleted_by) == (trash_id, AGADEZ, "moussa")
    assert "duplicate of the French note" in gone.message and gone.title.startswith("Best-interests")
    with pytest.raises(PermissionDenied):
        wiki.undelete(moussa, trash_id)
    assert wiki.undelete(admin, trash_id) == AGADEZ
    assert wiki.get_note(None, AGADEZ) and AGADEZ in found(wiki, None, "unaccompanied Agadez")
    assert len(wiki.history_of(admin, AGADEZ)) >= 3 and wiki.deleted_notes(admin) == []
    # a name taken again meanwhile is not overwritten by an undo
    trash_id = wiki.delete(moussa, AGADEZ)
    wiki.save(moussa, AGADEZ, meta(), "A new note with the old name.", None, create=True)
    with pytest.raises(NoteExists):
        wiki.undelete(admin, trash_id)


def test_review_queue_shows_each_focal_point_their_regions(wiki, who):
    pat = who("pat")
    wiki.save(pat, "niger-review", meta("review"), "x", None, create=True)
    wiki.save(pat, "libya-review", meta("review", regions=["Libya"]), "x", None, create=True)
    wiki.save(pat, "pat-draft", meta("draft", regions=["Libya"]), "x", None, create=True)
    queue = lambda name: {h.slug for h in wiki.review_queue(who(name))}  # noqa: E731
    assert queue("moussa") == {"niger-review"} and queue("amina") == {"libya-review"}
    assert queue("admin") >= {"niger-review", "libya-review"} and queue("pat") == set()
    assert {h.slug for h in wiki.unfinished(pat)} == {"niger-review", "libya-review", "pat-draft"}


def test_form_and_api_fields_never_publish_by_default_nor_set_kb_owned_keys(wiki):
    m = drafting.new_meta(wiki.taxonomy, {"title": "T", "language": "fr", "status": "", "authors": ["x"],
                                         "updated": "2020-01-01"}, None)
    assert (m.status, m.authors, m.updated) == ("draft", [], None)
    with pytest.raises(InvalidNote) as exc:
        drafting.new_meta(wiki.taxonomy, {"title": "", "language": "xx", "regions": ["Atlantis"]}, None)
    assert {f for f, _ in exc.value.problems} == {"title", "language", "regions"}
    assert drafting.free_slug(wiki, "Best-interests procedure") == "best-interests-procedure"
    assert drafting.free_slug(wiki, "New") == "new-note"
    wiki.store.write_text("best-interests-procedure", "---\ntitle: x\nlanguage: en\n---\n")
    assert drafting.free_slug(wiki, "Best-interests procedure") == "best-interests-procedure-2"


def test_commit_messages_carry_what_the_history_page_shows():
    text = commits.commit_message("n", "Fixed figures\nStatus: draft -> published", "review", "published",
                                   "public hotline", "")
    info = commits.parse_message(text)
    assert info.summary == "Fixed figures Status: draft -> published"  # a writer cannot forge a trailer
    assert (info.status_from, info.status_to, info.personal_data_reason) == ("review", "published",
                                                                            "public hotline")
    assert commits.parse_message(commits.commit_message("n", "", None, "draft")).summary == "Create n"
    assert commits.parse_message("Initial content").status_to is None


def test_a_base_revision_handed_out_is_never_ahead_of_the_text(wiki, who, monkeypatch):
    """A save landing right after a reader read the text must not let the reader's next save overwrite it:
    the revision is read before the text, so the reader can only be stale (409), never ahead."""
    moussa, admin = who("moussa"), who("admin")
    read = wiki.store.read_bytes

    def read_then_someone_saves(slug):
        data = read(slug)
        monkeypatch.setattr(wiki.store, "read_bytes", read)
        note = wiki.get_note(admin, AGADEZ)  # another writer's save lands now
        wiki.save(admin, AGADEZ, note.meta, note.body + "\nThe other writer's line.\n", wiki.revision_of(AGADEZ))
        return data

    monkeypatch.setattr(wiki.store, "read_bytes", read_then_someone_saves)
    note = wiki.get_note_and_revision(moussa, AGADEZ)
    assert "The other writer's line." not in note.body
    with pytest.raises(EditConflict):
        wiki.save(moussa, AGADEZ, note.meta, note.body + "\nMine.\n", note.revision)
    assert "The other writer's line." in wiki.get_note(moussa, AGADEZ).body
