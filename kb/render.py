"""Markdown -> HTML -> bleach allow-list; wiki links; plain text and excerpts (the only markdown/bleach import).

One sanitiser runs over the whole rendered output, so raw HTML, Markdown links and extension output all
pass the same allow-list. tests/test_render.py holds the attack table any replacement (e.g. nh3) must pass.
Bodies past the size guards of :mod:`kb.render_limits` are shown as escaped preformatted text.
"""
from __future__ import annotations

import hashlib
import html
import logging
import re
import secrets
import threading
import xml.etree.ElementTree as etree
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import bleach
import markdown
from bleach.html5lib_shim import Filter
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

from .model import slugify
from .render_links import _IMG_SRC_RE, _NOTE_URL_RE, WIKILINK_RE, NoteLinks, _is_external, _note_url_re, _scheme
from .render_limits import TooComplex, check_complexity, split_blocks, without_code

log = logging.getLogger(__name__)

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TAGS = _HEADINGS | {"p", "br", "hr", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
                    "table", "thead", "tbody", "tr", "th", "td", "img", "sup", "div", "del", "abbr", "span"}
PROTOCOLS = {"http", "https", "mailto"}
_CLASSES = {"a": {"footnote-ref", "footnote-backref"}, "div": {"footnote", "toc"}}
_DIR_TAGS = {"p", "div", "span", "blockquote", "li", "td", "th"}
_ID_RE = {"h": re.compile(r"h-[\w-]*"), "li": re.compile(r"fn:[\w.:-]+"), "sup": re.compile(r"fnref\d*:[\w.:-]+")}

# What a link to a note the reader may not open says when the writer gave no label (callers translate it).
MISSING_LINK_TEXT = "unavailable note"

# C0 controls other than tab/newline/carriage return: invalid in HTML, and \x02/\x03 are Markdown's stash.
_CONTROLS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")




@dataclass
class Rendered:
    html: str        # safe, sanitised HTML of the body
    toc: str         # safe HTML of the table of contents ('' when the note has fewer than 2 headings)
    links: list[str] = field(default_factory=list)  # wiki-link targets, in order of first appearance


@dataclass(frozen=True)
class _Entry:
    """One cached render: sanitised HTML with wiki links still as nonce-marked placeholders."""
    html: str
    toc: str
    nonce: str
    wikilinks: tuple[tuple[str, str | None, str], ...]  # (slug, label or None, target as written)
    links: tuple[str, ...]
    placeholder: re.Pattern | None = None  # matches this entry's placeholders
    # Markdown or HTML links to a note page, checked per reader: (start, end, slug, the masked anchor) in ``html``
    note_links: tuple[tuple[int, int, str, str], ...] = ()
    source: str | None = None  # a body shown as preformatted text: masked per reader, then escaped
    note_urls: bool = False  # whether the HTML or TOC holds a note URL written out (masked per reader)
    note_images: bool = False  # whether an image's src is a note's URL (dropped per reader)


def _allow_attr(tag: str, name: str, value: str) -> bool:
    """The attribute allow-list; bleach also checks href/src against PROTOCOLS after this."""
    if name == "id":
        rule = _ID_RE.get("h" if tag in _HEADINGS else tag)
        return bool(rule and rule.fullmatch(value))
    if name == "class":
        return value in _CLASSES.get(tag, ())
    if name == "dir":
        return tag in _DIR_TAGS and value in ("ltr", "rtl", "auto")
    if tag == "a":
        return name == "title" or (name == "href" and _scheme(value) in PROTOCOLS | {""})
    if tag == "img":
        return name in ("alt", "title") or (name == "src" and _scheme(value) in ("https", ""))
    if tag == "abbr":
        return name == "title"
    if tag == "ol":
        return name == "start" and value.isdigit() and len(value) < 10
    if tag in ("td", "th"):
        return name == "align" and value in ("left", "center", "right")
    return False


