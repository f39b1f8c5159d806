"""The interface in English, French and Arabic: complete catalogues, every page in each language, the switch,
text direction per page and per note, and dates in the reader's language.

The catalogue test extracts the messages from the source as `pybabel extract` does (babel.cfg), so a newly
added English string fails here until it has a French and an Arabic translation:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -o kb/translations/messages.pot .
    .venv/bin/pybabel update -i kb/translations/messages.pot -d kb/translations
    (translate the new entries in kb/translations/{fr,ar}/LC_MESSAGES/messages.po; `make translations`)
"""
from __future__ import annotations

import ast
import datetime as dt
import errno
import io
import os
import re
import tempfile
from html.parser import HTMLParser

import pytest
from babel.dates import format_date
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kb import access, pdscan
from kb.errors import N_, EditConflict, InvalidNote, KbError, Message, PersonalDataFound
from kb.model import check_slug, meta_from_dict, parse_note
from kb.model import RESERVED
from kb.wiki.drafting import check_new_slug
from kb.search.queryparse import parse as parse_query
from kb.store import _describe
from kb.taxonomy import Taxonomy
from kb.users import UserError

from .conftest import ROOT, SHIPPED

TRANSLATIONS = ROOT / "kb" / "translations"
LOCALES = ("fr", "ar")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
SEARCH = {"en": "Search", "fr": "Rechercher", "ar": "بحث"}  # the search button of every page
DIRECTION = {"en": "ltr", "fr": "ltr", "ar": "rtl"}

TAX = Taxonomy.load(SHIPPED / "taxonomy.yml")
NOTES = {p.stem: parse_note(p.stem, p.read_text(encoding="utf-8"), TAX) for p in sorted(SHIPPED.glob("*.md"))}


def pick(**want):
    return next(n for n in NOTES.values() if all(getattr(n.meta, k) == v for k, v in want.items()))


ENGLISH = pick(language="en", visibility="public", status="published")
ARABIC = pick(language="ar", visibility="public", status="published")


