"""The access matrix: every role against notes of every visibility and status, on every surface.

A dedicated knowledge base of eleven notes (and nothing else, so every count is exact) is built once for the
module. Each note carries a secret word in its title, summary and body. Each note's ``readers`` below are
the oracle, written by hand from the policy in the issue, never computed by kb.access (two notes are
translations of each other, one public and one restricted, so search's one-entry-per-translation is
checked too). Every response any test fetches
goes through ``Reader.get``, which fails if it holds the secret word (or, for notes no public note mentions,
the slug) of a note that reader may not read. The surfaces are tables: adding one (a new feed, an export)
is one line in ``NOTE_SURFACES`` or ``LISTINGS``; ``test_every_get_route_is_covered`` fails until a new
GET route is added to a table or to ``NOT_ABOUT_NOTES``.
"""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from kb.history import History
from kb.taxonomy import Taxonomy

from .conftest import SHIPPED, login, site_config

TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")
ROLES = ("anonymous", "pat", "moussa", "amina", "admin")  # practitioner, focal points of Sahel / North Africa
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}


@dataclass(frozen=True)
class N:
    visibility: str
    status: str
    regions: tuple[str, ...]
    topic: str
    secret: str
    readers: frozenset[str]
    authors: tuple[str, ...] = ()
    language: str = "en"
    extra_body: str = ""
    extra_meta: str = ""


NOTES: dict[str, N] = {  # newest first: "updated" dates follow this order
    "mx-pub-sahel": N("public", "published", ("Niger",), "child-protection", "zorvexil", EVERYONE, ("layla",)),
    "mx-rst-north": N("restricted", "published", ("North Africa",), "counter-trafficking", "wexhorn",
                      frozenset({"amina", "admin"}), language="fr", extra_body="Un velquart, mot caché.",
                      extra_meta="translations: {en: mx-pub-horn, ar: mx-no-such-arabic}\n"),
    "mx-pub-horn": N("public", "published", ("Ethiopia",), "mhpss", "quandrix", EVERYONE, extra_body=(
        "Partners: [[mx-rst-north]] and [[mx-no-such-note]]; [[mx-rst-sahel|the partner protocol]] and "
        "[[mx-no-such-other|the partner protocol]]. A velquard is a public word."),
        extra_meta="translations: {fr: mx-rst-north, ar: mx-no-such-arabic}\n"),
    "mx-int-north": N("internal", "published", ("Libya",), "counter-trafficking", "plomvark", SIGNED_IN),
    "mx-rst-sahel": N("restricted", "published", ("Mali",), "counter-trafficking", "drambolt",
                      frozenset({"moussa", "admin"})),
    "mx-rst-pat": N("restricted", "published", ("Sudan",), "mhpss", "brintock", frozenset({"pat", "admin"}),
                    ("pat",)),
    "mx-draft-sahel": N("public", "draft", ("Chad",), "child-protection", "fulmarix", frozenset({"moussa", "admin"})),
    "mx-review-north": N("public", "review", ("Tunisia",), "mhpss", "gravnot", frozenset({"amina", "admin"})),
    "mx-draft-moussa": N("internal", "draft", ("Ethiopia",), "child-protection", "hexlumb",
                         frozenset({"moussa", "admin"}), ("moussa",)),
    "mx-rst-both": N("restricted", "published", ("Mali", "Morocco"), "counter-trafficking", "kimbrax",
                     frozenset({"moussa", "amina", "admin"})),
    "mx-review-horn": N("restricted", "review", ("Horn of Africa",), "mhpss", "jorvask", frozenset({"admin"})),
}
ORDER = list(NOTES)  # newest first
GHOST = "mx-no-such-note"  # what a note that does not exist looks like, to compare hidden notes against
RENAMED = "mx-old-name"  # an old name of mx-rst-north (content/.redirects.yml)
MENTIONED = {"mx-rst-north"}  # named in a public note's translations (front matter), so its slug may show
EXTRA_SECRETS = {"mx-rst-north": "velquart"}  # a hidden word one letter from a public one ("velquard")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")  # 1x1
COMMON = ("Community protection committees agree referral pathways with local authorities, keep case files "
          "safe and meet monthly; lanternfish is the word every matrix note shares.")


def secrets_of(slug: str) -> list[str]:
    return [NOTES[slug].secret, *([EXTRA_SECRETS[slug]] if slug in EXTRA_SECRETS else [])]


