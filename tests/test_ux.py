"""The reading and writing experience through the real app (issue 17): names, marks, words, filters, help."""
import html as htmllib
import re

import pytest

from .conftest import csrf_token
from .test_web_editor import new_note


def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))




def post(client, path: str, data: dict, token_from: str = "/notes/new"):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **data})


# 1. Names from titles, in every script

def test_a_french_title_gives_a_transliterated_name(as_user):
    client = as_user("moussa")
    resp = post(client, "/notes/new", new_note(title="Déclaration des naissances à Tillabéri", language="fr"))
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/notes/declaration-des-naissances-a-tillaberi")
    assert client.get("/notes/declaration-des-naissances-a-tillaberi").status_code == 200


def test_an_arabic_title_gets_a_readable_latin_name_never_a_generic_word(as_user):
    client = as_user("amina")
    resp = post(client, "/notes/new", new_note(title="تسجيل المواليد في ليبيا", language="ar", regions=["Libya"]))
    assert resp.status_code == 303
    slug = resp.headers["Location"].rsplit("/", 1)[1]
    assert slug != "note" and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+){3}", slug)
    assert "تسجيل المواليد في ليبيا" in text(client.get(f"/notes/{slug}"))


def test_the_editor_shows_the_name_it_will_use_and_the_writer_may_change_it(as_user):
    client = as_user("moussa")
    page = text(post(client, "/notes/new", new_note(title="Déclaration à Tillabéri", preview="1")))
    assert 'placeholder="declaration-a-tillaberi"' in page and ">declaration-a-tillaberi</span></code>" in page
    preview = post(client, "/editor/preview", {"title": "Œuvre à Niamey", "body": "x"})
    assert preview.headers["X-Kb-Name"] == "oeuvre-a-niamey"
    resp = post(client, "/notes/new", new_note(title="Déclaration à Tillabéri", slug="tillaberi-births"))
    assert resp.headers["Location"].endswith("/notes/tillaberi-births")


def test_existing_ascii_wiki_links_still_resolve(as_user):
    page = text(as_user("admin").get("/notes/birth-registration-mobile-courts-iraq"))
    links = re.findall(r'class="wikilink[^"]*" href="/notes/([a-z0-9-]+)"|href="/notes/([a-z0-9-]+)" class="wikilink',
                       page)
    assert links
    client = as_user("admin")
    for slug in {a or b for a, b in links}:
        assert client.get(f"/notes/{slug}").status_code == 200, slug


# 4. Words through Babel

