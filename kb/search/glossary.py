"""The cross-language glossary (content/glossary.yml): the programme's vocabulary in English, French and Arabic,
used to expand a query into the other two languages. No whoosh here.

The file is a YAML list with one entry per line, each a mapping of at least two of ``en``, ``fr``, ``ar`` to
a term (or a list of synonyms)::

    - {en: birth registration, fr: enregistrement des naissances, ar: تسجيل المواليد}

A term matches a query's words when their stems in the term's language are the same, stop words left out
("enfants non accompagnés" matches "enfant non accompagné")."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Message, N_
from ..yamlio import YamlError, load as load_yaml
from . import textnorm
from .analysis import ANALYSE
from .types import LANGS

log = logging.getLogger("kb.search")
MAX_TERM_WORDS = 6


class GlossaryError(ValueError):
    """The glossary is not valid: the message (a kb.errors.Message) names the line."""

    def __init__(self, message: Message):
        super().__init__(message)
        self.message = message


def _error(msgid: str, **params) -> GlossaryError:
    return GlossaryError(Message(msgid, **params))


@dataclass
class Match:
    start: int  # the matched words of the query: words[start:end]
    end: int
    entry: dict[str, list[str]]
    language: str  # the language the query's words matched in


@dataclass
class Glossary:
    entries: list[dict[str, list[str]]] = field(default_factory=list)
    keys: dict[str, dict[tuple[str, ...], int]] = field(default_factory=dict)  # lang -> stems -> entry

    def __len__(self) -> int:
        return len(self.entries)

    def matches(self, words: list[str]) -> list[Match]:
        """The glossary terms among ``words`` (textnorm.words of the query), longest first, not overlapping."""
        found: list[Match] = []
        taken: set[int] = set()
        for lang in LANGS:
            keys = self.keys.get(lang)
            if not keys:
                continue
            stems = [(i, s) for i, w in enumerate(words) if (s := ANALYSE[lang](w))]
            for size in range(min(MAX_TERM_WORDS, len(stems)), 0, -1):
                for at in range(len(stems) - size + 1):
                    span = stems[at:at + size]
                    positions = range(span[0][0], span[-1][0] + 1)
                    entry = keys.get(tuple(s for _, s in span))
                    if entry is not None and not taken.intersection(positions):
                        taken.update(positions)
                        found.append(Match(span[0][0], span[-1][0] + 1, self.entries[entry], lang))
        return sorted(found, key=lambda m: m.start)


def _key(lang: str, term: str) -> tuple[str, ...]:
    return tuple(s for w in textnorm.words(term) if (s := ANALYSE[lang](w)))


def _entry_lines(text: str) -> list[int]:
    """The numbers of the lines holding an entry; GlossaryError at the first line that is neither an entry
    ('- ' first), a comment nor blank (an entry written over several lines, say)."""
    lines = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if line.startswith("-"):
            lines.append(n)
        elif stripped and not stripped.startswith("#"):
            raise _error(N_("glossary.yml line %(line)s: each entry is one line starting with “- ” "
                            "(like - {en: water, fr: eau, ar: ماء})"), line=n)
    return lines


def parse(text: str) -> Glossary:
    """The glossary in ``text``; GlossaryError naming the line of the first problem."""
    lines = _entry_lines(text)
    try:
        data = load_yaml(text)
    except YamlError as exc:
        raise _error(N_("glossary.yml is not valid YAML: %(problem)s"), problem=str(exc)) from None
    if data is None:
        return Glossary()
    if not isinstance(data, list) or len(lines) != len(data):
        raise _error(N_("glossary.yml must be a list with one entry per line starting with “- ”"))
    glossary = Glossary(keys={lang: {} for lang in LANGS})
    for line, item in zip(lines, data):
        if not isinstance(item, dict):
            raise _error(N_("glossary.yml line %(line)s: an entry is a mapping like {en: …, fr: …, ar: …}"),
                         line=line)
        unknown = sorted(str(k) for k in item if k not in LANGS)
        if unknown:
            raise _error(N_("glossary.yml line %(line)s: unknown language %(unknown)s (use %(known)s)"),
                         line=line, unknown=", ".join(unknown), known=", ".join(LANGS))
        entry: dict[str, list[str]] = {}
        for lang, value in item.items():
            terms = [value] if isinstance(value, str) else value
            if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
                raise _error(N_("glossary.yml line %(line)s: %(lang)s must be a term or a list of terms"),
                             line=line, lang=lang)
            if any(not _key(lang, t) for t in terms):
                raise _error(N_("glossary.yml line %(line)s: a %(lang)s term has only stop words"),
                             line=line, lang=lang)
            entry[lang] = [textnorm.nfc(t.strip()) for t in terms]
        if len(entry) < 2:
            raise _error(N_("glossary.yml line %(line)s: an entry needs at least two languages"), line=line)
        glossary.entries.append(entry)
        for lang, terms in entry.items():
            for term in terms:
                glossary.keys[lang].setdefault(_key(lang, term), len(glossary.entries) - 1)
    return glossary


class GlossaryFile:
    """content/glossary.yml, read again when it changes; an invalid file is reported and the last good one
    (or none) kept, so that searches never fail because of it."""

    def __init__(self, path: Path | None):
        self.path = path
        self.glossary = Glossary()
        self.error: str | None = None
        self._stamp: tuple[int, int, int] | None = None

    def current(self) -> Glossary:
        if self.path is None:
            return self.glossary
        try:
            stat = os.stat(self.path)
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a saved file is a new one (atomic write)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                text = self.path.read_text(encoding="utf-8") if stamp else ""
                self.glossary, self.error = parse(text), None
            except (OSError, UnicodeDecodeError, GlossaryError) as exc:
                self.error = str(exc)
                log.warning("%s; searches go on without the glossary's changes", self.error)
        return self.glossary