def note_text(slug: str, n: N, day: int) -> str:
    links = "" if n.visibility == "public" and n.status == "published" else "\n\nSee also [[mx-pub-sahel]]."
    return (f"---\ntitle: {n.secret.capitalize()} practice note {slug}\nlanguage: {n.language}\n"
            f"regions: [{', '.join(n.regions)}]\ntopics: [{n.topic}]\naudience: [ngo]\n"
            f"visibility: {n.visibility}\nstatus: {n.status}\nsummary: How the {n.secret} approach works.\n"
            f"authors: [{', '.join(n.authors)}]\ncreated: 2026-01-01\nupdated: 2026-03-{day:02d}\n{n.extra_meta}"
            f"---\n## Context\n\nThe {n.secret} approach. {COMMON}\n\n{n.extra_body}{links}\n")


def readable(role: str) -> set[str]:
    return {slug for slug, n in NOTES.items() if role in n.readers}


def in_place(place: str) -> set[str]:
    return {s for s, n in NOTES.items() if place in TAX.places_of(n.regions)}


def with_topic(topic: str) -> set[str]:
    return {s for s, n in NOTES.items() if n.topic == topic}


PUBLIC = readable("anonymous")
# Notes naming each other as translations form one group; search lists a group once, in the reader's
# language (English here) when that member is listed, and counts groups, not notes.
GROUP = {"mx-pub-horn": "horn", "mx-rst-north": "horn"}


def shown(listed: set[str], lang: str = "en") -> list[str]:
    """What a search lists of these notes, newest first: one per translation group."""
    out, seen = [], set()
    for slug in (s for s in ORDER if s in listed):
        group = GROUP.get(slug, slug)
        if group in seen:
            continue
        seen.add(group)
        preferred = [m for m in ORDER if m in listed and GROUP.get(m, m) == group and NOTES[m].language == lang]
        out.append(preferred[0] if preferred else slug)
    return out


def groups_by(listed: set[str], values: Callable[[str], set[str]]) -> dict[str, int]:
    """Facet counts: for each value, the translation groups with a listed member having it."""
    found: dict[str, set[str]] = {}
    for slug in listed:
        for value in values(slug):
            found.setdefault(value, set()).add(GROUP.get(slug, slug))
    return {value: len(groups) for value, groups in found.items()}


# --- one knowledge base and one signed-in client per role, for the whole module -------------------------------
class Reader:
    """One role's client; every response it gets is checked for what this role must never see."""

    def __init__(self, role: str, client, token: str | None):
        self.role, self.client, self.token = role, client, token
        self.token_client = client.application.test_client()  # no cookies: the token alone says who
        self.hidden = [s for s in NOTES if role not in NOTES[s].readers]

    def get(self, url: str, bearer: bool = False, headers: dict | None = None):
        headers = {**(headers or {}), **({"Authorization": f"Bearer {self.token}"} if bearer and self.token else {})}
        resp = (self.token_client if bearer else self.client).get(url, headers=headers)
        resp.get_data()
        resp.close()  # the body is read; release what the response held (a pack's temporary file)
        self.check(url, resp)
        return resp

    def check(self, url: str, resp) -> None:
        if resp.mimetype == "application/zip":
            with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
                texts = [zf.read(name).decode("utf-8", "replace") for name in zf.namelist()] + zf.namelist()
        else:  # a photo's bytes are read as text too: a secret in its metadata would show
            texts = [resp.get_data().decode("utf-8", "replace")]
        echoed = [p for p in (urlsplit(url).path, *sum(parse_qs(urlsplit(url).query).values(), [])) if p]
        for text in texts:
            for typed in echoed:  # the reader's own URL and words come back; that tells them nothing
                text = text.replace(typed, "").replace(quote(typed), "").replace(quote(typed, safe=""), "")
            folded = text.casefold()
            for slug in self.hidden:
                for word in secrets_of(slug):
                    assert word not in folded, f"{self.role} saw the secret of {slug} at {url}"
                if slug not in MENTIONED:
                    assert slug not in text, f"{self.role} saw the name of {slug} at {url}"


@dataclass
class Matrix:
    app: object
    readers: dict[str, Reader]
    revisions: dict[str, str]


