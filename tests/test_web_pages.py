"""Every page through the real app: status, content, and the friendly errors."""
import re
from pathlib import Path

import pytest

from kb.model import parse_note
from kb.taxonomy import Taxonomy

from .conftest import SHIPPED, git

TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")
NOTES = {p.stem: parse_note(p.stem, p.read_text(encoding="utf-8"), TAX) for p in sorted(SHIPPED.glob("*.md"))}


def pick(**want):
    for slug, note in NOTES.items():
        if all(getattr(note.meta, k) == v for k, v in want.items()):
            return note
    raise LookupError(want)


PUBLIC = pick(visibility="public", status="published", language="en")
INTERNAL = pick(visibility="internal", status="published")
ARABIC = pick(language="ar", visibility="public", status="published")


def test_shipped_sample_is_a_real_knowledge_base():
    langs = [n.meta.language for n in NOTES.values()]
    assert len(NOTES) >= 24 and all(langs.count(lang) >= 5 for lang in ("en", "fr", "ar"))
    assert set(TAX.topics) <= {t for n in NOTES.values() for t in n.meta.topics}
    assert len(TAX.countries_of([r for n in NOTES.values() for r in n.meta.regions])) >= 10
    assert {"internal", "restricted"} <= {n.meta.visibility for n in NOTES.values()}
    pairs = [(s, n.meta.translations) for s, n in NOTES.items() if n.meta.translations]
    assert any("fr" in t for _, t in pairs) and any("en" in t for _, t in pairs)


def test_home_lists_latest_public_notes_regions_and_topics(client):
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert PUBLIC.meta.title in html or any(n.meta.title in html for n in NOTES.values())
    assert INTERNAL.meta.title not in html
    for region in TAX.regions():
        assert f'href="/regions/{region.slug}"' in html
    assert 'href="/topics/legal-identity"' in html
    assert 'role="search"' in html


