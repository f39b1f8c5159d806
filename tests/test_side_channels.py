"""Side channels closed: what a reader may not see must not show through notices, validators, names,
timing, front matter, revision ids or a writer's change summary."""
import html as htmllib
import itertools
import re
import statistics
import time

from .conftest import ROOT, csrf_token
from .test_feeds import write_note

PUBLIC = "reintegration-counselling-returnees-mali"  # public, published, Mali (Sahel)
AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel): moussa edits it
LEBANON = "psychological-first-aid-training-lebanon"  # public, published, no translations
RESTRICTED = "safe-house-referral-protocol-libya"  # restricted, Libya: hidden from the public, pat and moussa
INTERNAL = "ar-birth-registration-migrant-children-lebanon"  # internal: hidden from the public only


def source(slug: str) -> str:
    return (ROOT / "content" / f"{slug}.md").read_text(encoding="utf-8")


def draft(slug: str, title: str, body: str, author: str = "amina") -> str:
    return (f"---\ntitle: {title}\nlanguage: en\nregions: [Libya]\ntopics: [counter-trafficking]\n"
            f"visibility: public\nstatus: draft\nsummary: x\nauthors: [{author}]\n---\n{body}\n")


def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


# --- 1. the prefix notice ---------------------------------------------------------------------------

def test_the_many_words_notice_counts_only_words_of_notes_the_reader_may_see(app, client, as_user):
    words = " ".join("zqu" + a + b for a, b in itertools.islice(itertools.product("abcdefgh", repeat=2), 60))
    write_note(app, "hidden-words", draft("hidden-words", "Hidden words", words))
    anonymous = client.get("/api/search?q=zqu*").get_json()
    assert "many words" not in (anonymous["message"] or "") and anonymous["total"] == 0
    admin = as_user("admin").get("/api/search?q=zqu*").get_json()  # the same query, by one who sees the note
    assert "many words" in admin["message"] and admin["total"] == 1


# --- 2. validators ----------------------------------------------------------------------------------