def source_messages() -> dict[str, list[str]]:
    """msgid (a plural's singular) -> where it is used, extracted from the source as babel.cfg says."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


@pytest.fixture(scope="module")
def catalogs():
    return {loc: catalog(loc) for loc in LOCALES}


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues():
    """What `make translations` does, when a .mo is missing or older than its .po (pytest run on its own)."""
    for loc in LOCALES:
        po = TRANSLATIONS / loc / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            buf = io.BytesIO()
            write_mo(buf, catalog(loc))
            fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(buf.getvalue())
            os.replace(tmp, mo)


# --- (a) the catalogues -----------------------------------------------------------------------------------

def test_every_message_in_the_source_is_translated_into_french_and_arabic(catalogs):
    messages = source_messages()
    assert len(messages) > 250  # the extraction found the templates and the Python modules
    for loc, cat in catalogs.items():
        missing = []
        for msgid, where in sorted(messages.items()):
            entry = cat.get(msgid)
            if entry is None:
                missing.append(f"{msgid!r} (not in the .po; {where[0]})")
            elif "fuzzy" in entry.flags:
                missing.append(f"{msgid!r} (fuzzy; {where[0]})")
            elif isinstance(entry.string, (tuple, list)):
                if len(entry.string) != cat.num_plurals or not all(s.strip() for s in entry.string):
                    missing.append(f"{msgid!r} (plural forms: {cat.num_plurals} needed; {where[0]})")
            elif not (entry.string or "").strip():
                missing.append(f"{msgid!r} (empty; {where[0]})")
        assert not missing, f"untranslated in {loc}:\n" + "\n".join(missing)


def test_catalogues_are_consistent_and_compile(catalogs):
    for loc, cat in catalogs.items():
        assert str(cat.locale) == loc and not cat.fuzzy
        problems = [(m.id, [str(e) for e in errors]) for m, errors in cat.check()]  # placeholders kept, plurals
        assert not problems, f"{loc}: {problems}"
        buf = io.BytesIO()
        write_mo(buf, cat)
        assert len(buf.getvalue()) > 10_000
    assert catalogs["ar"].num_plurals == 6


def test_words_the_templates_translate_at_run_time_are_in_the_catalogues(catalogs):
    """Statuses, visibilities, personal-data findings: passed to _() as values, so listed in kb/web/messages."""
    words = set(access.WORKFLOW) | {"public", "internal", "restricted"} | {"Title", "Summary", "Body"}
    words |= {message for *_, message in pdscan._DETECTORS}
    for cat in catalogs.values():
        assert all(cat.get(w) is not None and cat.get(w).string for w in words), words - {m.id for m in cat}


def _domain_messages(app) -> list[str]:
    """Messages the domain layer writes in English and the pages show (see kb/web/messages.py)."""
    out: list[str] = []
    bad = {"title": " ", "language": "xx", "regions": ["Atlantis"], "topics": ["cooking"], "audience": ["aliens"],
           "visibility": "secret", "status": "gone", "summary": "x" * 5000, "authors": {"a": 1},
           "created": "yesterday", "translations": "fr"}
    for data in (bad, {"title": "t" * 400, "language": "", "summary": 3, "translations": {"de": "Bad Slug"}}):
        try:
            meta_from_dict(data, TAX)
        except InvalidNote as exc:
            out += [m for _, m in exc.problems]
    for slug in ("", "x" * 200, "Bad_Slug"):
        try:
            check_slug(slug)
        except KbError as exc:
            out.append(exc.message)
    try:
        check_new_slug(sorted(RESERVED)[0])
    except InvalidNote as exc:
        out += [m for _, m in exc.problems]
    out += [EditConflict("a-note", "abc", "def").message, PersonalDataFound([1, 2]).message,
            _describe(OSError(errno.ENOSPC, "No space left on device"))]
    users = app.extensions["kb.users"]
    attempts = [lambda: users.add("!bad", "x" * 20, "practitioner"), lambda: users.add("okname", "short", "admin"),
                lambda: users.add("okname", "x" * 2000, "admin"), lambda: users.add("okname", "x" * 20, "chief"),
                lambda: users.add("okname", "x" * 20, "focal_point", regions=["Atlantis"]),
                lambda: users.add("okname", "x" * 20, "focal_point"),
                lambda: users.add("okname", "x" * 20, "practitioner", email="not-an-address"),
                lambda: users.add("admin", "x" * 20, "practitioner"),
                lambda: users.set_active("admin", False), lambda: users.set_active("nobody", False)]
    for attempt in attempts:
        with pytest.raises(UserError) as info:
            attempt()
        out.append(info.value.message)
    return out


def domain_message_ids() -> dict[str, str]:
    """Every message identifier the domain layer writes (N_(...) outside kb/web), with where."""
    found = {}
    for path in sorted((ROOT / "kb").rglob("*.py")):
        if "web" in path.relative_to(ROOT / "kb").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                found[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_domain_message_id_has_a_french_and_an_arabic_translation(catalogs):
    ids = domain_message_ids()
    assert len(ids) > 40 and "unknown region or country %(name)s" in ids
    for locale, cat in catalogs.items():
        missing = {m: where for m, where in ids.items() if cat.get(m) is None or not cat.get(m).string}
        assert not missing, (locale, missing)


@pytest.mark.parametrize("lang", LOCALES)
def test_domain_messages_shown_on_pages_are_translated(app, lang):
    """Each domain message the pages can show is translated by its identifier, its values kept."""
    from kb.web.messages import translate, translate_sentences
    messages = _domain_messages(app)
    notices = parse_query("title:x a~2 [a TO b] z* " + " ".join(f"w{i}" for i in range(60)) + " y" * 300).notices
    assert len(notices) >= 5
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        untranslated = [m for m in messages if translate(m) == m]
        assert not untranslated, untranslated
        joined = translate_sentences(" ".join(notices))
        assert not [n for n in notices if n in joined], joined
        assert all(isinstance(m, Message) for m in messages)  # never matched by their English text
        atlantis = Message(N_("unknown region or country %(name)s"), name="'Atlantis'")
        assert "'Atlantis'" in translate(atlantis) and translate(atlantis) != atlantis  # the value is kept


# --- (b) every page in every language --------------------------------------------------------------------

class _Text(HTMLParser):
    """Text and labelling attributes in the interface language: what an element with another lang= says
    (a note, a title, a snippet) is content, not interface."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, ui: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = [("", ui)]
        self.ui, self.found = ui, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang") or self.stack[-1][1]
        if lang == self.ui:
            labels = ("title", "aria-label", "placeholder", "alt") + (("value",) if tag == "input"
                                                                    and attrs.get("type") == "submit" else ())
            self.found += [attrs[k].strip() for k in labels if attrs.get(k)]
        if tag not in self.VOID:
            self.stack.append((tag, lang))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.stack[-1][1] == self.ui and data.strip() and self.stack[-1][0] not in ("script", "style"):
            self.found.append(" ".join(data.split()))


def english_left(html: str, ui: str, cat) -> list[str]:
    """Interface text on a French or Arabic page that is still an English msgid."""
    parser = _Text(ui)
    parser.feed(html)
    english = {m.id for m in cat if m.id and isinstance(m.id, str) and m.string and m.string != m.id}
    return [t for t in parser.found if t in english or t.rstrip(":?") in english]


