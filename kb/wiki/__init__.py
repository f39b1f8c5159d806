"""The service: the one door the web layer and the CLI go through. Every read passes the access policy; every
change goes through the one write path (writes.py: lock -> files -> git commit -> index -> audit).

The package's parts: saving.py (a note's save and merge), importing.py (`kb import`), moves.py (rename,
delete, undelete), revisions.py (read, compare, restore), redaction.py, drafting.py (names, front matter,
template), review.py (the review lists), reviewing.py (review dates), commits.py (commit messages),
indexing.py (notes -> index)."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from babel.support import Translations

from .. import access
from ..model import meta_to_dict
from ..notemerge import OURS_LABEL, has_conflict_marks
from ..worddiff import diff_html
from ..errors import InvalidNote, KbError, NoteNotFound
from ..history import History, Revision
from ..model import Note, NoteMeta, check_slug, dump_note, parse_note
from ..redirects import Redirects
from ..render import Rendered, Renderer
from ..search import Hit, SearchIndex, SearchQuery, SearchResults
from ..store import Store, content_hash
from ..taxonomy import LANGUAGES, Taxonomy
from . import attachments, commits, drafting, importing, moves, pages, redaction, review, reviewing, revisions, saving
from . import syncing
from . import glossary as glossary_file  # GlossaryMethods
from ..history_remote import RemoteHistory
from .attachments import Attachment, Files
from .syncing import Pulled, join as join_remote, replays
from .importing import ImportReport, count_sources
from .indexing import Indexer
from .drafting import normalise_body, practice_template, title_name
from .writes import AuditSink, SaveResult, client_address, reset_client_address, set_client_address

log = logging.getLogger(__name__)
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
__all__ = ["Wiki", "title_name", "count_sources", "NoteView", "SaveResult", "AuditSink", "client_address", "set_client_address",
           "reset_client_address", "missing_link_text",
           # what the web's editor shows of notes and their changes, through the one door
           "Note", "NoteMeta", "meta_to_dict", "normalise_body", "practice_template", "diff_html",
           "has_conflict_marks", "OURS_LABEL", "content_hash", "Attachment",
           "join_remote", "Pulled"]  # several nodes: `kb init` joins the content remote, `kb sync` pulls


@functools.lru_cache(maxsize=8)
def missing_link_text(language: str) -> str:
    """What a link to a note the reader may not open says (no label written), in the note's language."""
    language = language if language in LANGUAGES else "en"
    return Translations.load(str(TRANSLATIONS), [language], "messages").gettext("unavailable note")


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
    attachments: list[Attachment] = field(default_factory=list)  # the files beside the note
    shared: dict = field(default_factory=dict, repr=False, compare=False)  # kept with the cached parts (pages.py)


@replays("save", "import_paths", "rename", "delete", "undelete", "drop_redirect", "restore", "redact_passage",
         "redact_revision", "upload", "remove_attachment", "mark_reviewed", "save_glossary")  # another node first:
