"""The service the web layer and the CLI call. Every read passes the access policy; one write path
(store -> git -> index) keeps content, history and search in step."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from babel.support import Translations

from . import access, notemerge, workflow
from .errors import (EditConflict, InvalidNote, KbError, NoteExists, NoteNotFound, PermissionDenied,
                     PersonalDataFound, RevisionNotFound, StorageError)
from .history import History, Revision
from .importer import ImportReport, plan_import
from .indexing import Indexer
from .model import Note, NoteMeta, check_body, check_slug, dump_note, parse_note
from .redirects import Redirects
from .render import Rendered, Renderer
from .search import Hit, SearchIndex, SearchQuery, SearchResults
from .store import Store, content_hash
from .taxonomy import LANGUAGES, Taxonomy
from .workflow import SaveResult

log = logging.getLogger(__name__)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


@functools.lru_cache(maxsize=8)
def missing_link_text(language: str) -> str:
    """What a link to a note the reader may not open says (no label written), in the note's language."""
    language = language if language in LANGUAGES else "en"
    return Translations.load(str(TRANSLATIONS), [language], "messages").gettext("unavailable note")


CONFLICT_MARKS = ("still holds conflict marks (<<<<<<<, =======, >>>>>>>): keep the text you want between "
                  "them and remove the mark lines")


@dataclass
class NoteView:
    """What a note page shows: the note, its rendered body, and what surrounds it, all policy-checked."""
    note: Note
    rendered: Rendered
    updated: dt.datetime | None
    backlinks: list[Hit] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)
    translations: dict[str, str] = field(default_factory=dict)  # language -> slug, readable ones only
    newer_translations: list[str] = field(default_factory=list)  # languages whose version changed after this one
    can_edit: bool = False


def _refuse_conflict_marks(body: str, current: Note | None) -> None:
    """A body still holding a clash's marks is not saved (unless the saved note already held such lines)."""
    if notemerge.has_conflict_marks(body) and not (current and notemerge.has_conflict_marks(current.body)):
        raise InvalidNote([("body", CONFLICT_MARKS)])


