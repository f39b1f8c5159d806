"""Writing the index: the writer's lock, the queue of writes that could not wait for it, background merges
of the small segments saves add, repairs, and rebuilds into a new generation swapped in atomically.

Writes that cannot get whoosh's lock within ``write_timeout``, or that happen during a rebuild, are queued as
JSON in ``index_dir/queue`` (kb.search.files) and applied by the next writer, a background thread,
``flush()`` or the rebuild. Commits never merge on the request path (``merge=False``); once writes pause, a
background thread merges the small segments (see /work/shared/notes/whoosh-hazards.md for the measurements)."""
from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from whoosh import index as windex
from whoosh.reading import SegmentReader

from . import changes, failures, parallel
from .files import IndexFiles
from .schema import INDEX_VERSION, SCHEMA, codec, doc_fields
from .types import IndexDoc, doc_from_json, doc_to_json

log = logging.getLogger("kb.search")

MAX_SEGMENTS = 8  # above this small segments are merged in the background, once writes pause
MAX_SEGMENTS_BUSY = 24  # ... or at once, past this many
MERGE_IDLE = 1.0  # seconds without a write before that merge
MERGE_DOCS = 100  # segments smaller than this are merged whatever their neighbours' size
REBUILD_POOL_MB = 1024  # whoosh's estimate of its pool (a segment is committed at 70 %): fewer, larger segments
REPAIR_EVERY = 30.0  # seconds between two background refills of an index found damaged while serving


def pool_nearly_full(writer: Any) -> bool:
    """Is the writer's in-memory pool of postings near REBUILD_POOL_MB? Past it, whoosh sorts the postings
    through temporary files, which took more CPU than indexing itself at 7,400 notes; a rebuild commits
    a segment instead (memory stays bounded, and a few large segments search as fast as one)."""
    size = getattr(getattr(writer, "pool", None), "currentsize", 0)
    return size > REBUILD_POOL_MB * 1024 * 1024 * 0.7


def merge_plan(segments: list[Any]) -> list[Any]:
    """The segments a background merge combines: the smallest ones, for as long as the next is no larger
    than three times what is merged so far (or than MERGE_DOCS). The segments single saves add are merged
    every few saves, their merges into larger ones, and so on; the large segments of a rebuild stay as
    they are, so a merge costs little and a save rarely waits for one. (whoosh's MERGE_SMALL merges the
    five smallest only, and segments accumulated.) Empty when there is nothing worth merging."""
    ordered = sorted(segments, key=lambda seg: seg.doc_count_all())
    plan, merged = [], 0
    for seg in ordered:
        if plan and seg.doc_count_all() > max(3 * merged, MERGE_DOCS):
            break
        plan.append(seg)
        merged += seg.doc_count_all()
    return plan if len(plan) > 1 else []


def merge_small(writer: Any, segments: list[Any]) -> list[Any]:
    """A whoosh merge policy applying merge_plan: merged segments go into the writer's new segment."""
    plan = merge_plan(segments)
    for seg in plan:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [seg for seg in segments if seg not in plan]


