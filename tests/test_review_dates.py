"""Review dates through the real app: "still accurate" (a commit changing only `reviewed`, by the reviewer,
audited), the note page's review line, trust marks, /review's due list per focal point, who may mark a note,
the API's fields and its review filter, trust scores, and the validation of the front-matter keys."""
import datetime as dt
import re

import pytest

from kb import reviewdates
from kb.errors import TaxonomyError
from kb.search import SearchQuery
from kb.taxonomy import Taxonomy
from kb.yamlio import load

from .conftest import SHIPPED, csrf_token, git
from .test_api_write import api, token  # noqa: F401 (fixtures: an API call as a user, by token)

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel), created 2025-11-03
RESTRICTED_SAHEL = "protocole-orientation-victimes-traite-mali-fr"  # restricted, published, Mali and Niger
TODAY = dt.datetime.now(dt.timezone.utc).date()


def day(value: dt.date) -> str:
    """How an English page writes a date (Babel's medium format): Sep 14, 2026."""
    return f"{value:%b} {value.day}, {value.year}"


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.get_data(as_text=True))


def put_note(app, admin_name, slug, title, regions, reviewed=None, visibility="public", **extra):
    """A published note written through the service, with a review date (or none)."""
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    fields = {"title": title, "language": "en", "regions": regions, "topics": ["mhpss"], "visibility": visibility,
              "status": "published", "summary": "Short.", **extra}
    if reviewed:
        fields["reviewed"] = reviewed.isoformat()
    admin = users.by_username(admin_name)
    wiki.save(admin, slug, wiki.new_meta(fields, None), "Body of " + title, None, create=True)
    return slug


# --- still accurate ------------------------------------------------------------------------------------------

