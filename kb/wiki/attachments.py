"""Files beside the notes (content/_files/<slug>/<name>), through the one write path: upload (identified,
cleaned and scanned before anything is written), removal, and the move of a note's files with the note
(rename, delete, undelete). An attachment has its note's readers exactly: every read asks for the note
first, so a hidden note's files answer like files that do not exist."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import access, pdguard, pdscan
from ..attachments import IMAGES, KINDS, NAME_RE, Prepared, kind_of_name, prepare, sha256, text_of
from ..errors import N_, KbError, Message, NoteNotFound, PersonalDataFound, RevisionNotFound
from ..history import Revision
from ..model import Note, NoteMeta, check_slug
from ..store import FILES, TRASH, Store, content_hash
from . import commits
from .writes import Change, actor_of, change

if TYPE_CHECKING:
    from . import Wiki

THUMBS = ".thumbs"


@dataclass(frozen=True)
class Attachment:
    """A file beside a note, as lists and the API show it."""
    slug: str
    name: str
    kind: str
    size: int
    sha256: str
    thumb: bool  # a thumbnail exists (images)

    @property
    def mimetype(self) -> str:
        return KINDS[self.kind][0]

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGES


def files_base(wiki: "Wiki", slug: str) -> str | None:
    """Where a note's ``files/<name>`` links lead: its attachments' URL (None without a valid name)."""
    try:
        return f"{wiki.renderer.link_base}{check_slug(slug)}/files/" if slug else None
    except KbError:
        return None


def pack_size(wiki: "Wiki", user: Any, place: str, **options) -> int:
    """About how many bytes a region's pack will be, its files included (kb/export.py estimates it)."""
    from ..export import estimate_size  # the exporter builds on the service, as Wiki.build_pack does
    return estimate_size(wiki, user, place, **options)


def folder(slug: str) -> str:
    return f"{FILES}/{slug}"


def relpath(slug: str, name: str, thumb: bool = False) -> str:
    return f"{FILES}/{slug}/{THUMBS}/{name}" if thumb else f"{FILES}/{slug}/{name}"


class Files:
    """Reading the files beside notes, with no policy: for the service, the indexer and the exporter."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, int, int], str] = {}
        self._texts: OrderedDict[str, str] = OrderedDict()

    def names(self, slug: str) -> list[str]:
        try:
            entries = list(os.scandir(self.store.root / folder(slug)))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(e.name for e in entries if NAME_RE.match(e.name) and e.is_file(follow_symlinks=False))

    def path(self, slug: str, name: str, thumb: bool = False) -> Path:
        if not NAME_RE.match(name or ""):
            raise NoteNotFound(name)
        path = self.store.file_path(relpath(slug, name, thumb))
        if not path.is_file() or path.is_symlink():
            raise NoteNotFound(name)
        return path

    def info(self, slug: str, name: str) -> Attachment:
        path = self.path(slug, name)
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            digest = self._digests.get(key)
        if digest is None:
            digest = sha256(path.read_bytes())
            with self._lock:
                if len(self._digests) > 10_000:
                    self._digests.clear()
                self._digests[key] = digest
        thumb = (path.parent / THUMBS / name).is_file()
        return Attachment(slug, name, kind_of_name(name) or "", stat.st_size, digest, thumb)

    def infos(self, slug: str) -> list[Attachment]:
        out = []
        for name in self.names(slug):
            try:
                out.append(self.info(slug, name))
            except (KbError, OSError):
                continue
        return out

    def texts(self, slug: str) -> list[tuple[str, str]]:
        """(name, words) of the note's PDFs and CSV files, for search and the personal-data guard."""
        out = []
        for item in self.infos(slug):
            if item.is_image:
                continue
            with self._lock:
                text = self._texts.get(item.sha256)
            if text is None:
                try:
                    text = text_of(item.kind, self.path(slug, item.name).read_bytes())
                except (KbError, OSError):
                    continue
                with self._lock:
                    self._texts[item.sha256] = text
                    while len(self._texts) > 256:
                        self._texts.popitem(last=False)
            out.append((item.name, text))
        return out

    def digest(self, slug: str, raw: bytes) -> str:
        """The hash the index keeps for a note: its file's, and its attachments' when it has some."""
        items = self.infos(slug)
        if not items:
            return content_hash(raw)
        return content_hash(raw + b"".join(f"\0{i.name}:{i.sha256}".encode() for i in items))