@pytest.fixture(scope="module")
def matrix(site_template, tmp_path_factory):
    from kb import create_app
    root = tmp_path_factory.mktemp("matrix") / "site"
    shutil.copytree(site_template, root, symlinks=True)
    content = root / "content"
    for path in content.glob("*.md"):
        path.unlink()
    for day, (slug, n) in enumerate(NOTES.items()):
        (content / f"{slug}.md").write_text(note_text(slug, n, 28 - day), encoding="utf-8")
        files = content / "_files" / slug  # a table and a photo beside each note: the secret is in the table
        (files / ".thumbs").mkdir(parents=True)
        (files / "note.csv").write_text(f"word,use\n{n.secret},table cell\n", encoding="utf-8")
        (files / "map.png").write_bytes(PNG)
        (files / ".thumbs" / "map.png").write_bytes(PNG)
    (content / ".redirects.yml").write_text(f"{RENAMED}: mx-rst-north\n", encoding="utf-8")
    History(content).commit(["."], "The access matrix's notes")
    app = create_app({**site_config(root), "KB_CHECK_INDEX_ON_START": "0"})
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    wiki.check_index(repair=True)
    assert wiki.check_index().clean and sorted(wiki.store.slugs()) == sorted(NOTES)
    readers = {"anonymous": Reader("anonymous", app.test_client(), None)}
    for role in ROLES[1:]:
        client = app.test_client()
        assert login(client, role).status_code == 302
        readers[role] = Reader(role, client, users.create_token(role, "matrix")[1])
    yield Matrix(app, readers, {s: wiki.revision_of(s) for s in NOTES})
    wiki.close()
    users.dispose()


def normalised(resp, slug: str) -> tuple[int, str]:
    body = resp.get_data(as_text=True).replace(slug, "SLUG")
    return resp.status_code, re.sub(r'(name="csrf_token"[^>]*value=|"csrf_token": )"[^"]*"', "", body)


# --- surfaces about one note: readable -> shown; otherwise exactly what a missing note gives -----------------
@dataclass(frozen=True)
class NoteSurface:
    name: str
    url: Callable[[str, Matrix], str]
    shows_secret: bool = True  # a reader who may read the note sees its text here
    status: int | None = 200  # for readers who may read it; None: depends on more than reading
    bearer: bool = False
    follows_renames: bool = True  # an old name answers 301 to the new one (for its readers)
    signed_in_text: bool = False  # an earlier version's text: the public is told to sign in (403), sees none


