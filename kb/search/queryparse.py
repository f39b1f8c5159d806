"""Parse a reader's search string into a small, bounded structure, in plain Python.

Any string is accepted. Supported: words (all must match), "a phrase", -word and -"a phrase" (or NOT
word) to exclude, a OR b, and prefix word* with at least three letters before the star. Everything else
is read as plain words: parentheses are flattened, and range, fuzzy (~), boost (^) and field (name:)
syntax are dropped, with a notice saying so. The input is cut to MAX_CHARS characters and MAX_TERMS
words, so no query can cost more than a bounded amount of work.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import textnorm

MAX_CHARS = 256
MAX_TERMS = 32
MIN_PREFIX = 3

_TOKEN_RE = re.compile(r'(-?)"([^"]*)"|(\S+)')
_FIELD_RE = re.compile(r"^[A-Za-z_]{1,30}:(?=.)")
_FUZZY_BOOST_RE = re.compile(r"[~^][0-9.]*$")
_BRACKETS = str.maketrans({c: " " for c in "()[]{}<>\"“”«»„"})
_WILDCARDS = str.maketrans({"*": " ", "?": " "})


@dataclass(frozen=True)
class Item:
    """One thing to look for: a word, a prefix (text without the star) or a phrase."""
    kind: str  # "word" | "prefix" | "phrase"
    text: str
    negated: bool = False

    def size(self) -> int:
        return max(1, len(textnorm.words(self.text))) if self.kind == "phrase" else 1

    def display(self) -> str:
        sign = "-" if self.negated else ""
        if self.kind == "phrase":
            return f'{sign}"{self.text}"'
        return f"{sign}{self.text}{'*' if self.kind == 'prefix' else ''}"


@dataclass
class ParsedQuery:
    groups: list[list[Item]] = field(default_factory=list)  # AND across groups, OR inside a group
    excluded: list[Item] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    had_input: bool = False  # the reader typed something (even if nothing searchable was left)

    @property
    def explicit_or(self) -> bool:
        return any(len(g) > 1 for g in self.groups)

    def positive(self) -> list[Item]:
        return [item for group in self.groups for item in group]

    def to_string(self, replace: dict[str, str] | None = None) -> str:
        """The query written back in canonical form, with words swapped per ``replace``."""
        replace = replace or {}

        def show(item: Item) -> str:
            if item.kind == "word" and item.text in replace:
                item = Item("word", replace[item.text], item.negated)
            return item.display()

        parts = [" OR ".join(show(i) for i in group) for group in self.groups]
        parts += [show(i) for i in self.excluded]
        return " ".join(parts)


def _clean(raw: str, notices: list[str]) -> str:
    text = textnorm.nfc(textnorm.strip_controls(raw if isinstance(raw, str) else str(raw or "")))
    text = " ".join(text.split())
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", MAX_CHARS - 40, MAX_CHARS)
        text = text[: cut if cut > 0 else MAX_CHARS]
        notices.append(f"Your search was shortened to {MAX_CHARS} characters.")
    return text


def _run_items(run: str, negated: bool, notices: set[str]) -> list[Item]:
    """Items from one whitespace-separated run that is not a quoted phrase."""
    if _FIELD_RE.match(run):
        run = run.split(":", 1)[1]
        notices.add("Field searches (name:) are not supported; the words were searched for instead.")
    if _FUZZY_BOOST_RE.search(run) and len(run) > 1:
        run = _FUZZY_BOOST_RE.sub("", run)
        notices.add("Fuzzy (~) and boost (^) syntax is not supported; the words were searched for instead.")
    run = run.translate(_BRACKETS).replace(":", " ")
    if " TO " in f" {run} ":
        notices.add("Range searches are not supported; the words were searched for instead.")
    items = []
    for part in run.split():
        if part in ("OR", "AND", "NOT", "TO", "|", "||", "&&"):
            continue
        prefix = False
        if "*" in part or "?" in part:
            core = part.rstrip("*")
            if part.endswith("*") and "*" not in core and "?" not in core and \
                    sum(ch.isalnum() for ch in core) >= MIN_PREFIX and core[:1].isalnum():
                part, prefix = core, True
            else:
                part = part.translate(_WILDCARDS)
                if any(ch.isalnum() for ch in part):
                    notices.add(f"A * prefix search needs at least {MIN_PREFIX} letters before the star, "
                                "at the end of a word; other wildcards were ignored.")
        for sub in part.split():
            sub = sub.strip("-+!'’.,;")
            if textnorm.WORD_RE.search(sub):
                items.append(Item("prefix" if prefix else "word", sub, negated))
    return items


def parse(raw: str) -> ParsedQuery:
    """Parse any string; never raises. Notices explain anything trimmed or ignored."""
    notices: list[str] = []
    text = _clean(raw, notices)
    result = ParsedQuery(had_input=bool(text))
    soft: set[str] = set()
    tokens: list[Item | str] = []  # Items, and "OR" markers between them
    negate_next = False
    for m in _TOKEN_RE.finditer(text):
        sign, phrase, run = m.group(1), m.group(2), m.group(3)
        if run in ("OR", "|", "||"):
            tokens.append("OR")
            continue
        if run in ("AND", "&&", "+"):
            continue
        if run == "NOT":
            negate_next = True
            continue
        negated = negate_next or bool(sign)
        negate_next = False
        if phrase is not None:
            if textnorm.WORD_RE.search(phrase):
                words = " ".join(phrase.split())
                kind = "phrase" if len(textnorm.words(words)) > 1 else "word"
                tokens.append(Item(kind, words, negated))
            continue
        if run[0] in "-!" and len(run) > 1:
            negated, run = True, run[1:]
        elif run[0] == "+":
            run = run[1:]
        tokens.extend(_run_items(run, negated, soft) if run else [])

    budget = MAX_TERMS
    groups: list[list[Item]] = []
    join_next = False
    for tok in tokens:
        if tok == "OR":
            join_next = bool(groups)
            continue
        item: Item = tok  # type: ignore[assignment]
        if budget - item.size() < 0:
            notices.append(f"Your search was shortened to {MAX_TERMS} words.")
            break
        budget -= item.size()
        if item.negated:
            result.excluded.append(item)
            join_next = False
            continue
        if join_next and groups:
            groups[-1].append(item)
        else:
            groups.append([item])
        join_next = False
    result.groups = groups
    result.notices = notices + sorted(soft)
    return result