# --- reading, for a reader ----------------------------------------------------------------------------------

def listing(wiki: "Wiki", user: Any, slug: str) -> list[Attachment]:
    wiki.get_note(user, slug)  # the note's readers exactly
    return wiki.files.infos(slug)


def read(wiki: "Wiki", user: Any, slug: str, name: str, thumb: bool = False,
         kept_in: str = "") -> tuple[Attachment, bytes]:
    """An attachment (or its thumbnail) for a reader of its note; NoteNotFound otherwise, the same either way.
    With ``kept_in``, a removed file as history keeps it, for admins only."""
    if kept_in:
        return read_removed(wiki, user, slug, name, kept_in)
    wiki.get_note(user, slug)
    item = wiki.files.info(slug, name)
    return item, wiki.files.path(slug, name, thumb).read_bytes()


@dataclass(frozen=True)
class Removed:
    """A file removed from a note, which history keeps (shown to admins only)."""
    name: str
    kept_in: str  # the revision that still held it
    removal: Revision


def removed(wiki: "Wiki", user: Any, slug: str) -> list[Removed]:
    """The files removed from a note, newest first: for admins; nobody else is told of them."""
    wiki.get_note(user, slug)
    if not access.is_admin(user):
        return []
    prefix = folder(slug) + "/"
    return [Removed(path[len(prefix):], kept_in, removal) for path, kept_in, removal in wiki.history.removed(prefix)
            if path.startswith(prefix) and NAME_RE.match(path[len(prefix):])]


def read_removed(wiki: "Wiki", user: Any, slug: str, name: str, kept_in: str) -> tuple[Attachment, bytes]:
    """A removed file as history keeps it, for admins; NoteNotFound for anyone else, as for a missing file."""
    wiki.get_note(user, slug)
    if not access.is_admin(user) or not NAME_RE.match(name or ""):
        raise NoteNotFound(name)
    try:
        data = wiki.history.show(kept_in, relpath(slug, name))
    except RevisionNotFound:
        raise NoteNotFound(name) from None
    return Attachment(slug, name, kind_of_name(name) or "", len(data), sha256(data), False), data


# --- the personal-data guard ----------------------------------------------------------------------------------

def scan_text(name: str, text: str) -> list[pdguard.PdFinding]:
    """Findings in an attachment's words, located by its name ("sop.pdf", line, column)."""
    return [pdguard.PdFinding(name, f.line, f.column, f.kind, f.text, f.message) for f in pdscan.scan(text)] \
        if text else []


def findings_on_publish(wiki: "Wiki", slug: str, meta: NoteMeta, previous: Note | None) -> list[pdguard.PdFinding]:
    """Findings in the attachments of a note a save makes public and published (when it was not): their
    words are read like the body. A note already public had each file scanned as it was added."""
    if previous is None or not pdguard.is_public(meta) or pdguard.is_public(previous.meta):
        return []
    return [f for name, text in wiki.files.texts(slug) for f in scan_text(name, text)]


# --- writing --------------------------------------------------------------------------------------------------

def _free_name(wiki: "Wiki", slug: str, wanted: str) -> str:
    taken = set(wiki.files.names(slug))
    stem, ext = wanted.rsplit(".", 1)
    name, n = wanted, 2
    while name in taken or (wiki.store.root / relpath(slug, name, thumb=True)).exists():
        name, n = f"{stem}-{n}.{ext}", n + 1
    return name


