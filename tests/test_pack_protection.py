"""Offline packs are public unless asked otherwise (issue 10, "Protection first").

Through the real app: a focal point's default pack holds public, published notes only; the internal pack is
a second, deliberate choice for the signed-in, marked "Not for public sharing" on every page, named
``-internal``, its notes badged, and recorded in the audit log. Anonymous readers cannot get one.
"""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from kb.export import build_pack
from kb.model import meta_from_dict

from .test_export import NOTES, TAX, env, expected, notes_in, run  # noqa: F401  (env: the CLI fixture)

BANNER = {"en": "Not for public sharing", "fr": "Ne pas diffuser publiquement", "ar": "ليس للمشاركة العامة"}
BADGE = {"internal": "Internal", "restricted": "Restricted", "draft": "Draft", "review": "In review"}
REVIEW = "niger-border-referral-checklist"  # a note in review, added by each test that needs one


def not_public(slugs) -> set[str]:
    return {s for s in slugs if (NOTES[s].meta.visibility, NOTES[s].meta.status) != ("public", "published")}


def add_review_note(app) -> None:
    """Sahel ships no note in review: moussa puts one up for review in Niger, through the wiki service."""
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    meta = meta_from_dict({"title": "Niger border referral checklist", "language": "en", "regions": ["Niger"],
                           "topics": ["child-protection"], "visibility": "public", "status": "review",
                           "summary": "A checklist waiting for review."}, TAX)
    wiki.save(users.by_username("moussa"), REVIEW, meta, "Steps for referring children met at the border.\n",
              None, create=True)


def download(client, url: str) -> tuple[str, zipfile.ZipFile]:
    with client.get(url) as resp:
        assert resp.status_code == 200 and resp.mimetype == "application/zip", resp.status_code
        return resp.headers["Content-Disposition"], zipfile.ZipFile(io.BytesIO(resp.data))


def html_pages(zf: zipfile.ZipFile) -> dict[str, str]:
    return {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".html")}


def badges(page: str) -> list[str]:
    return re.findall(r'<strong class="badge">([^<]+)</strong>', page)


def pack_audits(app) -> list:
    return [e for e in app.extensions["kb.users"].audit_entries() if e.action == "pack_internal"]


def test_a_focal_points_default_pack_holds_public_published_notes_only(app, client, as_user):
    add_review_note(app)
    shipped_hidden = not_public(expected("Sahel", "moussa"))
    assert {"restricted", "internal"} <= {NOTES[s].meta.visibility for s in shipped_hidden}  # what is at stake
    assert "draft" in {NOTES[s].meta.status for s in shipped_hidden}
    as_user("moussa")
    disposition, zf = download(client, "/regions/sahel/export.zip")
    assert disposition.endswith("kb-sahel.zip") and all(n.startswith("kb-sahel/") for n in zf.namelist())
    assert notes_in(zf) == expected("Sahel") and not shipped_hidden & notes_in(zf) and REVIEW not in notes_in(zf)
    pages = html_pages(zf)
    assert not any(BANNER["en"] in page or badges(page) for page in pages.values())
    assert REVIEW not in zf.read("kb-sahel/search-index.js").decode()
    _, niger = download(client, "/regions/niger/export.zip")
    assert notes_in(niger) == expected("Niger") and "protocole-orientation-victimes-traite-mali-fr" not in notes_in(niger)
    assert pack_audits(app) == []  # a public pack is nothing to record


