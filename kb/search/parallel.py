"""A rebuild on every core: the notes split into shards, each indexed by a forked process into an index of
its own beside the new generation, whose segments are then moved into the generation and listed in one
table of contents. No posting is copied or merged: the generation simply holds each shard's segments, and
search statistics (idf, average lengths) are read over all of them, so a search finds and scores exactly
as after a rebuild in one process (tests/test_search_parallel.py compares the two).

whoosh's own ``procs=N`` writer was not used: it passes documents through pickled temporary files, loses a
sub-writer's segment if it takes more than a second to report, and its forked workers outlive a killed
parent holding the lock (/work/shared/notes/whoosh-hazards.md). Here a shard process writes only its own
folder, reports through a pipe, and leaves as soon as its parent is gone; the caller forks only from a
process with one thread (the CLI, not a serving worker).
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from whoosh import index as windex
from whoosh.index import TOC

from .schema import SCHEMA

PARALLEL_FROM = 2_000  # notes; below, forking costs more than it saves
SHARD_PREFIX = "shard-"
MakeDocs = Callable[[list[str], list[str]], Iterator[Any]]  # (keys, errors) -> the notes' IndexDocs


def build(ix: Any, path: Path, keys: list[str], make_docs: MakeDocs, fill: Callable[[Any, Iterable[Any], Any], int],
          workers: int, progress: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
    """Index the notes named by ``keys`` into the empty index ``ix`` (folder ``path``) with ``workers``
    processes; ``fill(ix, docs, step)`` is the one-process loop each shard runs. Returns the count of notes
    indexed and the problems ``make_docs`` reported. Raises if any shard fails (the caller drops ``path``)."""
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    shards = [keys[k::workers] for k in range(workers)]
    parent = os.getpid()
    jobs = []
    for k, shard in enumerate(shards):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_shard, args=(path / f"{SHARD_PREFIX}{k}", shard, make_docs, fill, send,
                                                counter, parent), daemon=True)
        proc.start()
        send.close()
        jobs.append((proc, receive))
    try:
        results = _wait(jobs, counter, progress)
    finally:
        for proc, _ in jobs:
            if proc.is_alive():
                proc.kill()
            proc.join()
    count, errors, segments = 0, [], []
    for k, (n, shard_errors, shard_segments) in enumerate(results):
        count += n
        errors += shard_errors
        shard_dir = path / f"{SHARD_PREFIX}{k}"
        for segment in shard_segments:
            for name in os.listdir(shard_dir):
                if name.startswith(f"{segment.segment_id()}."):  # its files: MAIN_<id>.seg, …
                    os.replace(shard_dir / name, path / name)
            segments.append(segment)
        shutil.rmtree(shard_dir)
    TOC(SCHEMA, segments, ix.latest_generation() + 1).write(ix.storage, ix.indexname)
    return count, errors


def _wait(jobs: list, counter: Any, progress: Callable[[int], None] | None) -> list[tuple]:
    """Each shard's (count, errors, segments), in shard order, reporting progress meanwhile."""
    results: list[Any] = [None] * len(jobs)
    reported = 0
    while any(r is None for r in results):
        for k, (proc, receive) in enumerate(jobs):
            if results[k] is None and receive.poll(0.1):
                status, *payload = receive.recv()
                if status != "ok":
                    raise RuntimeError(f"index shard {k} failed: {payload[0]}")
                results[k] = tuple(payload)
            elif results[k] is None and not proc.is_alive() and not receive.poll(0):
                raise RuntimeError(f"index shard {k} ended without a result (exit code {proc.exitcode})")
        if progress is not None:
            done = counter.value
            if done > reported:
                progress(done - reported)
                reported = done
    return results


def _shard(folder: Path, keys: list[str], make_docs: MakeDocs, fill: Callable, send: Any, counter: Any,
           parent: int) -> None:
    """In the forked process: index ``keys`` into ``folder`` and send back what was made."""
    try:
        folder.mkdir()
        ix = windex.create_in(str(folder), SCHEMA)
        errors: list[str] = []

        def step(n: int) -> None:
            if os.getppid() != parent:  # the parent was killed: stop, rather than index for nobody
                os._exit(1)
            with counter.get_lock():
                counter.value += n
        count = fill(ix, make_docs(keys, errors), step)
        send.send(("ok", count, errors, ix._segments()))
    except BaseException as exc:  # reported to the parent, which raises it
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()
        os._exit(0)


def usable_workers(notes: int) -> int:
    """How many processes a rebuild of ``notes`` notes uses: one below PARALLEL_FROM notes, on one core, or
    in a process running other threads (a fork copies their locks, not the threads); else every core, up
    to four."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if notes < PARALLEL_FROM or cores < 2 or threading.active_count() > 1:
        return 1
    return min(cores, 4)
