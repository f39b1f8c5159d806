""""Did you mean": a corrected query when a word is not in the reader's notes and the correction finds more.
Only the notes the reader may see count, so a suggestion never hints at the words of hidden notes."""
from __future__ import annotations

import itertools

from . import queryparse, textnorm
from .analysis import term_all
from .compile import compile_query, with_exclusions
from .generation import Generation
from .schema import SECTIONS


def suggest(gen: Generation, parsed: queryparse.ParsedQuery, visible: frozenset[int], total: int) -> str | None:
    """A corrected query when a word is not in the index and the correction finds more visible notes."""
    replace: dict[str, str] = {}
    for item in parsed.positive():
        words = textnorm.words(item.text)
        if item.kind != "word" or len(words) != 1 or len(replace) >= 4:
            continue
        term = term_all(words[0])
        # a word only hidden notes hold counts as unknown, or the missing suggestion would betray them
        if term is None or len(term) < 3 or visible_with(gen, term, visible):
            continue
        best = closest(gen, term, visible)
        if best:
            replace[item.text] = best
    if not replace:
        return None
    corrected = parsed.to_string(replace)
    compiled = compile_query(gen, queryparse.parse(corrected), visible)
    if compiled.query is None:
        return None
    found = frozenset(gen.searcher.docs_for_query(with_exclusions(compiled.query, compiled.excluded)))
    return corrected if len(found & visible) > total else None  # never hint at unseen notes' words


def visible_with(gen: Generation, term: str, visible: frozenset[int]) -> int:
    """How many notes the reader may see hold this word (hidden notes' words never count)."""
    return len(frozenset().union(*(gen.docs(f"{s}_all", term) for s in SECTIONS)) & visible)


def closest(gen: Generation, term: str, visible: frozenset[int]) -> str | None:
    """The nearest word the reader's visible notes hold most often (ranked by visible notes only)."""
    for maxdist in (1, 2) if len(term) >= 5 else (1,):
        found: set[str] = set()
        for leaf, _ in gen.reader.leaf_readers():
            for fieldname in ("body_all", "title_all"):
                found.update(itertools.islice(leaf.terms_within(fieldname, term, maxdist, prefix=1), 200))
        found.discard(term)
        counts = {t: n for t in sorted(found) if (n := visible_with(gen, t, visible))}
        if counts:
            return max(counts, key=counts.__getitem__)
    return None
