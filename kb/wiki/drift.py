"""The start-up index check without reading every note.

A full check (``kb index check``) reads and hashes every note and every index entry: 16–19 s at 100,000
notes, on every start of every worker. After each check, the files found in step with the index are recorded
(name, size, modification time, inode) in ``index_dir/checked.json``, with the index state checked against.
At the next start only the suspects are read: files whose record differs or is missing, recorded files now
gone, and the notes the index changed since that state (kb.search.changes). Anything that cannot be told
that way (no record, another index generation, a gap in the index's change list) falls back to the full
check. What escapes it: a file rewritten behind kb's back with the same size, time and inode (by hand,
keeping the time stamp, in place); `kb index check` still finds that.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import KbError
from ..store import FILES, SUFFIX

if TYPE_CHECKING:
    from .indexing import Drift, Indexer

log = logging.getLogger(__name__)
RECORD = "checked.json"


def file_stats(root: Path, slugs: list[str]) -> dict[str, list[int]]:
    """Each note's [size, modification time in ns, inode], followed by those of its attachments (in
    content/_files/<slug>/, one listing of that folder for all notes)."""
    try:
        with_files = {e.name for e in os.scandir(root / FILES) if e.is_dir(follow_symlinks=False)}
    except OSError:
        with_files = set()
    out = {}
    for slug in slugs:
        try:
            st = os.stat(root / (slug + SUFFIX))
        except OSError:
            continue
        out[slug] = [st.st_size, st.st_mtime_ns, st.st_ino]
        if slug in with_files:
            out[slug] += _folder_stats(root / FILES / slug)
    return out


def _folder_stats(folder: Path) -> list[int]:
    out: list[int] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return [-1]
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        out += [st.st_size, st.st_mtime_ns, st.st_ino]
    return out


def _record_path(indexer: "Indexer") -> Path:
    return Path(indexer.index.index_dir) / RECORD


def load(indexer: "Indexer") -> dict | None:
    try:
        data = json.loads(_record_path(indexer).read_text(encoding="utf-8"))
        if isinstance(data.get("files"), dict) and isinstance(data.get("state"), list):
            return data
    except (OSError, ValueError, AttributeError):
        pass
    return None


def invalid_slugs(errors: list[str]) -> set[str]:
    """The notes named by indexing errors ("slug: reason")."""
    return {e.split(":", 1)[0] for e in errors}


def save(indexer: "Indexer", state: tuple[str, int] | None, stats: dict[str, list[int]], bad: set[str]) -> None:
    """Record the files found in step with the index at ``state``, but ``bad`` (drifted or invalid notes,
    suspects again at the next check)."""
    path = _record_path(indexer)
    if state is None:
        path.unlink(missing_ok=True)
        return
    files = {slug: st for slug, st in stats.items() if slug not in bad}
    tmp = path.with_name(f".{RECORD}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps({"state": list(state), "files": files}, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not record the index check (the next start checks every note): %s", exc)
        tmp.unlink(missing_ok=True)


def suspects(indexer: "Indexer", stats: dict[str, list[int]]) -> set[str] | None:
    """The notes to check, or None when only a full check can tell."""
    record = load(indexer)
    if record is None:
        return None
    touched = indexer.index.touched_since((str(record["state"][0]), int(record["state"][1])))
    if touched is None:
        return None
    recorded: dict = record["files"]
    changed = {slug for slug, st in stats.items() if recorded.get(slug) != st}
    return changed | touched | (set(recorded) - set(stats))


def compare(indexer: "Indexer", slugs: set[str], on_disk: set[str], drift: "Drift",
            indexed: dict[str, str] | None = None) -> None:
    """Fill ``drift`` for these notes: missing from the index, stale there, or orphaned (``indexed``: the
    index's stored hashes when already read, of every note)."""
    indexed = indexer.index.stored_hashes_of(slugs) if indexed is None else indexed
    for slug in sorted(slugs):
        if slug not in on_disk:
            if slug in indexed:
                drift.orphaned.append(slug)
            continue
        try:
            digest = indexer.files.digest(slug, indexer.store.read_bytes(slug))  # its attachments too
        except (KbError, OSError):
            continue
        if slug not in indexed:
            drift.missing.append(slug)
        elif indexed[slug] != digest:
            drift.stale.append(slug)
