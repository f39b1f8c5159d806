"""Which notes each commit of the index touched, so that every process can drop only the cached pages that
show them (kb.wiki.pages) when its searcher moves to a newer generation of the index. No whoosh.

One file per index generation folder, ``CHANGES``: a JSON line per commit that wrote notes,
``{"g": <whoosh generation>, "s": [slugs]}`` (the notes written or removed and the notes the written ones link
to), appended by the writer while it holds whoosh's lock, before its commit (a commit that then fails only
costs a few needless drops). Merges write nothing: they change no note. When the file passes MAX_BYTES it
starts again with ``{"from": <generation>}``: a reader older than that drops everything, as after a rebuild
(a new folder, a new file)."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger("kb.search")

FILENAME = "CHANGES"
MAX_BYTES = 256 * 1024  # some 3,000 saves; read whole by each process at each reopening


def record(folder: Path, generation: int, slugs: set[str]) -> None:
    """Append one commit's touched notes; call holding whoosh's write lock. Never raises."""
    if not slugs:
        return
    path = Path(folder) / FILENAME
    line = json.dumps({"g": int(generation), "s": sorted(slugs)}, ensure_ascii=False) + "\n"
    try:
        if path.exists() and path.stat().st_size > MAX_BYTES:
            tmp = path.with_name(f".{FILENAME}.{os.getpid()}")
            tmp.write_text(json.dumps({"from": int(generation)}) + "\n" + line, encoding="utf-8")
            os.replace(tmp, path)
            return
        with open(path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a line torn by a killed writer stays a line of its own
                    line = "\n" + line
            fh.write(line.encode("utf-8"))
    except OSError as exc:  # readers then see a gap and drop everything: safe, only slower
        log.warning("could not record the notes an index commit touched: %s", exc)
        _mark_gap(path, generation)


def _mark_gap(path: Path, generation: int) -> None:
    try:
        tmp = path.with_name(f".{FILENAME}.{os.getpid()}")
        tmp.write_text(json.dumps({"from": int(generation) + 1}) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            path.unlink()
        except OSError:
            pass


def between(folder: Path, old: int, new: int) -> set[str] | None:
    """The notes touched by commits after generation ``old`` up to ``new``; None when that cannot be told
    (the file is missing, unreadable or was started again after ``old``): then everything counts as touched."""
    if new <= old:
        return set()
    try:
        text = (Path(folder) / FILENAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError):
        return None
    touched: set[str] = set()
    complete = True  # no "from" line: the file covers the folder's whole life
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line torn by a writer killed before its commit: that commit was never made
        if "from" in entry:
            complete = int(entry["from"]) <= old + 1
            touched.clear()
            continue
        if old < int(entry.get("g", 0)) <= new:
            touched.update(str(s) for s in entry.get("s", ()))
    return touched if complete else None
