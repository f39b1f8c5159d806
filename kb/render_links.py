"""Links to notes in rendered HTML and in Markdown source: which note a URL leads to (relative, or absolute
on any host, under /notes/ or /api/notes/), and masking the ones a reader may not open, so that a hidden
note's name shows nowhere (page, snippet, feed, pack, source). Regular expressions only; the Renderer mixes
this in. No markdown or bleach here."""
from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Callable
from urllib.parse import unquote, urljoin, urlsplit

from .model import slugify

# [[target]] or [[target|label]]; \x02/\x03 are Markdown's own placeholders, never part of a link.
# [[target|]] (an empty label) is a link without a label.
WIKILINK_RE = re.compile(r"\[\[([^\[\]|\n\x02\x03]{1,200})(?:\|([^\[\]\n\x02\x03]{0,300}))?\]\]")

_ATTACHMENT_RE = re.compile(r"(?:\./)?files/[^/\\?#]*$")
_IGNORED_IN_URLS = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+|[^\x00-\x7f]")


def _squash(url: str) -> str:
    """The URL as a browser reads its start: entities decoded, blanks and controls dropped, lowercase."""
    return _IGNORED_IN_URLS.sub("", html.unescape(url)).lower()


def _scheme(url: str) -> str | None:
    """The URL's scheme ('' for relative), None when unparseable."""
    try:
        return urlsplit(_squash(url)).scheme
    except ValueError:
        return None


def _is_external(href: str) -> bool:
    # '//host' and '/\host' are protocol-relative to browsers.
    return _scheme(href) in ("http", "https") or _squash(href)[:2] in ("//", "/\\", "\\\\", "\\/")


class NoteLinks:
    """Finding and masking note links; needs ``link_base`` and ``base_url`` attributes."""

    link_base: str
    base_url: str

    def _note_path_slug(self, path: str) -> str | None:
        """The slug of a site path under /notes/ or /api/notes/ (after KB_BASE_URL's path, if any)."""
        try:
            prefix = urlsplit(self.base_url or "").path.rstrip("/")
        except ValueError:
            prefix = ""
        for root in dict.fromkeys([prefix, ""]):
            for under in (self.link_base, "/api" + self.link_base):
                if path.startswith(root + under):
                    return slugify(unquote(path[len(root + under):].split("/", 1)[0])) or None
        return None

    def _mask_urls(self, text: str, hidden: Callable[[str], bool]) -> str:
        """``text`` with the slug of every note URL (relative or absolute, any host) hidden replaced by '…'."""
        def one(m: re.Match) -> str:
            slug = slugify(unquote(html.unescape(m.group(2))))
            return m.group(1) + "\u2026" if slug and hidden(slug) else m.group(0)
        return self._url_re().sub(one, text)

    def _url_re(self) -> re.Pattern:
        try:
            return _note_url_re(urlsplit(self.base_url or "").path.rstrip("/"))
        except ValueError:
            return _NOTE_URL_RE

    def _note_slug(self, href: str) -> str | None:
        """The note a sanitised href/src leads to from a note page, else None: relative links, and absolute
        http(s) or protocol-relative URLs on any host whose path is under /notes/ or /api/notes/."""
        url = html.unescape(href)
        if not url or url.startswith("#"):
            return None
        scheme = _scheme(url)
        try:
            if scheme in ("http", "https") or (scheme == "" and _is_external(url)):
                path = urlsplit(_squash(url).replace("\\", "/")).path
            elif scheme == "":
                if _ATTACHMENT_RE.match(url.strip()):  # files/<name>: the note's own attachment, no other note
                    return None
                path = urlsplit(urljoin(self.link_base + "_", url.strip())).path
            else:
                return None
        except ValueError:
            return None
        return self._note_path_slug(path)

    def mask_links(self, source: str, readable: Callable[[str], bool]) -> str:
        """Markdown source with the names of linked notes the reader may not open replaced by an ellipsis.

        ``[[slug]]`` becomes ``[[…]]``, ``[[slug|label]]`` keeps its label, and note URLs (``/notes/slug``,
        relative link destinations, href/src values) lose the slug; for readers who may not edit the note.
        """
        seen: dict[str, bool] = {}

        def hidden(slug: str | None) -> bool:
            if not slug:
                return False
            if slug not in seen:
                seen[slug] = not readable(slug)
            return seen[slug]

        def wiki(m: re.Match) -> str:
            if not hidden(slugify(html.unescape(m.group(1)).strip())):
                return m.group(0)
            return "[[\u2026" + ("" if m.group(2) is None else "|" + m.group(2)) + "]]"

        def destination(m: re.Match) -> str:
            url = m.group(2)
            if url.startswith("<") and url.endswith(">"):
                url = url[1:-1]
            return m.group(1) + "\u2026" if hidden(self._note_slug(url)) else m.group(0)

        def note_path(m: re.Match) -> str:
            return m.group(1) + "\u2026" if hidden(slugify(unquote(m.group(2)))) else m.group(0)

        text = WIKILINK_RE.sub(wiki, source)
        text = _SOURCE_DESTINATION_RE.sub(destination, text)
        base = re.escape(self.link_base)
        return re.sub(r"(" + base + r")([^\s/?#()\[\]<>\"'|]+)", note_path, text)

    def _note_links(self, body_html: str) -> tuple[tuple[int, int, str, str], ...]:
        """Anchors leading to a note: (start, end, slug, the anchor without its target)."""
        found = []
        for a in _ANCHOR_RE.finditer(body_html):
            href = _HREF_RE.search(a.group(1))
            slug = self._note_slug(href.group(1)) if href else None
            if slug:
                found.append((a.start(), a.end(), slug, f'<a class="wikilink missing">{a.group(2)}</a>'))
        return tuple(found)

    def _mask_images(self, body_html: str, hidden: Callable[[str], bool]) -> str:
        """Images whose src is a note the reader may not open (its page, its raw source) lose their src."""
        def one(m: re.Match) -> str:
            src = _SRC_RE.search(m.group(1))
            slug = self._note_slug(src.group(1)) if src else None
            return "<img" + _SRC_RE.sub("", m.group(1)) + ">" if slug and hidden(slug) else m.group(0)
        return _IMG_RE.sub(one, body_html)


