"""Light and fast pages: 304s that never cross access contexts, gzip, hashed static URLs, page weights."""
import gzip
import hashlib
import re

import pytest

from kb import access

from .conftest import ROOT
from .test_feeds import NOTES, PUBLIC, TAX, write_note

BUDGET = 60 * 1024
SLUG = "reintegration-counselling-returnees-mali"  # public; links to a note that links back
INTERNAL = next(s for s, n in sorted(NOTES.items()) if n.meta.visibility == "internal" and n.meta.status == "published")
LINKS_HERE = "unaccompanied-children-best-interests-agadez"  # a public note that links to SLUG


def source(slug: str) -> str:
    return (ROOT / "content" / f"{slug}.md").read_text(encoding="utf-8")


def test_note_page_304_on_repeated_request(client):
    first = client.get(f"/notes/{SLUG}")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('W/"') and first.headers["Last-Modified"]
    assert "no-cache" in first.headers["Cache-Control"]
    assert {"Cookie", "Accept-Language"} <= set(first.headers["Vary"].replace(" ", "").split(","))
    again = client.get(f"/notes/{SLUG}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Content-Security-Policy"]  # the security headers are on 304s too
    since = client.get(f"/notes/{SLUG}", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_not_304_when_the_note_changed(app, client):
    etag = client.get(f"/notes/{SLUG}").headers["ETag"]
    write_note(app, SLUG, source(SLUG).replace("## ", "## Changed ", 1))
    resp = client.get(f"/notes/{SLUG}", headers={"If-None-Match": etag})
    assert resp.status_code == 200 and "Changed" in resp.get_data(as_text=True)
    assert resp.headers["ETag"] != etag


def test_not_304_when_a_note_that_links_here_changed(app, client):
    etag = client.get(f"/notes/{SLUG}").headers["ETag"]
    write_note(app, LINKS_HERE, source(LINKS_HERE).replace("title: ", "title: Renamed ", 1))
    resp = client.get(f"/notes/{SLUG}", headers={"If-None-Match": etag})
    assert resp.status_code == 200 and "Renamed " in resp.get_data(as_text=True)  # the backlinks list


@pytest.mark.parametrize("reader", ["admin", "pat", "moussa"])
def test_not_304_when_the_reader_changed(client, as_user, reader):
    etag = client.get(f"/notes/{SLUG}").headers["ETag"]
    as_user(reader)
    resp = client.get(f"/notes/{SLUG}", headers={"If-None-Match": etag})
    assert resp.status_code == 200
    assert "private" in resp.headers["Cache-Control"]
    mine = resp.headers["ETag"]
    assert mine != etag
    assert client.get(f"/notes/{SLUG}", headers={"If-None-Match": mine}).status_code == 304
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                         resp.get_data(as_text=True)).group(1)})
    assert client.get(f"/notes/{SLUG}", headers={"If-None-Match": mine}).status_code == 200


def test_not_304_when_the_interface_language_changed(client):
    etag = client.get(f"/notes/{SLUG}").headers["ETag"]
    resp = client.get(f"/notes/{SLUG}", headers={"If-None-Match": etag, "Accept-Language": "fr"})
    assert resp.status_code == 200 and resp.headers["ETag"] != etag


def test_a_note_the_reader_may_not_read_is_404_whatever_the_validators(client):
    for headers in ({"If-None-Match": "*"}, {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}):
        resp = client.get(f"/notes/{INTERNAL}", headers=headers)
        assert resp.status_code == 404 and "ETag" not in resp.headers


def test_feed_304_and_not_after_a_public_change(app, client):
    first = client.get("/feeds/regions/sahel.atom")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"] and etag.startswith('W/"')
    assert client.get("/feeds/regions/sahel.atom", headers={"If-None-Match": etag}).status_code == 304
    write_note(app, SLUG, source(SLUG).replace("## ", "## Changed ", 1))
    assert client.get("/feeds/regions/sahel.atom", headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.parametrize("path", ["/", f"/notes/{SLUG}", "/search?q=protection", "/regions/sahel",
                                  "/feeds/all.atom", "/sitemap.xml", "static"])
def test_gzip_decodes_to_the_same_body(client, path):
    if path == "static":
        page = client.get("/").get_data(as_text=True)
        path = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    with client.get(path) as plain, \
            client.get(path, headers={"Accept-Encoding": "br;q=1.0, gzip;q=0.8, *;q=0.1"}) as packed:
        check_same_body(plain, packed)


def check_same_body(plain, packed):
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data)
    assert int(packed.headers["Content-Length"]) == len(packed.data)


def test_no_gzip_when_refused_or_small(client):
    refused = client.get("/", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    small = client.get("/opensearch.xml", headers={"Accept-Encoding": "gzip"})
    assert len(small.data) <= 1024 and "Content-Encoding" not in small.headers
    with client.get("/regions/sahel/export.zip", headers={"Accept-Encoding": "gzip"}) as archive:
        assert archive.status_code == 200 and "Content-Encoding" not in archive.headers


def test_static_urls_are_hashed_and_immutable(client):
    page = client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/static/kb\.css\?v=([0-9a-f]+))"', page)
    assert href, "the stylesheet URL names its content"
    digest = hashlib.sha1((ROOT / "kb" / "static" / "kb.css").read_bytes()).hexdigest()
    assert digest.startswith(href.group(2))
    with client.get(href.group(1)) as resp:
        cc = resp.headers["Cache-Control"]
        assert resp.status_code == 200 and "immutable" in cc and "max-age=31536000" in cc and "public" in cc
    with client.get("/static/kb.css?v=0000000000") as stale:
        assert stale.status_code == 200 and "immutable" not in stale.headers.get("Cache-Control", "")


def test_print_stylesheet_hides_navigation():
    css = (ROOT / "kb" / "static" / "kb.css").read_text(encoding="utf-8")
    block = re.search(r"@media print\{(.*)\}\s*$", css, re.S).group(1)
    hidden = re.search(r"([^{}]+)\{display:none\}", block).group(1).split(",")
    assert {".top", ".foot", ".tools", "aside", ".skip", ".pack"} <= {h.strip() for h in hidden}


def _weight(client, path: str) -> tuple[int, int]:
    """Bytes of the page and of the stylesheets and scripts it links, uncompressed."""
    resp = client.get(path)
    assert resp.status_code == 200, path
    page = resp.get_data(as_text=True)
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page) + re.findall(r'<script src="([^"]+)"', page)
    total = len(resp.data)
    for url in assets:
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            total += len(asset.data)
    return len(resp.data), total


def _typical_note() -> str:
    public = sorted((len(NOTES[s].body), s) for s in PUBLIC)
    return public[len(public) // 2][1]


@pytest.mark.parametrize("path", ["/", "note", "/search?q=protection", "/search?q=", "/regions/sahel",
                                  "/regions/niger", "/topics/legal-identity"])
def test_page_weights_under_budget(client, path):
    path = f"/notes/{_typical_note()}" if path == "note" else path
    page, total = _weight(client, path)
    assert total < BUDGET, f"{path}: {total} bytes (page {page})"


def test_every_public_note_page_is_under_budget(client, as_user):
    as_user("admin")  # the heaviest reader: badges, every backlink and related note
    for slug in sorted(NOTES):
        assert _weight(client, f"/notes/{slug}")[1] < BUDGET, slug
    assert access.can_read(None, NOTES[_typical_note()].meta, TAX)
