"""Feeds and discovery: valid Atom of public notes only, the sitemap, OpenSearch, the <head> links and
link-preview tags."""
import datetime as dt
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kb import access
from kb.model import parse_note
from kb.taxonomy import Taxonomy

from .conftest import SHIPPED

A = "{http://www.w3.org/2005/Atom}"
TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")
NOTES = {p.stem: parse_note(p.stem, p.read_text(encoding="utf-8"), TAX) for p in sorted(SHIPPED.glob("*.md"))}
PUBLIC = {s for s, n in NOTES.items() if access.can_read(None, n.meta, TAX)}
HIDDEN = set(NOTES) - PUBLIC
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")


def public_in(place=None, topic=None) -> set[str]:
    return {s for s in PUBLIC
            if (place is None or place in TAX.places_of(NOTES[s].meta.regions))
            and (topic is None or topic in NOTES[s].meta.topics)}


def write_notes(app, notes: dict[str, str]) -> None:
    """Put notes on disk, commit and index them (below the edit workflow, which other tests cover)."""
    wiki = app.extensions["kb.wiki"]
    for slug, text in notes.items():
        (Path(app.config["KB_CONTENT_DIR"]) / f"{slug}.md").write_text(text, encoding="utf-8")
    wiki.history.commit([f"{slug}.md" for slug in notes], "test notes", "moussa")
    wiki.indexer.refresh(list(notes))
    wiki.index.flush()


def write_note(app, slug: str, text: str) -> None:
    write_notes(app, {slug: text})


def parse_feed(resp) -> ET.Element:
    assert resp.status_code == 200
    assert resp.mimetype == "application/atom+xml"
    root = ET.fromstring(resp.data)
    assert root.tag == A + "feed"
    return root


def entry_slugs(root: ET.Element) -> list[str]:
    return [e.find(A + "id").text.rsplit("/notes/", 1)[1] for e in root.findall(A + "entry")]


FEEDS = [("/feeds/all.atom", public_in()), ("/feeds/regions/sahel.atom", public_in("Sahel")),
         ("/feeds/regions/iraq.atom", public_in("Iraq")),
         ("/feeds/topics/legal-identity.atom", public_in(topic="legal-identity"))]


@pytest.mark.parametrize("reader", [None, "admin"])
@pytest.mark.parametrize("path,expected", FEEDS)
def test_feeds_are_valid_atom_of_public_published_notes_only(client, as_user, reader, path, expected):
    if reader:
        as_user(reader)  # signed in, even as admin, the feed is the public's
    root = parse_feed(client.get(path))
    for name in ("id", "title", "updated"):
        assert (root.find(A + name).text or "").strip(), name
    assert RFC3339.match(root.find(A + "updated").text)
    links = {link.get("rel"): link.get("href") for link in root.findall(A + "link")}
    assert links["self"].endswith(path) and links["alternate"].startswith("http")
    assert root.find(f"{A}author/{A}name").text == "kb"
    slugs = entry_slugs(root)
    assert set(slugs) == expected and len(slugs) == len(set(slugs)) and slugs
    assert not set(slugs) & HIDDEN
    updated = [e.find(A + "updated").text for e in root.findall(A + "entry")]
    assert updated == sorted(updated, reverse=True)  # newest first
    for entry in root.findall(A + "entry"):
        slug = entry.find(A + "id").text.rsplit("/notes/", 1)[1]
        note = NOTES[slug]
        assert entry.find(A + "title").text == note.meta.title
        assert RFC3339.match(entry.find(A + "updated").text)
        alt = entry.find(A + "link")
        assert alt.get("rel") == "alternate" and alt.get("href").endswith(f"/notes/{slug}")
        assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == note.meta.language
        assert entry.find(A + "summary").text == note.meta.summary
        content = entry.find(A + "content")
        assert content.get("type") == "html"
        body = content.text  # the HTML itself, once the XML escaping is undone
        assert body.startswith(f'<div lang="{note.meta.language}"') and "<script" not in body
        assert not re.search(r'(?:href|src)="/', body)  # links are absolute in a feed reader
        for hidden in HIDDEN:  # links to notes the public may not read are marked missing
            assert f'class="wikilink" href="http://localhost/notes/{hidden}"' not in body


def test_feed_entries_carry_the_rendered_body_and_arabic_direction(client):
    entries = parse_feed(client.get("/feeds/regions/iraq.atom")).findall(A + "entry")
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    arabic = [e.find(A + "content").text for e in entries if e.get(lang) == "ar"]
    assert arabic and all(c.startswith('<div lang="ar" dir="rtl">') and "<h2" in c for c in arabic)