# Sanitised anchors (they never nest) and their href; a link destination or href/src value in source.
_ANCHOR_RE = re.compile(r'<a((?:\s[^\s="<>]+(?:="[^"]*")?)*)>(.*?)</a>', re.S)  # bleach quotes with "
_HREF_RE = re.compile(r'(?:^|\s)href="([^"]*)"')
_IMG_RE = re.compile(r'<img((?:\s[^\s="<>/]+(?:="[^"]*")?)*)\s*/?>')
_SRC_RE = re.compile(r'\ssrc="([^"]*)"')
_IMG_SRC_RE = re.compile(r'<img\s[^<>]*?\bsrc="([^"]*)"')


@lru_cache(maxsize=8)
def _note_url_re(prefix: str = "") -> re.Pattern:
    """A note URL written anywhere (text, attribute): relative (/notes/slug or /api/notes/slug, not inside
    another path) or absolute on any host (http(s)://host/notes/slug, //host/notes/slug), optionally after
    the site's path ``prefix`` (KB_BASE_URL's); group 2 is the slug."""
    under = "(?:" + re.escape(prefix) + ")?" if prefix else ""
    return re.compile(r"((?:(?:\bhttps?:)?//[^\s/?#\"'<>()\[\]|]+|(?<![\w/~%-]))" + under + r"(?:/api)?/notes/)"
                      r"([^\s/?#()\[\]<>\"'|&]+)", re.I)


_NOTE_URL_RE = _note_url_re()
_SOURCE_DESTINATION_RE = re.compile(
    r"(\]\(\s*|^[ \t]*\[[^\]\n]+\]:[ \t]*|\b(?:href|src)\s*=\s*[\"']?)(<[^>\n]*>|[^\s)\"'<>]+)", re.M | re.I)
