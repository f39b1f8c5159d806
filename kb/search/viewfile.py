"""Reading a segment's files in place, not copied into memory.

whoosh maps each compound segment file (``MAIN_<id>.seg``) into memory and opens the files inside it (terms,
postings, columns, stored fields) as ``BufferFile`` objects over slices of the map; but ``BufferFile`` also
wraps its slice in a ``BytesIO`` for sequential reads, and ``BytesIO`` copies a memoryview. Every worker
thus held a private copy of most of the index: 415 MB of a worker's 985 MB at 100,000 notes (traced with
tracemalloc), where the mapped pages would be shared by all workers and left to the page cache.

``ViewFile`` is the file object for those reads: read, readline, readinto, seek and tell over the slice,
without copying it. ``install()`` makes whoosh's ``BufferFile`` use it for memoryviews (bytes objects are
shared by ``BytesIO`` already and keep it). whoosh is frozen at 2.7.4; tests/test_search_viewfile.py checks
the file semantics whoosh relies on and that a segment's searches are unchanged.
"""
from __future__ import annotations

import io
import pickle
from typing import Any

from whoosh.filedb import structfile


class ViewFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview (of a mapped file), sharing its memory."""

    def __init__(self, view: memoryview):
        super().__init__()
        self._view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
        self._pos = 0
        self._len = len(self._view)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        pos = self._pos
        end = self._len if size is None or size < 0 else min(pos + size, self._len)
        if end <= pos:
            return b""
        self._pos = end
        return self._view[pos:end].tobytes()

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        n = min(len(out), self._len - self._pos)
        if n <= 0:
            return 0
        out[:n] = self._view[self._pos:self._pos + n]
        self._pos += n
        return n

    def readline(self, size: int | None = -1) -> bytes:
        limit = self._len if size is None or size < 0 else min(self._pos + size, self._len)
        start = end = self._pos
        while end < limit:
            chunk = self._view[end:min(end + 256, limit)].tobytes()
            found = chunk.find(b"\n")
            if found >= 0:
                end += found + 1
                break
            end += len(chunk)
        self._pos = end
        return self._view[start:end].tobytes()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._len + offset
        else:
            raise ValueError(f"invalid whence: {whence}")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def load_pickle(self) -> Any:
        """The pickled object at the position (whoosh's block headers): unpickled from a copy of the next
        few hundred bytes, so that the C unpickler does not call ``read`` once per opcode of a header (a
        quarter of a million calls for a two-word query at 100,000 notes)."""
        for size in (512, None):
            end = self._len if size is None else min(self._pos + size, self._len)
            chunk = io.BytesIO(self._view[self._pos:end])
            try:
                # whoosh's own index files, unpickled as whoosh itself reads them
                found = pickle.load(chunk)  # nosec B301
            except Exception:
                if size is None or end == self._len:
                    raise
                continue
            self._pos += chunk.tell()
            return found
        raise EOFError


_original_init = structfile.BufferFile.__init__
_original_read_pickle = structfile.StructFile.read_pickle


def _buffer_file_init(self: Any, buf: Any, name: Any = None, onclose: Any = None) -> None:
    _original_init(self, b"" if isinstance(buf, memoryview) else buf, name=name, onclose=onclose)
    if isinstance(buf, memoryview):
        self._buf = buf
        self.file = ViewFile(buf)


def _read_pickle(self: Any) -> Any:
    return self.file.load_pickle() if isinstance(self.file, ViewFile) else _original_read_pickle(self)


def install() -> None:
    """Make whoosh's BufferFile read memoryviews in place (idempotent)."""
    structfile.BufferFile.__init__ = _buffer_file_init
    structfile.BufferFile.read_pickle = _read_pickle