def upload(wiki: "Wiki", user: Any, slug: str, filename: str, data: bytes, max_bytes: int,
           confirm_personal_data: str = "") -> Attachment:
    """Add a file to a note, by whoever may edit it: checked and cleaned first (FileTooLarge, UnsupportedFile,
    nothing written), named safely (a clash gets -2, -3...), one commit, the note re-indexed."""
    note = wiki.get_note(user, slug)
    access.require(user, "edit", slug, note.meta, wiki.taxonomy)
    prepared: Prepared = prepare(filename, data, max_bytes)  # before the lock: the slow part, nothing written
    with change(wiki, actor_of(user)) as ch:
        note = wiki.get_note(user, slug)  # again, under the lock
        access.require(user, "edit", slug, note.meta, wiki.taxonomy)
        findings = scan_text(prepared.name, prepared.text) if pdguard.is_public(note.meta) else []
        reason = commits.one_line(confirm_personal_data, commits.REASON_MAX) if findings else ""
        if findings and not reason:
            raise PersonalDataFound(findings)
        name = _free_name(wiki, slug, prepared.name)
        ch.write_file(relpath(slug, name), prepared.data)
        if prepared.thumb is not None:
            ch.write_file(relpath(slug, name, thumb=True), prepared.thumb)
        ch.reindex(slug)
        ch.commit(f"Attach {name} to {slug}" + (f"\n\nPersonal-data-confirmed: {reason}" if reason else ""))
        ch.audit("attachment_add", slug, name + (f" (personal data confirmed: {reason})" if reason else ""))
    return wiki.files.info(slug, name)


def remove(wiki: "Wiki", user: Any, slug: str, name: str) -> str:
    """Remove a file from a note, by whoever may edit it (one commit: history keeps it)."""
    with change(wiki, actor_of(user)) as ch:
        note = wiki.get_note(user, slug)
        access.require(user, "edit", slug, note.meta, wiki.taxonomy)
        wiki.files.path(slug, name)  # NoteNotFound when there is no such file
        ch.remove_file(relpath(slug, name))
        ch.remove_file(relpath(slug, name, thumb=True))
        ch.reindex(slug)
        rev = ch.commit(f"Remove {name} from {slug}")
        ch.audit("attachment_remove", slug, name)
    return rev or ""


# --- a note's files follow it: rename, delete into the trash, undelete ----------------------------------------

def trash_folder(trash_id: str) -> str:
    return f"{TRASH}/{FILES}/{trash_id}"


def carry(wiki: "Wiki", ch: Change, old: str, new: str) -> None:
    """Move a note's folder of files with the note (git mv, so their history follows), when it has one."""
    if not (wiki.store.root / old).is_dir():
        return
    if (wiki.store.root / new).exists():
        raise KbError(Message(N_("Files are already kept under %(name)s; nothing was changed."), name=new))
    ch.move(old, new)


class AttachmentMethods:
    """The Wiki's attachment methods: files beside the notes, with their note's readers exactly."""

    def attachments(self: "Wiki", user: Any, slug: str) -> list[Attachment]:
        return listing(self, user, slug)

    def attachment(self: "Wiki", user: Any, slug: str, name: str, thumb: bool = False,
                   kept_in: str = "") -> tuple[Attachment, bytes]:  # kept_in: a removed file, for admins
        return read(self, user, slug, name, thumb, kept_in)

    def upload(self: "Wiki", user: Any, slug: str, filename: str, data: bytes, max_bytes: int, confirm: str = "") -> Attachment:
        return upload(self, user, slug, filename, data, max_bytes, confirm)

    def remove_attachment(self: "Wiki", user: Any, slug: str, name: str) -> str:
        return remove(self, user, slug, name)

    def removed_attachments(self: "Wiki", user: Any, slug: str) -> list[Removed]:  # admins only
        return removed(self, user, slug)
