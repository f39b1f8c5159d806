"""Offline region packs: the notes of a region a reader may read, as a static HTML site in a zip.

The pack opens from the file system with no server: ``index.html`` lists the notes, ``notes/<slug>.html``
holds one note each (wiki links between included notes point at each other's files; links to notes
left out are shown as missing), ``kb.css`` is the site's stylesheet, and ``offline-search.js`` searches
a prebuilt index that ``search-index.js`` sets as a global (a page opened from ``file://`` may not
``fetch()`` a JSON file, but it may load a script). Everything sits in one folder, ``kb-<region>/``,
so unzipping never scatters files.

Notes are chosen through the wiki service, with the same policy as every page and search. A pack is
public unless asked otherwise: by default it holds what the anonymous public may read (public, published
notes), whoever builds it. An internal pack (``internal=True``) holds what ``reader`` may read; every page
of it says "Not for public sharing" at the top, marks the notes that are not public and published, and
its folder ends in ``-internal``. No Flask here: the pages are
rendered with Jinja directly, and their interface strings go through the same gettext catalogs.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable

from babel.dates import format_date
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader

from .errors import KbError, NoteNotFound
from .model import Note
from .search import SearchQuery, textnorm
from .store import content_hash
from .taxonomy import LANGUAGES, Place

if TYPE_CHECKING:  # the service calls the exporter (Wiki.build_pack), never the other way round
    from .wiki import Wiki

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE.parent / "templates" / "export"
STATIC = PACKAGE / "static"
TRANSLATIONS = PACKAGE / "translations"
ASSETS = ("kb.css", "offline-search.js")
MAX_NOTES = 2000
RTL = {"ar"}
_AR_ARTICLES = ("وال", "بال", "كال", "فال", "ال", "لل")  # as offline-search.js strips them
_WIKILINK = re.compile(r'<a class="wikilink" href="/notes/([a-z0-9-]+)">')  # to an included note
_NOTE_HREF = re.compile(r'(\s(?:href|src)=")/notes/([a-z0-9-]+)(?=["#])')
_ROOT_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


class ExportError(KbError):
    """The pack cannot be made as asked (unknown region, topic or language)."""


@dataclass
class PackReport:
    folder: str  # the pack's top folder inside the zip
    slugs: list[str] = field(default_factory=list)  # included notes, newest first
    truncated: bool = False  # more than MAX_NOTES matched; the newest were kept
    internal: bool = False  # holds what the reader may read, not only public notes


def text_dir(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def resolve_place(wiki: "Wiki", name: str) -> Place:
    """A region or country by name (any case) or slug; ExportError otherwise."""
    tax = wiki.taxonomy
    canonical = tax.canonical_place(name)
    place = tax.places.get(canonical) if canonical else tax.by_slug(name.strip().lower())
    if place is None:
        raise ExportError(f"Unknown region or country {name!r}; see content/taxonomy.yml.")
    return place


def select_notes(wiki: "Wiki", reader: Any, place: Place, topics: Iterable[str] = (),
                 languages: Iterable[str] = ()) -> tuple[list[Note], bool]:
    """The notes of a place (and topics, languages) this reader may read, newest first, and whether cut."""
    topics, languages = list(topics), list(languages)
    for t in topics:
        if t not in wiki.taxonomy.topics:
            raise ExportError(f"Unknown topic {t!r}; one of {', '.join(wiki.taxonomy.topics)}.")
    for lang in languages:
        if lang not in LANGUAGES:
            raise ExportError(f"Unknown language {lang!r}; one of {', '.join(LANGUAGES)}.")
    notes: list[Note] = []
    seen: set[str] = set()
    page = 1
    while len(notes) <= MAX_NOTES:
        results = wiki.search(reader, SearchQuery(places=[place.name], topics=topics, languages=languages,
                                                  sort="newest", per_page=100, page=page))
        for hit in results.hits:
            if hit.slug in seen:
                continue
            seen.add(hit.slug)
            try:
                note = wiki.get_note(reader, hit.slug)  # the policy again, on the file as it is now
            except NoteNotFound:
                continue
            if _matches(wiki, note, place, topics, languages):
                notes.append(note)
        if not results.hits or page * results.query.per_page >= results.total:
            break
        page += 1
    return notes[:MAX_NOTES], len(notes) > MAX_NOTES


def _matches(wiki: "Wiki", note: Note, place: Place, topics: list[str], languages: list[str]) -> bool:
    """The filters again, on the file (the index may lag behind a change)."""
    return (place.name in wiki.taxonomy.places_of(note.meta.regions)
            and (not topics or bool(set(topics) & set(note.meta.topics)))
            and (not languages or note.meta.language in languages))


def search_tokens(text: str) -> list[str]:
    """Words folded as offline-search.js folds a query: normalised, accents off, Arabic article off too."""
    out: dict[str, None] = {}
    for word in textnorm.words(text):
        word = textnorm.fold(word)
        out[word] = None
        if textnorm.has_arabic(word):
            for article in _AR_ARTICLES:
                if word.startswith(article) and len(word) - len(article) >= 2:
                    out[word[len(article):]] = None
                    break
    return list(out)


def _body_html(wiki: "Wiki", note: Note, titles: dict[str, str], base_url: str | None) -> tuple[str, str]:
    """The note's sanitised HTML and TOC, links rewritten for the pack; ``titles`` are the included notes."""
    key = note.slug + ":" + content_hash(note.body.encode("utf-8"))  # shares the wiki's render cache
    # notes left out of the pack are shown as missing (no link to follow, no name), as on the site;
    # its files/<name> links lead to the copies in the pack (files/<slug>/<name>)
    rendered = wiki.renderer.render(note.body, titles.get, cache_key=key,
                                    missing=wiki.missing_link_text(note.meta.language),
                                    files_base=f"../files/{note.slug}/")
    html = _WIKILINK.sub(lambda m: f'<a class="wikilink" href="{m.group(1)}.html">', rendered.html)
    html = _NOTE_HREF.sub(lambda m: m.group(1) + (f"{m.group(2)}.html" if m.group(2) in titles
                                                  else f"/notes/{m.group(2)}"), html)
    if base_url:
        html = _ROOT_RELATIVE.sub(lambda m: m.group(1) + base_url.rstrip("/") + "/", html)
    return html, rendered.toc


