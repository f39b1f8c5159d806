"""Offline region packs: what goes in (only what the reader may read), links that work from disk, the
CLI and the region-page button, and the offline search driven in Chromium from file://."""
import io
import json
import os
import posixpath
import re
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from kb import access
from kb.cli import cli
from kb.export import ExportError, build_pack, search_tokens

from .conftest import ROOT, SHIPPED
from .test_feeds import NOTES, TAX

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def reader(name: str | None):
    if name is None:
        return None
    role, regions = {"moussa": ("focal_point", ["Sahel"]), "pat": ("practitioner", []), "admin": ("admin", [])}[name]
    return SimpleNamespace(is_authenticated=True, active=True, username=name, role=role, regions=regions)


def expected(place: str, who: str | None = None, topic: str | None = None, lang: str | None = None) -> set[str]:
    return {s for s, n in NOTES.items() if access.can_read(reader(who), n.meta, TAX)
            and place in TAX.places_of(n.meta.regions) and (topic is None or topic in n.meta.topics)
            and (lang is None or n.meta.language == lang)}


def pack(wiki, place: str, who: str | None = None, **kw) -> zipfile.ZipFile:
    """A region pack: public; with ``who``, that reader's internal pack."""
    out = io.BytesIO()
    build_pack(wiki, reader(who), place, out, internal=who is not None, **kw)
    return zipfile.ZipFile(out)


def notes_in(zf: zipfile.ZipFile) -> set[str]:
    return {m.group(1) for m in (re.search(r"/notes/([a-z0-9-]+)\.html$", n) for n in zf.namelist()) if m}


def check_links(zf: zipfile.ZipFile) -> None:
    """Every relative href/src in every page names a file of the pack."""
    names = set(zf.namelist())
    for name in names:
        if not name.endswith(".html"):
            continue
        page = zf.read(name).decode("utf-8")
        for url in re.findall(r'(?:href|src)="([^"]*)"', page):
            if url.startswith(("http://", "https://", "#", "mailto:")):
                continue
            assert not url.startswith("/"), f"{name}: {url} needs a server"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), url.split("#")[0]))
            assert target in names, f"{name}: {url} is not in the pack"


def test_public_pack_has_index_notes_css_js_and_only_public_notes(wiki):
    zf = pack(wiki, "Sahel")
    names = zf.namelist()
    assert {"kb-sahel/index.html", "kb-sahel/kb.css", "kb-sahel/offline-search.js",
            "kb-sahel/search-index.js"} <= set(names)
    assert all(n.startswith("kb-sahel/") for n in names)
    assert notes_in(zf) == expected("Sahel") and len(notes_in(zf)) >= 4
    assert zf.read("kb-sahel/kb.css") == (ROOT / "kb" / "static" / "kb.css").read_bytes()
    assert len(zf.read("kb-sahel/offline-search.js")) < 8 * 1024  # a few kilobytes
    index = zf.read("kb-sahel/index.html").decode()
    for slug in expected("Sahel"):
        assert f'href="notes/{slug}.html"' in index
    assert '<script src="search-index.js"></script>' in index and "<style" not in index and " style=" not in index
    check_links(zf)


def test_internal_pack_content_follows_the_reader(wiki):
    public, moussa, pat = (notes_in(pack(wiki, "Sahel", who)) for who in (None, "moussa", "pat"))
    assert moussa == expected("Sahel", "moussa") and pat == expected("Sahel", "pat")
    assert public < pat < moussa  # internal notes for the signed-in, restricted and drafts for the focal point
    hidden = {s for s in moussa if NOTES[s].meta.visibility == "restricted"}
    assert hidden and not hidden & pat


def test_a_default_pack_is_public_whoever_builds_it(wiki):
    for who in ("moussa", "pat", "admin"):
        out = io.BytesIO()
        report = build_pack(wiki, reader(who), "Sahel", out)
        assert set(report.slugs) == notes_in(zipfile.ZipFile(out)) == expected("Sahel")
        assert report.folder == "kb-sahel" and not report.internal
    with pytest.raises(ExportError, match="signed-in reader"):
        build_pack(wiki, None, "Sahel", io.BytesIO(), internal=True)


