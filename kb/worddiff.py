"""A readable word-level diff of two texts as safe HTML: removed words in <del>, added words in <ins>.

Lines are matched first (fast, and a moved paragraph stays one change), then the words inside each
changed block, with difflib. Every piece of text is escaped; the only markup is the diff's own.

difflib is quadratic on repetitive input (blank lines, spaces), so the work is bounded whatever the text:
common leading and trailing lines are cut off first; blanks never seed a match; a middle too repetitive for
difflib is matched on the lines that occur once on each side (patience diff's anchors, in n log n); words
are compared only inside changed blocks small enough, up to a budget for the whole comparison. Past a
bound a block is shown removed and added whole.
"""
from __future__ import annotations

import difflib
import html
import re
from collections import Counter

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")  # runs of whitespace, words, single other characters
MAX_WORD_BLOCK = 100_000  # tokens per side; beyond it a changed block is shown removed and added whole
# difflib's worst case costs ~0.5 µs per (a item, b item) pair on the server (a few hundred identical items)
MAX_WORD_PRODUCT = 360_000    # pairs of tokens for one changed block, once its common ends are cut off
MAX_DIFF_WORK = 600_000       # the same, summed over every word diff of one comparison
MAX_LINE_PRODUCT = 250_000    # pairs of lines difflib may match directly...
MAX_LINE_WORK = 200_000       # ...if that many equal non-blank pairs; else unique lines are the anchors

Op = tuple[str, str]  # ("equal" | "delete" | "insert", text)


def _blank(item: str) -> bool:
    return not item.strip()


def _work(xa: list[str], xb: list[str]) -> int:
    """How many equal (a, b) pairs of non-blank items there are: difflib's work per level of its search."""
    count_b = Counter(xb)
    return sum(n * count_b[item] for item, n in Counter(xa).items() if not _blank(item))


def _common_ends(xa: list[str], xb: list[str]) -> tuple[int, int]:
    """How many items both lists start with, and end with (not overlapping)."""
    head = 0
    while head < len(xa) and head < len(xb) and xa[head] == xb[head]:
        head += 1
    tail = 0
    while tail < len(xa) - head and tail < len(xb) - head and xa[-1 - tail] == xb[-1 - tail]:
        tail += 1
    return head, tail