class Writes:
    """The writing half of SearchIndex (kb.search.index), which sets the attributes used here."""

    files: IndexFiles
    index_dir: Path
    write_timeout: float
    on_damage: Callable[[], Any] | None

    def _init_writes(self) -> None:
        self._threads_lock = threading.Lock()
        self._drainer: threading.Thread | None = None
        self._merger: threading.Thread | None = None
        self._repairer: threading.Thread | None = None
        self._repaired_at = -REPAIR_EVERY
        self._last_write = 0.0
        self._stop = threading.Event()

    def _new_generation(self) -> tuple[Path, Any]:
        """A new, empty generation (not yet live) and its whoosh index."""
        path = self.files.new_generation(INDEX_VERSION)
        return path, windex.create_in(str(path), SCHEMA)

    def upsert(self, docs: Iterable[IndexDoc]) -> None:
        """Add or replace notes by slug (a writer waits briefly for the lock, then queues the change)."""
        docs = list(docs)
        if docs:
            self._write({"op": "upsert", "docs": [doc_to_json(d) for d in docs]})

    def remove(self, slugs: Iterable[str]) -> None:
        """Remove notes by slug (queued like upserts when the lock is busy)."""
        slugs = [str(s) for s in slugs]
        if slugs:
            self._write({"op": "remove", "slugs": slugs})

    def _write(self, op: dict) -> None:
        """Apply op now, or queue it; never raises (a note save must not fail because of the index)."""
        for attempt in (1, 2):
            try:
                if not self.exists():
                    self.ensure()
                self._write_once(op)
                return
            except Exception as exc:
                failures.failed("search index write failed (attempt %d)", exc, attempt)
                if attempt == 1 and not self._healthy():
                    with contextlib.suppress(Exception):
                        self.ensure()  # damaged: start empty, and refill from content/ in the background
                    self._damaged()
                    continue
                break
        try:
            self.files.enqueue(op)
            self._start_thread("_drainer", self._drain_loop)
        except OSError as exc:
            failures.failed("search update lost; `kb index check --repair` restores it", exc)

    def _write_once(self, op: dict) -> None:
        with self.files.locked("swap", shared=True):  # a swap waits for this write
            rebuilding = self.files.rebuilding()
            if rebuilding:
                self.files.enqueue(op)  # replayed into the new generation after the swap
            if not self._commit(op, drain=not rebuilding, timeout=self.write_timeout):
                if not rebuilding:
                    self.files.enqueue(op)
                self._start_thread("_drainer", self._drain_loop)

    def _commit(self, op: dict | None, drain: bool, timeout: float) -> bool:
        """Apply queued ops (if drain) and op in one commit; False if whoosh's lock stayed busy."""
        found = self.files.pointer()
        if found is None:
            return False
        ix = windex.open_dir(str(found[0]))
        try:
            writer = ix.writer(timeout=timeout, delay=0.05, limitmb=REBUILD_POOL_MB, codec=codec())
        except windex.LockError:
            return False
        # the queue lock is taken after whoosh's (same order everywhere) and kept until the applied
        # files are gone: the next writer gets whoosh's lock at our commit, and must not replay them
        with self.files.locked("queue"):
            files = self.files.queued() if drain else []
            try:
                ops = self.files.read(files)
                if op is not None:
                    ops.append(op)
                touched = self._apply(writer, ops)
                changes.record(found[0], writer.generation, touched)  # before the commit: see changes.py
                writer.commit(merge=False)
            except BaseException:
                writer.cancel()
                raise
            for path in files:
                with contextlib.suppress(OSError):
                    path.unlink()
        self._last_write = time.monotonic()
        if len(ix._segments()) > MAX_SEGMENTS and merge_plan(ix._segments()):
            self._start_thread("_merger", self._merge)
        return True

    @staticmethod
    def _apply(writer: Any, ops: list[dict]) -> set[str]:
        """Write the ops' final state of each note; return the notes touched (written or removed, and the
        notes those written link to: their backlinks change)."""
        final: dict[str, IndexDoc | None] = {}  # slug -> last state; one writer cannot see its own adds
        for op in ops:
            try:
                if op["op"] == "upsert":
                    for doc in [doc_from_json(data) for data in op["docs"]]:
                        final[doc.slug] = doc
                elif op["op"] == "remove":
                    final.update((str(slug), None) for slug in op["slugs"])
            except (KeyError, TypeError, ValueError):
                log.warning("skipping malformed search update %.200r", op)
        touched = set(final)
        if not final:
            return touched
        # one reader for every delete: whoosh's delete_by_term without one opens (and closes) a reader of
        # every segment per call, 0.4 s per note at 100,000 notes in 33 segments
        with writer.searcher() as searcher:
            for slug, doc in final.items():
                writer.delete_by_term("slug", slug, searcher=searcher)
                if doc is not None:
                    writer.add_document(**doc_fields(doc))
                    touched.update(doc.links)
        return touched

    def flush(self, timeout: float = 5.0) -> int:
        """Apply queued updates now if the lock frees within ``timeout``; return how many remain queued."""
        if not self.files.queued() or not self.exists():
            return len(self.files.queued())
        with self.files.locked("swap", shared=True):
            if not self.files.rebuilding():
                self._commit(None, drain=True, timeout=timeout)
        return len(self.files.queued())

    def _start_thread(self, attr: str, target: Callable[[], None]) -> None:
        with self._threads_lock:
            thread = getattr(self, attr)
            if thread is not None and thread.is_alive() or self._stop.is_set():
                return
            thread = threading.Thread(target=target, name=f"kb-search{attr}", daemon=True)
            setattr(self, attr, thread)
            thread.start()

    def _damaged(self) -> None:
        """The index was found missing or unreadable while serving: have the owner refill it."""
        if self.on_damage is None or time.monotonic() - self._repaired_at < REPAIR_EVERY:
            return
        self._repaired_at = time.monotonic()
        self._start_thread("_repairer", self._repair)

    def _repair(self) -> None:
        try:
            self.on_damage()  # type: ignore[misc]
        except Exception as exc:
            failures.failed("refilling the search index failed; `kb index rebuild` restores it", exc)
        self._drop_searcher()

    def _drain_loop(self) -> None:
        delay, deadline = 0.1, time.monotonic() + 600
        while time.monotonic() < deadline and not self._stop.wait(delay):
            try:
                if self.flush(timeout=self.write_timeout) == 0:
                    return
            except Exception as exc:
                failures.failed("applying queued search updates failed", exc)
            delay = min(delay * 2, 2.0)

    def _merge(self) -> None:
        """Merge small segments once this process has not written for MERGE_IDLE seconds (or at once past
        MAX_SEGMENTS_BUSY): a merge holds the write lock, and a save arriving meanwhile would wait."""
        while not self._stop.is_set():
            idle = time.monotonic() - self._last_write
            if idle >= MERGE_IDLE:
                break
            found = self.files.pointer()
            with contextlib.suppress(Exception):
                if found is not None and len(windex.open_dir(str(found[0]))._segments()) > MAX_SEGMENTS_BUSY:
                    break
            self._stop.wait(min(MERGE_IDLE - idle, 0.25) + 0.01)
        found = self.files.pointer()
        if found is None or self._stop.is_set():
            return
        try:
            writer = windex.open_dir(str(found[0])).writer(timeout=0.0, codec=codec())
        except windex.LockError:
            return  # someone is writing; the next write tries again
        except Exception as exc:
            failures.failed("search index merge could not start", exc)
            return
        try:
            if merge_plan(writer.segments):
                writer.commit(mergetype=merge_small)
            else:
                writer.cancel()
        except Exception as exc:
            writer.cancel()
            failures.failed("search index merge failed", exc)

    def rebuild(self, docs: Iterable[IndexDoc], progress: Callable[[int], None] | None = None) -> int:
        """Index ``docs`` into a fresh generation, swap it in atomically and return the count.

        ``progress`` is called with 1 after each note. Writes made meanwhile by other processes are queued
        and replayed into the new generation right after the swap.
        """
        return self._rebuild_with(lambda ix, path: fill(ix, docs, progress))

    def rebuild_notes(self, keys: list[str], make_docs: parallel.MakeDocs,
                      progress: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
        """``rebuild`` of the notes named by ``keys``, whose documents ``make_docs(keys, errors)`` makes; on
        every core when they are many (kb.search.parallel). Returns the count and the errors reported."""
        workers = parallel.usable_workers(len(keys))
        if workers == 1:
            errors: list[str] = []
            return self._rebuild_with(lambda ix, path: fill(ix, make_docs(keys, errors), progress)), errors
        out: list[tuple[int, list[str]]] = []

        def build(ix: Any, path: Path) -> int:
            out.append(parallel.build(ix, path, keys, make_docs, fill, workers, progress))
            return out[0][0]
        self._rebuild_with(build)
        return out[0]

    def _rebuild_with(self, build: Callable[[Any, Path], int]) -> int:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self.files.locked("rebuild"):
            path, ix = self._new_generation()
            try:
                count = build(ix, path)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            self.files.swap_to(path)
            if not self._commit(None, drain=True, timeout=30.0):
                self._start_thread("_drainer", self._drain_loop)
            self.files.remove_other_generations(path)
        return count


def fill(ix: Any, docs: Iterable[IndexDoc], step: Callable[[int], None] | None = None) -> int:
    """One process's rebuild: add the notes to the empty index ``ix``, committing a segment whenever the
    pool nears its bound; ``step(1)`` after each note. Returns the count."""
    count, seen = 0, set()
    writer = ix.writer(limitmb=REBUILD_POOL_MB, codec=codec())
    try:
        for doc in docs:
            if doc.slug in seen:
                log.warning("rebuild: duplicate note %s skipped", doc.slug)
                continue
            seen.add(doc.slug)
            writer.add_document(**doc_fields(doc))
            count += 1
            if pool_nearly_full(writer):  # a new segment, rather than sorting on disk
                writer.commit(merge=False)
                writer = ix.writer(limitmb=REBUILD_POOL_MB, codec=codec())
            if step is not None:
                step(1)
        writer.commit(merge=False)
    except BaseException:
        writer.cancel()
        raise
    return count