class _Pages:
    """The pack's Jinja environment, in one interface language."""

    def __init__(self, wiki: "Wiki", ui_lang: str):
        self.wiki, self.ui_lang = wiki, ui_lang if ui_lang in LANGUAGES else "en"
        self.env = Environment(loader=FileSystemLoader([str(TEMPLATES), str(TEMPLATES.parent)]), autoescape=True,
                               extensions=["jinja2.ext.i18n"], trim_blocks=False)
        catalog = Translations.load(str(TRANSLATIONS), [self.ui_lang], "messages")
        self.gettext = catalog.gettext
        self.env.install_gettext_translations(catalog, newstyle=True)
        self.env.globals.update(label=self.label, fmt_date=self.date, text_dir=text_dir,
                                ui_lang=self.ui_lang, ui_dir=text_dir(self.ui_lang))

    def label(self, kind: str, key: str) -> str:
        return self.wiki.taxonomy.label(kind, key, self.ui_lang)

    def date(self, value: dt.datetime | None) -> str:
        return format_date(value, format="medium", locale=self.ui_lang) if value else ""

    def render(self, name: str, **context: Any) -> bytes:
        return self.env.get_template(name).render(**context).encode("utf-8")


def build_pack(wiki: "Wiki", reader: Any, region: str, out: BinaryIO, topics: Iterable[str] = (),
               languages: Iterable[str] = (), ui_lang: str = "en", base_url: str | None = None,
               internal: bool = False) -> PackReport:
    """Write the zip of a region's public notes to ``out`` (``internal``: what ``reader`` may read).

    ExportError on bad filters, or when an internal pack is asked for without a signed-in reader.
    """
    if internal and not (getattr(reader, "is_authenticated", False) and getattr(reader, "active", True)):
        raise ExportError("An internal pack needs a signed-in reader (the account whose notes it holds).")
    place = resolve_place(wiki, region)
    topics, languages = list(topics), list(languages)
    notes, truncated = select_notes(wiki, reader if internal else None, place, topics, languages)
    titles = {n.slug: n.meta.title for n in notes}
    folder = "-".join(["kb", place.slug, *topics, *languages, *(["internal"] if internal else [])])
    pages = _Pages(wiki, ui_lang)
    now = dt.datetime.now(dt.timezone.utc)
    pack = {"place": place, "topics": topics, "languages": languages, "made": now, "truncated": truncated,
            "base_url": base_url.rstrip("/") + "/" if base_url else None, "internal": internal}
    entries, files = [], {}
    for note in notes:
        html, toc = _body_html(wiki, note, titles, base_url)
        updated = note.meta.updated or note.meta.created
        translations = {lang: s for lang, s in note.meta.translations.items() if s in titles and s != note.slug}
        attached = wiki.files.infos(note.slug)  # the note's files go with it
        for item in attached:
            files[f"files/{note.slug}/{item.name}"] = wiki.files.path(note.slug, item.name).read_bytes()
        files[f"notes/{note.slug}.html"] = pages.render("note.html", root="../", note=note, body=html, toc=toc,
                                                        updated=updated, translations=translations, pack=pack,
                                                        attachments=attached)
        entries.append({"note": note, "updated": updated})
    # counted as the place's page counts them: a note and its translations are one (the rest are "more")
    groups = len({min([note.slug, *(s for s in note.meta.translations.values() if s in titles)]) for note in notes})
    files["index.html"] = pages.render("index.html", root="", entries=entries, pack=pack, groups=groups)
    files["search-index.js"] = _search_index(wiki, notes)
    if internal:  # the data file says so too, for whoever opens it alone
        warning = f"/* {pages.gettext('Not for public sharing')} */\n".encode("utf-8")
        files["search-index.js"] = warning + files["search-index.js"]
    for asset in ASSETS:
        files[asset] = (STATIC / asset).read_bytes()
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("index.html", *ASSETS, "search-index.js", *sorted(n for n in files if n.startswith("notes/")),
                     *sorted(n for n in files if n.startswith("files/"))):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.external_attr = 0o644 << 16
            # photos and PDFs are compressed already: stored as they are, the zip is made faster
            info.compress_type = zipfile.ZIP_STORED if name.startswith("files/") else zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    return PackReport(folder=folder, slugs=[n.slug for n in notes], truncated=truncated, internal=internal)


