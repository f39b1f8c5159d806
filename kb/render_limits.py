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
MAX_FENCE_SCAN = 20_000_000    # characters regexes scan past fence lines that open no block (see fences)
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
    blocks, unclosed = fences(text)
    # A fence line that opens no block sends a lazy regex to the end of the text, and Python-Markdown
    # searches again from the start after each block it finds.
    if unclosed and (len(blocks) + 1) * unclosed * len(text) > MAX_FENCE_SCAN:
        raise TooComplex("too many unclosed code fences")
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
             (re.compile(r"&"), 70))                                        # entities


_FENCE_LINE = re.compile(r"^(`{3,}|~{3,})([^\n]*)(?:\n|\Z)", re.M)


def fences(text: str) -> tuple[list[tuple[int, int]], int]:
    """Fenced code blocks as (start, end) offsets, and how many fence lines open none; in linear time.

    A block runs from a line starting with ``` or ~~~ to the next line of the same character holding
    only the fence (Markdown's rule, give or take fences of odd lengths).
    """
    lines = list(_FENCE_LINE.finditer(text))
    closer_after: list[dict[str, int]] = [{}] * (len(lines) + 1)  # fence character -> next closing line
    for i in range(len(lines) - 1, -1, -1):
        m = closer_after[i + 1]
        if not lines[i].group(2).strip(" \t"):
            m = {**m, lines[i].group(1)[0]: i}
        closer_after[i] = m
    blocks, unclosed, i = [], 0, 0
    while i < len(lines):
        j = closer_after[i + 1].get(lines[i].group(1)[0])
        if j is None:
            unclosed += 1
            i += 1
        else:
            blocks.append((lines[i].start(), lines[j].end()))
            i = j + 1
    return blocks, unclosed


_RUN = re.compile(r"`+|\n")


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Code spans within a line, as (start, end): a run of backticks up to the next run of the same length
    (Markdown's rule), found in linear time (a lazy regex is quadratic on some runs of backticks)."""
    runs = [(m.start(), m.end()) for m in _RUN.finditer(text)]
    same_after: list[int | None] = [None] * len(runs)  # the next run of the same length, on the same line
    seen: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        start, end = runs[i]
        if text[start] == "\n":
            seen = {}
            continue
        same_after[i] = seen.get(end - start)
        seen[end - start] = i
    spans, i = [], 0
    while i < len(runs):
        j = same_after[i]
        if j is not None and runs[j][0] > runs[i][1]:  # at least one character inside
            spans.append((runs[i][0], runs[j][1]))
            i = j + 1
        else:
            i += 1
    return spans


def without_code(text: str) -> str:
    """The text with each fenced code block and each code span replaced by a space."""
    for cut in (lambda t: fences(t)[0], _code_spans):
        out, last = [], 0
        for start, end in cut(text):
            out += [text[last:start], " "]
            last = end
        text = "".join(out) + text[last:]
    return text


_BLOCK = re.compile(r"\n[ \t]*\n")
_UNCLOSED_TAG = re.compile(r"<[a-zA-Z!?/][^<>]*(?=<|\Z)")  # a tag start with no '>' before the next '<'


def estimated_cost(text: str) -> int:
    """A pessimistic estimate of the microseconds rendering ``text`` takes, from linear scans only.

    Besides the elements, two super-linear terms: Python-Markdown's block processors split a block and
    scan the rest again (lines x length of each block), and its HTML extractor scans the rest of the text
    again after each tag start that does not close.
    """
    elements = sum(per * sum(1 for _ in rx.finditer(text)) for rx, per in _COST_PER)
    blocks = sum((block.count("\n") + 1) * len(block) for block in _BLOCK.split(text)) // 100
    unclosed = sum(1 for _ in _UNCLOSED_TAG.finditer(text)) * len(text) // 50
    return 2 * len(text) + elements + blocks + unclosed


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
