"""`kb import`: copy Markdown files with front matter into the content store, validated, in one commit made
through the write path (so it is audited like any other change)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from typing import TYPE_CHECKING

from .. import pdguard
from ..errors import InvalidNote, KbError
from ..model import RESERVED, SLUG_MAX, Note, check_body, dump_note, parse_note, slugify
from ..redirects import Redirects
from ..store import Store
from .writes import change

if TYPE_CHECKING:
    from . import Wiki

SOURCE_MAX_BYTES = 5 * 1024 * 1024


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "path: reason"
    # Files that would have been public and published but hold likely personal data: imported as drafts.
    # Each finding's line is the line in the source file.
    drafted: list[tuple[str, list[pdguard.PdFinding]]] = field(default_factory=list)


def find_sources(paths: list[Path]) -> list[tuple[Path, str]]:
    """Every Markdown file under the given paths, each with the slug it imports as (before clashes)."""
    found: list[tuple[Path, str]] = []
    for given in paths:
        given = Path(given)
        if given.is_dir():
            files = sorted(p for p in given.rglob("*.md") if p.is_file()
                           and not any(part.startswith(".") for part in p.relative_to(given).parts))
            found += [(f, slugify(str(f.relative_to(given))[:-3], SLUG_MAX)) for f in files]
        else:
            found.append((given, slugify(given.name[:-3] if given.name.endswith(".md") else given.name, SLUG_MAX)))
    return found


def _with_suffix(base: str, n: int) -> str:
    if n == 1:
        return base
    suffix = f"-{n}"
    return base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix


def plan_import(store: Store, taxonomy, paths: list[Path],
                progress: Callable[[int], None] | None = None) -> tuple[ImportReport, dict[str, bytes]]:
    """Validate every file and choose its slug; return the report and the files to write (slug -> bytes).

    A slug already taken by different text (or kept by a renamed note's redirect) gets -2, -3, ...; the same
    text already present changes nothing, so a second import of the same files is a no-op and nothing is
    ever overwritten. A file whose name is reserved (new.md: /notes/new is the editor) is reported, not imported.
    """
    report = ImportReport()
    writes: dict[str, bytes] = {}
    taken_now: set[str] = set(Redirects(store).load())
    for path, base in find_sources(paths):
        if progress:
            progress(1)
        try:
            if not base:
                raise InvalidNote([("file name", "gives an empty note name")])
            if base in RESERVED:
                raise InvalidNote([("file name", f"{base!r} is reserved; choose another name")])
            if path.stat().st_size > SOURCE_MAX_BYTES:
                raise InvalidNote([("file", f"is larger than {SOURCE_MAX_BYTES // (1024 * 1024)} MB")])
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidNote([("file", "is not UTF-8 text")]) from None
            note = parse_note(base, text, taxonomy, source=str(path))
            check_body(note.body)
            findings = pdguard.scan_note(note.meta, note.body) if pdguard.is_public(note.meta) else []
            if findings:
                data = _as_draft(note, text, taxonomy).encode("utf-8")
        except InvalidNote as exc:
            report.errors.append(f"{path}: " + "; ".join(f"{f}: {m}" for f, m in exc.problems))
            continue
        except (OSError, KbError) as exc:
            report.errors.append(f"{path}: {exc}")
            continue
        n = 1
        while True:
            slug = _with_suffix(base, n)
            if slug in taken_now:
                n += 1
                continue
            if store.exists(slug):
                if store.read_bytes(slug) == data:
                    report.unchanged.append(slug)
                    taken_now.add(slug)
                    break
                n += 1
                continue
            writes[slug] = data
            report.added.append(slug)
            if findings:  # reported when written, not again when a second import finds it unchanged
                report.drafted.append((str(path), _file_lines(findings, text)))
            taken_now.add(slug)
            break
    return report, writes


_STATUS_LINE = re.compile(r"^status[ \t]*:.*$", re.M)


def _as_draft(note: Note, text: str, taxonomy) -> str:
    """The file's text with its status set to draft: the one front-matter line changed (or added), the rest
    as the writer wrote it; the whole front matter written anew only when that line cannot be found."""
    lines = text.lstrip("\ufeff").split("\n")
    closing = _closing_line(lines)
    front = lines[1:closing]
    status = [i for i, line in enumerate(front) if _STATUS_LINE.match(line)]
    if len(status) <= 1:
        if status:
            front[status[0]] = "status: draft"
        else:
            front.append("status: draft")
        candidate = "\n".join([lines[0], *front, *lines[closing:]])
        try:
            if parse_note(note.slug, candidate, taxonomy).meta.status == "draft":
                return candidate
        except KbError:
            pass
    return dump_note(Note(note.slug, note.meta.copy(status="draft"), note.body))


def _closing_line(lines: list[str]) -> int:
    return next(i for i in range(1, len(lines)) if lines[i].rstrip("\r") in ("---", "..."))


def _file_lines(findings: list[pdguard.PdFinding], text: str) -> list[pdguard.PdFinding]:
    """The findings with each line counted in the source file rather than in its field."""
    lines = text.lstrip("\ufeff").split("\n")
    closing = _closing_line(lines)
    body_first = closing + 1
    while body_first < len(lines) and lines[body_first] == "":
        body_first += 1  # parse_note drops the blank lines before the body
    out = []
    for f in findings:
        if f.field == "body":
            line = body_first + f.line
        else:
            key = next((i for i in range(1, closing) if re.match(rf"{re.escape(f.field)}[ \t]*:", lines[i])), 0)
            block = key and not lines[key].split(":", 1)[1].strip()  # a block list: one item per line
            line = key + 1 + (f.line - 1 if block else 0)
        out.append(replace(f, line=line))
    return out


def count_sources(paths: list[Path]) -> int:
    total = 0
    for given in paths:
        if Path(given).is_dir():
            for _root, _dirs, files in os.walk(given):
                total += sum(1 for f in files if f.endswith(".md"))
        else:
            total += 1
    return total


def import_paths(wiki: "Wiki", paths: list[Path], author: str = "kb", progress: Callable[[int], None] | None = None,
                 actor: str | None = None) -> ImportReport:
    """Import Markdown files: validate all, write the new ones, one commit, index them, one audit event."""
    with change(wiki, actor or author) as ch:
        report, writes = plan_import(wiki.store, wiki.taxonomy, paths, progress)
        for slug, data in writes.items():
            ch.write(slug, data)
        # An "unchanged" file may be one an interrupted import wrote but never committed: adding it to the
        # commit completes the history, and is a no-op for files git already has.
        ch.include(*[wiki.store.relpath(s) for s in report.unchanged])
        ch.commit(f"Import {len(writes)} note(s)" if writes else
                  "Import: commit notes an interrupted import left uncommitted", author)
        if writes or report.errors:
            ch.audit("note_import", f"{len(writes)} note(s)",
                     f"{len(report.added)} added, {len(report.unchanged)} unchanged, {len(report.errors)} with "
                     f"errors: {', '.join(report.added[:20])}{' ...' if len(report.added) > 20 else ''}")
    return report