def test_still_accurate_commits_only_the_review_date_by_the_reviewer_and_the_page_says_so(app, as_user, site):
    content = site / "content"
    before = (content / f"{AGADEZ}.md").read_bytes()
    client = as_user("moussa")
    page = text(client.get(f"/notes/{AGADEZ}"))
    created_due = dt.date(2025, 11, 3) + dt.timedelta(days=180)
    assert f"Never reviewed · review overdue since {day(created_due)}" in page
    assert "Still accurate" in page

    resp = client.post(f"/notes/{AGADEZ}/review", data={"csrf_token": csrf_token(client, f"/notes/{AGADEZ}")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/notes/{AGADEZ}")

    after = (content / f"{AGADEZ}.md").read_bytes()
    added = f"reviewed: {TODAY.isoformat()}\n".encode()
    assert after.replace(added, b"") == before  # every other byte as it was
    diff = git(content, "show", "--format=", "HEAD", "--", f"{AGADEZ}.md")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [f"+reviewed: {TODAY.isoformat()}"]
    assert git(content, "log", "-1", "--format=%an").strip() == "moussa"
    entries = app.extensions["kb.users"].audit_entries(action="note_review")
    assert [(e.actor, e.target) for e in entries] == [("moussa", AGADEZ)]

    due = TODAY + dt.timedelta(days=180)
    page = text(client.get(f"/notes/{AGADEZ}"))
    assert f"Reviewed {day(TODAY)} by moussa · next review by {day(due)}" in page
    assert "Marked as still accurate" in page
    # a second click the same day changes nothing
    client.post(f"/notes/{AGADEZ}/review", data={"csrf_token": csrf_token(client, f"/notes/{AGADEZ}")})
    assert len(app.extensions["kb.users"].audit_entries(action="note_review")) == 1


def test_the_button_needs_its_csrf_token_and_is_shown_only_to_those_who_may_use_it(app, as_user, client):
    assert "Still accurate" not in text(client.get(f"/notes/{AGADEZ}"))  # anonymous
    as_user("pat")
    page = text(client.get(f"/notes/{AGADEZ}"))
    assert "Never reviewed" in page and "Still accurate" not in page
    assert client.post(f"/notes/{AGADEZ}/review", data={"csrf_token": csrf_token(client, "/")}).status_code == 403
    as_user("moussa")
    assert client.post(f"/notes/{AGADEZ}/review").status_code == 400  # no CSRF token: nothing changes
    assert app.extensions["kb.users"].audit_entries(action="note_review") == []


def test_a_page_in_french_writes_the_review_dates_in_french(app, as_user):
    client = as_user("moussa")
    client.post(f"/notes/{AGADEZ}/review", data={"csrf_token": csrf_token(client, f"/notes/{AGADEZ}")})
    client.set_cookie("lang", "fr")
    page = text(client.get(f"/notes/{AGADEZ}"))
    assert "Révisée le" in page and "par moussa" in page
    assert "Toujours exacte" in page and "Still accurate" not in page
    months = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]
    assert f"{TODAY.day} {months[TODAY.month - 1]} {TODAY.year}" in page


# --- who may mark a note: the policy -----------------------------------------------------------------------

def test_the_api_marks_a_note_for_its_focal_points_and_admins_only(api, app):
    for user in ("pat", "amina"):  # a practitioner, the focal point of another region
        resp = api("POST", f"/api/notes/{AGADEZ}/review", user)
        assert resp.status_code == 403, user
    assert api("POST", f"/api/notes/{AGADEZ}/review").status_code == 400  # no token: a cookie write needs CSRF
    resp = api("POST", f"/api/notes/{AGADEZ}/review", "moussa")
    assert resp.status_code == 200
    assert resp.get_json() == {"reviewed": TODAY.isoformat(),
                               "review_due": (TODAY + dt.timedelta(days=180)).isoformat()}
    assert api("POST", f"/api/notes/{RESTRICTED_SAHEL}/review", "admin").status_code == 200


@pytest.mark.parametrize("user", [None, "pat", "amina"])
def test_a_hidden_note_is_not_there_to_mark(api, as_user, user):
    hidden = api("POST", f"/api/notes/{RESTRICTED_SAHEL}/review", user)
    ghost = api("POST", "/api/notes/no-such-note-here/review", user)
    assert hidden.status_code == ghost.status_code == (404 if user else 400)  # no token: no CSRF token either
    assert hidden.get_json() == ghost.get_json()
    if user:  # the page's form answers alike
        client = as_user(user)
        token = csrf_token(client, "/")
        hidden = client.post(f"/notes/{RESTRICTED_SAHEL}/review", data={"csrf_token": token})
        ghost = client.post("/notes/no-such-note-x/review", data={"csrf_token": token})
        assert hidden.status_code == ghost.status_code == 404


def test_only_a_published_note_is_reviewed(app, api):
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    fields = {"title": "Water points in Arlit", "language": "en", "regions": ["Niger"], "status": "draft"}
    wiki.save(users.by_username("moussa"), "arlit-water", wiki.new_meta(fields, None), "Wells.", None, create=True)
    resp = api("POST", "/api/notes/arlit-water/review", "moussa")
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"][0]["field"] == "status"
    assert api("GET", "/api/notes/arlit-water", "moussa").get_json()["review_due"] is None


# --- what is due, for whom -----------------------------------------------------------------------------------

def test_review_lists_the_due_notes_of_the_focal_points_regions_oldest_first(app, as_user, client):
    put_note(app, "admin", "sahel-long-overdue", "Sahel long overdue", ["Mali"],
                        TODAY - dt.timedelta(days=900))
    put_note(app, "admin", "sahel-due-soon", "Sahel due soon", ["Chad"], TODAY - dt.timedelta(days=170))
    put_note(app, "admin", "sahel-fresh", "Sahel fresh", ["Niger"], TODAY - dt.timedelta(days=10))
    put_note(app, "admin", "north-overdue", "North overdue", ["Libya"], TODAY - dt.timedelta(days=400))

    page = text(as_user("moussa").get("/review"))
    due_part = page.split("Due for review", 1)[1]
    assert "Sahel long overdue" in due_part and "Sahel due soon" in due_part
    assert "Sahel fresh" not in due_part and "North overdue" not in due_part
    assert due_part.index("Sahel long overdue") < due_part.index("Sahel due soon")
    assert f"Review due by {day(TODAY + dt.timedelta(days=10))}" in due_part
    assert f"Review overdue since {day(TODAY - dt.timedelta(days=720))}" in due_part

    page = text(as_user("amina").get("/review"))
    due_part = page.split("Due for review", 1)[1]
    assert "North overdue" in due_part and "Sahel long overdue" not in due_part

    assert "Due for review" not in text(as_user("pat").get("/review"))
    admin_part = text(as_user("admin").get("/review")).split("Due for review", 1)[1]
    assert all(t in admin_part for t in ("Sahel long overdue", "Sahel due soon", "North overdue"))


def test_reviews_due_names_the_reviewers_of_each_note(app):
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    put_note(app, "admin", "north-overdue", "North overdue", ["Libya"], TODAY - dt.timedelta(days=400))
    put_note(app, "admin", "named-reviewer", "Named reviewer", ["Libya"], TODAY - dt.timedelta(days=400),
             reviewer="layla")
    put_note(app, "admin", "sahel-fresh", "Sahel fresh", ["Niger"], TODAY - dt.timedelta(days=10))
    due = {d.slug: d for d in wiki.reviews_due(30, accounts=users.list())}
    assert due["north-overdue"].reviewers == ["amina"] and due["north-overdue"].overdue
    assert due["named-reviewer"].reviewers == ["layla"]
    assert "sahel-fresh" not in due
    assert AGADEZ in due and due[AGADEZ].reviewers == ["moussa"] and due[AGADEZ].reviewed is None
    dates = [d.review_due for d in due.values()]
    assert list(due) and dates == sorted(dates)  # oldest first
    assert wiki.reviews_due(30, user=users.by_username("pat")) == []


# --- the API -----------------------------------------------------------------------------------------------

def test_api_notes_and_hits_carry_the_review_dates_and_search_filters_overdue(app, api):
    put_note(app, "admin", "sahel-fresh", "Sahel fresh", ["Niger"], TODAY - dt.timedelta(days=10))
    note = api("GET", "/api/notes/sahel-fresh").get_json()
    assert note["reviewed"] == (TODAY - dt.timedelta(days=10)).isoformat()
    assert note["review_due"] == (TODAY + dt.timedelta(days=170)).isoformat()
    assert api("GET", f"/api/notes/{AGADEZ}").get_json()["reviewed"] is None

    everything = api("GET", "/api/search?per_page=100&lang=en").get_json()["hits"]
    fresh = next(h for h in everything if h["slug"] == "sahel-fresh")
    assert (fresh["reviewed"], fresh["review_due"]) == (note["reviewed"], note["review_due"])
    overdue = api("GET", "/api/search?review=overdue&per_page=100&lang=en").get_json()
    slugs = {h["slug"] for h in overdue["hits"]}
    assert AGADEZ in slugs and "sahel-fresh" not in slugs
    assert all(h["review_due"] < TODAY.isoformat() for h in overdue["hits"])
    expected = {h["slug"] for h in everything if h["review_due"] and h["review_due"] < TODAY.isoformat()}
    assert slugs == expected
    assert api("GET", "/api/search?review=nonsense&per_page=100&lang=en").get_json()["total"] == len(everything)

    api("POST", f"/api/notes/{AGADEZ}/review", "moussa")
    slugs = {h["slug"] for h in api("GET", "/api/search?review=overdue&per_page=100&lang=en").get_json()["hits"]}
    assert AGADEZ not in slugs


def test_listed_notes_carry_a_trust_mark(app, client):
    put_note(app, "admin", "sahel-fresh", "Sahel fresh", ["Niger"], TODAY - dt.timedelta(days=10))
    page = client.get("/search?q=Sahel+fresh").get_data(as_text=True)
    item = page.split('href="/notes/sahel-fresh"', 1)[1].split("</li>", 1)[0]
    assert '<span class="trust trust-reviewed">Reviewed</span>' in item
    page = client.get("/regions/niger").get_data(as_text=True)
    item = page.split(f'href="/notes/{AGADEZ}"', 1)[1].split("</li>", 1)[0]
    assert '<span class="trust trust-overdue">Review overdue</span>' in item


# --- trust scores -------------------------------------------------------------------------------------------

def test_region_pages_and_the_admin_home_show_the_trust_score(app, as_user, client):
    wiki = app.extensions["kb.wiki"]
    public_sahel = wiki.search(None, SearchQuery(places=["Sahel"], per_page=1)).total  # published, public
    assert public_sahel > 1
    assert f"0 of {public_sahel} published notes reviewed" in text(client.get("/regions/sahel"))
    moussa = as_user("moussa")
    moussa.post(f"/notes/{AGADEZ}/review", data={"csrf_token": csrf_token(moussa, f"/notes/{AGADEZ}")})
    page = text(app.test_client().get("/regions/sahel"))  # a visitor again
    assert f"1 of {public_sahel} published notes reviewed" in page
    assert f"Trust score: <strong>{round(100 / public_sahel)} %</strong>" in page

    page = text(as_user("admin").get("/admin"))
    published_all = sum(1 for p in wiki.content_dir.glob("*.md")
                        if "\nstatus: published\n" in p.read_text(encoding="utf-8"))
    assert f"1 of {published_all} published notes reviewed" in page
    overdue = wiki.search(app.extensions["kb.users"].by_username("admin"), SearchQuery(review="overdue")).total
    assert overdue and f"{overdue} notes are overdue for review." in page
    assert as_user("moussa").get("/admin").status_code == 404


# --- validation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, field", [
    ({"reviewed": "last spring"}, "reviewed"),
    ({"reviewed": (TODAY + dt.timedelta(days=30)).isoformat()}, "reviewed"),
    ({"review_every": 0}, "review_every"),
    ({"review_every": -30}, "review_every"),
    ({"review_every": "often"}, "review_every"),
    ({"reviewer": "Not A Name!"}, "reviewer"),
])
def test_bad_review_fields_are_refused_on_save_with_the_field_named(api, fields, field):
    base = api("GET", f"/api/notes/{AGADEZ}", "moussa").get_json()["revision"]
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"base_revision": base, "meta": fields})
    assert resp.status_code == 422
    assert [f["field"] for f in resp.get_json()["error"]["fields"]] == [field]