def test_a_public_pages_validators_do_not_move_when_a_hidden_note_is_saved(app, client):
    first = client.get(f"/notes/{PUBLIC}")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    write_note(app, "quiet-draft", draft("quiet-draft", "Quiet draft", "Nothing to see."))
    again = client.get(f"/notes/{PUBLIC}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert client.get(f"/notes/{PUBLIC}").headers["Last-Modified"] == modified
    assert client.get(f"/notes/{PUBLIC}", headers={"If-Modified-Since": modified}).status_code == 304


def test_a_pages_validators_still_move_when_what_it_shows_changes(app, client):
    etag = client.get(f"/notes/{PUBLIC}").headers["ETag"]
    linker = source(AGADEZ).replace("title: ", "title: Retitled ", 1)  # AGADEZ links to PUBLIC: a backlink
    write_note(app, AGADEZ, linker)
    resp = client.get(f"/notes/{PUBLIC}", headers={"If-None-Match": etag})
    assert resp.status_code == 200 and "Retitled" in text(resp)


# --- 3. a hidden note's name ------------------------------------------------------------------------

def bearer(app, name: str) -> dict:
    return {"Authorization": "Bearer " + app.extensions["kb.users"].create_token(name)[1]}


def api_note(slug: str | None = None, title: str = "Mobile birth registration in Tillabéri") -> dict:
    body = {"meta": {"title": title, "language": "en", "regions": ["Niger"], "topics": ["legal-identity"],
                     "visibility": "public"}, "body": "## Context\n\nMobile teams registered births.\n"}
    return {**body, "slug": slug} if slug else body


def test_creating_under_a_hidden_notes_name_answers_as_for_a_free_name(app, client):
    headers = bearer(app, "pat")
    free = client.post("/api/notes", json=api_note("a-free-name"), headers=headers)
    hidden = client.post("/api/notes", json=api_note(RESTRICTED), headers=headers)
    assert free.status_code == hidden.status_code == 201
    assert set(free.get_json()) == set(hidden.get_json()) == {"slug", "revision"}
    used = hidden.get_json()["slug"]
    assert used != RESTRICTED and hidden.headers["Location"].endswith("/api/notes/" + used)
    assert client.get(f"/api/notes/{used}", headers=headers).get_json()["meta"]["title"].startswith("Mobile")
    assert "Safe-house" in app.extensions["kb.wiki"].store.read_bytes(RESTRICTED).decode()  # untouched
    # a name the writer may read is still refused, so no note is created by mistake under another name
    assert client.post("/api/notes", json=api_note(PUBLIC), headers=headers).status_code == 409


def test_the_editor_creates_under_a_hidden_name_without_a_word_and_says_when_a_readable_one_was_taken(
        as_user):
    client = as_user("pat")
    form = {"title": "Some title", "language": "en", "regions": "Niger", "topics": "legal-identity",
            "visibility": "public", "status": "draft", "summary": "s", "body": "Text.\n"}
    resp = client.post("/notes/new", data={**form, "slug": RESTRICTED, "csrf_token": csrf_token(client, "/notes/new")})
    assert resp.status_code == 303 and f"/notes/{RESTRICTED}-2" in resp.headers["Location"]
    page = text(client.get(resp.headers["Location"]))
    assert "was taken" not in page and "already exists" not in page
    # a title whose name is a readable note's: said, with the name used
    title = "Psychological first aid training Lebanon"
    resp = client.post("/notes/new", data={**form, "title": title, "csrf_token": csrf_token(client, "/notes/new")})
    assert resp.status_code == 303
    page = text(client.get(resp.headers["Location"]))
    assert f"The name {LEBANON} was taken, so we used {LEBANON}-2." in page


def test_renaming_onto_a_hidden_notes_name_answers_as_for_a_free_name(as_user):
    client = as_user("moussa")
    base = client.get(f"/api/notes/{AGADEZ}").get_json()["revision"]
    resp = client.post(f"/notes/{AGADEZ}/rename", data={"new_slug": RESTRICTED, "base_revision": base,
                                                         "csrf_token": csrf_token(client, f"/notes/{AGADEZ}")})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/notes/{RESTRICTED}-2")
    assert client.get(f"/notes/{RESTRICTED}-2").status_code == 200
    assert client.get(f"/notes/{RESTRICTED}").status_code == 404  # still hidden, still in place


def test_the_old_name_of_a_hidden_note_answers_as_for_a_free_name(app, client, as_user):
    wiki = app.extensions["kb.wiki"]
    admin = app.extensions["kb.users"].by_username("admin")
    base = wiki.revision_of(RESTRICTED)
    wiki.rename(admin, RESTRICTED, "safe-house-protocol-libya-2027", base)  # its old name now redirects
    headers = bearer(app, "pat")
    resp = client.post("/api/notes", json=api_note(RESTRICTED), headers=headers)
    free = client.post("/api/notes", json=api_note("never-used-before"), headers=headers)
    assert resp.status_code == free.status_code == 201  # not 422 "leads to a renamed note"
    assert resp.get_json()["slug"] != RESTRICTED and wiki.redirects.target(RESTRICTED)  # the redirect stays
    client = as_user("moussa")  # renaming onto it: the same
    rev = client.get(f"/api/notes/{AGADEZ}").get_json()["revision"]
    resp = client.post(f"/notes/{AGADEZ}/rename", data={"new_slug": RESTRICTED, "base_revision": rev,
                                                         "csrf_token": csrf_token(client, f"/notes/{AGADEZ}")})
    assert resp.status_code == 303 and not resp.headers["Location"].endswith(f"/notes/{RESTRICTED}")
    # the old name of a note the writer may read is still refused, with the reason
    wiki.rename(admin, LEBANON, "pfa-training-lebanon", wiki.revision_of(LEBANON))
    resp = client.post("/api/notes", json=api_note(LEBANON), headers=bearer(app, "pat"))
    assert resp.status_code == 422 and "renamed note" in resp.get_data(as_text=True)


def _medians(client, paths: list[str], rounds: int = 40) -> list[float]:
    for path in paths * 5:
        client.get(path)
    times: list[list[float]] = [[] for _ in paths]
    for _ in range(rounds):  # interleaved, so that a busy moment weighs on every path alike
        for i, path in enumerate(paths):
            began = time.perf_counter()
            assert client.get(path).status_code == 404
            times[i].append(time.perf_counter() - began)
    return [statistics.median(t) for t in times]


def test_a_hidden_note_answers_in_about_the_time_of_a_missing_one(client):
    for prefix in ("/notes/", "/api/notes/"):
        hidden, missing = _medians(client, [prefix + RESTRICTED, prefix + "no-note-has-this-name"])
        assert hidden < missing * 1.4 + 0.0003, (prefix, hidden, missing)


# --- 4. translations that name a hidden note --------------------------------------------------------

def test_api_and_raw_leave_out_translations_the_reader_may_not_follow(app, client, as_user):
    text_ = source(LEBANON).replace("\n---\n", f"\ntranslations: {{ar: {INTERNAL}}}\n---\n", 1)
    write_note(app, LEBANON, text_)
    assert client.get(f"/api/notes/{LEBANON}").get_json()["meta"]["translations"] == {}
    raw = client.get(f"/notes/{LEBANON}/raw")
    assert raw.status_code == 200 and INTERNAL not in raw.get_data(as_text=True)
    assert "Psychological" in raw.get_data(as_text=True)
    as_user("pat")  # signed in: internal notes are readable, and so is the entry
    assert client.get(f"/api/notes/{LEBANON}").get_json()["meta"]["translations"] == {"ar": INTERNAL}
    assert INTERNAL in client.get(f"/notes/{LEBANON}/raw").get_data(as_text=True)


def test_an_api_update_keeps_the_translations_the_writer_was_not_shown(app, client):
    text_ = source(AGADEZ).replace("translations: {", f"translations: {{ar: {RESTRICTED}, ", 1)
    write_note(app, AGADEZ, text_)
    headers = bearer(app, "moussa")  # edits AGADEZ, may not read RESTRICTED
    got = client.get(f"/api/notes/{AGADEZ}", headers=headers).get_json()
    assert RESTRICTED not in got["meta"]["translations"].values()
    put = client.put(f"/api/notes/{AGADEZ}", headers=headers,
                     json={"base_revision": got["revision"], "meta": {"translations": got["meta"]["translations"]}})
    assert put.status_code == 200
    assert f"ar: {RESTRICTED}" in app.extensions["kb.wiki"].store.read_bytes(AGADEZ).decode()


# --- 5. revision ids ---------------------------------------------------------------------------------

def test_a_hidden_revision_is_a_404_like_an_unknown_one(app, client, as_user):
    original = source(PUBLIC)
    write_note(app, PUBLIC, original.replace("status: published", "status: draft", 1) + "\nSecret draft.\n")
    hidden_rev = app.extensions["kb.wiki"].revision_of(PUBLIC)
    write_note(app, PUBLIC, original)
    for rev in (hidden_rev, "0123456789abcdef"):  # the public: earlier texts are for signed-in readers, any id
        assert client.get(f"/notes/{PUBLIC}/diff?to={rev}").status_code == 403
        assert client.get(f"/notes/{PUBLIC}/revisions/{rev}").status_code == 403
    as_user("pat")
    for rev in (hidden_rev, "0123456789abcdef"):
        assert client.get(f"/notes/{PUBLIC}/diff?to={rev}").status_code == 404
        assert client.get(f"/notes/{PUBLIC}/diff?from={rev}").status_code == 404
        assert client.get(f"/notes/{PUBLIC}/revisions/{rev}").status_code == 404
    token = csrf_token(client, f"/notes/{PUBLIC}")
    for rev in (hidden_rev, "0123456789abcdef"):
        resp = client.post(f"/notes/{PUBLIC}/revisions/{rev}/restore", data={"csrf_token": token})
        assert resp.status_code == 404


# --- 6. history tells only what kb recorded ----------------------------------------------------------

def test_a_change_summary_that_imitates_kbs_records_shows_as_plain_text(as_user):
    client = as_user("moussa")
    for message in ("Status: draft -> published", "Personal-data-confirmed: x", "Restored-from: abcdef1234"):
        got = client.get(f"/api/notes/{AGADEZ}").get_json()
        resp = client.put(f"/api/notes/{AGADEZ}", json={"base_revision": got["revision"], "message": message,
                                                         "body": got["body"] + "\nOne more line.\n"},
                          headers={"X-CSRFToken": csrf_token(client, f"/notes/{AGADEZ}")})
        assert resp.status_code == 200, resp.get_json()
    page = client.get(f"/notes/{AGADEZ}/history").get_data(as_text=True)
    assert "Status: draft -&gt; published" in page and "Personal-data-confirmed: x" in page  # the summaries
    assert 'class="badge status-change"' not in page
    assert 'class="confirmed"' not in page
    assert "restores abcdef1234" not in page
    # the real thing still shows: a status change kb records itself
    got = client.get(f"/api/notes/{AGADEZ}").get_json()
    client.put(f"/api/notes/{AGADEZ}", json={"base_revision": got["revision"], "meta": {"status": "draft"}},
               headers={"X-CSRFToken": csrf_token(client, f"/notes/{AGADEZ}")})
    page = client.get(f"/notes/{AGADEZ}/history").get_data(as_text=True)
    assert re.search(r'class="badge status-change">[^<]*published[^<]*draft', page)
