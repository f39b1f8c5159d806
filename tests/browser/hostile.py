"""Hostile notes for the browser: every row of the renderer's attack table, plus links to click.

Each payload calls alert() (hooked by the journey) or would navigate to a script URL. The title and summary
are hostile too, so listings, search snippets and <meta> tags get them as well.
"""
from __future__ import annotations

from pathlib import Path

from ..test_render import ATTACKS

PREFIX = "hostile-"
WORD = "xyzzyhostile"  # a word only these notes contain, to find them all with one search

CLICKABLE = "\n\n".join([
    "[md javascript link](javascript:alert('md-link'))",
    "[md data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+)",
    '<a href="javascript:alert(\'raw-link\')">raw javascript link</a>',
    '<a href="JaVaScRiPt:alert(\'case-link\')" onclick="alert(\'onclick\')">mixed case link</a>',
    '<a href="data:text/html,<script>alert(\'data-link\')</script>">raw data link</a>',
    '<a href="vbscript:msgbox(1)">vbscript link</a>',
    '<a href="&#106;avascript:alert(\'entity-link\')">entity link</a>',
    '<a href="#top" onmouseover="alert(\'hover\')" onfocus="alert(\'focus\')">hover and focus link</a>',
    '<svg onload="alert(\'svg\')"><a xlink:href="javascript:alert(\'svg-link\')"><text>svg link</text></a></svg>',
    '<iframe src="javascript:alert(\'iframe\')"></iframe><iframe srcdoc="<script>alert(\'srcdoc\')</script>">'
    "</iframe>",
    '<iframe src="data:text/html,<script>alert(\'iframe-data\')</script>"></iframe>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'refresh\')">',
    '<form action="javascript:alert(\'form\')"><button>form button</button>'
    '<input type="submit" value="form submit" formaction="javascript:alert(\'formaction\')"></form>',
    '<img src="x" onerror="alert(\'img\')" alt="broken image">',
    '<details open ontoggle="alert(\'toggle\')"><summary>details</summary>x</details>',
    "<input autofocus onfocus=\"alert('autofocus')\">",
    "<object data=\"data:text/html,<script>alert('object')</script>\"></object>",
    "<embed src=\"javascript:alert('embed')\">",
])

TITLE = "<script>alert('title')</script><img src=x onerror=alert('title-img')> {word} {name}"
SUMMARY = "\"><script>alert('summary')</script><svg onload=alert('summary-svg')>"


def _note(name: str, body: str) -> str:
    title = TITLE.format(word=WORD, name=name).replace("'", "''")
    summary = SUMMARY.replace("'", "''")
    return (f"---\ntitle: '{title}'\nlanguage: en\nregions: [Niger]\ntopics: [localisation]\n"
            f"visibility: public\nstatus: published\nsummary: '{summary}'\nupdated: 2020-01-01\n---\n"
            f"## {name}\n\n{WORD} {name}\n\n{body}\n")


def hostile_notes() -> dict[str, str]:
    """slug -> note text: one note of links to click, and one note per row of the attack table."""
    notes = {f"{PREFIX}clickable": _note("clickable", CLICKABLE)}
    for name, payload in ATTACKS:
        notes[f"{PREFIX}{name}"] = _note(name, payload)
    return notes


def write_hostile_notes(content: Path) -> list[str]:
    notes = hostile_notes()
    for slug, text in notes.items():
        (content / f"{slug}.md").write_text(text, encoding="utf-8")
    return list(notes)
