"""Notes on disk: slug -> path, atomic writes, listing, deletion. No git, no Flask."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import NoteNotFound, StorageError
from .model import check_slug

SUFFIX = ".md"


def content_hash(data: bytes) -> str:
    """The hash the index keeps to notice a file that changed behind its back."""
    return hashlib.sha1(data).hexdigest()


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
            return self.path_for(slug).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NoteNotFound(slug) from None

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
        path = self.path_for(slug)
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


def _describe(exc: OSError) -> str:
    reasons = {errno.ENOSPC: "the disk is full", errno.EROFS: "the content folder is read-only",
               errno.EACCES: "kb may not write to the content folder", errno.EDQUOT: "the disk quota is used up"}
    return f"The note could not be saved: {reasons.get(exc.errno, exc.strerror or 'a storage error')}. Nothing was changed."
