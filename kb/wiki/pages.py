"""What a note page shows besides the note itself, cached: the body rendered for a class of readers, the
backlinks and related notes they may see, the note's translations and its date.

A reader class is what the access policy decides reading by: the clauses of ``access.read_filter`` (every
anonymous reader shares one; a focal point's name their regions and their own name; admins see everything).
Two readers with the same clauses see the same notes, so they are shown the same links, backlinks and related
notes; nothing else about the reader enters the cached part (whether they may edit is asked on each view).

An entry is keyed by the note's name, the hash of its file, the reader class and the state of the redirects
file (renames), and remembers every note it
shows or names (its links, as resolved; backlinks; related notes; translations). When the process's searcher
moves to a newer state of the index, the index tells which notes the commits since touched (the notes
written or removed, and the notes those link to: kb.search.changes); the entries showing or naming one of
them are dropped, and only those. A rebuild, an unreadable change list or a dropped searcher drops
everything. A view computed while a change arrived is not kept. One known staleness, by design: a note
newly *similar* to a cached page's note does not enter its related list until the entry is dropped or
evicted (a related list never shows a note the reader may not see: any note in it that changes drops it).

Bounded: least recently used entries are evicted past MAX_ENTRIES or MAX_BYTES (approximate sizes).
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable

from ..errors import NoteNotFound
from ..model import Note
from ..store import content_hash

if TYPE_CHECKING:
    from . import Wiki

MAX_ENTRIES = 4000
MAX_BYTES = 48 * 1024 * 1024


def reader_class(clauses: Any) -> tuple:
    """A hashable, canonical form of ``access.read_filter`` clauses (None: every note)."""
    if clauses is None:
        return ("all",)
    return tuple(sorted(tuple(sorted((f, tuple(sorted(str(v) for v in values))) for f, values in c.items()))
                        for c in clauses))


def stamp(wiki: "Wiki") -> tuple:
    """What else a page's links depend on: the redirects of renamed notes (a new map, new entries)."""
    try:
        st = os.stat(wiki.redirects.path)
    except OSError:
        return ()
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _size(parts: dict) -> int:
    rendered = parts.get("rendered")
    html = len(getattr(rendered, "html", "") or "") + len(repr(getattr(rendered, "toc", "")))
    hits = sum(len(getattr(h, "summary", "") or "") + 300 for h in (*parts.get("backlinks", ()),
                                                                     *parts.get("related", ())))
    return 2 * html + hits + 1000 + SharedPages.MAX_PAGES * (html + 12_000)  # with whole pages kept beside


class PageCache:
    """The cached parts of note pages; thread-safe; fed by the search index's change notices."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[dict, frozenset[str], int]] = OrderedDict()
        self._by_note: dict[str, set[tuple]] = {}  # a note -> the keys of entries showing or naming it
        self._bytes = 0
        self.epoch = 0  # moves at every drop: a view computed across a drop is not kept
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_build(self, key: tuple, build: Callable[[set[str]], dict]) -> dict:
        """The cached parts for ``key``, or ``build(seen)`` (which adds to ``seen`` every note it shows or
        names), kept unless the index changed meanwhile."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
            epoch = self.epoch
        seen: set[str] = set()
        parts = build(seen)
        with self._lock:
            if epoch == self.epoch and key not in self._entries:
                self._put(key, parts, frozenset(seen | {key[0]}))
        return parts

    def _put(self, key: tuple, parts: dict, deps: frozenset[str]) -> None:
        size = _size(parts)
        self._entries[key] = (parts, deps, size)
        self._bytes += size
        for note in deps:
            self._by_note.setdefault(note, set()).add(key)
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            self._remove(next(iter(self._entries)))

    def _remove(self, key: tuple) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry[2]
        for note in entry[1]:
            keys = self._by_note.get(note)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_note[note]

    def drop(self, touched: set[str] | None) -> None:
        """Drop the entries showing or naming any of these notes (None: every entry)."""
        with self._lock:
            self.epoch += 1
            if touched is None:
                self._entries.clear()
                self._by_note.clear()
                self._bytes = 0
                return
            for note in touched:
                for key in list(self._by_note.get(note, ())):
                    self._remove(key)


def view_parts(wiki: "Wiki", user: Any, note: Note, allowed: Any, seen: set[str]) -> dict:
    """What a note page shows around the note, for this user's reader class (``allowed``, the policy's
    clauses for them); ``seen`` collects every note it shows or names."""
    from . import missing_link_text
    from .attachments import files_base
    updated = wiki.updated_of(note)
    translations, newer = {}, []
    for lang, other_slug in note.meta.translations.items():
        try:
            other = wiki.get_note(user, other_slug)
        except NoteNotFound:
            continue
        if lang != note.meta.language:
            translations[lang] = other_slug
            other_updated = wiki.updated_of(other)
            if updated and other_updated and other_updated.date() > updated.date():
                newer.append(lang)
    seen.update(note.meta.translations.values())

    def resolve(target: str) -> str | None:
        seen.add(target)
        seen.add(wiki.redirects.target(target) or target)
        return wiki.title_if_readable(user, target)
    key = note.slug + ":" + content_hash(note.body.encode("utf-8"))  # as Wiki.render: one Markdown run
    rendered = wiki.renderer.render(note.body, resolve, cache_key=key, missing=missing_link_text(note.meta.language),
                                    files_base=files_base(wiki, note.slug))
    backlinks = wiki.index.backlinks(note.slug, allowed)
    related = wiki.index.related(note.slug, allowed, limit=5)
    seen.update(h.slug for h in (*backlinks, *related))
    return dict(rendered=rendered, updated=updated, backlinks=backlinks, related=related,
                translations=translations, newer_translations=newer, shared=SharedPages())


class SharedPages(dict):
    """What the web keeps with a cached entry, dropped with it: whole pages as served to anonymous readers
    (same reader class, so the same page), one per interface language and address; at most MAX_PAGES."""

    MAX_PAGES = 6

    def keep(self, key: Any, page: str) -> None:
        if len(self) >= self.MAX_PAGES:
            self.pop(next(iter(self)))
        self[key] = page
