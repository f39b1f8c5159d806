"""What a file is, decided by its bytes, never by its name: JPEG, PNG, WebP, PDF or plain CSV, else None.

The magic numbers only pick a candidate; strip.py then opens the file with the library made for the type
(Pillow, pikepdf), so a file that merely starts like a PDF is refused too. No Flask."""
from __future__ import annotations

import csv
import io
import re

# kind -> (MIME type, the extension a stored name gets)
KINDS = {
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "webp": ("image/webp", "webp"),
    "pdf": ("application/pdf", "pdf"),
    "csv": ("text/csv", "csv"),
}
IMAGES = ("jpeg", "png", "webp")
# markup that a browser could run or draw, whatever the name says: never accepted as CSV
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|a\s|img\s|style)",
                     re.I)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CSV_SAMPLE = 64 * 1024


def sniff(data: bytes) -> str | None:
    """The kind of the file ("jpeg", "png", "webp", "pdf", "csv"), or None when it is none of them."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return "csv" if is_plain_csv(data) else None


def csv_text(data: bytes) -> str | None:
    """The text of a plain CSV file (UTF-8, an optional byte-order mark), or None when it is not one."""
    if not data.strip() or b"\x00" in data or _MARKUP.search(data):
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if _CONTROLS.search(text) or text.lstrip().startswith(("<", "{", "[")):
        return None
    return text


def is_plain_csv(data: bytes) -> bool:
    """Plain text that reads as rows of cells (a single column is a CSV file too)."""
    text = csv_text(data)
    if text is None:
        return False
    try:
        rows = list(csv.reader(io.StringIO(text[:CSV_SAMPLE])))
    except csv.Error:
        return False
    return bool(rows)
