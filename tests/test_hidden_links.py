"""Links name hidden notes no more: a public note that links to a restricted note shows no trace of that
note's name or title to a reader who may not open it, on any page, feed, search answer, source or pack; its
links look exactly like links to a note that does not exist. Those who may read the target see the link
with its title; those who may edit the public note get its exact source."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace

import pytest

from kb import create_app
from kb.wiki.indexing import build_doc
from kb.model import NoteMeta
from kb.search import SearchQuery

from .conftest import csrf_token, login, site_config
from .test_review_fixes import Reader

HIDDEN = "qorvane-shelter-protocol"  # the restricted note: its slug words and title words must never show
HIDDEN_TITLE = "Velmorah safe houses near the border"
TRACES = ("qorvane", "velmorah")
PUBLIC = "market-outreach-niger"
TWIN = "market-outreach-niger-twin"  # the same body, but its links lead to a note that does not exist
GHOST = "zz-no-such-partner-note"
BODY = ("## Outreach\n\nBrindlewick stalls host the weekly outreach; see [[{t}]] and [[{t}|the partner protocol]].\n\n"
        "The [referral steps](/notes/{t}) and [the same, relative](../notes/{t}#steps) are agreed with partners.\n")


ADMIN = Reader("admin")


@pytest.fixture
def wiki(app):
    wiki = app.extensions["kb.wiki"]
    wiki.save(ADMIN, HIDDEN, NoteMeta(title=HIDDEN_TITLE, language="en", regions=["Morocco"],
                                      topics=["community-planning"], visibility="restricted", status="published",
                                      summary="Where the shelters are."), "Addresses of the safe houses.", None,
              create=True)
    public = NoteMeta(title="Outreach in Niger markets", language="en", regions=["Niger"],
                      topics=["community-planning"], visibility="public", status="published",
                      summary="Weekly outreach at market stalls.")
    wiki.save(ADMIN, PUBLIC, public, BODY.format(t=HIDDEN), None, create=True)
    wiki.save(ADMIN, PUBLIC, public, BODY.format(t=HIDDEN) + "\nA second revision.\n", wiki.revision_of(PUBLIC))
    wiki.save(ADMIN, TWIN, public, BODY.format(t=GHOST) + "\nA second revision.\n", None, create=True)
    return wiki


def reader(app, username: str | None):
    client = app.test_client()
    if username:
        assert login(client, username).status_code == 302
    return client


def assert_no_trace(text: str, where: str) -> None:
    folded = text.casefold()
    for word in TRACES:
        assert word not in folded, f"{word!r} shows at {where}"


def body_of(html: str) -> str:
    return re.search(r'<div class="body">(.*?)</div>\s*</article>', html, re.S).group(1)


@pytest.mark.parametrize("username", [None, "pat"])
def test_a_reader_who_may_not_open_the_target_sees_no_trace_of_it_anywhere(app, wiki, username):
    client = reader(app, username)
    rev = wiki.revision_of(PUBLIC)
    pages = [f"/notes/{PUBLIC}", f"/notes/{PUBLIC}/raw", f"/api/notes/{PUBLIC}", f"/notes/{PUBLIC}/history",
             f"/notes/{PUBLIC}/revisions/{rev}", f"/notes/{PUBLIC}/diff", "/search?q=brindlewick",
             "/api/search?q=brindlewick", "/search?q=outreach+markets", "/feeds/all.atom", "/feeds/regions/niger.atom",
             "/feeds/topics/community-planning.atom", "/sitemap.xml", "/", "/regions/sahel"]
    for url in pages:
        resp = client.get(url)
        # earlier versions' texts are for signed-in readers: the public gets a page without them
        signed_in_only = username is None and ("/revisions/" in url or url.endswith("/diff"))
        assert resp.status_code == (403 if signed_in_only else 200), url
        assert_no_trace(resp.get_data(as_text=True), url)
    hits = client.get("/api/search?q=brindlewick").get_json()["hits"]
    assert PUBLIC in [h["slug"] for h in hits]  # the public note is found, and its snippet is clean
    assert "brindlewick" in client.get("/search?q=brindlewick").get_data(as_text=True).casefold()
    for word in ("qorvane", "velmorah"):  # a word of the linked note's name or title finds nothing here
        assert client.get("/api/search", query_string={"q": word}).get_json()["hits"] == []
        page = client.get("/search", query_string={"q": word}).get_data(as_text=True)
        assert f'href="/notes/{PUBLIC}"' not in page and page.casefold().count(word) == page.count(word)
    for url in ("/regions/sahel/export.zip", "/regions/niger/export.zip?topic=community-planning"):
        with client.get(url) as resp, zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
            assert f"notes/{PUBLIC}.html" in " ".join(zf.namelist())
            for name in zf.namelist():
                assert_no_trace(name + zf.read(name).decode("utf-8", "replace"), f"{url}:{name}")
    assert client.get(f"/notes/{HIDDEN}").status_code == 404


def test_links_to_a_hidden_note_are_byte_identical_to_links_to_no_note(app, wiki):
    for username in (None, "pat"):
        client = reader(app, username)
        hidden = body_of(client.get(f"/notes/{PUBLIC}").get_data(as_text=True))
        assert hidden == body_of(client.get(f"/notes/{TWIN}").get_data(as_text=True))
        assert hidden.count('<a class="wikilink missing">') == 4 and "href=\"/notes/" not in hidden
        assert '<a class="wikilink missing">unavailable note</a>' in hidden  # no label: a neutral text
        assert '<a class="wikilink missing">the partner protocol</a>' in hidden  # the writer's label stays
        assert '<a class="wikilink missing">referral steps</a>' in hidden  # a Markdown link keeps its text
        api = client.get(f"/api/notes/{PUBLIC}").get_json()
        twin = client.get(f"/api/notes/{TWIN}").get_json()
        assert api["html"] == twin["html"]
        assert "[[\u2026]]" in api["body"] and "[[\u2026|the partner protocol]]" in api["body"]
        assert "[referral steps](\u2026)" in api["body"] and "[the same, relative](\u2026)" in api["body"]
    client = reader(app, "pat")
    token = csrf_token(client, "/notes/new")
    previews = [client.post("/editor/preview", data={"body": f"[[{slug}]] [[{slug}|x]] [y](/notes/{slug})",
                                                     "language": "fr", "csrf_token": token})
                for slug in (HIDDEN, GHOST)]
    assert previews[0].status_code == 200 and previews[0].data == previews[1].data  # no probing by preview
    assert "note indisponible" in previews[0].get_data(as_text=True)  # in the note's language


def test_a_french_note_says_unavailable_in_french(app, wiki):
    meta = NoteMeta(title="Sensibilisation", language="fr", regions=["Niger"], topics=["community-planning"],
                    visibility="public", status="published")
    wiki.save(ADMIN, "sensibilisation-marches", meta, f"Voir [[{HIDDEN}]].", None, create=True)
    html = reader(app, None).get("/notes/sensibilisation-marches").get_data(as_text=True)
    assert '<a class="wikilink missing">note indisponible</a>' in html and "qorvane" not in html


def test_those_who_may_read_the_target_see_its_title_and_writers_get_the_exact_source(app, wiki):
    admin = reader(app, "admin")
    html = admin.get(f"/notes/{PUBLIC}").get_data(as_text=True)
    assert f'<a class="wikilink" href="/notes/{HIDDEN}">{HIDDEN_TITLE}</a>' in html
    assert f'<a href="/notes/{HIDDEN}">referral steps</a>' in html
    amina = reader(app, "amina")  # may read the restricted note (her region), may not edit the public one
    assert f'href="/notes/{HIDDEN}">{HIDDEN_TITLE}</a>' in amina.get(f"/notes/{PUBLIC}").get_data(as_text=True)
    assert f"[[{HIDDEN}]]" in amina.get(f"/notes/{PUBLIC}/raw").get_data(as_text=True)
    assert PUBLIC in amina.get(f"/notes/{HIDDEN}").get_data(as_text=True)  # the backlink, for its readers
    moussa = reader(app, "moussa")  # may edit the public note (Sahel), may not read the restricted one
    assert "qorvane" not in moussa.get(f"/notes/{PUBLIC}").get_data(as_text=True)
    source = wiki.store.read_bytes(PUBLIC)
    assert moussa.get(f"/notes/{PUBLIC}/raw").data == source  # a writer needs every link to save the note
    assert moussa.get(f"/api/notes/{PUBLIC}").get_json()["body"] == wiki.get_note(ADMIN, PUBLIC).body
    assert f"[[{HIDDEN}|the partner protocol]]" in moussa.get(f"/notes/{PUBLIC}/edit").get_data(as_text=True)


def test_search_never_matches_a_note_on_the_names_it_links_to(app, wiki):
    for username in (None, "pat", "admin"):
        hits = reader(app, username).get("/api/search?q=qorvane").get_json()["hits"]
        assert PUBLIC not in [h["slug"] for h in hits] and TWIN not in [h["slug"] for h in hits]
    assert [h.slug for h in wiki.index.backlinks(HIDDEN, None)] == [PUBLIC]  # backlinks still known


def test_an_index_built_with_the_old_plain_text_is_rebuilt_at_start(app, wiki, site):
    note = wiki.get_note(ADMIN, PUBLIC)
    doc = build_doc(note, wiki.store.read_bytes(PUBLIC), wiki.taxonomy, wiki.renderer)
    wiki.index.upsert([replace(doc, text=doc.text + " " + HIDDEN)])  # what the old plain text indexed
    assert PUBLIC in [h.slug for h in wiki.search(None, _query("qorvane")).hits]
    live = wiki.index.files.pointer()[0]
    (live / "KB_VERSION").write_text("kb-search-2\n", encoding="ascii")  # an index of the previous version
    wiki.close()
    restarted = create_app(site_config(site))
    try:
        again = restarted.extensions["kb.wiki"]
        assert again.index.files.version(again.index.files.pointer()[0]) != "kb-search-2"
        assert again.search(None, _query("qorvane")).hits == []
        assert PUBLIC in [h.slug for h in again.search(None, _query("brindlewick")).hits]
    finally:
        restarted.extensions["kb.wiki"].close()
        restarted.extensions["kb.users"].dispose()


def _query(text: str) -> SearchQuery:
    return SearchQuery(q=text)


# --- every ordinary way of writing a link to a note ------------------------------------------------------

SECRET = "zqxhidden-alpha"  # a note the reader may not open; "zqxhidden" must show nowhere
LINK_FORMS = [
    "[the steps](https://kb.example.org/notes/{s})",          # copied from the address bar
    "[the steps](https://kb.example.org/notes/{s}/history?x=1#top)",
    "[the steps](http://localhost/notes/{s})",
    "[the steps](HTTP://LOCALHOST:5000/notes/{s})",
    "[the steps](//localhost/notes/{s})",
    "<http://localhost/notes/{s}>",                            # an autolink: the URL is its text
    "See https://kb.example.org/notes/{s} for the steps.",     # a bare URL, plain text
    "See /notes/{s} and /api/notes/{s} for the steps.",
    "![the map](/notes/{s}/raw)",
    "![the map](https://kb.example.org/notes/{s}/raw)",
    '<img src="/notes/{s}/raw" alt="the map">',
    '<a href="https://kb.example.org/notes/{s}" title="https://kb.example.org/notes/{s}">the steps</a>',
    "[the steps](/api/notes/{s})",
    "[the steps](https://kb.example.org/api/notes/{s})",
    "[[{s}|]]",                                                # an empty label: a link without one
    "[the steps][r]\n\n[r]: https://kb.example.org/notes/{s}",
    "# Steps at https://kb.example.org/notes/{s}\n\n## More\n",  # in a heading: its id and the TOC too
]


def _closed(slug):
    return None


def _open(slug):
    return "Shelter steps" if slug == SECRET else None


@pytest.mark.parametrize("form", LINK_FORMS)
def test_no_link_form_shows_the_name_of_a_note_the_reader_may_not_open(form):
    from kb.render import Renderer
    body = "Intro.\n\n" + form.format(s=SECRET) + "\n"
    renderer = Renderer(cache_size=0)
    rendered = renderer.render(body, _closed)
    assert "zqxhidden" not in rendered.html + rendered.toc
    assert "zqxhidden" not in renderer.plain_text(body)  # the index is shared by all readers
    assert "zqxhidden" not in renderer.mask_links(body, lambda slug: slug != SECRET)
    ghost = Renderer(cache_size=0).render(body.replace(SECRET, GHOST), _closed)
    assert rendered.html.replace("\u2026", "") == ghost.html.replace("\u2026", "")  # like a link to no note
    readable = renderer.render(body, _open)
    if "](" in form or "href" in form or "src" in form or "[[" in form or "]:" in form:
        assert SECRET in readable.html  # those who may open it keep the link


def test_a_site_served_under_a_path_masks_its_full_urls_too():
    from kb.render import Renderer
    body = f"[a](https://example.org/kb/notes/{SECRET}) and https://example.org/kb/api/notes/{SECRET}\n"
    renderer = Renderer(base_url="https://example.org/kb")
    html = renderer.render(body, _closed).html
    assert "zqxhidden" not in html + renderer.plain_text(body) and '<a class="wikilink missing">a</a>' in html
    assert SECRET in renderer.render(body, _open).html


def test_links_elsewhere_stay_links():
    from kb.render import Renderer
    body = f"[a](https://example.org/guides/notes/{SECRET}) [b](https://example.org/static/x) ![c](/static/c.png)"
    html = Renderer().render(body, _closed).html
    assert 'href="https://example.org/guides/notes/' in html and 'href="https://example.org/static/x"' in html
    assert 'src="/static/c.png"' in html


@pytest.fixture
def secret_links(wiki):
    wiki.save(ADMIN, SECRET, NoteMeta(title="Crossing points", language="en", regions=["Morocco"],
                                      topics=["community-planning"], visibility="restricted", status="published",
                                      summary="Where to cross."), "Routes.", None, create=True)
    body = "Fenwoldery outreach.\n\n" + "\n\n".join(f.format(s=SECRET) for f in LINK_FORMS) + "\n"
    meta = NoteMeta(title="Fenwoldery outreach", language="en", regions=["Niger"], topics=["community-planning"],
                    visibility="public", status="published", summary="Outreach at Fenwoldery.")
    wiki.save(ADMIN, "fenwoldery-outreach", meta, body, None, create=True)
    return wiki


@pytest.mark.parametrize("username", [None, "pat"])
def test_full_urls_images_and_api_links_to_a_hidden_note_show_nowhere(app, secret_links, username):
    client = reader(app, username)
    for url in ("/notes/fenwoldery-outreach", "/notes/fenwoldery-outreach/raw", "/api/notes/fenwoldery-outreach",
                "/api/search?q=fenwoldery", "/search?q=fenwoldery", "/feeds/all.atom", "/feeds/regions/niger.atom"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "zqxhidden" not in resp.get_data(as_text=True).casefold(), url
    hits = client.get("/api/search?q=fenwoldery").get_json()["hits"]
    assert "fenwoldery-outreach" in [h["slug"] for h in hits]
    assert client.get("/api/search?q=zqxhidden").get_json()["hits"] == []
    with client.get("/regions/niger/export.zip") as resp, zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        names = " ".join(zf.namelist())
        assert "notes/fenwoldery-outreach.html" in names and "search-index.js" in names
        for name in zf.namelist():
            assert "zqxhidden" not in zf.read(name).decode("utf-8", "replace").casefold(), name
    admin = reader(app, "admin").get("/notes/fenwoldery-outreach").get_data(as_text=True)
    assert f'href="https://kb.example.org/notes/{SECRET}"' in admin and f'src="/notes/{SECRET}/raw"' in admin
