"""The search index's folder, without whoosh: generations, the CURRENT pointer, locks and the write queue.

``index_dir/CURRENT`` names the live generation ``index_dir/gen-…`` (a whoosh index plus a KB_VERSION file).
A rebuild fills a new generation and swaps CURRENT with ``os.replace``, under an exclusive ``swap.lock`` that
every write holds shared, so no write lands in a generation that is being retired. ``rebuild.lock`` is held
for a whole rebuild; writes that see it (or cannot get whoosh's own lock in time) are queued as JSON files in
``index_dir/queue`` and replayed by the next writer, under ``queue.lock``. The package's other modules own
the whoosh side.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import logging
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger(__name__)

GENERATION_RE = re.compile(r"^gen-\d{14}-\d+-[0-9a-f]{6}$")
_counter = itertools.count()


@contextlib.contextmanager
def flock(path: Path, mode: int) -> Iterator[None]:
    """Hold an flock on ``path`` (created if missing); closing the descriptor releases it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


class IndexFiles:
    """The files of one index folder, shared by every process that opens it."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self.pointer_path = self.index_dir / "CURRENT"
        self.queue_dir = self.index_dir / "queue"

    def lockfile(self, name: str) -> Path:
        return self.index_dir / f"{name}.lock"

    def locked(self, name: str, shared: bool = False):
        """A context holding ``name``.lock, shared or exclusive (waiting for it)."""
        return flock(self.lockfile(name), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)

    # generations --------------------------------------------------------------------------------------
    def pointer(self) -> tuple[Path, Any] | None:
        """The live generation directory and a stamp of the pointer file (changes at each swap), or None."""
        try:
            st = self.pointer_path.stat()
            with open(self.pointer_path, "rb") as fh:
                name = fh.read(100).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not GENERATION_RE.match(name) or not (self.index_dir / name).is_dir():
            return None
        return self.index_dir / name, (st.st_ino, st.st_mtime_ns, name)

    def new_generation(self, version: str) -> Path:
        """A new, empty generation directory (not yet live) marked with the index version."""
        name = f"gen-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{os.getpid()}-{secrets.token_hex(3)}"
        path = self.index_dir / name
        path.mkdir(parents=True)
        (path / "KB_VERSION").write_text(version + "\n", encoding="ascii")
        return path

    @staticmethod
    def version(path: Path) -> str | None:
        try:
            return (path / "KB_VERSION").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None

    def swap_to(self, path: Path) -> None:
        """Make ``path`` the live generation, atomically, once writes in flight are done."""
        tmp = self.index_dir / f".CURRENT.{os.getpid()}.{secrets.token_hex(4)}"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(path.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with self.locked("swap"):  # waits for writers in flight
            os.replace(tmp, self.pointer_path)

    def remove_other_generations(self, keep: Path) -> None:
        for path in self.index_dir.glob("gen-*"):
            if path != keep:
                shutil.rmtree(path, ignore_errors=True)  # open searchers keep their open files
        for path in self.index_dir.glob(".CURRENT.*"):
            with contextlib.suppress(OSError):
                path.unlink()

    def rebuilding(self) -> bool:
        """Is a rebuild running (in any process)?"""
        fd = os.open(self.lockfile("rebuild"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return True
            raise
        finally:
            os.close(fd)

    # the queue of writes --------------------------------------------------------------------------------
    def enqueue(self, op: dict) -> None:
        self.queue_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid():08d}-{next(_counter):08d}"
        tmp = self.queue_dir / f".{name}.tmp"
        tmp.write_text(json.dumps(op, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.queue_dir / f"{name}.json")

    def queued(self) -> list[Path]:
        """Queued writes, oldest first."""
        try:
            return sorted(self.queue_dir.glob("*.json"))
        except OSError:
            return []

    @staticmethod
    def read(files: list[Path]) -> list[dict]:
        """The operations in these queue files; unreadable ones are logged and skipped."""
        ops = []
        for path in files:
            try:
                ops.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                log.warning("skipping unreadable queued search update %s", path)
        return ops