def test_wiki_links_are_relative_files_or_marked_missing(wiki):
    zf = pack(wiki, "Sahel")
    page = zf.read("kb-sahel/notes/reintegration-counselling-returnees-mali.html").decode()
    assert '<a class="wikilink" href="unaccompanied-children-best-interests-agadez.html">' in page
    assert '<a class="wikilink missing">unavailable note</a>' in page  # an internal note: left out, unnamed
    assert "survivor-reintegration-edo-state-nigeria" not in page
    assert 'href="../kb.css"' in page and 'href="../index.html"' in page


def test_arabic_notes_read_right_to_left(wiki):
    zf = pack(wiki, "Middle East", ui_lang="ar")
    arabic = [s for s in notes_in(zf) if NOTES[s].meta.language == "ar"]
    english = [s for s in notes_in(zf) if NOTES[s].meta.language == "en"]
    assert arabic and english
    page = zf.read(f"kb-middle-east/notes/{arabic[0]}.html").decode()
    assert '<html lang="ar" dir="rtl">' in page and '<article class="note" lang="ar" dir="rtl">' in page
    page = zf.read(f"kb-middle-east/notes/{english[0]}.html").decode()
    assert '<article class="note" lang="en" dir="ltr">' in page  # an English note in an Arabic interface


def test_topic_and_language_narrow_the_pack(wiki):
    zf = pack(wiki, "sahel", topics=["legal-identity"])
    assert notes_in(zf) == expected("Sahel", topic="legal-identity")
    assert zf.namelist()[0].startswith("kb-sahel-legal-identity/")
    assert notes_in(pack(wiki, "Niger", languages=["fr"])) == expected("Niger", lang="fr")


@pytest.mark.parametrize("kw", [{"region": "Atlantis"}, {"region": "Sahel", "topics": ["nope"]},
                                {"region": "Sahel", "languages": ["de"]}])
def test_bad_filters_are_export_errors(wiki, kw):
    with pytest.raises(ExportError):
        build_pack(wiki, None, kw.pop("region"), io.BytesIO(), **kw)


def test_search_index_is_a_script_with_folded_words(wiki):
    zf = pack(wiki, "Sahel")
    script = zf.read("kb-sahel/search-index.js").decode("utf-8")
    assert script.startswith("window.KB_SEARCH_INDEX = ") and script.rstrip().endswith(";")
    data = json.loads(script[len("window.KB_SEARCH_INDEX = "):].rstrip().rstrip(";"))
    docs = {d["s"]: d for d in data["notes"]}
    assert set(docs) == notes_in(zf)
    french = docs["accompagnement-reintegration-retournes-mali-fr"]
    assert "reintegration" in french["w"].split() and "é" not in french["w"] + french["x"]
    assert search_tokens("Réintégration الحِمَايَة") == ["reintegration", "الحمايه", "حمايه"]


def test_region_page_buttons_download_the_public_or_the_readers_internal_pack(client, as_user):
    page = client.get("/regions/sahel?topic=legal-identity").get_data(as_text=True)
    assert 'href="/regions/sahel/export.zip?topic=legal-identity"' in page
    with client.get("/regions/sahel/export.zip") as resp:
        assert resp.status_code == 200 and resp.mimetype == "application/zip"
        assert "kb-sahel.zip" in resp.headers["Content-Disposition"]
        assert "no-store" in resp.headers["Cache-Control"]
        zf = zipfile.ZipFile(io.BytesIO(resp.data))
    assert notes_in(zf) == expected("Sahel")
    check_links(zf)
    as_user("moussa")
    with client.get("/regions/sahel/export.zip?topic=legal-identity&internal=1") as resp:
        zf = zipfile.ZipFile(io.BytesIO(resp.data))
    assert notes_in(zf) == expected("Sahel", "moussa", topic="legal-identity")
    assert "http://localhost/notes/" in zf.read(zf.namelist()[-1]).decode()  # a way back online
    assert client.get("/regions/atlantis/export.zip").status_code == 404


