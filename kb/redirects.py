"""Old note names that lead to the new ones after a rename: content/.redirects.yml, committed with the rename."""
from __future__ import annotations

import os

from . import yamlio
from .errors import InvalidSlug
from .model import check_slug
from .store import Store

FILE = ".redirects.yml"
_HEADER = "# Old note name -> current note name, written by kb when a note is renamed.\n"


class Redirects:
    """The map old slug -> new slug, read again only when the file changes."""

    def __init__(self, store: Store):
        self.store = store
        self.path = store.root / FILE
        self._seen: tuple[int, int] | None = None
        self._map: dict[str, str] = {}

    def load(self) -> dict[str, str]:
        """The current map (entries that are not two valid slugs are ignored)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._seen, self._map = None, {}
            return {}
        key = (st.st_mtime_ns, st.st_size)
        if key != self._seen:
            try:
                data = yamlio.load(self.path.read_text(encoding="utf-8")) or {}
            except (OSError, yamlio.YamlError):
                data = {}
            mapping = {}
            for old, new in (data.items() if isinstance(data, dict) else []):
                try:
                    mapping[check_slug(old)] = check_slug(new)
                except InvalidSlug:
                    continue
            self._seen, self._map = key, mapping
        return dict(self._map)

    def target(self, slug: str) -> str | None:
        return self.load().get(slug)

    def after_rename(self, old: str, new: str) -> dict[str, str]:
        """The map once ``old`` is renamed ``new``: chains collapse, a name in use again stops redirecting."""
        mapping = {src: (new if dst == old else dst) for src, dst in self.load().items()}
        mapping[old] = new
        mapping.pop(new, None)
        return {src: dst for src, dst in sorted(mapping.items()) if src != dst}

    @staticmethod
    def serialise(mapping: dict[str, str]) -> bytes:
        """The file's bytes for this map (the write path writes and commits them)."""
        return (_HEADER + yamlio.dump(dict(sorted(mapping.items())))).encode("utf-8")

    def write(self, mapping: dict[str, str]) -> None:
        """Write the map atomically (the caller holds the content lock and commits FILE)."""
        self.store.write_aux(FILE, self.serialise(mapping))
