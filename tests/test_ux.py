"""The reading and writing experience through the real app (issue 17): names, marks, words, filters, help."""
import html as htmllib
import re

from .conftest import csrf_token


def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def new_note(**fields) -> dict:
    data = {"title": "Water committees in Arlit", "language": "en", "regions": ["Niger"],
            "topics": ["community-planning"], "audience": ["community"], "visibility": "public",
            "status": "draft", "summary": "Committees repaired wells.", "body": "## Context\n\nTwelve wells.\n"}
    data.update(fields)
    return data


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
