"""Front matter: every error path, defaults, unknown keys kept, slug rules."""
import datetime as dt
import re
from pathlib import Path

import pytest

from kb.errors import InvalidNote, InvalidSlug
from kb.model import SLUG_MAX, Note, check_slug, dump_note, parse_note, slugify
from kb.taxonomy import Taxonomy

TAX = Taxonomy.load(Path(__file__).resolve().parent.parent / "content" / "taxonomy.yml")


def note_text(fm: str, body: str = "Body text.\n") -> str:
    return f"---\n{fm}\n---\n{body}"


def test_minimal_note_gets_defaults():
    note = parse_note("a", note_text("title: Hello\nlanguage: en"), TAX)
    assert note.meta.title == "Hello"
    assert (note.meta.status, note.meta.visibility) == ("published", "public")
    assert note.meta.regions == [] and note.meta.topics == [] and note.meta.audience == []
    assert note.body == "Body text.\n"


def test_full_note_parses_every_field():
    fm = """title: Registre
language: fr
regions: [Sahel, niger]
topics: [legal-identity, mhpss]
audience: government
visibility: restricted
status: review
summary: Résumé.
authors: [moussa]
created: 2026-01-02
updated: 2026-03-04T10:00:00Z
translations: {en: registry}"""
    m = parse_note("registre-fr", note_text(fm), TAX).meta
    assert m.regions == ["Sahel", "Niger"]  # case-insensitive, canonical spelling
    assert m.audience == ["government"]
    assert m.updated == dt.datetime(2026, 3, 4, 10, tzinfo=dt.timezone.utc)
    assert m.created.date() == dt.date(2026, 1, 2)
    assert m.translations == {"en": "registry"}


@pytest.mark.parametrize("text, field", [
    ("no front matter", "front matter"),
    ("---\ntitle: x\nlanguage: en\n", "front matter"),            # unclosed
    ("---\ntitle: [unclosed\n---\n", "front matter"),             # invalid YAML
    ("---\n- a list\n---\n", "front matter"),                     # not a mapping
    (note_text("language: en"), "title"),
    (note_text("title: ''\nlanguage: en"), "title"),
    (note_text("title: x"), "language"),
    (note_text("title: x\nlanguage: de"), "language"),
    (note_text("title: x\nlanguage: en\nregions: [Atlantis]"), "regions"),
    (note_text("title: x\nlanguage: en\nregions: {a: 1}"), "regions"),
    (note_text("title: x\nlanguage: en\ntopics: [cooking]"), "topics"),
    (note_text("title: x\nlanguage: en\naudience: [aliens]"), "audience"),
    (note_text("title: x\nlanguage: en\nvisibility: secret"), "visibility"),
    (note_text("title: x\nlanguage: en\nstatus: done"), "status"),
    (note_text("title: x\nlanguage: en\nsummary: [1, 2]"), "summary"),
    (note_text("title: x\nlanguage: en\ncreated: yesterday"), "created"),
    (note_text("title: x\nlanguage: en\nupdated: 2026-13-45"), "updated"),
    (note_text("title: x\nlanguage: en\ntranslations: [fr]"), "translations"),
    (note_text("title: x\nlanguage: en\ntranslations: {de: x}"), "translations"),
    (note_text("title: x\nlanguage: en\ntranslations: {fr: ../etc}"), "translations"),
    (note_text("title: !!python/object/apply:os.system ['echo hi']\nlanguage: en"), "front matter"),
])
def test_front_matter_errors_name_file_and_field(text, field):
    with pytest.raises(InvalidNote) as info:
        parse_note("bad-note", text, TAX)
    assert info.value.source == "bad-note.md"
    assert field in [f for f, _ in info.value.problems]
    assert "bad-note.md" in str(info.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidNote) as info:
        parse_note("x", note_text("title: ''\nlanguage: xx\ntopics: [nope]"), TAX)
    assert {f for f, _ in info.value.problems} == {"title", "language", "topics"}


def test_unknown_keys_survive_a_save_exactly():
    fm = "title: T\nlanguage: en\nsource: 'IFRCGo/ecv:app/x.md'\nlicense: CC-BY-SA-4.0\nsource_front_matter:\n  a: 1\n  b: [x, y]"
    note = parse_note("t", note_text(fm), TAX)
    again = parse_note("t", dump_note(note), TAX)
    assert again.meta.extra == {"source": "IFRCGo/ecv:app/x.md", "license": "CC-BY-SA-4.0",
                                "source_front_matter": {"a": 1, "b": ["x", "y"]}}
    assert again.meta == note.meta and again.body == note.body


def test_dump_round_trips_arabic_and_dates():
    fm = "title: الحماية\nlanguage: ar\nupdated: 2026-03-04T10:00:00Z\ncreated: 2026-01-02"
    note = parse_note("ar-x", note_text(fm, "نص\n"), TAX)
    text = dump_note(note)
    assert "الحماية" in text  # not escaped
    assert parse_note("ar-x", text, TAX).meta == note.meta


@pytest.mark.parametrize("slug", ["a", "mobile-courts-2026", "x" * 120, "a1-b2"])
def test_good_slugs(slug):
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "..", "../etc/passwd", "a/b", "A", "Note", "a b", "-a", "a-", "a--b",
                                  "x" * 121, "é", "a.md", "a\x00b", None, 5])
def test_bad_slugs_are_refused_with_a_message(slug):
    with pytest.raises(InvalidSlug) as info:
        check_slug(slug)
    assert str(info.value)


@pytest.mark.parametrize("text, slug", [
    ("ifrc-ecv/en/Action_01", "ifrc-ecv-en-action-01"),
    ("  Hello,  World!! ", "hello-world"),
    ("Réintégration", "reintegration"),
    ("Déclaration des naissances à Tillabéri", "declaration-des-naissances-a-tillaberi"),
    ("Œuvre d’État", "oeuvre-detat"),
    ("x" * 200, "x" * 120),
])
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_arabic_titles_get_a_readable_latin_name():
    slug = slugify("تسجيل المواليد في النيجر")
    assert check_slug(slug) == slug and slug not in ("", "note")
    assert slug.startswith("tsjyl") and len(slug.split("-")) == 4  # one word for each Arabic word


@pytest.mark.parametrize("text", ["birth-registration-mobile-courts-iraq", "Safe house / referral (2027)",
                                  "a_b__c", "  Hello,  World!! ", "x-" * 80, "It's 100% done & more"])
def test_ascii_names_keep_the_old_rule_so_existing_links_resolve(text):
    old = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_MAX].rstrip("-")
    assert slugify(text) == old


def test_note_dataclass_keeps_revision_optional():
    assert Note("a", parse_note("a", note_text("title: a\nlanguage: en"), TAX).meta, "").revision is None