class Wiki(reviewing.ReviewDates, attachments.AttachmentMethods, syncing.SyncMethods, glossary_file.GlossaryMethods):
    # the write runs again on top (syncing.py); review dates, attachments, the content remote and the glossary:
    # their methods live in those modules
    def __init__(self, content_dir: Path, index_dir: Path, base_url: str = "", remote: str = ""):
        self.content_dir = Path(content_dir)
        self.taxonomy = Taxonomy.load(self.content_dir / "taxonomy.yml")
        self.store = Store(self.content_dir)
        self.history = History(self.content_dir)
        self.index = SearchIndex(Path(index_dir))
        self.renderer = Renderer(link_base="/notes/", base_url=base_url)  # its own full URLs are note links too
        self.files = Files(self.store)  # attachments: content/_files/<slug>/<name>
        self.indexer = Indexer(self.store, self.history, self.index, self.taxonomy, self.renderer, self.files)
        self.redirects = Redirects(self.store)
        self.pages = pages.PageCache()  # note pages' cached parts, dropped as the index reports changes
        self.index.listen(self.pages.drop)
        self.audit: AuditSink | None = None  # where the write path records who changed what (create_app sets it)
        # called as hook(kind, old, new) after a note is moved: ("rename", slug, new slug), ("delete", slug, trash
        # id), ("undelete", trash id, slug); what lives beside notes (comments) follows them
        self.move_hooks: list[Callable[[str, str, str], None]] = []
        self.remote = RemoteHistory(self.history, remote) if remote else None  # KB_GIT_REMOTE (syncing.py)
        if self.remote:
            self.remote.guard = self.store.rewriting  # no note is read half rewritten by a pull
        self.syncer: syncing.Syncer | None = None

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
                                    missing=missing_link_text(note.meta.language),
                                    files_base=attachments.files_base(self, note.slug))

    def render_body(self, user: Any, body: str, language: str, slug: str = "") -> Rendered:
        """A body not saved yet (the editor's preview), rendered as ``render`` does (``slug``: its files/ links)."""
        return self.renderer.render(body, lambda s: self.title_if_readable(user, s),
                                    missing=missing_link_text(language), files_base=attachments.files_base(self, slug))

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
        try:  # the index holds the last commit's date, read when the note was indexed: no git per view
            indexed = self.index.stored(note.slug)
            if indexed and indexed[1] and indexed[0] == content_hash(self.store.read_bytes(note.slug)):
                return indexed[1]
        except KbError:
            pass
        revs = self.history.log(self.store.relpath(note.slug), limit=1)
        return revs[0].date if revs else None

    def view(self, user: Any, slug: str) -> NoteView:
        """A note page's content for this user; all but the note and whether they may edit it is cached per
        reader class and dropped when the index says a note it shows changed (kb.wiki.pages)."""
        note = self.get_note(user, slug)
        self.index.sync()  # caught up with the index (and its change notices) before the cache is asked
        allowed = access.read_filter(user, self.taxonomy)
        raw = self.store.read_bytes(slug)
        key = (slug, self.files.digest(slug, raw), pages.reader_class(allowed), pages.stamp(self),
               dt.datetime.now(dt.timezone.utc).date())  # its files too; review marks turn "overdue" with the date
        parts = self.pages.get_or_build(key, lambda seen: pages.view_parts(self, user, note, allowed, seen))
        return NoteView(note=note, can_edit=self.can_edit(user, note), attachments=self.files.infos(slug), **parts)

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

    # --- writing: every change goes through the one write path (writes.change) -------------------------
    def save(self, user: Any, slug: str, meta: NoteMeta, body: str, base_revision: str | None,
             message: str = "", create: bool = False, confirm_personal_data: str = "",
             restored_from: str = "") -> SaveResult:
        """Create or change a note (merged with what was saved since its base revision); see saving.save."""
        return saving.save(self, user, slug, meta, body, base_revision, message, create, confirm_personal_data,
                           restored_from)

    def _load_any(self, slug: str) -> Note | None:
        try:
            return self._load(slug)
        except NoteNotFound:
            return None

    def import_paths(self, paths: list[Path], author: str = "kb",
                     progress: Callable[[int], None] | None = None, actor: str | None = None) -> ImportReport:
        """Import Markdown files: validate all, write the new ones, one commit, index them."""
        return importing.import_paths(self, paths, author, progress, actor)

    def rename(self, user: Any, slug: str, new_slug: str, base_revision: str | None) -> str:
        return moves.rename(self, user, slug, new_slug, base_revision)

    def delete(self, user: Any, slug: str, reason: str = "", base_revision: str | None = None) -> str:
        return moves.delete(self, user, slug, reason, base_revision)

    def undelete(self, user: Any, trash_id: str) -> str:
        return moves.undelete(self, user, trash_id)

    def deleted_notes(self, user: Any) -> list[moves.Trashed]:
        return moves.deleted_notes(self, user)

    def drop_redirect(self, old: str, author: str = "kb") -> str:
        return moves.drop_redirect(self, old, author)

    def restore(self, user: Any, slug: str, rev: str, base_revision: str | None,
                confirm_personal_data: str = "") -> SaveResult:
        return revisions.restore(self, user, slug, rev, base_revision, confirm_personal_data)

    def redact_passage(self, user: Any, slug: str, passage: str, reason: str) -> redaction.RedactionResult:
        return redaction.redact_passage(self, user, slug, passage, reason)

    def redact_revision(self, user: Any, slug: str, rev: str, reason: str) -> redaction.RedactionResult:
        return redaction.redact_revision(self, user, slug, rev, reason)

    def redaction_choices(self, user: Any, slug: str) -> list[Revision]:
        return redaction.revision_choices(self, user, slug)

    # --- drafting, revisions and review lists -------------------------------------------------------
    def new_name(self, user: Any, title: str, wanted: str = "") -> tuple[str, str]:
        return drafting.new_name(self, user, title, wanted)

    def check_new_slug(self, slug: str, user: Any = None) -> str:
        return drafting.check_new_slug(slug, self, user=user)

    def new_meta(self, fields: dict, current: NoteMeta | None) -> NoteMeta:
        return drafting.new_meta(self.taxonomy, fields, current)

    def note_at(self, user: Any, slug: str, rev: str) -> Note:
        return revisions.note_at(self, user, slug, rev)

    def compare(self, user: Any, slug: str, old_rev: str | None, new_rev: str | None) -> revisions.Comparison:
        return revisions.compare(self, user, slug, old_rev, new_rev)

    def review_queue(self, user: Any) -> list[Hit]:
        return review.review_queue(self, user)

    def unfinished(self, user: Any) -> list[Hit]:
        return review.unfinished(self, user)

    def revisions_with_info(self, user: Any, slug: str) -> list[tuple[Revision, commits.RevisionInfo]]:
        """history_of, each revision with what its commit message says (status change, restore, ...)."""
        return [(r, commits.parse_message(r.message)) for r in self.history_of(user, slug)]

    # --- facts for the web's caching and the command line -------------------------------------------
    def page_facts(self, slug: str) -> tuple[str, dt.datetime | None]:
        """(hash of the note's file, when its history was last rewritten), for a page's validators; call
        after the policy let the reader see the note."""
        return content_hash(self.store.read_bytes(slug)), self.history.rewritten_at(self.store.relpath(slug))

    def redirect_map(self) -> dict[str, str]:
        """Each renamed note's old name and the name it leads to."""
        return self.redirects.load()

    def index_exists(self) -> bool:
        return self.index.exists()

    def note_count(self) -> int:
        return len(self.store.slugs())

    @staticmethod
    def missing_link_text(language: str) -> str:
        """What a link to a note the reader may not open says, in that language."""
        return missing_link_text(language)

    def place(self, name: str):
        """A region or country by name or slug; KbError naming the choices when there is none."""
        from ..export import resolve_place
        return resolve_place(self, name)

    def pack_size(self, user: Any, place: str, **options) -> int:  # about how large, see kb/export.py
        return attachments.pack_size(self, user, place, **options)

    def build_pack(self, user: Any, place: str, out, **options):
        """An offline pack of a region's notes this user may read (see kb/export.py)."""
        from ..export import build_pack  # the exporter builds on this service
        return build_pack(self, user, place, out, **options)

    # --- index lifecycle --------------------------------------------------------------------
    def rebuild_index(self, progress: Callable[[int], None] | None = None):
        return self.indexer.rebuild(progress)

    def check_index(self, repair: bool = False, quick: bool = False):
        """Compare the index with content/ (repair: re-index what drifted; quick: at start, read only the
        notes changed since the last check, kb.wiki.drift)."""
        with self.store.locked():
            if repair:  # at start: no write is in flight, so a temporary file is a killed write's leftover
                for name in self.store.remove_leftovers():
                    log.warning("removed %s, left by an interrupted write", name)
            return self.indexer.check(repair=repair, quick=quick)

    def close(self) -> None:
        if self.syncer is not None:
            self.syncer.stop()
        self.index.close()