def plural_forms(lang: str) -> int:
    from babel.messages.pofile import read_po
    with open(f"kb/translations/{lang}/LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f).num_plurals


def test_counts_use_plural_forms_in_every_language(client):
    assert plural_forms("ar") == 6 and plural_forms("fr") == 3
    page = text(client.get("/search?q=agadez"))
    n = int(re.search(r'id="results-title"[^>]*>(\d+) notes?<', page).group(1))
    assert ("1 note<" in page) == (n == 1) and "1 notes" not in page
    client.set_cookie("lang", "fr")
    page = text(client.get("/search?q=agadez"))
    assert "note(s)" not in page and re.search(r'id="results-title"[^>]*>\d+ notes?<', page)
    client.set_cookie("lang", "ar")
    page = text(client.get("/search?q=zzqqxx"))
    assert 'id="results-title" class="count">لا مذكرات<' in page  # the zero form of the six


def test_an_empty_search_says_what_was_searched_and_offers_to_drop_the_filters(client):
    page = text(client.get("/search?q=agadez&lang=ar&topic=legal-identity"))
    assert "No notes here yet." not in page
    assert "No note matches “agadez”." in page
    assert 'Search “agadez” without the filters' in page and 'href="/search?q=agadez"' in page
    assert "Search in every language" in page
    page = text(client.get("/search?q=agadez"))
    assert "No note matches" not in page


def test_history_is_newest_first_with_author_date_and_message_and_hashes_on_demand(as_user):
    client = as_user("moussa")
    slug = "unaccompanied-children-best-interests-agadez"
    base = client.get(f"/api/notes/{slug}").get_json()["revision"]
    resp = post(client, f"/notes/{slug}/edit", new_note(title="Agadez children", regions=["Niger"], status="published",
                                                         base_revision=base, message="Shorter title"),
                token_from=f"/notes/{slug}/edit")
    assert resp.status_code == 303
    history = text(client.get(f"/notes/{slug}/history"))
    items = re.findall(r"<li>(.*?)</li>", history, re.S)
    assert "Shorter title" in items[0] and "moussa" in items[0] and "current version" in items[0]
    assert '<details class="rev-id"><summary>Revision id</summary>' in items[0]
    assert not re.search(r"<li>\s*<a[^>]*><code>[0-9a-f]{10}", history)  # no line leads with a hash
    assert "<ol" not in history.split("<main", 1)[1]  # not numbered: the newest is not "1"


def test_diffs_say_how_many_lines_are_unchanged(as_user):
    client = as_user("moussa")
    slug = "unaccompanied-children-best-interests-agadez"
    note = client.get(f"/api/notes/{slug}").get_json()
    lines = note["body"].rstrip("\n").split("\n")
    assert len(lines) > 12
    lines[-1] += " (checked again)"
    meta = {k: v for k, v in note["meta"].items() if k not in ("authors", "translations")}
    resp = post(client, f"/notes/{slug}/edit", {**meta, "body": "\n".join(lines) + "\n",
                                                "base_revision": note["revision"]}, token_from=f"/notes/{slug}/edit")
    assert resp.status_code == 303
    page = text(client.get(f"/notes/{slug}/diff"))
    m = re.search(r'<span class="skipped">(\d+) unchanged lines</span>', page)
    assert m and int(m.group(1)) > 1 and "\u2026" not in page.split('class="diff"', 1)[1].split("</div>", 1)[0]
    client.set_cookie("lang", "ar")
    assert re.search(r'<span class="skipped">\d+ سطر', text(client.get(f"/notes/{slug}/diff")))


def test_the_audit_log_names_events_in_words_and_filters_by_person_event_and_date(as_user):
    client = as_user("moussa")
    post(client, "/notes/new", new_note(status="published"))
    client = as_user("admin")
    page = text(client.get("/admin/audit"))
    assert '<td data-event="note_create">Note created</td>' in page
    assert "note_create</td>" not in page
    only = text(client.get("/admin/audit?who=moussa&event=note_create"))
    rows = re.findall(r"<tr><td><time.*?</tr>", only, re.S)
    assert rows and all("<td>moussa</td>" in r and 'data-event="note_create"' in r for r in rows)
    assert 'data-event="login"' in page and 'data-event="login"' not in only
    assert "No entry matches these filters." in text(client.get("/admin/audit?from=2000-01-01&to=2000-01-02"))
    assert client.get("/admin/audit?from=nonsense&to=2099-99-99").status_code == 200
    client.set_cookie("lang", "fr")
    assert '<td data-event="note_create">Note créée</td>' in text(client.get("/admin/audit"))


# 6. One admin menu

def test_one_admin_menu_leads_to_accounts_audit_deleted_notes_and_review(as_user):
    client = as_user("admin")
    for path in ("/admin/users", "/admin/audit", "/admin/deleted-notes", "/review"):
        page = text(client.get(path))
        menu = re.search(r'<nav class="admin-menu".*?</nav>', page, re.S).group(0)
        for href in ('href="/admin/users"', 'href="/admin/audit"', 'href="/admin/deleted-notes"', 'href="/review"'):
            assert href in menu, (path, href)
        assert 'aria-current="page"' in menu
    assert 'class="admin-menu"' not in text(as_user("moussa").get("/review"))


# 2. Lists say what a note is

SAHEL_DRAFT = "profilage-vulnerabilites-donnees-sahel-fr"


def marks_of(page: str, slug: str) -> list[str]:
    item = re.search(r'<li>\s*<h3[^>]*><a href="/notes/' + slug + r'">.*?</li>', page, re.S)
    return re.findall(r'class="mark mark-(\w+)"', item.group(0)) if item else []


def test_lists_mark_drafts_and_internal_notes_for_those_who_see_them(as_user, app):
    meta = app.extensions["kb.wiki"].get_note(None, "unaccompanied-children-best-interests-agadez").meta
    assert meta.visibility == "public" and meta.status == "published"
    admin = as_user("admin")
    for path in ("/search?q=&lang=fr&sort=newest&per_page=100", "/regions/sahel?per_page=100"):
        page = text(admin.get(path))
        assert marks_of(page, SAHEL_DRAFT), path
        assert "draft" in marks_of(page, SAHEL_DRAFT)
        assert marks_of(page, "unaccompanied-children-best-interests-agadez") == []
    page = text(app.test_client().get("/regions/sahel?per_page=100"))  # a visitor: public, published only
    assert 'class="mark ' not in page


def test_the_review_queue_marks_each_note_in_review(as_user):
    client = as_user("moussa")
    post(client, "/notes/new", new_note(status="review"))
    page = text(client.get("/review"))
    assert "review" in marks_of(page, "water-committees-in-arlit")
    client.set_cookie("lang", "ar")
    assert "قيد المراجعة" in text(client.get("/review"))


# 5. Filters a thumb can use

def test_active_filters_are_removable_chips_with_clear_all(client):
    page = text(client.get("/search?q=registration&region=Sahel&lang=fr"))
    chips = re.search(r'<div class="chips".*?</div>', page, re.S).group(0)
    assert 'href="/search?q=registration&lang=fr"' in chips  # Sahel removed, the rest kept
    assert 'href="/search?q=registration&region=Sahel"' in chips
    assert "Remove the filter: Sahel" in chips and "Clear all filters" in chips
    assert 'href="/search?q=registration"' in chips
    assert 'class="chips"' not in text(client.get("/search?q=registration"))


def test_on_narrow_screens_filters_fold_above_the_results_without_script(client):
    page = text(client.get("/search?q=registration&lang=fr"))
    folded = page.index('<details class="filters-narrow">')
    assert folded < page.index('id="results-title"') < page.index('class="filters-wide"')
    assert "<summary>Filters (1)</summary>" in page
    with client.get("/static/kb.css") as resp:
        css = resp.get_data(as_text=True)
    assert re.search(r"@media \(max-width:48rem\)\{\.filters-narrow\{display:block\}\.filters-wide\{display:none\}\}",
                     css)


# 8. Help, about, follow, favicon

def test_help_and_about_in_three_languages_linked_from_every_footer(client):
    for lang, words in (("en", "Searching"), ("fr", "Rechercher"), ("ar", "البحث")):
        client.set_cookie("lang", lang)
        help_page = text(client.get("/help"))
        assert f"<h2 id=\"search\">{words}</h2>" in help_page
        for anchor in ("search", "write", "roles", "personal-data", "follow"):
            assert f'id="{anchor}"' in help_page
        assert client.get("/about").status_code == 200
        for path in ("/", "/search?q=mali", "/regions", "/notes/unaccompanied-children-best-interests-agadez"):
            footer = text(client.get(path)).split('<footer', 1)[1]
            assert 'href="/help"' in footer and 'href="/about"' in footer and 'href="/follow"' in footer


def test_the_follow_page_lists_feeds_and_favicon_is_served(client):
    page = text(client.get("/follow"))
    assert 'href="/feeds/all.atom"' in page and 'href="/feeds/regions/sahel.atom"' in page
    with client.get("/favicon.ico") as resp:
        assert resp.status_code == 200 and resp.data[:4] == b"\x00\x00\x01\x00"
    assert 'rel="icon"' in text(client.get("/"))


# 3. The reader's language first

GROUPS = {  # a translation group: its notes by language
    "agadez": {"en": "unaccompanied-children-best-interests-agadez",
               "fr": "enfants-non-accompagnes-interet-superieur-agadez-fr"},
    "iraq": {"en": "birth-registration-mobile-courts-iraq", "ar": "ar-birth-registration-mobile-courts-iraq"},
    "tunisia": {"en": "small-grants-local-organisations-tunisia",
                "fr": "petites-subventions-organisations-locales-tunisie-fr"},
}


def test_the_reading_order_is_one_rule():
    from kb.search.types import reading_order
    assert reading_order("ar") == ("ar", "en", "fr")
    assert reading_order("fr") == ("fr", "en", "ar")
    assert reading_order("en") == reading_order(None) == reading_order("xx") == ("en", "fr", "ar")


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
@pytest.mark.parametrize("path", ["/?", "/search?sort=newest&per_page=100", "/search?region=Tunisia&region=Iraq&region=Niger",
                                  "/regions/north-africa?per_page=100"])
def test_lists_show_each_group_in_the_readers_language_then_english_french_arabic(client, lang, path):
    from kb.search.types import reading_order
    client.set_cookie("lang", lang)
    page = text(client.get(path))
    listed = set(re.findall(r'<h3 lang="\w+" dir="\w+"><a href="/notes/([a-z0-9-]+)"', page))
    for members in GROUPS.values():
        shown = [slug for slug in members.values() if slug in listed]
        assert len(shown) <= 1, shown  # a group is listed once
        if shown:
            best = next(members[code] for code in reading_order(lang) if code in members)
            assert shown == [best], (path, lang, shown)


def test_account_form_errors_sit_beside_their_field_and_the_password_rule_is_stated(as_user):
    from kb.users import MIN_PASSWORD
    client = as_user("admin")
    page = text(client.get("/admin/users/new"))
    assert f"At least {MIN_PASSWORD} characters." in page and 'id="password-hint"' in page
    assert re.search(r'<input[^>]*aria-describedby="password-hint"[^>]*id="password"|<input[^>]*id="password"'
                     r'[^>]*aria-describedby="password-hint"', page)
    assert "novalidate" in page  # kb's own messages, in the interface language, not the browser's bubbles
    resp = post(client, "/admin/users/new", {"username": "-bad name-", "password": "x" * (MIN_PASSWORD + 2),
                                             "role": "practitioner"}, token_from="/admin/users/new")
    page = text(resp)
    assert resp.status_code == 422
    username_p = re.search(r'<label for="username">.*?</p>', page, re.S).group(0)
    password_p = re.search(r'<label for="password">.*?</p>', page, re.S).group(0)
    assert 'id="username-error"' in username_p and "invalid username" in username_p
    assert 'aria-invalid="true"' in username_p and "username-error" in username_p
    assert "field-error" not in password_p


def test_disabling_an_account_is_styled_as_destructive_and_confirmed(as_user):
    client = as_user("admin")
    page = text(client.get("/admin/users/pat"))
    confirm = re.search(r'<details class="confirm">.*?</details>', page, re.S).group(0)
    assert '<summary class="danger">Disable the account…</summary>' in confirm
    assert 'class="danger">Disable the account</button>' in confirm and "signed out everywhere" in confirm


# 9. Share and follow

def test_a_note_has_a_plain_share_link_that_a_script_turns_into_share_or_copy(client):
    page = text(client.get("/notes/unaccompanied-children-best-interests-agadez"))
    assert re.search(r'<a class="share-link" href="http://localhost/notes/unaccompanied-children-best-interests-agadez"'
                     r'[^>]*data-share="Share" data-copy="Copy link"', page)
    src = re.search(r'<script src="(/static/share\.js[^"]*)"', page).group(1)
    with client.get(src) as js:
        assert js.status_code == 200 and b"navigator.share" in js.data and b"clipboard.writeText" in js.data
    assert not re.search(r"<script(?! src)", page)


def test_feeds_are_styled_for_browsers_and_point_to_the_follow_page(client):
    client.set_cookie("lang", "fr")
    with client.get("/feeds/regions/sahel.atom") as resp:
        feed = resp.get_data(as_text=True)
    m = re.search(r'<\?xml-stylesheet type="text/xsl" href="([^"]+)"\?>', feed)
    assert m and "Ceci est un flux" in feed and 'follow="/follow"' in feed
    with client.get(m.group(1)) as xsl:
        assert xsl.status_code == 200 and b"xsl:stylesheet" in xsl.data
    from xml.dom.minidom import parseString
    parseString(feed.encode("utf-8"))  # still well-formed XML
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    with client.get("/feeds/all.atom", headers=browser) as resp:  # a browser applies the stylesheet
        assert resp.mimetype == "application/xml" and "Accept" in resp.headers["Vary"]
    for reader in ({"Accept": "application/atom+xml"}, {"Accept": "*/*"}, {}):  # feed readers get Atom
        with client.get("/feeds/all.atom", headers=reader) as resp:
            assert resp.mimetype == "application/atom+xml"


# 10. The editor's preview beside the text

def test_the_preview_sits_beside_the_text_on_wide_screens_and_announces_only_an_update(as_user):
    client = as_user("moussa")
    page = text(post(client, "/notes/new", new_note(preview="1")))
    wrap = page.index('<div class="editor-wrap">')
    assert wrap < page.index('<form method="post" class="editor"') < page.index('<section id="preview"')
    section = re.search(r'<section id="preview".*?>', page).group(0)
    assert "aria-live" not in section and 'role="status" data-updated="Preview updated"' in page
    with client.get("/static/kb.css") as resp:
        css = resp.get_data(as_text=True)
    assert ".editor-wrap:has(.preview:not([hidden])){display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr)" in css


# 11. The pack's count, language marks, the focal point's home

def test_the_niger_pack_counts_notes_as_the_niger_page_does(client):
    import io
    import zipfile
    page = text(client.get("/regions/niger"))
    shown = int(re.search(r'id="results-title"[^>]*>(\d+) notes?<', page).group(1))
    with client.get("/regions/niger/export.zip") as resp:
        zf = zipfile.ZipFile(io.BytesIO(resp.data))
    index = zf.read("kb-niger/index.html").decode("utf-8")
    files = [n for n in zf.namelist() if n.startswith("kb-niger/notes/")]
    m = re.search(r"(\d+) notes? for reading offline(?: \(and (\d+) translations?\))?", index)
    assert m and int(m.group(1)) == shown
    assert int(m.group(1)) + int(m.group(2) or 0) == len(files)


def test_language_names_are_marked_in_the_interface_language(client):
    client.set_cookie("lang", "ar")
    page = text(client.get("/notes/unaccompanied-children-best-interests-agadez"))
    assert re.search(r'hreflang="fr">[^<]*الفرنسية', page)
    assert 'hreflang="fr" lang="fr"' not in page
    listing = text(client.get("/search?sort=newest"))
    assert '<span class="lang">' in listing and '<span class="lang" lang=' not in listing


def test_a_focal_points_home_does_not_repeat_and_the_menu_starts_at_their_region(as_user):
    client = as_user("moussa")
    page = text(client.get("/"))
    mine = re.findall(r'href="/notes/([a-z0-9-]+)"', page.split('id="mine"', 1)[1].split("</section>", 1)[0])
    latest = re.findall(r'href="/notes/([a-z0-9-]+)"', page.split('id="latest"', 1)[1].split("</section>", 1)[0])
    assert mine and latest and not set(mine) & set(latest)
    region = re.search(r'<option value="([^"]+)" selected>', page).group(1)
    assert region in ("Sahel", "Mali", "Niger", "Chad") and region != "North Africa"


# 12. Accessibility

def test_editor_errors_follow_the_error_summary_pattern(as_user):
    client = as_user("moussa")
    resp = post(client, "/notes/new", new_note(title="", regions=[]))
    page = text(resp)
    assert resp.status_code == 422
    assert re.search(r"<title>Error: New note", page)
    summary = re.search(r'<div class="error error-summary" role="alert" tabindex="-1" id="error-summary".*?</div>',
                        page, re.S).group(0)
    assert 'href="#title"' in summary
    for target in re.findall(r'href="#([a-z]+)"', summary):
        assert f'id="{target}"' in page
    assert re.search(r'id="title"[^>]*aria-invalid="true" aria-describedby="title-error"', page)


def test_not_found_pages_are_titled_in_words_and_admin_tables_scroll_in_their_box(client, as_user):
    page = text(client.get("/no/such/page"))
    assert "<title>Page not found · kb</title>" in page
    admin = text(as_user("admin").get("/admin/users"))
    assert re.search(r'<div class="table-wrap">\s*<table class="accounts">', admin)


# 7. The map

def test_the_map_links_every_country_with_its_count_in_the_interface_language(client):
    import json
    from pathlib import Path
    shapes = Path(__file__).resolve().parent.parent / "kb" / "web" / "map_shapes.json"
    assert shapes.stat().st_size <= 30 * 1024
    assert "Natural Earth" in json.loads(shapes.read_text(encoding="utf-8"))["source"]
    for path in ("/", "/regions"):
        client.set_cookie("lang", "fr")
        page = text(client.get(path))
        svg = re.search(r'<figure class="map".*?</figure>', page, re.S).group(0)
        links = dict(re.findall(r'<a href="/regions/([a-z-]+)" aria-label="([^"]+)">', svg))
        assert len(links) == 14
        assert links["chad"].startswith("Tchad")
        listed = text(client.get("/regions/niger"))
        n = int(re.search(r'id="results-title"[^>]*>(\d+) notes?<', listed).group(1))
        assert re.fullmatch(rf"Niger: {n} notes?", links["niger"])
    assert "<svg" in page and " style=" not in svg


def test_editor_hints_are_tied_to_their_fields(as_user):
    page = text(as_user("moussa").get("/notes/new"))
    for name in ("slug", "summary", "body", "message"):
        assert re.search(rf'id="{name}"[^>]*aria-describedby="{name}-hint', page), name
        assert f'id="{name}-hint"' in page
    page = text(post(as_user("moussa"), "/notes/new", new_note(title="")))
    assert re.search(r'id="title"[^>]*aria-describedby="title-error"', page)