def check_page(resp, lang: str, cat, status: int = 200) -> str:
    html = resp.get_data(as_text=True)
    assert resp.status_code == status, (resp.request.path, lang, resp.status_code)
    assert f'<html lang="{lang}" dir="{DIRECTION[lang]}">' in html, resp.request.path
    assert f">{SEARCH[lang]}</button>" in html, (resp.request.path, lang)
    if cat is not None:
        left = english_left(html, lang, cat)
        assert not left, (resp.request.path, lang, left)
    return html


PUBLIC_PAGES = [("/", 200), (f"/notes/{ENGLISH.slug}", 200), (f"/notes/{ARABIC.slug}", 200),
                ("/search?q=protection", 200), ("/search?q=title:x+ab*", 200), ("/regions", 200),
                ("/regions/sahel", 200), ("/topics", 200), ("/topics/mhpss", 200), ("/login", 200),
                ("/logout", 200), (f"/notes/{ENGLISH.slug}/history", 200), ("/nope", 404),
                ("/notes/no-such-note", 404)]

ADMIN_PAGES = [("/notes/new", 200), ("/notes/new?template=practice", 200), (f"/notes/{ENGLISH.slug}/edit", 200),
               (f"/notes/{ENGLISH.slug}/rename", 200), (f"/notes/{ENGLISH.slug}/delete", 200),
               (f"/notes/{ENGLISH.slug}/diff", 200), ("/review", 200), ("/account", 200),
               ("/admin/users", 200), ("/admin/users/new", 200), ("/admin/users/moussa", 200),
               ("/admin/audit", 200), ("/admin/deleted-notes", 200), (f"/notes/{ENGLISH.slug}", 200), ("/", 200)]


@pytest.mark.parametrize("lang", ["en", *LOCALES])
def test_public_pages_render_in_each_language(client, catalogs, lang):
    client.set_cookie("lang", lang)
    for path, status in PUBLIC_PAGES:
        check_page(client.get(path), lang, catalogs.get(lang), status)


@pytest.mark.parametrize("lang", ["en", *LOCALES])
def test_editor_and_admin_pages_render_in_each_language(as_user, catalogs, lang):
    client = as_user("admin")
    client.set_cookie("lang", lang)
    for path, status in ADMIN_PAGES:
        check_page(client.get(path), lang, catalogs.get(lang), status)
    history = client.get(f"/notes/{ENGLISH.slug}/history").get_data(as_text=True)
    rev = re.search(rf'href="/notes/{ENGLISH.slug}/revisions/([0-9a-f]+)"', history).group(1)
    check_page(client.get(f"/notes/{ENGLISH.slug}/revisions/{rev}"), lang, catalogs.get(lang))


def test_french_and_arabic_pages_say_it_in_their_language(as_user):
    client = as_user("admin")
    client.set_cookie("lang", "fr")
    assert "Aller au contenu" in client.get("/").get_data(as_text=True)
    assert "Nouveau mot de passe" in client.get("/account").get_data(as_text=True)
    assert "Praticien" in client.get("/admin/users/pat").get_data(as_text=True)
    client.set_cookie("lang", "ar")
    assert "الانتقال إلى المحتوى" in client.get("/").get_data(as_text=True)
    assert "مذكرة جديدة" in client.get("/notes/new").get_data(as_text=True)
    assert "ضابط اتصال" in client.get("/admin/users").get_data(as_text=True)


