"""A readable word-level diff of two texts as safe HTML: removed words in <del>, added words in <ins>.

Lines are matched first (fast, and a moved paragraph stays one change), then the words inside each
changed block, with difflib. Every piece of text is escaped; the only markup is the diff's own.
"""
from __future__ import annotations

import difflib
import html
import re

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")  # runs of whitespace, words, single other characters
MAX_WORD_BLOCK = 4000  # tokens per side; beyond it a changed block is shown removed and added whole

Op = tuple[str, str]  # ("equal" | "delete" | "insert", text)


def _words(a: str, b: str) -> list[Op]:
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    if len(ta) > MAX_WORD_BLOCK or len(tb) > MAX_WORD_BLOCK:
        return [("delete", a), ("insert", b)]
    out: list[Op] = []
    matcher = difflib.SequenceMatcher(None, ta, tb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("equal", "".join(ta[i1:i2])))
            continue
        if i2 > i1:
            out.append(("delete", "".join(ta[i1:i2])))
        if j2 > j1:
            out.append(("insert", "".join(tb[j1:j2])))
    return out


def diff_ops(a: str, b: str) -> list[Op]:
    """The changes that turn ``a`` into ``b``, adjacent pieces of the same kind merged."""
    la, lb = a.splitlines(keepends=True), b.splitlines(keepends=True)
    ops: list[Op] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        old, new = "".join(la[i1:i2]), "".join(lb[j1:j2])
        if tag == "equal":
            ops.append(("equal", old))
        elif tag == "replace":
            ops.extend(_words(old, new))
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