def test_feeds_are_capped_at_fifty(app, client):
    write_notes(app, {f"feed-cap-{i:02d}": f"---\ntitle: Cap {i}\nlanguage: en\nregions: [Niger]\n"
                                           f"updated: 2030-01-{1 + i % 28:02d}\n---\nBody {i}.\n" for i in range(55)})
    root = parse_feed(client.get("/feeds/regions/niger.atom"))
    assert len(root.findall(A + "entry")) == 50


def test_hostile_title_and_summary_are_escaped_and_still_valid_xml(app, client):
    title = 'Tom & Jerry <script>alert(1)</script> "quoted" \'single\' ]]> end'
    summary = "a < b && c > d \x0b vertical tab"  # \x0b is not allowed in XML 1.0, even escaped
    write_note(app, "hostile-feed-note", f"---\ntitle: {json.dumps(title)}\nlanguage: en\nregions: [Niger]\n"
               f"summary: {json.dumps(summary)}\nupdated: 2031-01-01\n---\n"
               "Text with **bold** and <script>x()</script> and [a link](javascript:alert(1)).\n")
    for path in ("/feeds/all.atom", "/feeds/regions/niger.atom"):
        resp = client.get(path)
        first = parse_feed(resp).findall(A + "entry")[0]
        assert first.find(A + "title").text == title
        assert first.find(A + "summary").text == "a < b && c > d  vertical tab"
        content = first.find(A + "content").text
        assert "<strong>bold</strong>" in content and "<script" not in content and "javascript:" not in content
        assert b"<script>" not in resp.data


@pytest.mark.parametrize("path", ["/feeds/regions/atlantis.atom", "/feeds/topics/nope.atom",
                                  "/feeds/regions/..%2fetc.atom"])
def test_unknown_feeds_are_404(client, path):
    assert client.get(path).status_code == 404


def test_sitemap_lists_public_notes_and_browse_pages_only(client, as_user):
    as_user("admin")
    resp = client.get("/sitemap.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    root = ET.fromstring(resp.data)
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert root.tag == ns + "urlset"
    locs = [u.find(ns + "loc").text for u in root.findall(ns + "url")]
    assert len(locs) == len(set(locs))
    notes = {loc.rsplit("/notes/", 1)[1] for loc in locs if "/notes/" in loc}
    assert notes == PUBLIC
    for region in TAX.regions():
        assert f"http://localhost/regions/{region.slug}" in locs
    assert "http://localhost/topics/legal-identity" in locs and "http://localhost/" in locs
    for url in root.findall(ns + "url"):
        lastmod = url.find(ns + "lastmod")
        if "/notes/" in url.find(ns + "loc").text:
            dt.date.fromisoformat(lastmod.text)


def test_opensearch_description(client):
    resp = client.get("/opensearch.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(resp.data)
    ns = "{http://a9.com/-/spec/opensearch/1.1/}"
    assert root.tag == ns + "OpenSearchDescription"
    assert root.find(ns + "ShortName").text == "kb" and len(root.find(ns + "ShortName").text) <= 16
    assert root.find(ns + "Description").text
    html_url = next(u for u in root.findall(ns + "Url") if u.get("type") == "text/html")
    assert html_url.get("template") == "http://localhost/search?q={searchTerms}"
    assert client.get(html_url.get("template").replace("{searchTerms}", "protection")).status_code == 200


@pytest.mark.parametrize("path,feeds", [
    ("/", ["/feeds/all.atom"]),
    ("/regions/sahel", ["/feeds/all.atom", "/feeds/regions/sahel.atom"]),
    ("/regions/niger", ["/feeds/all.atom", "/feeds/regions/niger.atom"]),
    ("/topics/legal-identity", ["/feeds/all.atom", "/feeds/topics/legal-identity.atom"]),
])
def test_pages_announce_their_feeds_and_opensearch(client, path, feeds):
    page = client.get(path).get_data(as_text=True)
    head = page.split("</head>")[0]
    found = re.findall(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="([^"]+)">', head)
    assert found == feeds
    assert '<link rel="search" type="application/opensearchdescription+xml" title="kb" href="/opensearch.xml">' in head
    for feed in found:
        parse_feed(client.get(feed))


def test_note_page_has_link_preview_tags(client):
    arabic = next(s for s in sorted(PUBLIC) if NOTES[s].meta.language == "ar")
    page = client.get(f"/notes/{arabic}").get_data(as_text=True)
    head = html.unescape(page.split("</head>")[0])
    meta = NOTES[arabic].meta
    assert f'<meta property="og:title" content="{meta.title}">' in head
    assert f'<meta property="og:description" content="{meta.summary}">' in head
    assert f'<meta property="og:url" content="http://localhost/notes/{arabic}">' in head
    assert '<meta property="og:locale" content="ar_AR">' in head
    assert '<meta name="twitter:card" content="summary">' in head
    assert f'<link rel="canonical" href="http://localhost/notes/{arabic}">' in head