def test_the_internal_pack_is_marked_named_badged_and_recorded(app, client, as_user):
    add_review_note(app)
    as_user("moussa")
    disposition, zf = download(client, "/regions/sahel/export.zip?internal=1")
    assert disposition.endswith("kb-sahel-internal.zip")
    assert all(n.startswith("kb-sahel-internal/") for n in zf.namelist())
    slugs = notes_in(zf)
    assert slugs == expected("Sahel", "moussa") | {REVIEW}
    assert "protocole-orientation-victimes-traite-mali-fr" in slugs  # restricted, Mali and Niger
    pages = html_pages(zf)
    assert len(pages) == len(slugs) + 1
    for name, page in pages.items():  # at the top: before the site's header, and in the tab's title
        body = page.split("<body>", 1)[1]
        assert body.index(BANNER["en"]) < body.index('<header class="top">'), name
        assert re.search(rf"<title>[^<]*{BANNER['en']}</title>", page), name
    assert zf.read("kb-sahel-internal/search-index.js").decode().startswith(f"/* {BANNER['en']} */")
    hidden = not_public(slugs - {REVIEW})
    for slug in slugs:
        meta = NOTES[slug].meta if slug in NOTES else None
        want = [BADGE[k] for k in ((meta.visibility, meta.status) if meta else ("review",)) if k in BADGE]
        assert badges(pages[f"kb-sahel-internal/notes/{slug}.html"]) == want, slug
        assert bool(want) == (slug in hidden or slug == REVIEW)
    assert set(BADGE.values()) <= set(badges(pages["kb-sahel-internal/index.html"]))
    [entry] = pack_audits(app)
    assert (entry.actor, entry.target) == ("moussa", "sahel") and f"{len(slugs)} notes" in entry.detail
    assert "kb-sahel-internal.zip" in entry.detail


def test_the_region_page_offers_the_internal_pack_to_the_signed_in_only(client, as_user):
    page = client.get("/regions/sahel").get_data(as_text=True)
    assert "Download public pack" in page and "internal=1" not in page and "Download internal pack" not in page
    as_user("pat")
    page = client.get("/regions/sahel?lang=fr").get_data(as_text=True)
    assert 'href="/regions/sahel/export.zip?lang=fr"' in page and "Download public pack" in page
    assert re.search(r'<a href="/regions/sahel/export.zip\?lang=fr&amp;internal=1">'
                     r"Download internal pack \(not for public sharing\)</a>", page)


@pytest.mark.parametrize("url", ["/regions/sahel/export.zip?internal=1", "/regions/niger/export.zip?internal=yes"])
def test_anonymous_readers_are_sent_to_sign_in_for_an_internal_pack(app, client, url):
    resp = client.get(url)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"] and resp.mimetype != "application/zip"
    assert pack_audits(app) == []
    assert client.get("/regions/atlantis/export.zip?internal=1").status_code == 404


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_the_banner_speaks_the_packs_interface_language(app, lang):
    out = io.BytesIO()
    build_pack(app.extensions["kb.wiki"], app.extensions["kb.users"].by_username("moussa"), "Sahel", out,
               ui_lang=lang, internal=True)
    pages = html_pages(zipfile.ZipFile(out))
    banner = f'<p class="not-public" role="note"><strong>{BANNER[lang]}</strong>'
    assert pages and all(banner in page and BANNER["en"] not in page for page in pages.values())


def test_cli_include_internal_makes_and_records_an_internal_pack(env):  # noqa: F811
    from kb import config
    from kb.users import UserStore
    assert run("init").exit_code == 0
    assert run("user", "add", "moussa", "--role", "focal_point", "--region", "Sahel",
               input="a-long-password\n").exit_code == 0
    public = env / "sahel.zip"
    result = run("export", "--region", "Sahel", "--user", "moussa", "--out", str(public))
    assert result.exit_code == 0 and "add --include-internal" in result.output
    assert notes_in(zipfile.ZipFile(public)) == expected("Sahel")  # a user alone does not widen the pack
    internal = env / "sahel-internal.zip"
    result = run("export", "--region", "Sahel", "--user", "moussa", "--include-internal", "--out", str(internal))
    assert result.exit_code == 0, result.output
    zf = zipfile.ZipFile(internal)
    assert notes_in(zf) == expected("Sahel", "moussa") and not_public(notes_in(zf))
    assert all(n.startswith("kb-sahel-internal/") for n in zf.namelist())
    assert all(BANNER["en"] in page for page in html_pages(zf).values())
    users = UserStore(config.load()["KB_DATABASE_URL"])
    try:
        entries = [e for e in users.audit_entries() if e.action == "pack_internal"]
    finally:
        users.dispose()
    assert [(e.actor, e.target) for e in entries] == [("cli", "sahel")] and "for moussa" in entries[0].detail
    # a name that does not say "internal" is made to: the file tells what it is wherever it travels
    result = run("export", "--region", "Sahel", "--user", "moussa", "--include-internal",
                 "--out", str(env / "for-partners.zip"))
    assert result.exit_code == 0, result.output
    assert (env / "for-partners-internal.zip").exists() and not (env / "for-partners.zip").exists()
