"""SearchIndex: the index in one folder, opened, kept healthy, written (kb.search.writer) and read.

On disk (the folder itself is kb.search.files): ``index_dir/CURRENT`` names the live generation, a whoosh
index in ``index_dir/gen-…``. ``rebuild`` builds a new generation beside it and swaps ``CURRENT`` with
``os.replace``: searches keep working, and open searchers read the old files until they notice the swap.
An index found missing or unreadable while serving is refilled through ``on_damage``.

Speed: one searcher per instance, reopened when the index changed; the document sets behind facets,
filters and access, the columns and the field lengths used in scoring are cached per whoosh segment
(kb.search.segments) and survive reopening, so after a save only the new small segment is read."""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from whoosh import index as windex
from whoosh.classify import Bo1Model
from whoosh.query import Term

from . import bulkor, changes, failures, query as querying
from .files import IndexFiles
from .generation import Generation
from .glossary import GlossaryFile
from .schema import FACETS, INDEX_VERSION, SCHEMA, SECTIONS
from .segments import Segment
from .snippets import hit
from .types import LANGS, Hit, SearchQuery, SearchResults, clean_query
from .writer import Writes

log = logging.getLogger("kb.search")
# the search run once by warm(): its words are analysed in every language (stemmers, their caches) and it
# goes through coordination, the phrase bonus, facets and snippets (whoosh's code for each)
WARM_QUERY = "protection of children travelling alone"


