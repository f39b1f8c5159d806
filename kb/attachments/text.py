"""The words of an attachment, for search and for the personal-data guard: a PDF's text (pypdf) and a CSV's
cells. Bounded, so a huge or hostile file cannot stall indexing. No Flask."""
from __future__ import annotations

import csv
import io
import logging

from .sniff import csv_text

log = logging.getLogger(__name__)
MAX_PAGES = 300
MAX_CHARS = 300_000


def pdf_text(data: bytes) -> str:
    """The text of a PDF's first pages, '' when it has none that pypdf can read."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    parts: list[str] = []
    size = 0
    try:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages[:MAX_PAGES]:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size > MAX_CHARS:
                break
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        log.info("no text read from a PDF: %s", exc)
    return "\n".join(parts)[:MAX_CHARS]


def csv_cells(data: bytes) -> str:
    """A CSV's cells, one row per line, cells separated by ' | '."""
    text = csv_text(data) or ""
    lines: list[str] = []
    size = 0
    try:
        for row in csv.reader(io.StringIO(text)):
            line = " | ".join(cell.strip() for cell in row if cell.strip())
            lines.append(line)
            size += len(line) + 1
            if size > MAX_CHARS:
                break
    except csv.Error:
        pass
    return "\n".join(lines)[:MAX_CHARS]


def text_of(kind: str, data: bytes) -> str:
    """The searchable text of an attachment of this kind ('' for images)."""
    if kind == "pdf":
        return pdf_text(data)
    if kind == "csv":
        return csv_cells(data)
    return ""