def _words(a: str, b: str, budget: list[int]) -> list[Op]:
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    head, tail = _common_ends(ta, tb)
    work = (len(ta) - head - tail) * (len(tb) - head - tail)
    if len(ta) > MAX_WORD_BLOCK or len(tb) > MAX_WORD_BLOCK or work > MAX_WORD_PRODUCT or work > budget[0]:
        return [("delete", a), ("insert", b)]
    budget[0] -= work
    out: list[Op] = []
    matcher = difflib.SequenceMatcher(_blank, ta[head:len(ta) - tail], tb[head:len(tb) - tail], autojunk=False)
    opcodes = [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    if head:
        opcodes.insert(0, ("equal", 0, head, 0, head))
    if tail:
        opcodes.append(("equal", len(ta) - tail, len(ta), len(tb) - tail, len(tb)))
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            out.append(("equal", "".join(ta[i1:i2])))
            continue
        if i2 > i1:
            out.append(("delete", "".join(ta[i1:i2])))
        if j2 > j1:
            out.append(("insert", "".join(tb[j1:j2])))
    return out


def _line_opcodes(la: list[str], lb: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes over lines, in bounded time (see the module docstring)."""
    head, tail = _common_ends(la, lb)
    ops = [("equal", 0, head, 0, head)] if head else []
    ops += _middle(la, lb, head, len(la) - tail, head, len(lb) - tail, anchors=True)
    if tail:
        ops.append(("equal", len(la) - tail, len(la), len(lb) - tail, len(lb)))
    return ops


def _middle(la, lb, i1, i2, j1, j2, anchors: bool) -> list[tuple[str, int, int, int, int]]:
    if i1 == i2 and j1 == j2:
        return []
    if i1 == i2 or j1 == j2:
        return [("insert" if i1 == i2 else "delete", i1, i2, j1, j2)]
    if (i2 - i1) * (j2 - j1) <= MAX_LINE_PRODUCT and _work(la[i1:i2], lb[j1:j2]) <= MAX_LINE_WORK:
        matcher = difflib.SequenceMatcher(_blank, la[i1:i2], lb[j1:j2], autojunk=False)
        return [(tag, a1 + i1, a2 + i1, b1 + j1, b2 + j1) for tag, a1, a2, b1, b2 in matcher.get_opcodes()]
    if not anchors:
        return [("replace", i1, i2, j1, j2)]
    # Lines found exactly once on each side, kept in an order both sides agree on (longest increasing run).
    count_a, count_b = Counter(la[i1:i2]), Counter(lb[j1:j2])
    where_b = {line: j for j, line in enumerate(lb[j1:j2], j1) if count_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(la[i1:i2], i1)
             if count_a[line] == 1 and line in where_b]
    ops: list[tuple[str, int, int, int, int]] = []
    ai, bj = i1, j1
    for i, j in _increasing(pairs):
        ops += _middle(la, lb, ai, i, bj, j, anchors=False)
        ops.append(("equal", i, i + 1, j, j + 1))
        ai, bj = i + 1, j + 1
    return ops + _middle(la, lb, ai, i2, bj, j2, anchors=False)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of pairs whose second items increase too (pairs come sorted by the first)."""
    tails: list[int] = []      # tails[k]: index in pairs of the smallest end of a run of length k+1
    before: list[int] = []
    for n, (_, j) in enumerate(pairs):
        k = _bisect_tails(pairs, tails, j)
        before.append(tails[k - 1] if k else -1)
        if k == len(tails):
            tails.append(n)
        else:
            tails[k] = n
    run, n = [], tails[-1] if tails else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


def _bisect_tails(pairs, tails, j) -> int:
    lo, hi = 0, len(tails)
    while lo < hi:
        mid = (lo + hi) // 2
        if pairs[tails[mid]][1] < j:
            lo = mid + 1
        else:
            hi = mid
    return lo


def diff_ops(a: str, b: str) -> list[Op]:
    """The changes that turn ``a`` into ``b``, adjacent pieces of the same kind merged."""
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    ops: list[Op] = []
    budget = [MAX_DIFF_WORK]
    for tag, i1, i2, j1, j2 in _line_opcodes(la, lb):
        old, new = "".join(la[i1:i2]), "".join(lb[j1:j2])
        if tag == "equal":
            ops.append(("equal", old))
        elif tag == "replace":
            ops.extend(_words(old, new, budget))
        elif tag == "delete":
            ops.append(("delete", old))
        else:
            ops.append(("insert", new))
    merged: list[Op] = []
    for kind, text in ops:
        if not text:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


def _shorten(text: str, context: int, first: bool, last: bool, mid_line: bool = False) -> str:
    """An unchanged stretch cut down to ``context`` lines on the sides that touch a change."""
    lines = text.splitlines(keepends=True)
    keep_head = 0 if first else context + int(mid_line)  # the rest of a changed line is not context
    keep_tail = 0 if last else context + int(not text.endswith("\n"))  # nor the start of one
    if len(lines) <= keep_head + keep_tail + 1:
        return html.escape(text)
    skipped = len(lines) - keep_head - keep_tail
    head, tail = "".join(lines[:keep_head]), "".join(lines[len(lines) - keep_tail:])
    return (html.escape(head) + f'<span class="skipped">\u2026 {skipped} \u2026</span>\n'
            + html.escape(tail))


def diff_html(a: str, b: str, context: int | None = 3) -> str:
    """Safe HTML for a <pre>-like block; long unchanged stretches keep ``context`` lines (None: all)."""
    ops = diff_ops(a, b)
    if len(ops) <= 1 and (not ops or ops[0][0] == "equal"):
        return html.escape(b)
    out = []
    for i, (kind, text) in enumerate(ops):
        if kind == "equal":
            out.append(html.escape(text) if context is None
                       else _shorten(text, context, first=i == 0, last=i == len(ops) - 1,
                                     mid_line=i > 0 and not ops[i - 1][1].endswith("\n")))
        elif kind == "delete":
            out.append(f"<del>{html.escape(text)}</del>")
        else:
            out.append(f"<ins>{html.escape(text)}</ins>")
    return "".join(out)