class SearchIndex(Writes):
    """The search index in ``index_dir``, shared by every process that opens the same directory.

    One searcher per instance, reopened only when the index changed; searches on one instance are
    serialised (whoosh readers share file positions, and the GIL leaves little to gain).
    """

    def __init__(self, index_dir: Path, *, write_timeout: float = 1.0):
        self.index_dir = Path(index_dir)
        self.files = IndexFiles(self.index_dir)
        self.write_timeout = write_timeout
        self._lock = threading.RLock()
        self._gen: Generation | None = None
        self._segments: dict[str, Segment] = {}  # kept across reopenings while the segments live
        self._init_writes()
        self._listeners: list[Callable[[set[str] | None], Any]] = []
        # set by the owner (kb.indexing) to refill the index from content/ when it is found missing or
        # unreadable while serving; runs in a background thread, at most once per REPAIR_EVERY seconds
        self.on_damage: Callable[[], Any] | None = None
        self.glossary = GlossaryFile(None)  # set by use_glossary

    def use_glossary(self, path: Path) -> None:
        """Expand queries with the glossary in ``path`` (content/glossary.yml), read again when it changes."""
        self.glossary = GlossaryFile(Path(path))

    # lifecycle ----------------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Is there an index (possibly empty) to search and write?"""
        found = self.files.pointer()
        return found is not None and any(found[0].glob("_MAIN_*.toc"))

    def _healthy(self) -> bool:
        """Can the live generation be opened and read? A damaged-looking one is probed three times: a
        concurrent merge or swap can remove files between two steps of one probe."""
        for _ in range(3):
            state = self._probe()
            if state != "retry":
                return state == "ok"
            time.sleep(0.05)
        return False

    def _probe(self) -> str:
        """"ok", "no" (missing, or built by another version) or "retry" (unreadable just now)."""
        found = self.files.pointer()
        if found is None:
            return "no"
        version = self.files.version(found[0])
        if version != INDEX_VERSION:
            log.warning("search index at %s is not version %s; it will be replaced", found[0], INDEX_VERSION)
            return "no"
        try:
            ix = windex.open_dir(str(found[0]))
            if set(ix.schema.names()) != set(SCHEMA.names()):
                return "no"
            with ix.searcher() as searcher:
                for leaf, _ in searcher.reader().leaf_readers():
                    list(itertools.islice(leaf.all_stored_fields(), 1))
                    list(itertools.islice(leaf.lexicon("slug"), 1))
                    if leaf.doc_count_all():
                        list(itertools.islice(leaf.column_reader("updated_ts"), 1))
            return "ok"
        except Exception as exc:  # any unreadable state counts as damaged
            failures.failed("search index at %s is unreadable", exc, found[0])
            return "retry"

    def ensure(self) -> bool:
        """Create an empty index if missing or unreadable (the caller then rebuilds); True if created."""
        if self._healthy():
            return False
        damaged = self.files.pointer() is not None
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self.files.locked("rebuild"):
            if self._probe() == "ok":  # another process may have just recreated it
                return False
            path, _ = self._new_generation()
            self.files.swap_to(path)
            self.files.remove_other_generations(path)
        self._drop_searcher()
        log.log(logging.WARNING if damaged else logging.INFO, "created an empty search index in %s%s", path,
                " (the previous one was unreadable)" if damaged else "")
        return True

    def close(self) -> None:
        """Stop background work and close the searcher."""
        self._stop.set()
        for thread in (self._drainer, self._merger, self._repairer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5)
        self._drop_searcher()

    def _drop_searcher(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.close()
                for callback in self._listeners:  # what was read from it may be gone
                    callback(None)
            self._gen, self._segments = None, {}

    def _current(self) -> Generation | None:
        """The open generation, reopened if the index changed or was swapped; None if no index."""
        gen = self._gen
        found = self.files.pointer()
        if gen is not None and found is not None and found[1] == gen.pointer:
            try:
                if gen.searcher.up_to_date():
                    return gen
            except Exception as exc:  # e.g. its generation directory was removed after a swap
                failures.release(exc)
        error: Exception | None = None
        for attempt in range(3):  # a concurrent merge or swap can remove files between steps
            if found is None:
                self._drop_searcher()
                return None
            try:
                same = gen is not None and gen.path == found[0]
                ix = gen.ix if same else windex.open_dir(str(found[0]))
                fresh = Generation(found[0], found[1], ix, self._segments, previous=gen if same else None)
            except Exception as exc:
                if error is not None:
                    failures.release(error)
                error = exc
                time.sleep(0.01 * (attempt + 1))
                found = self.files.pointer()
                continue
            if gen is not None:
                gen.close(keep=fresh.reused)
            self._gen, self._segments = fresh, fresh.segments
            self._changed(gen, fresh)
            return fresh
        raise error  # type: ignore[misc]

    def listen(self, callback: Callable[[set[str] | None], Any]) -> None:
        """Call ``callback`` with the notes touched since the searcher last moved on (None: any may have
        been), each time it moves to a newer state of the index: what caches keyed by it must drop."""
        self._listeners.append(callback)

    def _changed(self, old: Generation | None, new: Generation | None) -> None:
        touched = None
        if old is not None and new is not None and old.path == new.path:
            touched = changes.between(new.path, old.number, new.number)
        if touched == set():
            return
        for callback in self._listeners:
            try:
                callback(touched)
            except Exception as exc:
                failures.failed("a cache could not drop what the index changed", exc)

    def sync(self) -> None:
        """Move to the newest state of the index now (telling the listeners what changed); never raises
        (an index that cannot be opened just now counts as changed everywhere)."""
        try:
            with self._lock:
                self._current()
        except Exception as exc:
            failures.failed("search index could not be reopened", exc)
            self._changed(None, None)

    # reading --------------------------------------------------------------------------------------------
    def doc_count(self) -> int:
        """How many notes the index holds."""
        with self._lock:
            gen = self._current()
            return gen.searcher.doc_count() if gen is not None else 0

    def stored(self, slug: str) -> tuple[str, dt.datetime | None] | None:
        """(hash of the note's file, its date) as the index holds them, or None when it holds no such note:
        for a note without a date of its own that date is its last commit's, read from git when indexed."""
        try:
            with self._lock:
                gen = self._current()
                own = gen.docs("slug", slug) if gen is not None else frozenset()
                if not own:
                    return None
                fields = gen.searcher.stored_fields(min(own))
                return fields.get("hash", ""), fields["doc"].get("updated")
        except Exception as exc:
            failures.failed("reading the index entry of %s failed", exc, slug)
            return None

    def state(self) -> tuple[str, int] | None:
        """(the live generation folder's name, whoosh's generation number in it), or None without an index."""
        with self._lock:
            gen = self._current()
            return (gen.path.name, gen.number) if gen is not None else None

    def touched_since(self, state: tuple[str, int]) -> set[str] | None:
        """The notes written or removed (and those they link to) since ``state``; None when unknown."""
        with self._lock:
            gen = self._current()
            if gen is None or gen.path.name != state[0]:
                return None
            return changes.between(gen.path, int(state[1]), gen.number)

    def stored_hashes_of(self, slugs: set[str]) -> dict[str, str]:
        """stored_hashes for these notes only (those the index holds)."""
        out = {}
        for slug in slugs:
            found = self.stored(slug)
            if found is not None:
                out[slug] = found[0]
        return out

    def stored_hashes(self) -> dict[str, str]:
        """slug -> sha1 of the note file, for drift checks; empty if there is no index."""
        with self._lock:
            gen = self._current()
            if gen is None:
                return {}
            return {f["slug"]: f.get("hash", "") for f in gen.reader.all_stored_fields()}

    def warm(self) -> None:
        """Open the searcher and fill its caches, so that a worker's first search is as fast as its tenth:
        called before the worker takes traffic. Never raises."""
        try:
            with self._lock:
                gen = self._current()
                if gen is None:
                    return
                gen.warm([f"{s}_{lang}" for s in SECTIONS for lang in LANGS + ("all",)], list(FACETS.values()))
            self.search(SearchQuery(q=WARM_QUERY, prefer_language="en"), None)
        except Exception as exc:
            failures.failed("warming the search index failed", exc)

    def search(self, query: SearchQuery, allowed: Any) -> SearchResults:
        """Search as a reader allowed ``allowed`` (access.read_filter); never raises."""
        query = clean_query(query)
        try:
            with self._lock:
                gen = self._current()
                if gen is None:
                    self._damaged()
                    return querying.empty_results(query, "The search index is being prepared; "
                                                         "please try again shortly.")
                return querying.search(gen, query, allowed, self.glossary.current())
        except Exception as exc:
            failures.failed("search failed for %r", exc, query.q[:300])
            if not self._healthy():
                self._damaged()
            return querying.empty_results(query, "Search is unavailable at the moment; please try again shortly.")

    def visible(self, slug: str, allowed: Any) -> bool | None:
        """Whether the index lets a reader with ``allowed`` (access.read_filter) see the note; None when the
        index does not hold it. A cheap first answer: the note file stays the judge of what is shown."""
        try:
            with self._lock:
                gen = self._current()
                own = gen.docs("slug", slug) if gen is not None else frozenset()
                return bool(own & gen.allowed(allowed)) if own else None
        except Exception as exc:
            failures.failed("visibility check failed for %s", exc, slug)
            return None

    def backlinks(self, slug: str, allowed: Any) -> list[Hit]:
        """Readable notes that link to ``slug``, in title order."""
        try:
            with self._lock:
                gen = self._current()
                if gen is None:
                    return []
                docs = (gen.docs("links", slug) & gen.allowed(allowed)) - gen.docs("slug", slug)
                hits = [hit(gen, d, 0.0) for d in sorted(docs)[:1000]]
        except Exception as exc:
            failures.failed("backlinks failed for %s", exc, slug)
            return []
        return sorted(hits, key=lambda h: (h.title.casefold(), h.slug))

    def related(self, slug: str, allowed: Any, limit: int = 5) -> list[Hit]:
        """More like this: readable notes, not ``slug`` nor its translations, best first."""
        try:
            with self._lock:
                gen = self._current()
                own = gen.docs("slug", slug) if gen is not None else frozenset()
                if not own:
                    return []
                docnum = min(own)
                stored = gen.searcher.stored_fields(docnum)
                doc = stored["doc"]
                candidates = gen.allowed(allowed) - gen.docs("group", stored.get("group") or slug) - own
                if not candidates:
                    return []
                text = " ".join((doc["title"], doc["summary"], doc["excerpt"]))
                # whoosh's more_like, with the key terms' union scored in bulk (kb.search.bulkor)
                field = f"body_{doc['language']}"
                terms = gen.searcher.key_terms_from_text(field, text, numterms=12, model=Bo1Model, normalize=False)
                like = bulkor.Or([Term(field, word, boost=weight) for word, weight in terms])
                results = gen.searcher.search(like, limit=max(1, min(int(limit), 50)), filter=set(candidates),
                                              mask={docnum})
                return [hit(gen, found.docnum, found.score or 0.0) for found in results]
        except Exception as exc:
            failures.failed("related failed for %s", exc, slug)
            return []