def test_form_errors_and_flashes_are_in_the_interface_language(as_user):
    from .conftest import csrf_token
    client = as_user("admin")
    client.set_cookie("lang", "fr")
    token = csrf_token(client, "/notes/new")
    form = {"csrf_token": token, "title": "", "language": "fr", "save": "1", "visibility": "public",
            "status": "review", "body": "x"}
    resp = client.post("/notes/new", data=form)
    assert resp.status_code == 422 and "champ obligatoire" in resp.get_data(as_text=True)
    resp = client.post("/notes/new", data={**form, "title": "Sans région"})
    assert resp.status_code == 422 and "points focaux puissent relire" in resp.get_data(as_text=True)
    resp = client.post(f"/notes/{ENGLISH.slug}/rename", data={"csrf_token": token, "new_slug": "Bad%d_Slug"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "traits d&#39;union simples" in html and "&#39;Bad%d_Slug&#39;" in html
    client.set_cookie("lang", "ar")
    resp = client.post("/admin/users/new", data={"csrf_token": token, "username": "x!", "password": "p" * 20,
                                                 "role": "practitioner"})
    assert resp.status_code == 422 and "اسم مستخدم غير صالح" in resp.get_data(as_text=True)
    client.post("/admin/users/pat", data={"csrf_token": token, "display_name": "Pat", "role": "practitioner"})
    assert "تم حفظ الحساب." in client.get("/admin/users/pat").get_data(as_text=True)


def test_search_notices_are_translated(client):
    client.set_cookie("lang", "fr")
    html = client.get("/search", query_string={"q": "title:protection"}).get_data(as_text=True)
    assert "La recherche par champ (nom:) n&#39;est pas prise en charge" in html


def test_sign_in_prompt_is_translated(client):
    client.set_cookie("lang", "ar")
    resp = client.get("/account")
    assert resp.status_code == 302
    assert "يرجى تسجيل الدخول لعرض هذه الصفحة." in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_pages_work_without_compiled_catalogues(site, tmp_path, monkeypatch):
    """No .mo files (a checkout before `make translations`): English text, the right lang and dir."""
    from kb import create_app
    from kb.web import babel

    from .conftest import site_config
    monkeypatch.setattr(babel.domain_instance, "cache", {})  # loaded catalogues are cached process-wide
    app = create_app({**site_config(site), "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "none")})
    try:
        client = app.test_client()
        client.set_cookie("lang", "ar")
        html = client.get("/").get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in html and ">Search</button>" in html
    finally:
        app.extensions["kb.wiki"].close()
        app.extensions["kb.users"].dispose()


# --- (c) choosing the language ---------------------------------------------------------------------------

def test_switch_sets_the_cookie_and_goes_back_safely(client):
    resp = client.get("/lang/fr", query_string={"next": "/regions?x=1"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/regions?x=1"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("lang=fr;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert '<html lang="fr" dir="ltr">' in client.get("/regions").get_data(as_text=True)
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""):
        resp = client.get("/lang/ar", query_string={"next": evil})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", evil
    assert client.get("/lang/de").status_code == 404
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)


def test_every_page_links_to_the_switch_with_the_way_back(client):
    html = client.get("/search?q=protection").get_data(as_text=True)
    assert 'href="/lang/fr?next=/search?q%3Dprotection"' in html or \
        'href="/lang/fr?next=/search%3Fq%3Dprotection"' in html
    assert 'hreflang="ar"' in html and 'lang="ar"' in html


def test_accept_language_chooses_without_a_cookie_and_the_cookie_wins(client):
    html = client.get("/", headers={"Accept-Language": "ar,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html and ">بحث</button>" in html
    html = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in html
    assert '<html lang="en" dir="ltr">' in client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    client.set_cookie("lang", "xx")  # an unknown cookie is ignored
    assert '<html lang="fr"' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)


# --- (d) a note's direction follows the note ---------------------------------------------------------------

def test_arabic_note_reads_right_to_left_under_a_french_interface(client):
    client.set_cookie("lang", "fr")
    html = client.get(f"/notes/{ARABIC.slug}").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in html
    assert '<article class="note" lang="ar" dir="rtl">' in html
    assert '<p class="meta" dir="ltr" lang="fr">' in html  # the interface's words around it stay French


def test_english_note_reads_left_to_right_under_an_arabic_interface(client):
    client.set_cookie("lang", "ar")
    html = client.get(f"/notes/{ENGLISH.slug}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert '<article class="note" lang="en" dir="ltr">' in html
    assert '<p class="meta" dir="rtl" lang="ar">' in html
    # both words: a note no longer matches on the (English) names of the notes it links to
    listing = client.get("/search", query_string={"q": "protection OR الحماية"}).get_data(as_text=True)
    assert re.search(r'<h3 lang="en" dir="ltr">', listing) and re.search(r'<h3 lang="ar" dir="rtl">', listing)


# --- (e) dates in the reader's language --------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", *LOCALES])
def test_note_dates_are_formatted_for_the_locale(client, lang):
    client.set_cookie("lang", lang)
    html = client.get(f"/notes/{ENGLISH.slug}").get_data(as_text=True)
    article_meta = re.search(r'<p class="meta"[^>]*>(.*?)</p>', html, re.S).group(1)
    iso, shown = re.search(r'<time datetime="(\d{4}-\d\d-\d\d)">([^<]+)</time>', article_meta).groups()
    day = dt.date.fromisoformat(iso)
    assert shown == format_date(day, format="medium", locale=lang)
    if lang == "fr":
        months = {"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
                  "déc."}
        assert any(m in shown.split() for m in months), shown
        assert shown != format_date(day, format="medium", locale="en")


def test_offline_pack_pages_are_in_the_chosen_language(app):
    import zipfile

    from kb.export import build_pack
    buf = io.BytesIO()
    build_pack(app.extensions["kb.wiki"], None, "Sahel", buf, ui_lang="fr")
    with zipfile.ZipFile(buf) as zf:
        index = next(zf.read(n).decode() for n in zf.namelist() if n.endswith("/index.html"))
    assert '<html lang="fr" dir="ltr">' in index and "Rechercher dans ces notes" in index
    assert "Copie hors ligne de kb" in index