class _ExternalLinks(Filter):
    """After sanitising: external links get rel="nofollow noopener"; no other rel survives."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                attrs = token.get("data") or {}
                attrs.pop((None, "rel"), None)
                if _is_external(attrs.get((None, "href"), "")):
                    attrs[(None, "rel")] = "nofollow noopener"
                token["data"] = attrs
            yield token


def _sanitise(pieces: list[str]) -> str:
    # A Cleaner per call: it is not thread-safe, and building one costs ~20 µs. Each piece is a run of
    # whole top-level elements; sanitised output is closed and escaped, so the pieces join safely.
    cleaner = bleach.Cleaner(tags=TAGS, attributes=_allow_attr, protocols=PROTOCOLS, strip=True,
                             strip_comments=True, filters=[_ExternalLinks])
    return "".join(cleaner.clean(piece) for piece in pieces)


class _WikiLinks(InlineProcessor):
    """Turns [[target|label]] into <a title="wl-NONCE-i">, resolved per reader after the cache."""

    def __init__(self, nonce: str, md: markdown.Markdown):
        super().__init__(WIKILINK_RE.pattern, md)
        self.nonce = nonce
        self.found: list[tuple[str, str | None, str]] = []

    def handleMatch(self, m, data):  # noqa: N802 (Markdown's name)
        written = html.unescape(m.group(1)).strip()
        label = html.unescape(m.group(2) or "").strip() or None
        slug = slugify(written)
        if not slug:
            return None, None, None
        el = etree.Element("a", title=f"wl-{self.nonce}-{len(self.found)}")
        # the label only: a heading id or table of contents built from this text is the same for every
        # reader, so it must never hold the target's name (resolved per reader after the cache)
        el.text = AtomicString(label or "")
        self.found.append((slug, label, written))
        return el, m.start(0), m.end(0)


def _heading_id(value: str, separator: str) -> str:
    # The prefix keeps ids from clobbering DOM globals (id="location", id="forms"...).
    # the same for every reader: a note URL written in a heading gives no note's name to its id
    return "h-" + slugify_unicode(_note_url_re().sub(r"\1", value), separator)


def _clean_input(body: str) -> str:
    text = _CONTROLS_RE.sub("", body)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot be served
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _count(tokens: list[dict]) -> int:
    return sum(1 + _count(t["children"]) for t in tokens)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


class Renderer(NoteLinks):
    """Renders note bodies to safe HTML; the expensive part is cached, wiki links resolve per reader."""

    def __init__(self, link_base: str = "/notes/", cache_size: int = 1024, base_url: str = ""):
        self.link_base = link_base
        # The site's own address (KB_BASE_URL): its path, when kb is served under one, also prefixes note URLs.
        # Any absolute URL whose path starts with /notes/<slug> or /api/notes/<slug> counts as a note link
        # anyway, whatever its host: a link to a note the reader may not open is hidden, when in doubt.
        self.base_url = base_url
        self.cache_size = cache_size
        self.markdown_runs = 0  # how many bodies went through Markdown + bleach (cache misses)
        self._cache: OrderedDict[tuple[str, bytes], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, body: str, resolve: Callable[[str], str | None], cache_key: str | None = None,
               missing: str = MISSING_LINK_TEXT, files_base: str | None = None) -> Rendered:
        """Safe HTML, TOC and link targets; resolve(slug) gives a title the reader may see, else None.
        With ``files_base``, links and images to ``files/<name>`` lead there (the note's attachments).

        A link to a note the reader may not open looks exactly like a link to no note: no href, no name
        of the target, only the writer's label or ``missing`` (a neutral text, translated by the caller).
        """
        entry = self._entry(body, cache_key)
        titles: dict[str, str | None] = {}
        base = html.escape(self.link_base)

        def title_of(slug: str) -> str | None:
            if slug not in titles:
                titles[slug] = resolve(slug)
            return titles[slug]

        def link(m: re.Match) -> str:
            slug, label, _written = entry.wikilinks[int(m.group(1))]
            title = title_of(slug)
            if title is None:  # missing or not readable: the same bytes either way, and no name
                return f'<a class="wikilink missing">{html.escape(label or missing)}</a>'
            return f'<a class="wikilink" href="{base}{slug}">{html.escape(label or title)}</a>'

        body_html = entry.html
        if entry.source is not None:
            body_html = f"<pre>{html.escape(self.mask_links(entry.source, lambda s: title_of(s) is not None))}</pre>"
        if entry.note_links:
            parts, pos = [], 0
            for start, end, slug, masked in entry.note_links:
                if title_of(slug) is None:  # keep the writer's text, drop the target
                    parts += [body_html[pos:start], masked]
                    pos = end
            body_html = "".join(parts) + body_html[pos:] if parts else body_html
        if entry.note_images:
            body_html = self._mask_images(body_html, lambda slug: title_of(slug) is None)
        toc = entry.toc
        if entry.note_urls:  # note URLs written out (autolinks' text, bare URLs, titles): the slug goes
            body_html = self._mask_urls(body_html, lambda slug: title_of(slug) is None)
            toc = self._mask_urls(toc, lambda slug: title_of(slug) is None)
        if entry.placeholder is not None:
            body_html = entry.placeholder.sub(link, body_html)
        if files_base is not None:
            body_html = _FILES_LINK_RE.sub(lambda m: m.group(1) + html.escape(files_base) + m.group(2), body_html)
        return Rendered(html=body_html, toc=toc, links=list(entry.links))

    def links(self, body: str) -> list[str]:
        """Wiki-link targets in order of first appearance, skipping fenced code and code spans."""
        text = without_code(_clean_input(body))  # in linear time: the regexes it replaces were quadratic
        return _unique(s for s in (slugify(m.group(1)) for m in WIKILINK_RE.finditer(text)) if s)

    def plain_text(self, body: str) -> str:
        """Readable plain text (not HTML: escape it to display) for indexing and excerpts; regex-fast."""
        text = _clean_input(body)
        for pattern, repl in _PLAIN_STEPS:
            text = pattern.sub(repl, text)
        if self.base_url:  # note URLs under the site's own path too
            text = re.sub(self._url_re().pattern + r"[^\s()\[\]<>\"']*", " ", text, flags=re.I)
        return " ".join(html.unescape(text).split())

    def clear_cache(self) -> None:
        """Forget every rendered body (after history was rewritten, nothing of the old texts may stay)."""
        with self._lock:
            self._cache.clear()

    # --- the cached part -------------------------------------------------------------------------

    def _entry(self, body: str, cache_key: str | None) -> _Entry:
        if cache_key is None or self.cache_size <= 0:
            return self._build(body)
        # The body's digest joins the key, so a caller's stale key can never serve another text.
        key = (cache_key, hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
                return entry
        entry = self._build(body)
        with self._lock:
            self._cache[key] = entry
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return entry

    def _build(self, body: str) -> _Entry:
        with self._lock:
            self.markdown_runs += 1
        text = _clean_input(body)
        nonce = secrets.token_hex(8)
        try:
            check_complexity(text)
            # A fresh instance per call: instances are not thread-safe, and one costs ~0.3 ms
            # against ~4 ms for converting an average corpus note.
            md = markdown.Markdown(output_format="html", extensions=[
                TableExtension(use_align_attribute=True), FencedCodeExtension(), FootnoteExtension(),
                TocExtension(slugify=_heading_id, marker="", permalink=False), SaneListExtension()])
            wikilinks = _WikiLinks(nonce, md)
            md.inlinePatterns.register(wikilinks, "kb_wikilink", 175)  # after code spans and escapes
            body_html = _sanitise(split_blocks(md.convert(text)))
            toc = _sanitise(split_blocks(md.toc)) if _count(md.toc_tokens) >= 2 else ""
        except (RecursionError, TooComplex) as exc:
            log.info("note body shown as plain text: %s", exc)
            return self._as_text(text, nonce)
        except Exception:  # a reader must never get a 500 from a note body; the log keeps the bug
            log.exception("rendering failed; note body shown as plain text")
            return self._as_text(text, nonce)
        # Document order, from the sanitised output (Markdown visits elements in its own order).
        found = tuple(wikilinks.found)
        placeholder = _placeholder_re(nonce) if found else None
        order = [int(m.group(1)) for m in placeholder.finditer(body_html)] if found else []
        return _Entry(body_html, toc, nonce, found, tuple(_unique(found[i][0] for i in order)), placeholder,
                      self._note_links(body_html), note_urls=bool(self._url_re().search(body_html + toc)),
                      note_images=any(self._note_slug(m.group(1)) for m in _IMG_SRC_RE.finditer(body_html)))

    def _as_text(self, text: str, nonce: str) -> _Entry:
        return _Entry("", "", nonce, (), tuple(self.links(text)), source=text)


# href="files/<name>" or src="files/<name>" (optionally ./files/): a note's attachment, written relative
_FILES_LINK_RE = re.compile(r'(\s(?:href|src)=")(?:\./)?files/([a-z0-9]+(?:-[a-z0-9]+)*\.[a-z]{3,4}")')


def _placeholder_re(nonce: str) -> re.Pattern:
    return re.compile(r'<a [^>]*?title="wl-' + nonce + r'-(\d+)"[^>]*>[^<]*</a>')


# a lookahead on the first character lets the regex engine skip most positions at once (same matches): the
# note-URL and inline-marker steps were most of the time of indexing a long note
_PLAIN_STEPS = [(re.compile(p, flags), r) for p, r, flags in [
    (r"^(?:`{3,}|~{3,})[^\n]*$", " ", re.M),                       # fence lines (code stays)
    (r"<!--.*?(?:-->|\Z)", " ", re.S),                             # comments
    (r"<(?:script|style)\b.*?(?:</(?:script|style)\s*>|\Z)", " ", re.S | re.I),
    (r"</?[a-zA-Z][^<>]*>", " ", 0),                                # tags ('<' stops: linear)
    (r"^[ \t]*\[(?!\^)[^\]\n]+\]:[ \t]*\S+.*$", " ", re.M),         # reference definitions
    (r"\[\^[^\[\]\n]+\]:?", "", 0),                                # footnote markers
    (WIKILINK_RE.pattern, lambda m: m.group(2) or " ", 0),  # the label only: never the target's name
    (r"(?=[!\[])!?\[([^\[\]\n]*)\](?:\([^()\n]*\)|\[[^\[\]\n]*\])", r"\1", 0),  # links, images -> their text
    ("(?=[/h])" + _NOTE_URL_RE.pattern + r"[^\s()\[\]<>\"']*", " ", re.I),  # note URLs written out: never a linked name
    (r"^[ \t]*(?:#{1,6}[ \t]|>[ >\t]*|(?:[-*+]|\d{1,9}[.)])[ \t]+)", " ", re.M),  # block markers
    (r"^[ \t]*[-=*_|: \t]{3,}$", " ", re.M),                        # rules, underlines, table rules
    (r"(?=[*`~_])(?:[*`]+|~~|\b_+|_+\b)", "", 0),                    # inline markers, not snake_case
    (r"\|", " ", 0),                                                # table pipes
]]


def excerpt(text: str, length: int = 240) -> str:
    """Plain text cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[:length + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > length // 2 else text[:length]
    return cut.rstrip(" ,;:.-\u2013\u2014") + "\u2026"
