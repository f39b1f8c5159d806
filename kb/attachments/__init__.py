"""Files beside the notes, before they are written: the type decided by the content (sniff.py), metadata
taken out (strip.py), the words for search and the personal-data guard (text.py), a safe name. No Flask,
no git: the service (kb/wiki/attachments.py) writes what ``prepare`` returns through the one write path."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ..errors import N_, FileTooLarge, Message, UnsupportedFile
from ..model import slugify
from .sniff import IMAGES, KINDS, sniff
from .strip import clean
from .text import text_of

__all__ = ["IMAGES", "KINDS", "Prepared", "prepare", "safe_name", "NAME_RE", "kind_of_name", "text_of", "sha256"]

# a stored name: a slug and the extension of its kind, nothing else (no dot file, no folder, no other type)
NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.(?:jpg|png|webp|pdf|csv)$")
_EXT_KIND = {ext: kind for kind, (_mime, ext) in KINDS.items()}
NAME_MAX = 80
REFUSED = N_("This type of file is not accepted: only JPEG, PNG and WebP photos, PDF documents and plain CSV "
             "tables are (decided by the content, not the name). Nothing was saved.")


@dataclass(frozen=True)
class Prepared:
    """An upload as kb will keep it."""
    name: str  # the safe name wanted (the service adds -2, -3... on a clash)
    kind: str
    data: bytes
    thumb: bytes | None
    text: str  # a PDF's text or a CSV's cells ('' for images)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kind_of_name(name: str) -> str | None:
    """The kind a stored name stands for (its extension), None when it is not a stored name."""
    return _EXT_KIND.get(name.rsplit(".", 1)[-1]) if NAME_RE.match(name or "") else None


def safe_name(filename: str, kind: str) -> str:
    """A file name as a slug with the extension of its real kind: 'Carte (Agadez).JPG' -> 'carte-agadez.jpg'."""
    base = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = slugify(stem)[:NAME_MAX].strip("-") or "file"
    return f"{stem}.{KINDS[kind][1]}"


def prepare(filename: str, data: bytes, max_bytes: int) -> Prepared:
    """Check, identify and clean an upload; FileTooLarge or UnsupportedFile, with nothing written."""
    if len(data) > max_bytes:
        raise FileTooLarge(Message(N_("The file is larger than %(n)s MB. Nothing was saved."),
                                   n=f"{max_bytes / 1024 / 1024:g}"))
    if not data:
        raise UnsupportedFile(Message(N_("The file is empty. Nothing was saved.")))
    kind = sniff(data)
    if kind is None:
        raise UnsupportedFile(Message(REFUSED))
    cleaned = clean(kind, data)
    return Prepared(safe_name(filename, kind), kind, cleaned.data, cleaned.thumb, text_of(kind, cleaned.data))
