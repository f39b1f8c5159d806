"""Size guards for note bodies, in plain Python (no markdown or bleach here): :mod:`kb.render` checks a body
with these before Markdown and bleach see it, and shows one past a guard as escaped preformatted text."""
from __future__ import annotations

import re

# Guards against inputs that make Python-Markdown or html5lib super-linear (measured: one 1 MB paragraph
# of emphasis takes ~55 s, 10,000 nested '[' ~13 s, 20,000 nested <div> ~12 s, a 10,000-row table ~3 s
# in html5lib's tree walker). Such bodies are shown as escaped preformatted text instead. The largest
# shared-corpus note is 330 kB, its largest block 10 kB.
MAX_CHARS = 400_000            # whole body (Python-Markdown + bleach take ~2 µs a character on plain prose)
MAX_BLOCK_COST = 2 * 10 ** 10  # sum of squared paragraph lengths (one 141 kB paragraph)
MAX_BRACKET_SCAN = 2_000_000   # characters Markdown scans to match '[' with ']'
MAX_DEPTH = 100                # element nesting in the HTML handed to the sanitiser
MAX_FOOTNOTES = 300            # '[^' markers: the footnote extension is quadratic in references (1,000: 1 s)
MAX_COST_US = 800_000          # estimated microseconds of Markdown + bleach work (see estimated_cost)
MAX_CHILDREN = 5_000           # child elements of one element (html5lib's tree walker is quadratic in them)
CHUNK_ELEMENTS = 100           # top-level elements sanitised per html5lib call, for the same reason


class TooComplex(Exception):
    """The body would make the renderer or sanitiser super-linear."""


def check_complexity(text: str) -> None:
    """Raise TooComplex for bodies past the guards above (cheap, linear scans)."""
    if len(text) > MAX_CHARS:
        raise TooComplex("body too long")
    if text.count("[^") > MAX_FOOTNOTES:
        raise TooComplex("too many footnote markers")
    if estimated_cost(text) > MAX_COST_US:
        raise TooComplex("too many elements to render in time")
    if sum(len(b) ** 2 for b in re.split(r"\n[ \t]*\n", text)) > MAX_BLOCK_COST:
        raise TooComplex("paragraph too long")
    if text.count("[") > MAX_BRACKET_SCAN // 20:
        raise TooComplex("too many brackets")
    scan, opened = 0, []
    for m in re.finditer(r"[\[\]]|\n[ \t]*\n|\Z", text):
        char = m.group()
        if char == "[":
            opened.append(m.start())
        elif char == "]":
            if opened:
                scan += m.start() - opened.pop()
        else:  # a block ends: every '[' left open was scanned to here
            scan += sum(m.start() - start for start in opened)
            opened.clear()
        if scan > MAX_BRACKET_SCAN:
            raise TooComplex("brackets nested too deep")


# Microseconds each costs Python-Markdown and bleach, measured on the 2-core server (tests/test_hostile_inputs.py
# checks the sum stays honest): HTML elements dominate, prose is cheap.
_COST_PER = ((re.compile(r"\n[ \t]*\n"), 125),                         # blocks (paragraphs)
             (re.compile(r"^[ \t]*(?:[-*+>]|\d{1,9}[.)])", re.M), 120),   # list items, quotes
             (re.compile(r"\|"), 140),                                     # table cells
             (re.compile(r"^[ \t]*#|^[=-]{2,}[ \t]*$", re.M), 360),       # headings (and the TOC entry)
             (re.compile(r"[*_`]"), 50),                                   # emphasis and code (per marker)
             (re.compile(r"[\[<]"), 115),                                  # links, wiki links, tags
             (re.compile(r"&"), 35))                                        # entities


def estimated_cost(text: str) -> int:
    """A linear, pessimistic estimate of the microseconds rendering ``text`` takes (regex counts only)."""
    return 2 * len(text) + sum(per * sum(1 for _ in rx.finditer(text)) for rx, per in _COST_PER)


_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "param", "source", "track",
         "wbr", "keygen"}
_BLOCKS = {"p", "ul", "ol", "dl", "table", "pre", "blockquote", "div", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
           "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "form", "aside", "section", "details"}
# An open element (key) ends implicitly when one of these starts, as html5lib would do it.
_IMPLIED_END = {"p": _BLOCKS, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr"},
                "td": {"td", "th", "tr"}, "th": {"td", "th", "tr"}}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")


def split_blocks(fragment: str) -> list[str]:
    """Cut the HTML between top-level blocks; raise TooComplex past MAX_DEPTH or MAX_CHILDREN.

    A rough tree builder over the tags (enough to bound html5lib's work, not to parse HTML).
    """
    pieces, start, top = [], 0, 0
    stack: list[str] = []
    children = [0]  # element children of the document and of each open element
    for m in _TAG_RE.finditer(fragment):
        closing, name = m.group(1), m.group(2).lower()
        if not closing:
            while stack and name in _IMPLIED_END.get(stack[-1], ()):
                stack.pop()
                children.pop()
            children[-1] += 1
            if children[-1] > MAX_CHILDREN:
                raise TooComplex("too many elements side by side")
            if name not in _VOID and not m.group(3):
                stack.append(name)
                children.append(0)
                if len(stack) > MAX_DEPTH:
                    raise TooComplex("elements nested too deep")
        elif name in stack:
            while stack.pop() != name:
                children.pop()
            children.pop()
        if not stack and (closing or name in _VOID) and fragment.startswith("\n", m.end()):
            top += 1
            if top >= CHUNK_ELEMENTS:
                pieces.append(fragment[start:m.end()])
                start, top, children[0] = m.end(), 0, 0
    pieces.append(fragment[start:])
    return pieces