class Wiki:
    def __init__(self, content_dir: Path, index_dir: Path):
        self.content_dir = Path(content_dir)
        self.taxonomy = Taxonomy.load(self.content_dir / "taxonomy.yml")
        self.store = Store(self.content_dir)
        self.history = History(self.content_dir)
        self.index = SearchIndex(Path(index_dir))
        self.renderer = Renderer(link_base="/notes/")
        self.indexer = Indexer(self.store, self.history, self.index, self.taxonomy, self.renderer)
        self.redirects = Redirects(self.store)

    # --- reading ----------------------------------------------------------------------------
    def _load(self, slug: str) -> Note:
        """A note as stored, with no access check: for internal use only."""
        check_slug(slug)
        raw = self.store.read_bytes(slug)
        try:
            return parse_note(slug, raw.decode("utf-8", errors="replace"), self.taxonomy)
        except InvalidNote:
            raise NoteNotFound(slug) from None

    def can_read(self, user: Any, note: Note) -> bool:
        return access.can_read(user, note.meta, self.taxonomy)

    def can_edit(self, user: Any, note: Note | None) -> bool:
        return access.can_edit(user, note.meta if note else None, self.taxonomy)

    def _hidden_or_missing(self, user: Any, slug: str) -> bool:
        """A cheap first check, before any note is read or parsed: True when the index says this user may
        not read the note, or when no note has the name. Both end in the same NoteNotFound after about the
        same work (an index look-up and a file check), so the time of a 404 does not tell them apart."""
        try:
            check_slug(slug)
        except KbError:
            return True
        allowed = access.read_filter(user, self.taxonomy)
        if allowed is None:
            return False
        seen = self.index.visible(slug, allowed)
        exists = self.store.exists(slug)
        return seen is False or not exists

    def get_note(self, user: Any, slug: str) -> Note:
        """The note if it exists and this user may read it; NoteNotFound otherwise (the same either way)."""
        if self._hidden_or_missing(user, slug):
            raise NoteNotFound(slug)
        try:
            note = self._load(slug)
        except KbError:
            raise NoteNotFound(slug) from None
        if not self.can_read(user, note):
            raise NoteNotFound(slug)
        return note

    def get_note_and_revision(self, user: Any, slug: str) -> Note:
        """get_note with ``revision`` set to the commit the note is at, for a writer's base revision.

        The revision is read before the text, so a save landing in between can only make the text newer
        than the revision (the writer's next save is then refused as stale), never older (which would let
        it overwrite a change the writer never saw).
        """
        if self._hidden_or_missing(user, slug):
            raise NoteNotFound(slug)
        try:
            revision = self.revision_of(slug)
        except KbError:
            raise NoteNotFound(slug) from None
        note = self.get_note(user, slug)
        note.revision = revision
        return note

    def title_if_readable(self, user: Any, slug: str) -> str | None:
        """The title of a note this user may read (following a rename's redirect), else None."""
        try:
            return self.get_note(user, slug).meta.title
        except NoteNotFound:
            target = self.redirect_target(user, slug)
            return self.title_if_readable(user, target) if target else None

    def redirect_target(self, user: Any, slug: str) -> str | None:
        """Where a renamed note's old name leads, when no note has that name and the target is readable."""
        target = self.redirects.target(slug)  # looked up first, so a taken name costs what a free one does
        try:
            if self.store.exists(slug):
                return None
        except KbError:
            return None
        if not target:
            return None
        try:
            self.get_note(user, target)
        except NoteNotFound:
            return None
        return target

    def followable_translations(self, user: Any, note: Note) -> dict[str, str]:
        """The note's translations entries this user may follow: one naming a note they may not read (or no
        note at all) is left out, so that a hidden note's name never shows through a readable one."""
        return {lang: other for lang, other in note.meta.translations.items()
                if self.title_if_readable(user, other) is not None}

    def render(self, user: Any, note: Note) -> Rendered:
        """The note's body for this user: links to notes they may not open look like links to no note."""
        key = note.slug + ":" + content_hash(note.body.encode("utf-8"))
        return self.renderer.render(note.body, lambda s: self.title_if_readable(user, s), cache_key=key,
                                    missing=missing_link_text(note.meta.language))

    def render_body(self, user: Any, body: str, language: str) -> Rendered:
        """A body not saved yet (the editor's preview), rendered for this user as ``render`` does."""
        return self.renderer.render(body, lambda s: self.title_if_readable(user, s),
                                    missing=missing_link_text(language))

    def source_for(self, user: Any, note: Note, text: str) -> str:
        """Text from a note's source (its body, the file) as this user may see it: exact for those who may
        edit the note, who need every link to save it; for others the names of linked notes they may not
        open are masked (``[[…|label]]``)."""
        if self.can_edit(user, note):
            return text
        return self.renderer.mask_links(text, lambda s: self.title_if_readable(user, s) is not None)

    def raw_source(self, user: Any, slug: str) -> bytes:
        """The note's file (front matter and body) for /raw, as ``source_for`` lets this user see it."""
        note = self.get_note(user, slug)
        raw = self.store.read_bytes(slug)
        translations = self.followable_translations(user, note)  # entries naming what they may not read go
        if translations != note.meta.translations:
            raw = dump_note(Note(slug, note.meta.copy(translations=translations), note.body)).encode("utf-8")
        if self.can_edit(user, note):
            return raw
        return self.source_for(user, note, raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def updated_of(self, note: Note) -> dt.datetime | None:
        if note.meta.updated:
            return note.meta.updated
        revs = self.history.log(self.store.relpath(note.slug), limit=1)
        return revs[0].date if revs else None

    def view(self, user: Any, slug: str) -> NoteView:
        note = self.get_note(user, slug)
        allowed = access.read_filter(user, self.taxonomy)
        updated = self.updated_of(note)
        translations, newer = {}, []
        for lang, other_slug in note.meta.translations.items():
            try:
                other = self.get_note(user, other_slug)
            except NoteNotFound:
                continue
            if lang != note.meta.language:
                translations[lang] = other_slug
                other_updated = self.updated_of(other)
                if updated and other_updated and other_updated.date() > updated.date():
                    newer.append(lang)
        return NoteView(note=note, rendered=self.render(user, note), updated=updated,
                        backlinks=self.index.backlinks(slug, allowed),
                        related=self.index.related(slug, allowed, limit=5),
                        translations=translations, newer_translations=newer,
                        can_edit=self.can_edit(user, note))

    def search(self, user: Any, query: SearchQuery) -> SearchResults:
        return self.index.search(query, access.read_filter(user, self.taxonomy))

    def history_of(self, user: Any, slug: str, limit: int = 100) -> list[Revision]:
        """The revisions of a note that this user may read: a path's log can hold commits of another
        note that once had the same name (deleted, renamed away), so each revision is checked as it was."""
        self.get_note(user, slug)
        entries = self.history.log_with_paths(self.store.relpath(slug), limit=limit)
        if access.read_filter(user, self.taxonomy) is None:
            return [rev for rev, _ in entries]
        contents = self.history.contents_at([(rev.id, name) for rev, name in entries])
        readable = []
        for (rev, _), data in zip(entries, contents):
            if data is None:
                continue
            try:
                then = parse_note(slug, data.decode("utf-8", errors="replace"), self.taxonomy)
            except InvalidNote:
                continue
            if self.can_read(user, then):
                readable.append(rev)
        return readable

    def revision_of(self, slug: str) -> str | None:
        return self.history.last_revision(self.store.relpath(slug))

    # --- writing ----------------------------------------------------------------------------
    def save(self, user: Any, slug: str, meta: NoteMeta, body: str, base_revision: str | None,
             message: str = "", create: bool = False, confirm_personal_data: str = "",
             restored_from: str = "") -> SaveResult:
        """Write a note through the one write path; a save from an older revision is merged with the changes
        saved since, and refused with EditConflict when they clash (or cannot be merged).

        Under the content lock: check the base revision (merging), the rights (edit, status change), the workflow
        and the personal-data guard, then write atomically, commit (status change and any confirmation
        recorded in the message), update the index.
        """
        check_slug(slug)
        check_body(body)
        author = getattr(user, "username", None) or "kb"
        body = workflow.normalise_body(body)
        merged_with = ""
        with self.store.locked():
            current = None
            if self.store.exists(slug):
                if create:  # said alike whether or not the user may read that note
                    raise NoteExists(f"A note named {slug!r} already exists.")
                current = self._load_any(slug)
                if current is not None and not self.can_read(user, current):
                    raise NoteNotFound(slug)
                if current is not None and not self.can_edit(user, current):
                    raise PermissionDenied(slug)
                _refuse_conflict_marks(body, current)
                head = self.revision_of(slug)
                if base_revision != head:
                    merge = self._merge(slug, current, meta, body, base_revision, head, restored_from)
                    meta, body, merged_with = merge.meta, merge.body, head or ""
            elif not create:  # the note went away (deleted, renamed) since the edit began
                raise NoteNotFound(slug)
            elif not access.can_create(user):
                raise PermissionDenied(slug)
            else:
                _refuse_conflict_marks(body, None)
            if author not in meta.authors and author != "kb":
                meta = meta.copy(authors=[*meta.authors, author])
            before = current.meta if current else None
            if not access.can_edit(user, meta, self.taxonomy) or \
                    not access.can_set_status(user, before, meta, self.taxonomy):
                raise PermissionDenied(slug)
            workflow.check(meta)
            findings = workflow.personal_data(meta, body, current)
            reason = workflow.one_line(confirm_personal_data, workflow.REASON_MAX) if findings else ""
            if findings and not reason:
                raise PersonalDataFound(findings)
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            meta = meta.copy(updated=now, created=meta.created or now)
            old_bytes = self.store.read_bytes(slug) if current is not None else None
            self.store.write_text(slug, dump_note(Note(slug, meta, body)))
            text = workflow.commit_message(slug, message, before.status if before else None, meta.status,
                                           reason, restored_from, merged_with)
            try:
                rev = self.history.commit([self.store.relpath(slug)], text, author)
            except StorageError:
                self._undo_write(slug, old_bytes)  # no text may stand that history does not hold
                raise
            self.indexer.refresh([slug])
            return SaveResult(slug, rev or self.revision_of(slug) or "", created=current is None,
                              status_before=before.status if before else None, status_after=meta.status,
                              personal_data_reason=reason, restored_from=restored_from,
                              merged=bool(merged_with))

    def _merge(self, slug: str, current: Note | None, meta: NoteMeta, body: str, base_revision: str | None,
               head: str | None, restored_from: str) -> notemerge.MergeResult:
        """The writer's note merged with the one saved since their base revision; EditConflict when the base
        is not a revision of this note, the two clash, or the merge would change who may read the note."""
        path = self.store.relpath(slug)
        base_id = self.history.is_revision_of(path, base_revision or "") if current and not restored_from else None
        if not base_id:  # a restore is always made knowingly, from the current revision
            raise EditConflict(slug, base_revision, head)
        try:
            base = parse_note(slug, self.history.show(base_id, path).decode("utf-8", errors="replace"), self.taxonomy)
        except (RevisionNotFound, InvalidNote):
            raise EditConflict(slug, base_revision, head) from None
        last = self.history.log(path, limit=1)
        label = notemerge.theirs_label(last[0].author, last[0].date) if last else "saved version"
        result = notemerge.merge_note(base, meta, body, current, self.history.merge_file, label)
        if result is None:
            raise EditConflict(slug, base_revision, head)
        if not result.clean or notemerge.changes_readers(current.meta, result.meta):
            raise EditConflict(slug, base_revision, head, merged=Note(slug, result.meta, result.body),
                               fields=result.fields)
        return result

    def _undo_write(self, slug: str, old_bytes: bytes | None) -> None:
        try:
            if old_bytes is None:
                self.store.delete(slug)
            else:
                self.store.write_bytes(slug, old_bytes)
            self.history.unstage([self.store.relpath(slug)])
        except KbError:
            log.exception("could not take back the uncommitted write of %s", slug)

    def _load_any(self, slug: str) -> Note | None:
        try:
            return self._load(slug)
        except NoteNotFound:
            return None

    def import_paths(self, paths: list[Path], author: str = "kb",
                     progress: Callable[[int], None] | None = None) -> ImportReport:
        """Import Markdown files: validate all, write the new ones, one commit, index them."""
        with self.store.locked():
            report, writes = plan_import(self.store, self.taxonomy, paths, progress)
            written: list[str] = []
            try:
                for slug, data in writes.items():
                    self.store.write_bytes(slug, data)
                    written.append(slug)
                # An "unchanged" file may be one an interrupted import wrote but never committed: adding
                # it to the commit completes the history, and is a no-op for files git already has.
                message = f"Import {len(writes)} note(s)" if writes else \
                    "Import: commit notes an interrupted import left uncommitted"
                self.history.commit([self.store.relpath(s) for s in [*writes, *report.unchanged]], message, author)
            except KbError:  # disk full, read-only, git failed: take back this import's new files
                for slug in written:
                    with contextlib.suppress(KbError):
                        self.store.delete(slug)
                raise
            if writes:
                self.indexer.refresh(list(writes))
        return report

    # --- index lifecycle --------------------------------------------------------------------
    def rebuild_index(self, progress: Callable[[int], None] | None = None):
        return self.indexer.rebuild(progress)

    def check_index(self, repair: bool = False):
        with self.store.locked():
            if repair:  # at start: no write is in flight, so a temporary file is a killed write's leftover
                for name in self.store.remove_leftovers():
                    log.warning("removed %s, left by an interrupted write", name)
            return self.indexer.check(repair=repair)

    def close(self) -> None:
        self.index.close()
