"""A result as shown: the stored fields of a note and a snippet with the query's words marked."""
from __future__ import annotations

from .compile import Compiled
from .generation import Generation
from . import textnorm
from .types import Hit


def hit(gen: Generation, docnum: int, score: float, compiled: Compiled | None = None) -> Hit:
    """The result for one document; with ``compiled``, its snippet marks the words the query matched in the
    stored plain-text excerpt (else in the summary), highlighting only what is shown."""
    stored = gen.searcher.stored_fields(docnum)
    doc = stored["doc"]
    snippet, found_in = None, ""
    if compiled is not None:
        marker = compiled.marker(doc["language"])
        snippet = textnorm.snippet(doc["excerpt"], marker) or textnorm.snippet(doc["summary"], marker)
        for name, words in doc.get("files", ()) if snippet is None else ():  # found in an attachment
            snippet = textnorm.snippet(words, marker)
            if snippet is not None:
                found_in = name
                break
    if snippet is None:
        snippet = textnorm.plain_snippet(doc["summary"] or doc["excerpt"])
    return Hit(slug=stored["slug"], title=doc["title"], language=doc["language"],
               regions=list(doc["regions"]), topics=list(doc["topics"]),
               audience=list(doc["audience"]), summary=doc["summary"], updated=doc["updated"],
               score=float(score), snippet=snippet, reviewed=doc.get("reviewed"), review_due=doc.get("review_due"),
               found_in=found_in, status=_value_of(gen, "status", docnum),
               visibility=_value_of(gen, "visibility", docnum))


def _value_of(gen: Generation, fieldname: str, docnum: int) -> str:
    """A one-valued indexed field of a note, from the generation's cached sets of each value's notes."""
    return next((value for value, docs in gen.facet(fieldname).items() if docnum in docs), "")