def test_good_review_fields_are_saved_and_change_the_due_date(api):
    base = api("GET", f"/api/notes/{AGADEZ}", "moussa").get_json()["revision"]
    reviewed = TODAY - dt.timedelta(days=5)
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"base_revision": base, "meta": {
        "reviewed": reviewed.isoformat(), "review_every": 90, "reviewer": "someone-not-yet-an-account"}})
    assert resp.status_code == 200, resp.get_json()
    note = api("GET", f"/api/notes/{AGADEZ}").get_json()
    assert note["review_due"] == (reviewed + dt.timedelta(days=90)).isoformat()


def test_the_taxonomy_gives_the_default_interval_and_checks_it():
    data = load((SHIPPED / "taxonomy.yml").read_text(encoding="utf-8"))
    assert Taxonomy.from_data(data).review_every == data["review_every"] == 180
    assert Taxonomy.from_data({k: v for k, v in data.items() if k != "review_every"}).review_every == 180
    for bad in (0, -1, "often", True):
        with pytest.raises(TaxonomyError):
            Taxonomy.from_data({**data, "review_every": bad})


def test_the_taxonomys_interval_sets_the_due_date_of_notes_that_give_none(wiki):
    note = wiki._load(AGADEZ)
    assert reviewdates.review_due(note.meta, 90) == dt.date(2025, 11, 3) + dt.timedelta(days=90)
    meta = note.meta.copy(extra={**note.meta.extra, "reviewed": dt.date(2026, 1, 1), "review_every": 10})
    assert reviewdates.review_due(meta, 90) == dt.date(2026, 1, 11)
    assert reviewdates.review_due(meta.copy(status="draft"), 90) is None


