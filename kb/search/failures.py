"""Failures that search answers rather than raises: logged, and the files they left open closed."""
from __future__ import annotations

import contextlib
import io
import logging
import traceback
from typing import Any

from whoosh.filedb.structfile import StructFile

log = logging.getLogger("kb.search")


def failed(message: str, exc: BaseException, *args: Any) -> None:
    """Log a failure that is answered rather than raised, and close the files it left open."""
    log.warning(message + ": %s", *args, "".join(traceback.format_exception(exc)).rstrip())
    release(exc)


def release(exc: BaseException | None) -> None:
    """Close files left open in the frames of a failure (whoosh does so on a damaged index)."""
    seen = 0
    while exc is not None and seen < 5:
        tb = exc.__traceback__
        while tb is not None:
            for value in list(tb.tb_frame.f_locals.values()):
                for obj in (value, getattr(value, "_file", None), getattr(value, "file", None)):
                    if isinstance(obj, (StructFile, io.IOBase)):
                        with contextlib.suppress(Exception):
                            obj.close()
            tb = tb.tb_next
        exc, seen = exc.__context__, seen + 1
