"""Keeping the search index in step with content/: documents from notes, rebuild, check and repair."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from .. import reviewdates
from ..errors import InvalidNote, KbError
from ..history import History
from ..model import Note, parse_note
from ..render import Renderer
from ..search import IndexDoc, SearchIndex
from ..store import Store, content_hash
from ..taxonomy import Taxonomy
from .attachments import Files
from . import drift as drift_record

Progress = Callable[[int], None] | None
REBUILD_ABOVE = 200  # a repair this large (and a quarter of the notes) rebuilds: one huge update is slower


def translation_group(note: Note) -> str:
    """Notes that name each other as translations share the smallest slug among them as their group."""
    return min([note.slug, *note.meta.translations.values()])


def build_doc(note: Note, raw: bytes, taxonomy: Taxonomy, renderer: Renderer,
              fallback_updated: dt.datetime | None = None, files: list[tuple[str, str]] | None = None,
              digest: str | None = None) -> IndexDoc:
    """The index document of a note: the same facts the access policy reads, plus text to search (its
    attachments' words too, ``files``: (name, text)); ``digest`` covers the note's file and attachments."""
    meta = note.meta
    updated = meta.updated or fallback_updated or meta.created or dt.datetime.now(dt.timezone.utc)
    return IndexDoc(
        slug=note.slug, title=meta.title, language=meta.language, summary=meta.summary,
        text=renderer.plain_text(note.body), regions=list(meta.regions),
        places=sorted(taxonomy.places_of(meta.regions)), countries=sorted(taxonomy.countries_of(meta.regions)),
        topics=list(meta.topics), audience=list(meta.audience), visibility=meta.visibility, status=meta.status,
        authors=list(meta.authors), updated=updated, links=renderer.links(note.body),
        group=translation_group(note), hash=digest or content_hash(raw), reviewed=reviewdates.reviewed_on(meta),
        review_due=reviewdates.review_due(meta, taxonomy.review_every, fallback=updated),
        files=[list(f) for f in files or []],
    )


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)   # in content/, not in the index
    stale: list[str] = field(default_factory=list)     # in both, but the index holds an older text
    orphaned: list[str] = field(default_factory=list)  # in the index, no longer in content/
    invalid: list[str] = field(default_factory=list)   # files that do not load (reported, not indexed)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


class Indexer:
    """Builds index documents from the store and applies them to the index."""

    def __init__(self, store: Store, history: History, index: SearchIndex, taxonomy: Taxonomy, renderer: Renderer,
                 files: Files | None = None):
        self.store, self.history, self.index = store, history, index
        self.files = files or Files(store)
        self.taxonomy, self.renderer = taxonomy, renderer
        # an index found missing or unreadable while serving is refilled from content/ (rebuilt if it
        # had to be recreated), in the background; the start-up check does the same in the foreground
        index.on_damage = lambda: self.check(repair=True)

    def load(self, slug: str) -> tuple[Note, bytes]:
        raw = self.store.read_bytes(slug)
        note = parse_note(slug, raw.decode("utf-8", errors="replace"), self.taxonomy)
        return note, raw

    def doc_for(self, slug: str, dates: dict | None = None) -> IndexDoc:
        note, raw = self.load(slug)
        fallback = None
        if note.meta.updated is None:
            if dates is None:
                revs = self.history.log(self.store.relpath(slug), limit=1)
                fallback = revs[0].date if revs else None
            else:
                fallback = dates.get(self.store.relpath(slug), (None, None))[1]
        return build_doc(note, raw, self.taxonomy, self.renderer, fallback, self.files.texts(slug),
                         self.files.digest(slug, raw))

    def _docs(self, slugs: list[str], errors: list[str], progress: Progress = None, dates: dict | None = None):
        if dates is None and len(slugs) > 20:
            dates = self.history.last_changes()
        for slug in slugs:
            try:
                yield self.doc_for(slug, dates)
            except (InvalidNote, KbError) as exc:
                errors.append(f"{slug}: {exc}")
            if progress:
                progress(1)

    def refresh(self, slugs: list[str], revision: str | None = None, paths: list[str] = ()) -> list[str]:
        """Re-index these notes (removing those gone or invalid); return the problems found. ``revision``:
        the commit just made of ``paths``, the last change of those notes (no search of the history)."""
        errors: list[str] = []
        present = [s for s in slugs if self.store.exists(s)]
        dates = None
        committed = {self.store.relpath(s) for s in present} & set(paths)
        if revision and committed == {self.store.relpath(s) for s in present}:
            head = self.history.log(limit=1)
            if head and head[0].id == revision:
                dates = {path: (revision, head[0].date) for path in committed}
        docs = list(self._docs(present, errors, dates=dates))
        indexed = {d.slug for d in docs}
        gone = [s for s in slugs if s not in indexed]
        if gone:
            self.index.remove(gone)
        if docs:
            self.index.upsert(docs)
        return errors

    def rebuild(self, progress: Progress = None, stats: dict | None = None) -> tuple[int, list[str]]:
        """Rebuild the whole index from content/ into a fresh directory, swapped in when complete."""
        slugs = self.store.slugs()
        stats = drift_record.file_stats(self.store.root, slugs) if stats is None else stats  # before reading
        dates = self.history.last_changes() if len(slugs) > 20 else None  # once, before any shard forks
        count, errors = self.index.rebuild_notes(slugs, lambda keys, errs: self._docs(keys, errs, dates=dates),
                                                 progress)
        drift_record.save(self, self.index.state(), stats, drift_record.invalid_slugs(errors))
        return count, errors

    def check(self, repair: bool = False, quick: bool = False) -> Drift:
        """Compare the index with content/; with repair, re-index what drifted (all of it, into a fresh
        generation, when the index was missing or unreadable or most of it drifted). ``quick`` (at start)
        reads only the notes changed since the last check recorded (kb.wiki.drift), when it can tell."""
        drift = Drift()
        created = self.index.ensure()
        state = self.index.state()
        slugs = self.store.slugs()
        on_disk = set(slugs)
        stats = drift_record.file_stats(self.store.root, slugs)  # with their attachments'
        suspects = drift_record.suspects(self, stats) if quick and not created else None
        if suspects is not None:
            drift_record.compare(self, suspects, on_disk, drift)
        else:
            indexed = self.index.stored_hashes()
            drift_record.compare(self, on_disk | set(indexed), on_disk, drift, indexed)
        changed = drift.missing + drift.stale + drift.orphaned
        if repair and changed and (created or len(changed) > max(REBUILD_ABOVE, len(on_disk) // 4)):
            drift.invalid = self.rebuild(stats=stats)[1]  # records the check itself
            return drift
        if repair and changed:
            drift.invalid = self.refresh(changed)
        else:
            drift.invalid = []
        drift_record.save(self, state, stats, set(changed) | drift_record.invalid_slugs(drift.invalid))
        return drift
