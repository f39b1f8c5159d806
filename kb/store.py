"""Notes on disk: slug -> path, atomic writes, listing, deletion. No git, no Flask."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import N_, Message, NoteNotFound, StorageError
from .model import check_slug

TREE_LOCK = "kb-tree.lock"  # in .git: held while a pull rewrites the working tree (Store.rewriting)

SUFFIX = ".md"
TRASH = ".trash"
_AUX_RE = re.compile(r"^(\.[a-z][a-z0-9-]{0,40}|glossary)\.yml$")  # dot-files, and the glossary
_STAMP_RE = re.compile(r"^\d{14}$")
FILES = "_files"  # attachments: content/_files/<slug>/<name>, thumbnails in content/_files/<slug>/.thumbs/
_FILE_RE = re.compile(r"^_files/[a-z0-9]+(?:-[a-z0-9]+)*/(?:\.thumbs/)?[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z]{3,4}$")


def parse_trash_id(trash_id: str) -> tuple[str, str] | None:
    """'<slug>.<stamp>' -> (slug, stamp), or None when it is not a trash id."""
    slug, _, stamp = str(trash_id).partition(".")
    try:
        check_slug(slug)
    except Exception:
        return None
    return (slug, stamp) if _STAMP_RE.match(stamp) else None


def content_hash(data: bytes) -> str:
    """The hash the index keeps to notice a file that changed behind its back."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()  # change detection, not security


class Store:
    """A flat folder of <slug>.md files."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, slug: str) -> Path:
        """The file of a note; the slug is checked first, so no path can leave the folder."""
        return self.root / (check_slug(slug) + SUFFIX)

    def relpath(self, slug: str) -> str:
        return check_slug(slug) + SUFFIX

    def exists(self, slug: str) -> bool:
        return self.path_for(slug).is_file()

    def read_bytes(self, slug: str) -> bytes:
        try:
            with self._tree_steady():
                return self.path_for(slug).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NoteNotFound(slug) from None

    @contextlib.contextmanager
    def _tree_steady(self) -> Iterator[None]:
        """While a note is read: no `git reset` of the working tree (a pull from the content remote) is half
        done, with a file removed and not yet written again (a shared lock; ``rewriting`` takes it alone)."""
        path = self.root / ".git" / TREE_LOCK
        if not path.exists():  # no content remote has ever rewritten this tree
            yield
            return
        with open(path, "rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def rewriting(self) -> Iterator[None]:
        """Around git rewriting many files of the working tree at once: readers wait for it (milliseconds)."""
        with open(self.root / ".git" / TREE_LOCK, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def read_text(self, slug: str) -> str:
        return self.read_bytes(slug).decode("utf-8", errors="replace")

    def slugs(self) -> list[str]:
        """Every note's slug, sorted; files whose names are not valid slugs are skipped."""
        out = []
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        for entry in entries:
            name = entry.name
            if name.endswith(SUFFIX) and entry.is_file():
                slug = name[: -len(SUFFIX)]
                try:
                    out.append(check_slug(slug))
                except Exception:
                    continue
        return sorted(out)

    def write_bytes(self, slug: str, data: bytes) -> None:
        """Write atomically: temporary file in the same folder, fsync, rename, fsync the folder.

        On any failure (disk full, read-only folder) the old file is left intact and StorageError is raised.
        """
        self._write_atomic(self.path_for(slug), data)

    def write_aux(self, name: str, data: bytes) -> None:
        """Atomically write one of kb's own files beside the notes (.redirects.yml, glossary.yml)."""
        if not _AUX_RE.match(name):
            raise StorageError(f"Not a file kb keeps beside the notes: {name!r}")
        self._write_atomic(self.root / name, data)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp_name = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".md", dir=self.root)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
            tmp_name = None
            self._fsync_dir()
        except OSError as exc:
            raise StorageError(_describe(exc)) from None
        finally:
            if tmp_name:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def file_path(self, rel: str) -> Path:
        """An attachment's file from its relative path (_files/<slug>/<name>); checked, so it cannot leave."""
        if not _FILE_RE.match(rel or ""):
            raise StorageError(f"Not the path of a file beside a note: {str(rel)[:120]!r}")
        return self.root / rel

    def write_file(self, rel: str, data: bytes) -> None:
        """Write an attachment atomically, as write_bytes writes a note."""
        path = self.file_path(rel)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(_describe(exc)) from None
        self._write_atomic(path, data)

    def remove_file(self, rel: str) -> None:
        """Remove an attachment (and its folders, once empty)."""
        path = self.file_path(rel)
        try:
            path.unlink(missing_ok=True)
            for folder in (path.parent, path.parent.parent):
                if folder != self.root and folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        except OSError as exc:
            raise StorageError(_describe(exc)) from None

    def write_text(self, slug: str, text: str) -> None:
        self.write_bytes(slug, text.encode("utf-8"))

    def delete(self, slug: str) -> None:
        try:
            self.path_for(slug).unlink()
            self._fsync_dir()
        except FileNotFoundError:
            raise NoteNotFound(slug) from None
        except OSError as exc:
            raise StorageError(_describe(exc)) from None

    # --- the trash: soft-deleted notes, kept in content/.trash/<slug>.<YYYYmmddHHMMSS>.md ----------------
    def trash_relpath(self, slug: str, stamp: str) -> str:
        if not _STAMP_RE.match(stamp):
            raise StorageError(f"Not a deletion time stamp: {stamp!r}")
        return f"{TRASH}/{check_slug(slug)}.{stamp}{SUFFIX}"

    def trashed(self) -> list[tuple[str, str]]:
        """(trash id, slug) of every deleted note, newest deletion first; the id is '<slug>.<stamp>'."""
        try:
            names = [e.name for e in os.scandir(self.root / TRASH) if e.is_file()]
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            parsed = parse_trash_id(name[: -len(SUFFIX)]) if name.endswith(SUFFIX) else None
            if parsed:
                out.append((name[: -len(SUFFIX)], parsed[0]))
        return sorted(out, key=lambda item: (item[0].rsplit(".", 1)[1], item[0]), reverse=True)

    def trash_path(self, trash_id: str) -> str:
        """The relative path of a deleted note from its trash id; NoteNotFound if there is none."""
        parsed = parse_trash_id(trash_id)
        if not parsed or not (self.root / TRASH / (trash_id + SUFFIX)).is_file():
            raise NoteNotFound(trash_id)
        return f"{TRASH}/{trash_id}{SUFFIX}"

    def remove_leftovers(self) -> list[str]:
        """Delete the temporary files of writes that were killed midway; call it holding locked()."""
        removed = []
        for path in self.root.glob(".tmp-*" + SUFFIX):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path.name)
        return removed

    def _fsync_dir(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time across processes: an exclusive lock on a file beside the notes."""
        lock_dir = self.root / ".git" if (self.root / ".git").is_dir() else self.root
        try:
            fh = open(lock_dir / "kb-write.lock", "a+")
        except OSError as exc:
            raise StorageError(_describe(exc)) from None
        with fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


_REASONS = {errno.ENOSPC: N_("the disk is full"), errno.EROFS: N_("the content folder is read-only"),
            errno.EACCES: N_("kb may not write to the content folder"), errno.EDQUOT: N_("the disk quota is used up")}


def _describe(exc: OSError) -> Message:
    reason = Message(_REASONS[exc.errno]) if exc.errno in _REASONS else \
        exc.strerror or Message(N_("a storage error"))
    return Message(N_("The note could not be saved: %(reason)s. Nothing was changed."), reason=reason)
