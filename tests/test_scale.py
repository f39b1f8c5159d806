"""A large site stays fast without getting anything wrong (issue 16, one node): index writes share one reader,
a reopened searcher reuses unchanged segments, note pages are cached per reader class and dropped exactly
when a note they show changes (in this process or another), dates come from the index, the start-up check
reads only what changed, commits take any number of paths and only their own. Speed itself is measured in
benchmarks/scale.py; these tests check that the shortcuts never show a reader something wrong."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import whoosh.reading

from kb.errors import StorageError
from kb.history import History
from kb.search import IndexDoc, SearchIndex, SearchQuery
from kb.wiki import Wiki
from kb.wiki.pages import PageCache

from .conftest import git

ROOT = Path(__file__).resolve().parent.parent
AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger, by moussa
UTC = dt.timezone.utc


@pytest.fixture
def wiki(app):
    return app.extensions["kb.wiki"]


@pytest.fixture
def user(app):
    return app.extensions["kb.users"].by_username


def new_note(wiki, author, slug: str, body: str, **meta) -> str:
    base = wiki.get_note(author, AGADEZ).meta
    fields = dict(title=slug.replace("-", " ").title(), translations={})
    fields.update(meta)
    return wiki.save(author, slug, base.copy(**fields), body, None, create=True).revision


def edit(wiki, author, slug: str, body: str | None = None, **meta) -> None:
    note = wiki.get_note(author, slug)
    wiki.save(author, slug, note.meta.copy(**meta), note.body if body is None else body, wiki.revision_of(slug))


def backlinks(wiki, reader, slug: str) -> list[str]:
    return [h.slug for h in wiki.view(reader, slug).backlinks]


def count_segment_readers(monkeypatch) -> list[int]:
    opened = [0]
    original = whoosh.reading.SegmentReader.__init__

    def counting(self, *args, **kwargs):
        opened[0] += 1
        original(self, *args, **kwargs)
    monkeypatch.setattr(whoosh.reading.SegmentReader, "__init__", counting)
    return opened


def doc(slug: str, text: str, **kw) -> IndexDoc:
    fields = dict(slug=slug, title=slug, language="en", summary="", text=text, regions=["Mali"], places=["Mali"],
                  countries=["Mali"], topics=[], audience=[], visibility="public", status="published",
                  authors=["ann"], updated=dt.datetime(2024, 1, 1, tzinfo=UTC), links=[], group=slug, hash=text)
    fields.update(kw)
    return IndexDoc(**fields)


# --- the index: one reader per write, segments reused after it ------------------------------------------------

def test_a_write_and_the_next_search_open_each_segment_at_most_once(tmp_path, monkeypatch):
    index = SearchIndex(tmp_path / "index")
    index.ensure()
    for n in range(4):  # four commits: four segments (merges wait for MAX_SEGMENTS)
        index.upsert([doc(f"n{n}-{i}", f"first words {n} {i}") for i in range(3)])
    assert index.search(SearchQuery(q="first"), None).total == 12
    segments = len(index._gen.leaves)
    opened = count_segment_readers(monkeypatch)
    index.upsert([doc(f"n{n}-0", f"second text {n}") for n in range(4)] + [doc("n0-1", "second text")])
    assert opened[0] <= segments  # one shared reader for the five deletes (was five readers of every segment)
    opened[0] = 0
    found = index.search(SearchQuery(q="second"), None)
    assert opened[0] == 1  # only the new segment is opened
    assert sorted(h.slug for h in found.hits) == ["n0-0", "n0-1", "n1-0", "n2-0", "n3-0"]
    assert index.search(SearchQuery(q="first"), None).total == 7  # old versions gone, each note once
    assert index.doc_count() == 12
    other = SearchIndex(tmp_path / "index")  # another process's searcher agrees
    assert other.search(SearchQuery(q="first"), None).total == 7
    other.close()
    index.close()


# --- note pages: dates from the index, the cache per reader class ---------------------------------------------

def test_a_note_without_a_date_is_dated_by_its_commit_without_asking_git_per_view(wiki, user, tmp_path, monkeypatch):
    src = tmp_path / "in" / "undated-note.md"
    src.parent.mkdir()
    src.write_text("---\ntitle: Undated note\nlanguage: en\nregions: [Niger]\nvisibility: public\n"
                   "status: published\n---\nA note without a date.\n", encoding="utf-8")
    wiki.import_paths([src.parent])
    committed = wiki.history.log("undated-note.md", limit=1)[0].date
    monkeypatch.setattr(wiki.history, "log", lambda *a, **k: pytest.fail("git log on a page view"))
    assert wiki.view(None, "undated-note").updated == committed
    assert wiki.view(user("admin"), "undated-note").updated == committed


def test_a_page_is_built_once_per_reader_class_and_never_shows_one_class_what_another_sees(wiki, user):
    moussa = user("moussa")
    new_note(wiki, moussa, "sahel-draft-about-agadez", f"Draft. See [[{AGADEZ}]].", status="draft")
    assert "sahel-draft-about-agadez" in backlinks(wiki, moussa, AGADEZ)  # a focal point of the region
    assert "sahel-draft-about-agadez" not in backlinks(wiki, None, AGADEZ)  # the public, after them
    assert "sahel-draft-about-agadez" not in backlinks(wiki, user("pat"), AGADEZ)
    assert "sahel-draft-about-agadez" in backlinks(wiki, user("admin"), AGADEZ)
    misses = wiki.pages.misses
    for _ in range(3):
        assert "sahel-draft-about-agadez" not in backlinks(wiki, None, AGADEZ)
        assert "sahel-draft-about-agadez" in backlinks(wiki, moussa, AGADEZ)
    assert wiki.pages.misses == misses  # served from the cache


def test_save_rename_delete_and_a_permission_change_reach_the_cached_pages(wiki, user):
    admin = user("admin")
    before = backlinks(wiki, None, AGADEZ)
    assert "pointer-note" not in before
    new_note(wiki, admin, "pointer-note", f"See [[{AGADEZ}]].", status="published", visibility="public")
    assert "pointer-note" in backlinks(wiki, None, AGADEZ)  # a new note linking to it
    page = wiki.view(None, "pointer-note").rendered.html
    edit(wiki, admin, AGADEZ, title="Agadez, renamed title")  # the linked note's title changed
    assert "Agadez, renamed title" in wiki.view(None, "pointer-note").rendered.html != page
    edit(wiki, admin, "pointer-note", visibility="internal")  # no longer public
    assert backlinks(wiki, None, AGADEZ) == before
    assert "pointer-note" in backlinks(wiki, user("pat"), AGADEZ)
    edit(wiki, admin, "pointer-note", visibility="public")
    assert "pointer-note" in backlinks(wiki, None, AGADEZ)
    wiki.rename(admin, "pointer-note", "pointer-renamed", wiki.revision_of("pointer-note"))
    assert "pointer-renamed" in backlinks(wiki, None, AGADEZ)
    assert "pointer-note" not in backlinks(wiki, None, AGADEZ)
    wiki.delete(admin, "pointer-renamed", "test", wiki.revision_of("pointer-renamed"))
    assert backlinks(wiki, None, AGADEZ) == before


def test_a_change_made_by_another_process_drops_only_the_pages_it_touches(wiki, site, user):
    admin = user("admin")
    before = backlinks(wiki, None, AGADEZ)
    other_page = "ar-protection-needs-assessment-algeria"
    wiki.view(None, other_page)
    assert len(wiki.pages) == 2
    other = Wiki(site / "content", site / "index")  # another worker
    new_note(other, admin, "from-elsewhere", f"See [[{AGADEZ}]].", status="published", visibility="public")
    other.close()
    misses = wiki.pages.misses
    assert backlinks(wiki, None, AGADEZ) == sorted(before + ["from-elsewhere"])
    wiki.view(None, other_page)
    assert wiki.pages.misses == misses + 1  # the page it touched was rebuilt, the other was still cached


def test_the_page_cache_is_bounded():
    cache = PageCache(max_entries=3)
    for n in range(10):
        cache.get_or_build((f"note-{n}", "hash", ("all",), ()), lambda seen: {"backlinks": [], "related": []})
    assert len(cache) == 3
    cache.drop({"note-9"})
    assert len(cache) == 2
    cache.drop(None)
    assert len(cache) == 0


# --- the start-up check reads only what changed -----------------------------------------------------------------

def test_the_start_up_check_reads_only_changed_notes_and_finds_their_drift(wiki, monkeypatch):
    wiki.check_index(repair=True)  # the full check records what it found in step
    path = wiki.store.path_for(AGADEZ)
    path.write_bytes(path.read_bytes().replace(b"\n---\n", b"\n---\nChanged behind kb's back: zebrafinch.\n", 1))
    gone = "ar-birth-registration-migrant-children-lebanon"
    wiki.store.path_for(gone).unlink()
    read = []
    original = wiki.store.read_bytes
    monkeypatch.setattr(wiki.store, "read_bytes", lambda slug: read.append(slug) or original(slug))
    drift = wiki.check_index(repair=True, quick=True)
    assert drift.stale == [AGADEZ] and drift.orphaned == [gone] and drift.missing == []
    assert set(read) <= {AGADEZ}  # not every note
    assert [h.slug for h in wiki.search(None, SearchQuery(q="zebrafinch")).hits] == [AGADEZ]
    read.clear()
    assert wiki.check_index(repair=True, quick=True).clean  # the repair is in the index's change list:
    links = set(wiki.renderer.links(wiki.get_note(None, AGADEZ).body))  # the note and those it links to
    assert AGADEZ in read and set(read) <= {AGADEZ} | links  # are checked again, nothing else


def test_the_start_up_check_is_full_when_it_cannot_tell(wiki):
    (Path(wiki.index.index_dir) / "checked.json").unlink(missing_ok=True)
    path = wiki.store.path_for(AGADEZ)
    path.write_bytes(path.read_bytes() + b"\nAppended by hand.\n")
    assert wiki.check_index(repair=True, quick=True).stale == [AGADEZ]


# --- git: any number of paths, only the change's own, undone on failure -----------------------------------------

def test_a_commit_takes_more_paths_than_a_command_line_holds(tmp_path):
    repo = tmp_path / "repo"
    History(repo).init()
    names = [f"{'n' * 60}-{i:05d}.md" for i in range(3000)]  # ~200 KB of names
    for name in names:
        (repo / name).write_text("x\n")
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_STACK, (256 * 1024, resource.RLIM_INFINITY))  # ARG_MAX: 64 KB
        sys.path.insert(0, {str(ROOT)!r})
        from kb.history import History
        names = sorted(p.name for p in History({str(repo)!r}).root.glob("*.md"))
        print(History({str(repo)!r}).commit(names, "Import many"))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert git(repo, "ls-files").split() == sorted(names)
    assert git(repo, "status", "--porcelain") == ""


def test_an_oserror_from_git_undoes_the_import(wiki, tmp_path, monkeypatch):
    import kb.history
    src = tmp_path / "in"
    src.mkdir()
    (src / "too-many.md").write_text("---\ntitle: Too many\nlanguage: en\nregions: [Niger]\n---\nText.\n")
    real_run = subprocess.run

    def run(cmd, *args, **kwargs):
        if "write-tree" in cmd or "commit" in cmd:
            raise OSError(7, "Argument list too long")
        return real_run(cmd, *args, **kwargs)
    monkeypatch.setattr(kb.history.subprocess, "run", run)
    with pytest.raises(StorageError):
        wiki.import_paths([src])
    monkeypatch.setattr(kb.history.subprocess, "run", real_run)
    assert not wiki.store.exists("too-many")
    assert git(wiki.content_dir, "status", "--porcelain") == ""


def test_a_save_commits_its_own_note_only_and_runs_no_porcelain_commit(wiki, user, monkeypatch):
    import kb.history
    content = wiki.content_dir
    calls = []
    real_run = subprocess.run
    monkeypatch.setattr(kb.history.subprocess, "run",
                        lambda cmd, *a, **k: calls.append(cmd[3]) or real_run(cmd, *a, **k))
    edit(wiki, user("admin"), AGADEZ, body="A new body.\n")
    assert "commit" not in calls and "status" not in calls
    assert git(content, "show", "--name-only", "--format=", "HEAD").split() == [f"{AGADEZ}.md"]
    assert git(content, "log", "-1", "--format=%an").strip() == "admin"
    assert "A new body." in git(content, "show", f"HEAD:{AGADEZ}.md")
    # something staged by hand stays staged and out of kb's commit
    (content / "by-hand.txt").write_text("mine\n")
    git(content, "add", "by-hand.txt")
    edit(wiki, user("admin"), AGADEZ, body="Another body.\n")
    assert git(content, "show", "--name-only", "--format=", "HEAD").split() == [f"{AGADEZ}.md"]
    assert git(content, "diff", "--cached", "--name-only").split() == ["by-hand.txt"]


# --- whole pages for anonymous readers -------------------------------------------------------------------------

def test_an_anonymous_page_kept_whole_follows_what_it_shows_and_is_never_a_signed_in_page(app, wiki, user, as_user):
    anonymous, url = app.test_client(), f"/notes/{AGADEZ}"
    first = anonymous.get(url).get_data(as_text=True)
    assert anonymous.get(url).get_data(as_text=True) == first
    new_note(wiki, user("moussa"), "hidden-draft-pointer", f"See [[{AGADEZ}]].", status="draft",
             title="Hidden draft pointer")
    new_note(wiki, user("admin"), "public-pointer", f"See [[{AGADEZ}]].", status="published",
             visibility="public", title="Public pointer note")
    page = anonymous.get(url).get_data(as_text=True)
    assert "Public pointer note" in page and "Hidden draft pointer" not in page
    moussa = as_user("moussa").get(url).get_data(as_text=True)
    assert "Hidden draft pointer" in moussa and "Sign out" in moussa
    assert "Hidden draft pointer" not in anonymous.get(url).get_data(as_text=True)
    french = anonymous.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="fr"' in french and french != page
    assert anonymous.get(url).get_data(as_text=True) == page