def test_note_page_shows_body_metadata_and_links(client):
    resp = client.get(f"/notes/{PUBLIC.slug}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f"<h1>{PUBLIC.meta.title}</h1>" in html.replace("&#39;", "'")
    for region in PUBLIC.meta.regions:
        assert f'href="/regions/{TAX.places[region].slug}"' in html
    for topic in PUBLIC.meta.topics:
        assert f'href="/topics/{topic}"' in html
    assert 'lang="en" dir="ltr"' in html
    assert re.findall(r"<script[^>]*>", html) == [f'<script src="{src}" defer>' for src in
                                                  re.findall(r'<script src="(/static/share\.js[^"]*)"', html)] != []


def test_arabic_note_reads_right_to_left(client):
    html = client.get(f"/notes/{ARABIC.slug}").get_data(as_text=True)
    assert 'class="note" lang="ar" dir="rtl"' in html


def test_note_provenance_is_shown(app, client):
    content = Path(app.config["KB_CONTENT_DIR"])
    (content / "with-source.md").write_text(
        "---\ntitle: Sourced\nlanguage: en\nsource: 'IFRCGo/ecv-toolkit:app/x.md'\nlicense: CC-BY-SA-4.0\n"
        "attribution: IFRC\n---\nBody.\n", encoding="utf-8")
    app.extensions["kb.wiki"].check_index(repair=True)
    html = client.get("/notes/with-source").get_data(as_text=True)
    assert "IFRCGo/ecv-toolkit:app/x.md" in html and "CC-BY-SA-4.0" in html and "IFRC" in html


@pytest.mark.parametrize("path", ["/notes/does-not-exist", "/notes/UPPER", "/notes/a..b", "/notes/%2e%2e",
                                  "/notes/" + "x" * 200, "/regions/atlantis", "/topics/cooking", "/nope",
                                  "/notes/does-not-exist/history", "/notes/does-not-exist/raw"])
def test_missing_pages_are_friendly_404s(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert "Page not found" in html and "Traceback" not in html


def test_raw_history_and_revision(client, app, as_user):
    raw = client.get(f"/notes/{PUBLIC.slug}/raw")
    assert raw.status_code == 200 and raw.mimetype == "text/markdown"
    assert raw.get_data(as_text=True).startswith("---\n")
    hist = client.get(f"/notes/{PUBLIC.slug}/history").get_data(as_text=True)
    rev = git(Path(app.config["KB_CONTENT_DIR"]), "log", "-1", "--format=%H").strip()
    assert rev[:10] in hist
    assert client.get(f"/notes/{PUBLIC.slug}/revisions/{rev}").status_code == 403  # for signed-in readers
    as_user("pat")
    page = client.get(f"/notes/{PUBLIC.slug}/revisions/{rev}")
    assert page.status_code == 200 and PUBLIC.meta.title in page.get_data(as_text=True).replace("&#39;", "'")
    assert client.get(f"/notes/{PUBLIC.slug}/revisions/{'0' * 40}").status_code == 404
    assert client.get(f"/notes/{PUBLIC.slug}/revisions/HEAD~1").status_code == 404


def test_regions_and_countries_pages(client):
    html = client.get("/regions").get_data(as_text=True)
    for place in TAX.places.values():
        assert f'href="/regions/{place.slug}"' in html
    region = TAX.places[PUBLIC.meta.regions[0]]
    for slug in {region.slug, TAX.places[region.parent].slug if region.parent else region.slug}:
        page = client.get(f"/regions/{slug}")
        assert page.status_code == 200
        assert PUBLIC.meta.title in page.get_data(as_text=True).replace("&#39;", "'")
    assert client.get("/regions/horn-of-africa").status_code == 200


def test_topic_pages(client):
    topic = PUBLIC.meta.topics[0]
    page = client.get(f"/topics/{topic}")
    assert page.status_code == 200 and PUBLIC.meta.title in page.get_data(as_text=True).replace("&#39;", "'")
    assert client.get("/topics").status_code == 200


def test_search_page_finds_a_note_by_title_words(client):
    words = PUBLIC.meta.title.split()[:3]
    html = client.get("/search", query_string={"q": " ".join(words)}).get_data(as_text=True)
    assert f'href="/notes/{PUBLIC.slug}"' in html


@pytest.mark.parametrize("q", ["", "*", "[a TO z]", "((((", '"unbalanced', "x" * 10000, "\x00\x01", "OR"],
                         ids=["empty", "star", "range", "parens", "quote", "long", "control", "or"])
def test_odd_queries_get_a_page_not_an_error(client, q):
    assert client.get("/search", query_string={"q": q}).status_code == 200


def test_internal_notes_are_hidden_from_the_public(client, as_user):
    assert client.get(f"/notes/{INTERNAL.slug}").status_code == 404
    as_user("pat")
    assert client.get(f"/notes/{INTERNAL.slug}").status_code == 200


def test_security_headers_on_every_response(client):
    for path in ("/", f"/notes/{PUBLIC.slug}", "/nope", "/api/search?q=x"):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"]


def test_no_inline_script_or_style_in_pages(client):
    for path in ("/", f"/notes/{PUBLIC.slug}", "/search?q=protection", "/regions", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'<script(?! src="/static/)', html) and "<style" not in html and " style=" not in html


def test_translation_switcher_and_out_of_date_notice(app, client):
    en, fr = "unaccompanied-children-best-interests-agadez", "enfants-non-accompagnes-interet-superieur-agadez-fr"
    html = client.get(f"/notes/{en}").get_data(as_text=True)
    assert f'href="/notes/{fr}" hreflang="fr"' in html
    assert "may be out of date" not in client.get(f"/notes/{fr}").get_data(as_text=True)
    path = Path(app.config["KB_CONTENT_DIR"]) / f"{en}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("updated: ", "updated: 2026-11-20\nold_updated: ", 1), encoding="utf-8")
    app.extensions["kb.wiki"].check_index(repair=True)
    notice = client.get(f"/notes/{fr}").get_data(as_text=True)
    assert "may be out of date" in notice
    assert "may be out of date" not in client.get(f"/notes/{en}").get_data(as_text=True)


def test_home_answers_what_is_new_in_my_region(client, as_user):
    html = client.get("/").get_data(as_text=True)
    assert '<select id="new-in" name="region">' in html and "New in your regions" not in html
    sahel_latest = client.get("/search", query_string={"region": "Niger", "sort": "newest"}).get_data(as_text=True)
    assert "unaccompanied-children-best-interests-agadez" in sahel_latest
    as_user("moussa")  # focal point of the Sahel
    mine = client.get("/").get_data(as_text=True).split('id="mine"')[1].split("</ol>")[0]
    sahel = {"Sahel", *TAX.places["Sahel"].countries}
    shown = [s for s, n in NOTES.items() if f'href="/notes/{s}"' in mine]
    assert shown and all(sahel & set(NOTES[s].meta.regions) for s in shown)
