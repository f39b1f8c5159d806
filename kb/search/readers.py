"""Opening a searcher over the index's segments, reusing the segment readers of the previous searcher.

whoosh's own reuse (``Index.reader(reuse=…)``) never reuses anything in 2.7.4 (it looks readers up by
generation number instead of segment id), and ``Searcher.refresh()`` is avoided (its forks return duplicate
hits). A save adds one small segment and marks the note's old version deleted in another: whoosh keeps a
segment's deleted documents in the segment object read from the table of contents, not in its files, so a
reader of an unchanged segment is reused as it is, and a reader of a segment that only gained deletions is
handed the new segment object. Only the new segments' files are opened: at 100,000 notes in some 30
segments, opening every segment again cost 0.4–1 s on the first search after each save.
"""
from __future__ import annotations

from typing import Any

from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher


def _segment_key(segment: Any) -> str:
    return segment.segment_id()


def _adopt(reader: Any, segment: Any) -> bool:
    """Point an open reader at a newer state of its segment (same files, more deletions); False when this
    reader cannot be adopted safely (another codec or reader class than the ones kb uses)."""
    perdoc = getattr(reader, "_perdoc", None)
    if type(reader) is not SegmentReader or perdoc is None or not hasattr(perdoc, "_segment"):
        return False
    old = reader.segment()
    if old.doc_count_all() != segment.doc_count_all() or old.deleted_count() > segment.deleted_count():
        return False
    if old is not segment:
        reader._segment = segment
        perdoc._segment = segment
    return True


def open_searcher(ix: Any, weighting: Any, previous: Any | None = None) -> tuple[Searcher, list[Any], int]:
    """A searcher over the index's latest generation, the previous searcher's leaf readers it reused (the
    caller closes the others) and whoosh's generation number. ``previous``: a reader of the same index."""
    toc = ix._read_toc()
    if not toc.segments:
        return Searcher(EmptyReader(ix.schema), weighting=weighting, fromindex=ix), [], toc.generation
    open_readers: dict[str, Any] = {}
    if previous is not None:
        open_readers = {_segment_key(leaf.segment()): leaf for leaf, _ in previous.leaf_readers()
                        if type(leaf) is SegmentReader}
    readers, reused = [], []
    try:
        for segment in toc.segments:
            leaf = open_readers.pop(_segment_key(segment), None)
            if leaf is not None and not leaf.is_closed and _adopt(leaf, segment):
                reused.append(leaf)
            else:
                leaf = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
            readers.append(leaf)
    except BaseException:
        for leaf in readers:
            if not any(leaf is r for r in reused):
                leaf.close()
        raise
    # always a MultiReader: its generation is the table of contents' (up_to_date compares it), whatever
    # the generation the reused readers were opened at
    searcher = Searcher(MultiReader(readers, generation=toc.generation), weighting=weighting, fromindex=ix)
    return searcher, reused, toc.generation