NOTE_SURFACES = [
    NoteSurface("page", lambda s, m: f"/notes/{s}"),
    NoteSurface("attachment", lambda s, m: f"/notes/{s}/files/note.csv"),
    NoteSurface("photo", lambda s, m: f"/notes/{s}/files/map.png", shows_secret=False),
    NoteSurface("thumbnail", lambda s, m: f"/notes/{s}/thumbs/map.png", shows_secret=False),
    NoteSurface("api attachments", lambda s, m: f"/api/notes/{s}/attachments", shows_secret=False,
                follows_renames=False),
    NoteSurface("files form", lambda s, m: f"/notes/{s}/files", shows_secret=False, status=None,
                follows_renames=False),
    NoteSurface("raw", lambda s, m: f"/notes/{s}/raw"),
    NoteSurface("history", lambda s, m: f"/notes/{s}/history"),
    NoteSurface("revision", lambda s, m: f"/notes/{s}/revisions/{m.revisions.get(s, m.revisions['mx-pub-sahel'])}",
                signed_in_text=True),
    NoteSurface("api", lambda s, m: f"/api/notes/{s}"),
    NoteSurface("api with a token", lambda s, m: f"/api/notes/{s}", bearer=True),
    NoteSurface("diff", lambda s, m: f"/notes/{s}/diff", shows_secret=False, status=None),
    NoteSurface("editor", lambda s, m: f"/notes/{s}/edit", shows_secret=False, status=None),
    NoteSurface("rename form", lambda s, m: f"/notes/{s}/rename", shows_secret=False, status=None,
                follows_renames=False),
    NoteSurface("delete form", lambda s, m: f"/notes/{s}/delete", shows_secret=False, status=None,
                follows_renames=False),
    NoteSurface("redact form", lambda s, m: f"/notes/{s}/redact", shows_secret=False, status=None,
                follows_renames=False),
    # comments: signed-in readers only (the public is sent to sign in, or answered 401 by the API)
    NoteSurface("comments page", lambda s, m: f"/notes/{s}/comments", shows_secret=False, status=None,
                follows_renames=False),
    NoteSurface("comment edit form", lambda s, m: f"/notes/{s}/comments/1/edit", shows_secret=False, status=None,
                follows_renames=False),
    NoteSurface("comments api", lambda s, m: f"/api/notes/{s}/comments", shows_secret=False, status=None,
                follows_renames=False),
    NoteSurface("comments api with a token", lambda s, m: f"/api/notes/{s}/comments", shows_secret=False,
                status=None, bearer=True, follows_renames=False),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", NOTE_SURFACES, ids=lambda s: s.name)
def test_note_surfaces(matrix, surface, role):
    reader = matrix.readers[role]
    if surface.bearer and reader.token is None:
        pytest.skip("the public has no token")
    missing = normalised(reader.get(surface.url(GHOST, matrix), bearer=surface.bearer), GHOST)
    assert missing[0] in (404, 302)  # 302: a page for signed-in users sends the public to sign in first
    for slug in ORDER:
        resp = reader.get(surface.url(slug, matrix), bearer=surface.bearer)
        if role in NOTES[slug].readers and surface.signed_in_text and role == "anonymous":
            page = resp.get_data(as_text=True)  # the current title, a way to sign in, no earlier text
            assert resp.status_code == 403 and "/login?next=" in page and 'class="note"' not in page, slug
        elif role in NOTES[slug].readers:
            if surface.status is not None:
                assert resp.status_code == surface.status, slug
            if surface.shows_secret:
                assert NOTES[slug].secret in resp.get_data(as_text=True).casefold(), slug
        else:
            assert normalised(resp, slug) == missing, slug


@pytest.mark.parametrize("role", ROLES)
def test_old_names_of_hidden_notes_lead_nowhere(matrix, role):
    """A renamed note's old name redirects its readers; to anyone else it is a name no note ever had."""
    reader = matrix.readers[role]
    for surface in NOTE_SURFACES:
        if surface.bearer and reader.token is None:
            continue
        resp = reader.get(surface.url(RENAMED, matrix), bearer=surface.bearer)
        if role in NOTES["mx-rst-north"].readers and surface.follows_renames and resp.status_code != 302:
            assert resp.status_code == 301, surface.name
            assert "/mx-rst-north" in resp.headers["Location"], surface.name
        else:
            missing = reader.get(surface.url(GHOST, matrix), bearer=surface.bearer)
            assert normalised(resp, RENAMED) == normalised(missing, GHOST), surface.name


# --- surfaces that list notes: exactly the readable ones in scope ----------------------------------------------
def hits_html(resp) -> list[str]:
    return re.findall(r'<h3[^>]*><a href="/notes/([a-z0-9-]+)">', resp.get_data(as_text=True))


def hits_json(resp) -> list[str]:
    data = resp if isinstance(resp, dict) else resp.get_json()
    return [h["slug"] for h in data["hits"]]


def feed_entries(resp) -> list[str]:
    return re.findall(r"<entry[^>]*>\s*<id>[^<]*/notes/([a-z0-9-]+)</id>", resp.get_data(as_text=True))


def sitemap_notes(resp) -> list[str]:
    return re.findall(r"<loc>[^<]*/notes/([a-z0-9-]+)</loc>", resp.get_data(as_text=True))


def zip_notes(resp) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as zf:
        return [m.group(1) for name in zf.namelist() if (m := re.search(r"/notes/([a-z0-9-]+)\.html$", name))]


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">.*?</section>', html, re.S)
    return match.group(0) if match else ""


def backlinks(resp) -> list[str]:
    return re.findall(r'<a href="/notes/([a-z0-9-]+)">', section(resp.get_data(as_text=True), "backlinks"))


@dataclass(frozen=True)
class Listing:
    name: str
    url: str
    slugs: Callable  # response -> slugs listed (None: only the leak check applies)
    scope: Callable[[str], set[str]] = readable  # role -> the notes that must be listed
    total: Callable | None = None  # response -> the total the page states
    status: Callable[[str], int] = lambda role: 200
    bearer: bool = False  # sent with the role's API token alone, no cookie
    search: bool = True  # listed by a search: one entry per translation group


def html_total(resp) -> int:
    return int(re.search(r'id="results-title"[^>]*>(\d+) notes?</h2>', resp.get_data(as_text=True)).group(1))


def json_total(resp) -> int:
    return resp.get_json()["total"]


def public_in(place: str | None = None, topic: str | None = None) -> Callable[[str], set[str]]:
    return lambda role: PUBLIC & (in_place(place) if place else PUBLIC) & (with_topic(topic) if topic else PUBLIC)


def readable_in(place: str | None = None, topic: str | None = None) -> Callable[[str], set[str]]:
    return lambda role: readable(role) & (in_place(place) if place else set(NOTES)) & \
        (with_topic(topic) if topic else set(NOTES))


LISTINGS = [
    Listing("search page", "/search?q=lanternfish", hits_html, total=html_total),
    Listing("search page, every note", "/search?sort=newest", hits_html, total=html_total),
    Listing("search page, region filter", "/search?q=lanternfish&region=Sahel", hits_html, readable_in("Sahel"),
            html_total),
    Listing("search API", "/api/search?q=lanternfish&per_page=100", hits_json, total=json_total),
    Listing("search API with a token", "/api/search?q=lanternfish&per_page=100", hits_json, total=json_total,
            bearer=True),
    Listing("search API, country filter", "/api/search?q=lanternfish&country=Mali", hits_json, readable_in("Mali"),
            json_total),
    Listing("search API, topic filter", "/api/search?topic=mhpss", hits_json, readable_in(topic="mhpss"), json_total),
    Listing("search API, page 2", "/api/search?sort=newest&per_page=3&page=2", None, total=json_total),
    Listing("search API, overdue reviews (every matrix note was created on 2026-01-01, due 180 days later)",
            "/api/search?q=lanternfish&review=overdue&per_page=100", hits_json,
            lambda role: {s for s in readable(role) if NOTES[s].status == "published"}, json_total),
    Listing("region Sahel", "/regions/sahel", hits_html, readable_in("Sahel"), html_total),
    Listing("region North Africa", "/regions/north-africa", hits_html, readable_in("North Africa"), html_total),
    Listing("country Mali", "/regions/mali", hits_html, readable_in("Mali"), html_total),
    Listing("region Horn of Africa", "/regions/horn-of-africa", hits_html, readable_in("Horn of Africa"), html_total),
    Listing("topic counter-trafficking", "/topics/counter-trafficking", hits_html,
            readable_in(topic="counter-trafficking"), html_total),
    Listing("topic mhpss", "/topics/mhpss", hits_html, readable_in(topic="mhpss"), html_total),
    Listing("backlinks", "/notes/mx-pub-sahel", backlinks, lambda role: readable(role) - PUBLIC, search=False),
    Listing("feed of all notes", "/feeds/all.atom", feed_entries, public_in()),
    Listing("feed of a region", "/feeds/regions/sahel.atom", feed_entries, public_in("Sahel")),
    Listing("feed of a region, restricted notes there", "/feeds/regions/north-africa.atom", feed_entries,
            public_in("North Africa")),
    Listing("feed of a topic", "/feeds/topics/counter-trafficking.atom", feed_entries,
            public_in(topic="counter-trafficking")),
    Listing("sitemap", "/sitemap.xml", sitemap_notes, public_in()),
    Listing("region pack", "/regions/sahel/export.zip", zip_notes, public_in("Sahel"), search=False),
    Listing("region pack, North Africa", "/regions/north-africa/export.zip", zip_notes, public_in("North Africa"),
            search=False),
    Listing("internal region pack", "/regions/sahel/export.zip?internal=1", zip_notes, readable_in("Sahel"),
            status=lambda role: 302 if role == "anonymous" else 200, search=False),
    Listing("internal region pack, North Africa", "/regions/north-africa/export.zip?internal=1", zip_notes,
            readable_in("North Africa"), status=lambda role: 302 if role == "anonymous" else 200, search=False),
    Listing("review queue", "/review", None, status=lambda role: 302 if role == "anonymous" else 200),
    Listing("deleted notes", "/admin/deleted-notes", None,
            status=lambda role: 200 if role == "admin" else 404),
    Listing("admin home (trust scores)", "/admin", None, status=lambda role: 200 if role == "admin" else 404),
    Listing("regions page", "/regions", None),
    Listing("topics page", "/topics", None),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("listing", LISTINGS, ids=lambda item: item.name)
def test_listings(matrix, listing, role):
    resp = matrix.readers[role].get(listing.url, bearer=listing.bearer)
    assert resp.status_code == listing.status(role)
    if resp.status_code != 200:
        return
    expected = set(shown(listing.scope(role))) if listing.search else listing.scope(role)
    if listing.slugs is not None:
        listed = listing.slugs(resp)
        assert len(listed) == len(set(listed))
        assert set(listed) == expected
    if listing.total is not None:
        assert listing.total(resp) == len(expected)


@pytest.mark.parametrize("role", ROLES)
def test_one_entry_per_translation_in_the_readers_language(matrix, role):
    """In French, a pair shows its French member, but only to those who may read it."""
    mine = readable(role)
    for lang in ("en", "fr"):
        data = matrix.readers[role].get("/api/search?q=lanternfish&sort=newest&per_page=100",
                                        headers={"Accept-Language": lang}).get_json()
        assert hits_json(data) == shown(mine, lang), lang
        assert data["total"] == len(shown(mine, lang))


def counts_by_place(slugs: set[str]) -> dict[str, int]:
    return groups_by(slugs, lambda s: set(TAX.places_of(NOTES[s].regions)))


def counts_by_topic(slugs: set[str]) -> dict[str, int]:
    return groups_by(slugs, lambda s: {NOTES[s].topic})


def page_counts(html: str, prefix: str) -> dict[str, int]:
    found = re.findall(rf'<a href="/{prefix}/([a-z0-9-]+)">[^<]*</a> <span class="n">(\d+)</span>', html)
    return {key: int(n) for key, n in found}


@pytest.mark.parametrize("role", ROLES)
def test_facet_counts(matrix, role):
    reader, mine = matrix.readers[role], readable(role)
    data = reader.get("/api/search?q=lanternfish&per_page=1").get_json()
    expected = {
        "regions": counts_by_place(mine), "topics": counts_by_topic(mine),
        "audience": groups_by(mine, lambda s: {"ngo"}), "language": groups_by(mine, lambda s: {NOTES[s].language}),
        "countries": groups_by(mine, lambda s: set(TAX.countries_of(NOTES[s].regions))),
    }
    assert {"regions", "topics", "audience", "language"} <= set(data["facets"])
    for name, counts in data["facets"].items():  # every facet the API offers, now or later
        assert counts == expected[name], name
    # a filter narrows the other facets, never by notes the reader cannot see
    sahel = reader.get("/api/search?q=lanternfish&region=Sahel").get_json()
    assert sahel["facets"]["topics"] == counts_by_topic(mine & in_place("Sahel"))
    html = reader.get("/search?q=lanternfish").get_data(as_text=True)
    for topic, n in counts_by_topic(mine).items():
        assert re.search(rf'topic={topic}"[^>]*>[^<]*</a> <span class="n">{n}</span>', html), topic


@pytest.mark.parametrize("role", ROLES)
def test_counts_on_home_regions_and_topics_pages(matrix, role):
    reader, mine = matrix.readers[role], readable(role)
    by_place = {TAX.places[p].slug: n for p, n in counts_by_place(mine).items()}
    by_place = {p.slug: by_place.get(p.slug, 0) for p in TAX.places.values()}
    by_topic = {t: counts_by_topic(mine).get(t, 0) for t in TAX.topics}
    home = reader.get("/").get_data(as_text=True)
    assert page_counts(home, "regions") == by_place
    assert page_counts(home, "topics") == by_topic
    assert page_counts(reader.get("/regions").get_data(as_text=True), "regions") == by_place
    assert page_counts(reader.get("/topics").get_data(as_text=True), "topics") == by_topic
    latest = re.findall(r'<h3[^>]*><a href="/notes/([a-z0-9-]+)">', section(home, "latest") or home)
    in_regions = re.findall(r'<h3[^>]*><a href="/notes/([a-z0-9-]+)">', section(home, "mine"))
    assert latest == [s for s in shown(mine) if s not in in_regions][:10]  # "new in your regions" not repeated


@pytest.mark.parametrize("role", ROLES)
def test_searching_each_secret_word(matrix, role):
    reader = matrix.readers[role]
    for slug, n in NOTES.items():
        data = reader.get(f"/api/search?q={n.secret}").get_json()
        expected = [slug] if role in n.readers else []
        assert hits_json_from(data) == expected and data["total"] == len(expected), slug
        if not expected:
            assert all(not counts for counts in data["facets"].values()), slug
            assert data["suggestion"] is None
        else:
            assert n.secret in data["hits"][0]["snippet"].casefold() or n.secret in data["hits"][0]["title"].casefold()
        html = reader.get(f"/search?q={n.secret}")
        assert html_total(html) == len(expected)


def hits_json_from(data: dict) -> list[str]:
    return [h["slug"] for h in data["hits"]]


def misspelt(word: str) -> str:
    return word[:3] + ("q" if word[3] != "q" else "z") + word[4:]


@pytest.mark.parametrize("role", ROLES)
def test_did_you_mean(matrix, role):
    reader = matrix.readers[role]
    for slug, n in NOTES.items():
        typo = misspelt(n.secret)
        data = reader.get(f"/api/search?q={typo}").get_json()
        assert data["suggestion"] == (n.secret if role in n.readers else None), slug
        reader.get(f"/search?q={typo}")  # the page: checked for the secret like every response


@pytest.mark.parametrize("role", ROLES)
def test_suggestions_do_not_reveal_hidden_words(matrix, role):
    """A word only a hidden note has is answered like a word no note has: both get the public correction."""
    reader = matrix.readers[role]
    hidden_word, absent_word = "velquart", "velquarz"  # the public note says "velquard"
    if role in NOTES["mx-rst-north"].readers:
        pytest.skip("this reader may read the note with the hidden word")
    for word in (hidden_word, absent_word):
        data = reader.get(f"/api/search?q={word}").get_json()
        assert (data["total"], data["suggestion"]) == (0, "velquard"), word


@pytest.mark.parametrize("role", ROLES)
def test_related_notes_are_readable_ones(matrix, role):
    mine = readable(role)
    html = matrix.readers[role].get("/notes/mx-pub-sahel").get_data(as_text=True)
    related = set(re.findall(r'<a href="/notes/([a-z0-9-]+)">', section(html, "related")))
    same_language = {s for s in mine if NOTES[s].language == "en"} - {"mx-pub-sahel"}
    assert related <= same_language  # "more like this" compares bodies in the note's own language
    assert len(related) == min(5, len(same_language))


def wikilinks(html: str) -> list[str]:
    body = re.search(r'<div class="body">.*?</div>', html, re.S).group(0)
    return re.findall(r'<a class="wikilink[^"]*"[^>]*>[^<]*</a>', body)


@pytest.mark.parametrize("role", ROLES)
def test_wiki_links_to_hidden_notes_look_missing(matrix, role):
    """Body order: [[mx-rst-north]], [[mx-no-such-note]], then each with the label "the partner protocol"."""
    links = wikilinks(matrix.readers[role].get("/notes/mx-pub-horn").get_data(as_text=True))
    assert len(links) == 4
    for target, link, missing in zip(("mx-rst-north", "mx-rst-sahel"), links[::2], links[1::2]):
        assert missing in ('<a class="wikilink missing">unavailable note</a>',
                           '<a class="wikilink missing">the partner protocol</a>')  # no name, no href
        if role in NOTES[target].readers:
            assert link.startswith(f'<a class="wikilink" href="/notes/{target}">')
            if target == "mx-rst-north":  # no label written: the title shows
                assert NOTES[target].secret in link.casefold()
        else:
            assert link == missing  # the very same bytes as a link to no note


@pytest.mark.parametrize("role", ROLES)
def test_translations_only_when_readable(matrix, role):
    html = matrix.readers[role].get("/notes/mx-pub-horn").get_data(as_text=True)
    assert "mx-no-such-arabic" not in html
    listed = 'href="/notes/mx-rst-north" hreflang="fr"' in html
    assert listed is (role in NOTES["mx-rst-north"].readers)
    # the French version is newer: only those who may read it are told this one may be out of date
    assert ("may be out of date" in html) is listed
    if not listed:
        assert 'hreflang="fr"' not in re.sub(r'href="/lang/fr[^"]*"', "", html).replace('lang="fr"', "")


@pytest.mark.parametrize("role", ROLES[1:])
def test_notifications_and_subscriptions_name_readable_notes_only(matrix, role):
    """Told of every note and following every note (as if each had been readable once): the list, the count,
    the subscriptions page and the API name only the notes this reader may read now."""
    from kb.notify.tables import Subscription
    notifier, users = matrix.app.extensions["kb.notify"], matrix.app.extensions["kb.users"]
    account = users.by_username(role)
    with notifier.db.writing() as session:
        for slug in ORDER:
            session.add(Subscription(user_id=account.id, kind="note", value=slug, frequency="daily"))
    for slug in ORDER:
        notifier.notify(role, "matrix", slug, "New note: %(title)s")
    reader = matrix.readers[role]
    listed = reader.get("/notifications").get_data(as_text=True).casefold()
    assert all(NOTES[s].secret in listed for s in readable(role))
    count = re.search(r'class="count-badge"[^>]*>(\d+)<', reader.get("/about").get_data(as_text=True))
    assert count and int(count.group(1)) == len(readable(role))
    following = reader.get("/account/subscriptions").get_data(as_text=True).casefold()
    assert all(NOTES[s].secret in following for s in readable(role))
    for bearer in (False, True):
        api = reader.get("/api/subscriptions", bearer=bearer).get_json()["subscriptions"]
        assert sorted(s["value"] for s in api if s["kind"] == "note") == sorted(readable(role))
    hidden = next((s for s in ORDER if role not in NOTES[s].readers), None)
    if hidden:  # following a hidden note is answered as following a missing one
        post = reader.token_client.post("/api/subscriptions", json={"kind": "note", "value": hidden},
                                        headers={"Authorization": f"Bearer {reader.token}"})
        ghost = reader.token_client.post("/api/subscriptions", json={"kind": "note", "value": GHOST},
                                         headers={"Authorization": f"Bearer {reader.token}"})
        assert (post.status_code, post.get_json()) == (ghost.status_code, ghost.get_json()) and post.status_code == 404
    notifier.mark_read(account)
    with notifier.db.writing() as session:
        session.query(Subscription).filter(Subscription.user_id == account.id).delete()


def test_matrix_notes_cover_every_visibility_status_and_several_regions():
    assert {(n.visibility, n.status) for n in NOTES.values()} >= {
        ("public", "published"), ("internal", "published"), ("restricted", "published"), ("public", "draft"),
        ("public", "review"), ("internal", "draft"), ("restricted", "review")}
    assert {TAX.places[r].parent or r for n in NOTES.values() for r in n.regions} >= {
        "Sahel", "North Africa", "Horn of Africa"}
    assert all(1 <= len(n.readers) for n in NOTES.values()) and len({n.secret for n in NOTES.values()}) == len(NOTES)


# GET routes that show no note: forms and pages about accounts, admins' tools (admins read every note anyway).
NOT_ABOUT_NOTES = {
    "/static/<path:filename>", "/login", "/logout", "/lang/<code>", "/opensearch.xml", "/account",
    "/admin/users", "/admin/users/new", "/admin/users/<username>", "/admin/audit", "/admin/audit.csv", "/notes/new",
    "/api/openapi.json",  # the API description: the same document for every reader
    "/help", "/about", "/follow", "/favicon.ico",  # the same help, about and feed-list pages for every reader
    "/unsubscribe/<token>",  # an e-mail's unsubscribe link: asks to confirm, names no note
    # the glossary (programme vocabulary, no note), its history and edit form (tests/test_glossary_edit.py)
    "/glossary", "/glossary/edit", "/glossary/history", "/glossary/history/<rev>",
}


def test_every_get_route_is_covered(matrix):
    """A new page must join the matrix (one line above) or say here why it shows no note."""
    covered = {"/", "/regions", "/topics", "/regions/<slug>", "/topics/<topic>", "/search", "/api/search",
               "/notes/<slug>", "/notes/<slug>/raw", "/notes/<slug>/history", "/notes/<slug>/revisions/<rev>",
               "/api/notes/<slug>", "/notes/<slug>/edit", "/feeds/all.atom", "/feeds/regions/<slug>.atom",
               "/feeds/topics/<topic>.atom", "/sitemap.xml", "/regions/<slug>/export.zip", "/review",
               "/notes/<slug>/diff", "/notes/<slug>/rename", "/notes/<slug>/delete", "/admin/deleted-notes",
               "/notes/<slug>/redact", "/notes/<slug>/comments", "/notes/<slug>/comments/<int:comment_id>/edit",
               "/api/notes/<slug>/comments", "/admin", "/notifications", "/account/subscriptions", "/api/subscriptions",
               "/notes/<slug>/files/<name>", "/notes/<slug>/thumbs/<name>", "/api/notes/<slug>/attachments",
               "/notes/<slug>/files"}
    routes = {r.rule for r in matrix.app.url_map.iter_rules() if "GET" in r.methods}
    assert routes - covered - NOT_ABOUT_NOTES == set()
    assert (covered | NOT_ABOUT_NOTES) - routes == set()  # nothing listed here that no longer exists