def test_a_review_date_already_there_is_replaced_in_place(api, site):
    base = api("GET", f"/api/notes/{AGADEZ}", "moussa").get_json()["revision"]
    old = TODAY - dt.timedelta(days=400)
    assert api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"base_revision": base,
                                                          "meta": {"reviewed": old.isoformat()}}).status_code == 200
    assert api("POST", f"/api/notes/{AGADEZ}/review", "admin").status_code == 200
    content = site / "content"
    diff = git(content, "show", "--format=", "HEAD", "--", f"{AGADEZ}.md")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [f"-reviewed: {old.isoformat()}", f"+reviewed: {TODAY.isoformat()}"]
    assert git(content, "log", "-1", "--format=%an").strip() == "admin"


def test_the_review_line_keeps_a_files_line_endings_and_every_other_byte():
    crlf = "---\r\ntitle: T\r\nlanguage: en\r\n---\r\nBody\r\n"
    assert reviewdates.with_reviewed(crlf, dt.date(2026, 9, 14)) == \
        "---\r\ntitle: T\r\nlanguage: en\r\nreviewed: 2026-09-14\r\n---\r\nBody\r\n"
    for bad in ("no front matter", "---\ntitle: T\n", "---\nreviewed: 2026-01-01\nreviewed: 2026-01-02\n---\n",
                "---\nreviewed:\n  2026-01-01\n---\n"):
        with pytest.raises(ValueError):
            reviewdates.with_reviewed(bad, dt.date(2026, 9, 14))


def test_an_edit_begun_before_a_review_keeps_the_new_review_date(api):
    base = api("GET", f"/api/notes/{AGADEZ}", "moussa").get_json()["revision"]  # the editor opens
    assert api("POST", f"/api/notes/{AGADEZ}/review", "admin").status_code == 200  # meanwhile: still accurate
    resp = api("PUT", f"/api/notes/{AGADEZ}", "moussa", {"base_revision": base, "body": "## Context\n\nNew text.\n"})
    assert resp.status_code == 200 and resp.get_json()["merged"]
    note = api("GET", f"/api/notes/{AGADEZ}").get_json()
    assert note["reviewed"] == TODAY.isoformat() and "New text." in note["body"]