def estimate_size(wiki: "Wiki", reader: Any, region: str, topics: Iterable[str] = (),
                  languages: Iterable[str] = (), internal: bool = False) -> int:
    """About how many bytes the pack will be, before it is made: its notes' files, their attachments (stored
    as they are) and the pack's own scripts and styles."""
    if internal and not (getattr(reader, "is_authenticated", False) and getattr(reader, "active", True)):
        return 0
    notes, _cut = select_notes(wiki, reader if internal else None, resolve_place(wiki, region), topics, languages)
    size = sum((STATIC / asset).stat().st_size for asset in ASSETS)
    for note in notes:
        size += 2 * len(note.body.encode("utf-8")) + 2048  # the page around it, and its words in the search file
        size += sum(item.size for item in wiki.files.infos(note.slug))
    return size


def _search_index(wiki: "Wiki", notes: list[Note]) -> bytes:
    """search-index.js: one global with each note's title, summary and folded words."""
    docs = []
    for note in notes:
        title_words = search_tokens(note.meta.title)
        in_title = set(title_words)
        other = search_tokens(" ".join([note.meta.summary, wiki.renderer.plain_text(note.body),
                                        *(words for _name, words in wiki.files.texts(note.slug))]))
        docs.append({"s": note.slug, "t": note.meta.title, "l": note.meta.language,
                     "m": textnorm.excerpt(note.meta.summary, 300) if note.meta.summary else "",
                     "w": " ".join(title_words), "x": " ".join(w for w in other if w not in in_title)})
    data = json.dumps({"version": 1, "notes": docs}, ensure_ascii=False, separators=(",", ":"))
    return ("window.KB_SEARCH_INDEX = " + data + ";\n").encode("utf-8")