@pytest.fixture
def env(tmp_path, monkeypatch):
    shutil.copytree(SHIPPED, tmp_path / "content")
    for key, sub in (("KB_CONTENT_DIR", "content"), ("KB_INDEX_DIR", "index"), ("KB_INSTANCE_DIR", "instance")):
        monkeypatch.setenv(key, str(tmp_path / sub))
    monkeypatch.setenv("KB_ADMIN_PASSWORD", "a-long-admin-password")
    return tmp_path


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_cli_export_public_by_default_and_a_users_internal_pack_on_request(env):
    out = env / "sahel.zip"
    result = run("export", "--region", "Sahel", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {len(expected('Sahel'))} notes to {out}." in result.output
    assert notes_in(zipfile.ZipFile(out)) == expected("Sahel")
    assert run("init").exit_code == 0
    assert run("user", "add", "moussa", "--role", "focal_point", "--region", "Sahel",
               input="a-long-password\n").exit_code == 0
    result = run("export", "--region", "sahel", "--topic", "legal-identity", "--lang", "fr",
                 "--user", "moussa", "--include-internal", "--out", str(out))
    assert result.exit_code == 0, result.output
    internal = env / "sahel-internal.zip"  # an internal pack's file always says so
    assert str(internal) in result.output
    zf = zipfile.ZipFile(internal)
    assert notes_in(zf) == expected("Sahel", "moussa", topic="legal-identity", lang="fr")
    assert '<html lang="fr" dir="ltr">' in zf.read(zf.namelist()[0]).decode()


@pytest.mark.parametrize("args,message", [
    (["--region", "Atlantis"], "Unknown region or country 'Atlantis'"),
    (["--region", "Sahel", "--topic", "nope"], "Unknown topic 'nope'"),
    (["--region", "Sahel", "--user", "nobody"], "No active account named 'nobody'"),
    (["--region", "Sahel", "--include-internal"], "--include-internal needs --user NAME"),
])
def test_cli_export_fails_with_one_line(env, args, message):
    result = run("export", *args, "--out", str(env / "x.zip"))
    last = result.output.strip().splitlines()[-1]  # after any "Indexed N notes." of a first run
    assert result.exit_code == 1 and last.startswith("Error: ") and message in last
    assert not (env / "x.zip").exists() and not (env / "x.zip.part").exists()


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (`.ci/run` installs it)")
def test_offline_search_works_from_disk_in_chromium(wiki, tmp_path):
    for place in ("Sahel", "Middle East"):
        pack(wiki, place).extractall(tmp_path)
    arabic = next(s for s in sorted(notes_in(pack(wiki, "Middle East"))) if NOTES[s].meta.language == "ar")
    # Playwright's sync API refuses a thread with a running event loop (the browser suite may leave one)
    with ThreadPoolExecutor(1) as pool:
        errors = pool.submit(drive_offline_pack, tmp_path, arabic).result()
    assert not errors, errors


def drive_offline_pack(root: Path, arabic: str) -> list[str]:
    """Open the unzipped packs from file:// and search them; return the page's errors."""
    from playwright.sync_api import sync_playwright
    sahel, middle_east = root / "kb-sahel" / "index.html", root / "kb-middle-east" / "index.html"
    word = max(NOTES[arabic].meta.title.split(), key=len)
    voweled = word[0] + "\u064e" + word[1:]  # a fatha the title does not have
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(sahel.as_uri())
            assert page.locator("#all-notes li").count() == len(expected("Sahel"))
            page.fill("#q", "reintegration retournes")  # no accents typed; the note has them
            results = page.locator("#search-results li")
            results.first.wait_for()
            titles = results.all_inner_texts()
            assert any("réintégration des retournés" in t for t in titles), titles
            assert page.locator("#all-notes").is_hidden() and page.locator("#search-status").is_visible()
            page.fill("#q", "zzzqqq")
            page.wait_for_function("document.getElementById('search-results').hidden")
            assert "No note" in page.inner_text("#search-status")
            page.fill("#q", "counselling")
            page.locator("#search-results li a").first.click()
            page.wait_for_load_state()
            assert page.url.endswith("/notes/reintegration-counselling-returnees-mali.html")
            assert page.evaluate("getComputedStyle(document.querySelector('.top')).borderBottomStyle") == "solid"
            page.click("a.wikilink:not(.missing)")
            page.wait_for_load_state()
            assert page.url.endswith("/notes/unaccompanied-children-best-interests-agadez.html")
            page.goto(middle_east.as_uri() + "?q=" + voweled)
            page.locator("#search-results li").first.wait_for()
            assert NOTES[arabic].meta.title in page.locator("#search-results").inner_text()
            assert page.locator("#search-results li h3").first.get_attribute("dir") == "rtl"
        finally:
            browser.close()
    return errors
