"""The hostile-input table: each input a white-box review found that stalled a worker, took the site down, or
took over a name — refused or rendered with bounded work, with a clear status, and nothing changed.

Each case is timed (wall time, generous bounds: a safety table, not a benchmark); the note pages of a
stored worst-case note are timed too.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from kb.accounts_model import SignIn
from kb.errors import InvalidNote, InvalidSlug
from kb.model import BODY_MAX, FRONT_MATTER_MAX, NoteMeta, check_slug, parse_note
from kb import worddiff, yamlio
from kb.wiki import drafting

from .conftest import csrf_token, git, login, site_config

AGADEZ = "unaccompanied-children-best-interests-agadez"  # public, published, Niger (Sahel)
LIMIT = 3.0  # seconds per case: a worker must never be held much longer than a normal page takes
FOOTNOTES = "[^1]" * 12_000 + "\n\n[^1]: a footnote\n"  # 48 KB that once held a worker for 60 s
BILLION_LAUGHS = """---
title: laughs
language: en
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
---
Hello.
"""


@dataclass
class Env:
    app: Any
    client: Any
    site: Path
    as_user: Callable
    state: dict

    @property
    def wiki(self):
        return self.app.extensions["kb.wiki"]

    @property
    def users(self):
        return self.app.extensions["kb.users"]

    def token(self, name: str) -> str:
        return self.users.create_token(name)[1]

    def api(self, method: str, path: str, user: str, body: Any = None, data: bytes | None = None):
        headers = {"Authorization": f"Bearer {self.token(user)}", "Content-Type": "application/json"}
        return self.client.open(path, method=method, headers=headers,
                                data=data if data is not None else json.dumps(body))

    def import_file(self, name: str, text: str):
        folder = self.site / "incoming"
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        return self.wiki.import_paths([folder / name])


def note_fields(**extra) -> dict:
    return {"title": "Hostile", "language": "en", "regions": ["Niger"], "topics": ["legal-identity"],
            "visibility": "public", **extra}


def editor_form(token: str, **fields) -> dict:
    return {"csrf_token": token, "title": "Hostile", "language": "en", "regions": "Niger",
            "visibility": "public", "status": "draft", "body": "Text.", **fields}


# --- the cases -----------------------------------------------------------------------------------------------

def footnotes_anonymous(env: Env):
    resp = env.client.post("/notes/new", data=editor_form(csrf_token(env.client), body=FOOTNOTES, preview="1"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 401
    assert "footnote-ref" not in page and "[^1][^1][^1]" in page  # the text comes back, not rendered


def footnotes_anonymous_without_csrf(env: Env):
    resp = env.client.post("/notes/new", data={"body": FOOTNOTES, "preview": "1", "title": "x"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "footnote-ref" not in page and "[^1][^1][^1]" in page


def footnotes_signed_in_setup(env: Env):
    env.as_user("moussa")
    env.state["token"] = csrf_token(env.client, "/notes/new")


def footnotes_signed_in(env: Env):
    resp = env.client.post("/notes/new", data=editor_form(env.state["token"], body=FOOTNOTES, preview="1"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "footnote-ref" not in page and "<pre>[^1][^1]" in page  # past the cap: escaped plain text
    live = env.client.post("/editor/preview", data={"csrf_token": env.state["token"], "body": FOOTNOTES})
    assert live.status_code == 200 and live.get_data(as_text=True).startswith("<pre>")


def huge_form_anonymous(env: Env):
    resp = env.client.post("/notes/new", data={"body": "x" * (100 * 1024 * 1024 // 20), "preview": "1"})
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    assert "not read" in resp.get_data(as_text=True)
    login_form = env.client.post("/login", data={"username": "x" * (5 * 1024 * 1024)})
    assert login_form.status_code == 413


def huge_api_note(env: Env):
    body = json.dumps({"meta": note_fields(), "body": "x" * (30 * 1024 * 1024)})
    resp = env.api("POST", "/api/notes", "pat", data=body.encode())
    assert resp.status_code == 413 and resp.get_json()["error"]["status"] == 413


def api_note_past_the_body_limit(env: Env):
    resp = env.api("POST", "/api/notes", "pat", {"meta": note_fields(), "body": "word " * (BODY_MAX // 5 + 1)})
    assert resp.status_code == 422
    assert [f["field"] for f in resp.get_json()["error"]["fields"]] == ["body"]


def front_matter_value_api(env: Env):
    resp = env.api("POST", "/api/notes", "pat", {"meta": note_fields(remarks="x" * 1_000_000), "body": "Text."})
    assert resp.status_code == 422
    assert "front matter" in [f["field"] for f in resp.get_json()["error"]["fields"]]


def front_matter_value_import(env: Env):
    report = env.import_file("big.md", "---\ntitle: Big\nlanguage: en\nremarks: " + "x" * 1_000_000 +
                             "\n---\nText.\n")
    assert not report.added and len(report.errors) == 1 and "front matter" in report.errors[0]


def front_matter_stored_setup(env: Env):
    content = env.site / "content"
    (content / "stored-big.md").write_text("---\ntitle: Big\nlanguage: en\nremarks: " + "x" * 1_000_000 +
                                           "\n---\nText.\n", encoding="utf-8")
    git(content, "add", "stored-big.md")
    git(content, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "written behind kb's back")


def front_matter_stored(env: Env):
    for path in ("/notes/stored-big", "/notes/stored-big/history", "/notes/stored-big/raw",
                 "/api/notes/stored-big"):
        assert env.client.get(path).status_code == 404  # never parsed: its visibility cannot be known


def billion_laughs_import(env: Env):
    report = env.import_file("laughs.md", BILLION_LAUGHS)
    assert len(BILLION_LAUGHS) < 600
    assert not report.added and "aliases" in report.errors[0]


def big_diff_setup(env: Env):
    admin = env.users.by_username("admin")
    body = "".join(f"- step {i % 7}: check the referral\n" for i in range(1_400))  # 40 KB, repetitive
    assert len(body) > 40_000
    meta = NoteMeta(title="Long checklist", language="en", regions=["Niger"], status="published")
    first = env.wiki.save(admin, "long-checklist", meta, body, None, create=True)
    second = env.wiki.save(admin, "long-checklist", meta, "- changed first line\n" + body.split("\n", 1)[1],
                           first.revision)
    env.state.update(body=body, stale=first.revision, head=second.revision)
    env.as_user("admin")
    env.state["token"] = csrf_token(env.client, "/notes/long-checklist/edit")


def big_diff(env: Env):
    resp = env.client.get("/notes/long-checklist/diff")
    assert resp.status_code == 200 and "<ins>" in resp.get_data(as_text=True)
    conflict = env.client.post("/notes/long-checklist/edit", data=editor_form(
        env.state["token"], title="Long checklist", regions="Niger", status="published",
        body="x\n" + env.state["body"][::-1], base_revision=env.state["stale"]))
    assert conflict.status_code == 409


def newline_slug(env: Env):
    resp = env.api("POST", "/api/notes", "pat", {"slug": "zz-newline\n", "meta": note_fields(), "body": "x"})
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"][0]["field"] == "slug"
    env.as_user("pat")
    web = env.client.post("/notes/new", data=editor_form(csrf_token(env.client, "/notes/new"), slug="zz-\nnewline"))
    assert web.status_code == 422


def reserved_names_import(env: Env):
    for name in ("new.md", "search.md"):
        report = env.import_file(name, "---\ntitle: A note\nlanguage: en\n---\nText.\n")
        assert not report.added and "reserved" in report.errors[0] and name in report.errors[0]


def rename_takeover_setup(env: Env):
    admin = env.users.by_username("admin")
    env.wiki.rename(admin, AGADEZ, "agadez-children", None)
    env.as_user("pat")
    env.state["token"] = csrf_token(env.client, "/notes/new")


def rename_takeover(env: Env):
    resp = env.api("POST", "/api/notes", "amina", {"slug": AGADEZ, "meta": note_fields(), "body": "Mine now."})
    assert resp.status_code == 422 and "renamed note" in resp.get_json()["error"]["fields"][0]["message"]
    web = env.client.post("/notes/new", data=editor_form(env.state["token"], slug=AGADEZ))
    assert web.status_code == 422 and "renamed note" in web.get_data(as_text=True)
    assert env.client.get(f"/notes/{AGADEZ}").headers["Location"] == "/notes/agadez-children"
    with pytest.raises(InvalidNote, match="renamed note"):  # nor may another note be renamed to it
        env.wiki.rename(env.users.by_username("admin"), "reintegration-counselling-returnees-mali", AGADEZ,
                       None)


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Env], None]
    setup: Callable[[Env], None] | None = None


CASES = [
    Case("footnote bomb preview, anonymous", footnotes_anonymous),
    Case("footnote bomb preview, anonymous, no CSRF token", footnotes_anonymous_without_csrf),
    Case("footnote bomb preview, signed in", footnotes_signed_in, footnotes_signed_in_setup),
    Case("huge form, anonymous", huge_form_anonymous),
    Case("huge API note", huge_api_note),
    Case("API note past the body limit", api_note_past_the_body_limit),
    Case("1 MB front matter value, API", front_matter_value_api),
    Case("1 MB front matter value, import", front_matter_value_import),
    Case("1 MB front matter value, stored", front_matter_stored, front_matter_stored_setup),
    Case("billion laughs import", billion_laughs_import),
    Case("40 KB diff and conflict", big_diff, big_diff_setup),
    Case("newline slug", newline_slug),
    Case("new.md and search.md import", reserved_names_import),
    Case("rename takeover", rename_takeover, rename_takeover_setup),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_answered_quickly_and_changes_nothing(case, app, client, site, as_user):
    env = Env(app, client, site, as_user, {})
    if case.setup:
        case.setup(env)
    content = site / "content"
    head = git(content, "rev-parse", "HEAD")
    start = time.perf_counter()
    case.run(env)
    elapsed = time.perf_counter() - start
    print(f"{case.name}: {elapsed:.2f} s")
    assert elapsed < LIMIT, f"{case.name}: {elapsed:.2f} s"
    assert git(content, "rev-parse", "HEAD") == head
    assert git(content, "status", "--porcelain", "--untracked-files=all") == ""


# --- every page of a stored worst-case note --------------------------------------------------------------------

WORST_BODIES = {
    "prose just under the render budget": ("Returnees need support and follow-up " * 27 + "*now*.\n\n") * 350,
    "footnotes": FOOTNOTES,
    "inline markup": ("*a* _b_ `c` [[d]] [e](https://e.org) &amp; " * 20 + "\n\n") * 600,
    "table": "| a | b | c |\n|---|---|---|\n" + "| x | y | z |\n" * 25_000,
    "headings": "# heading\n\n" * 36_000,
    "one long line": "word *em* " * 39_000,
}


@pytest.mark.parametrize("kind", list(WORST_BODIES))
def test_every_page_of_a_stored_worst_case_note_is_quick(kind, app, client, as_user):
    wiki, users = app.extensions["kb.wiki"], app.extensions["kb.users"]
    admin = users.by_username("admin")
    body = WORST_BODIES[kind][:BODY_MAX - 10]
    extra = {f"k{i}": "v" * 300 for i in range(40)}  # front matter near its limits
    meta = NoteMeta(title="Worst", language="en", regions=["Niger"], status="published", extra=extra)
    first = wiki.save(admin, "worst-case", meta, body, None, create=True)
    second = wiki.save(admin, "worst-case", meta, "changed\n" + body[1:], first.revision)
    as_user("admin")
    client.get("/")  # templates compiled, caches warm: what is timed is this note's work
    pages = ["/notes/worst-case", "/notes/worst-case/history", f"/notes/worst-case/revisions/{first.revision}",
             "/notes/worst-case/diff", "/notes/worst-case/raw", "/api/notes/worst-case", "/feeds/all.atom",
             "/regions/niger/export.zip"]
    slow, timings = {}, {}
    for path in pages:
        start = time.perf_counter()
        with client.get(path) as resp:
            resp.get_data()
        elapsed = time.perf_counter() - start
        assert resp.status_code == 200, path
        timings[path] = round(elapsed, 2)
        if elapsed > 2.0:
            slow[path] = round(elapsed, 2)
    print(kind, timings)
    assert not slow, slow
    assert second.revision


# --- the limits, one by one ----------------------------------------------------------------------------------

def test_the_request_limit_is_a_setting(site):
    from kb import create_app
    app = create_app({**site_config(site), "KB_MAX_REQUEST_MB": "1"})
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
        client = app.test_client()
        assert client.post("/login", data={"username": "x" * (1024 * 1024)}).status_code == 413
        assert client.post("/login", data={"username": "x" * 1000}).status_code != 413
    finally:
        app.extensions["kb.wiki"].close()
        app.extensions["kb.users"].dispose()


def test_the_default_request_limit_is_4_mb(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 4 * 1024 * 1024


@pytest.mark.parametrize("slug", ["zz-newline\n", "a\n", "\nb", "new-\n", "a b"])
def test_slugs_must_match_whole(slug):
    with pytest.raises(InvalidSlug):
        check_slug(slug)


@pytest.mark.parametrize("text, problem", [
    ("a: &x 1\nb: *x\n", "aliases (*x) are not allowed (line 2"),
    ("[&x a, *x]", "aliases"),
])
def test_yaml_aliases_are_refused(text, problem):
    with pytest.raises(yamlio.YamlError) as info:
        yamlio.load(text)
    assert problem in str(info.value)


@pytest.mark.parametrize("front, problem", [
    ("remarks: " + "x" * (FRONT_MATTER_MAX + 1), "front matter: has at most"),
    ("".join(f"k{i}: v\n" for i in range(51)), "at most 50 keys"),
    ("remarks: [[[[[x]]]]]", "deep"),
    ("remarks: [" + ",".join(["x"] * 600) + "]", "values"),
    ("remarks: " + "x" * 5000, "values have at most"),
])
def test_front_matter_limits(front, problem):
    from kb.taxonomy import Taxonomy
    tax = Taxonomy.load(Path(__file__).resolve().parent.parent / "content" / "taxonomy.yml")
    start = time.perf_counter()
    with pytest.raises(InvalidNote) as info:
        parse_note("x", f"---\ntitle: T\nlanguage: en\n{front}\n---\nbody\n", tax)
    assert problem in str(info.value)
    assert time.perf_counter() - start < 0.5


def test_a_large_repetitive_diff_is_bounded_and_still_exact():
    a = "x\n" * 20_000
    b = "y\n" + a[2:-2] + "z\n"
    start = time.perf_counter()
    ops = worddiff.diff_ops(a, b)
    assert time.perf_counter() - start < 1.0
    assert "".join(t for k, t in ops if k != "insert") == a and "".join(t for k, t in ops if k != "delete") == b
    c = "y\n" + a[2:]  # changed in its first line only: the rest stays one unchanged stretch
    assert worddiff.diff_ops(a, c) == [("delete", "x"), ("insert", "y"), ("equal", a[1:])]


def test_a_small_change_in_a_long_paragraph_is_still_a_word_diff():
    para = " ".join(f"word{i}" for i in range(3_000))
    ops = worddiff.diff_ops(para, para.replace("word1500 ", "changed "))
    assert ("delete", "word1500") in ops and ("insert", "changed") in ops


# --- names ---------------------------------------------------------------------------------------------------

def test_a_freed_old_name_can_be_taken(app, site):
    from kb.cli import cli
    wiki, admin = app.extensions["kb.wiki"], app.extensions["kb.users"].by_username("admin")
    wiki.rename(admin, AGADEZ, "agadez-children", None)
    assert drafting.free_slug(wiki, AGADEZ) != AGADEZ  # a derived name silently avoids it
    with pytest.raises(InvalidNote):
        drafting.check_new_slug(AGADEZ, wiki)
    assert drafting.check_new_slug("agadez-children", wiki) == "agadez-children"
    drafting.check_new_slug(AGADEZ, wiki, renaming="agadez-children")  # renaming the note back is fine
    env = {k: v for k, v in site_config(site).items() if k.startswith("KB_")}
    runner = CliRunner()
    listed = runner.invoke(cli, ["redirects", "list"], env=env)
    assert f"{AGADEZ} -> agadez-children" in listed.output
    dropped = runner.invoke(cli, ["redirects", "drop", AGADEZ], env=env)
    assert dropped.exit_code == 0, dropped.output
    assert runner.invoke(cli, ["redirects", "drop", AGADEZ], env=env).exit_code == 1
    assert drafting.check_new_slug(AGADEZ, wiki) == AGADEZ
    assert "Free the old name" in git(site / "content", "log", "-1", "--format=%s")


def test_import_gives_a_renamed_notes_old_name_a_free_one(app, site):
    wiki, admin = app.extensions["kb.wiki"], app.extensions["kb.users"].by_username("admin")
    wiki.rename(admin, AGADEZ, "agadez-children", None)
    folder = site / "incoming"
    folder.mkdir()
    (folder / f"{AGADEZ}.md").write_text("---\ntitle: Other\nlanguage: en\n---\nText.\n", encoding="utf-8")
    report = wiki.import_paths([folder])
    assert report.added == [f"{AGADEZ}-2"] and not report.errors


def test_domain_messages_of_the_limits_are_translated(app):
    from kb.web.messages import translate
    messages = [drafting.RENAMED_AWAY]
    for front in ("".join(f"k{i}: v\n" for i in range(51)), "r: [[[[[x]]]]]", "r: " + "x" * 5000,
                  "r: [" + ",".join(["x"] * 600) + "]"):
        try:
            from kb.model import meta_from_dict
            meta_from_dict(yamlio.load(front), app.extensions["kb.wiki"].taxonomy)
        except InvalidNote as exc:
            messages += [m for _, m in exc.problems]
    assert len(messages) == 5
    with app.test_request_context("/", headers={"Cookie": "lang=fr"}):
        assert [m for m in messages if translate(m) == m] == []


# --- sessions ------------------------------------------------------------------------------------------------

def _copy_session(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_sign_out_ends_the_session_on_the_server(app, client, as_user):
    as_user("pat")
    copy = _copy_session(app, client)
    assert copy.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert copy.get("/account").status_code == 302  # the copied cookie no longer signs anyone in


def test_signing_out_in_one_browser_leaves_the_others_signed_in(app, client):
    assert login(client, "pat").status_code == 302
    other = app.test_client()
    assert login(other, "pat").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert other.get("/account").status_code == 200


@pytest.mark.parametrize("column, age, signed_in", [
    ("last_seen", dt.timedelta(minutes=59), True), ("last_seen", dt.timedelta(minutes=61), False),
    ("started", dt.timedelta(hours=11, minutes=59), True), ("started", dt.timedelta(hours=12, minutes=1), False),
])
def test_sessions_expire_when_idle_and_with_age(app, client, as_user, column, age, signed_in):
    as_user("pat")
    users = app.extensions["kb.users"]
    with users.db.writing() as session:
        session.execute(update(SignIn).values({column: dt.datetime.now(dt.timezone.utc) - age}))
    assert (client.get("/account").status_code == 200) is signed_in


def test_session_limits_are_settings(site):
    from kb import config
    values = config.load({**site_config(site), "KB_SESSION_IDLE_MINUTES": "5", "KB_SESSION_MAX_HOURS": "1"})
    assert (values["KB_SESSION_IDLE_MINUTES"], values["KB_SESSION_MAX_HOURS"]) == (5, 1)
    with pytest.raises(ValueError, match="KB_SESSION_MAX_HOURS"):
        config.load({**site_config(site), "KB_SESSION_MAX_HOURS": "soon"})


def test_the_sign_ins_table_is_added_to_an_existing_database(tmp_path):
    import sqlite3
    from kb.users import UserStore
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # an accounts database from before sign-ins were kept
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(40) UNIQUE, display_name "
                   "VARCHAR(80), email VARCHAR(254), role VARCHAR(20), regions_csv TEXT, active BOOLEAN, "
                   "password_hash VARCHAR(255), session_version INTEGER, created DATETIME)")
        db.execute("INSERT INTO users VALUES (1, 'old', 'Old', NULL, 'admin', '', 1, 'x', 1, '2026-01-01')")
    store = UserStore(f"sqlite:///{path}")
    store.create_all()
    key = store.sign_ins.start(1, dt.timedelta(hours=1))
    assert store.sign_ins.check(key, 1, dt.timedelta(minutes=5), dt.timedelta(hours=1))
    assert store.by_username("old").username == "old"
    store.dispose()


# --- bodies that once made a renderer step super-linear ---------------------------------------------------------

@pytest.mark.parametrize("body", [
    "```x\n" * 20_000,                        # fence lines that open no block (a lazy regex ran to the end each)
    "`" * 20_000,                             # one long run of backticks
    "".join("`" * k + "a" for k in range(600, 0, -1)),  # runs that close nothing
    "<a" * 50_000,                            # tag starts that never close
    "http://x.org\n\n<" * 4_000,              # the same, as Markdown's HTML extractor meets them
    "[x" * 50_000, "[^" * 50_000, "[a](" * 50_000, "![a](" * 50_000,  # link starts that never close
    "[a]: http://x\n`<!--\n" * 2_048,         # one long block split again and again
    "&#x41;" * 16_384,                        # entities
], ids=lambda body: repr(body[:14]))
def test_pathological_bodies_render_index_and_link_in_bounded_time(body):
    from kb.render import Renderer
    renderer = Renderer()
    start = time.perf_counter()
    html = renderer.render(body, lambda slug: None).html
    renderer.plain_text(body)
    renderer.links(body)
    assert time.perf_counter() - start < 2.0
    assert "<script" not in html


def test_links_still_skip_code_fences_and_spans():
    from kb.render import Renderer
    body = "a [[one]] `[[no]]` b ``x [[no]]` y`` [[two]]\n```py\n[[no]]\n```\n~~~\n[[no]]\n~~~\n```x\n[[three]]"
    assert Renderer().links(body) == ["one", "two", "three"]
