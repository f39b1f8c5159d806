"""Accessibility checks over what the browser computed. axe-core (shipped inside axe-playwright-python, so
nothing is downloaded at run time) judges each page against WCAG 2.0/2.1/2.2 A and AA, plus three landmark
rules; what axe cannot automate, a visible focus indicator on each focusable element, is checked here by
hand (WCAG 2.4.7, and 3:1 non-text contrast for the outline).

axe is injected with page.evaluate, which runs through Chromium's DevTools channel: the site's strict
Content-Security-Policy (script-src 'self') does not apply to it, so no context needs bypass_csp."""
from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# axe files these under "best-practice", not under a WCAG tag; the pages keep them because they help screen
# reader users find their way (one main landmark, one h1, no text outside a landmark).
LANDMARK_RULES = ["landmark-one-main", "page-has-heading-one", "region"]
OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS},
           "rules": {rule: {"enabled": True} for rule in LANDMARK_RULES},
           "resultTypes": ["violations"]}
_AXE = Axe()


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (an empty list: the page passes)."""
    return _AXE.run(page, options=OPTIONS).response["violations"]


def report(violations: list[dict]) -> str:
    """One readable block per violation: rule id, impact, what it is about, help URL, the offending nodes."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} - {v['helpUrl']}")
        for node in v["nodes"][:10]:
            why = "; ".join(c["message"] for c in node.get("any", []) + node.get("all", []) + node.get("none", []))
            lines.append(f"    {' '.join(map(str, node['target']))}: {why}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe-core found {len(violations)} violation(s) on {page.url}:\n{report(violations)}"


FOCUS = r"""() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const layers = [];  // what the outline is drawn on: the parent's backdrop
  for (let a = el.parentElement; a; a = a.parentElement) layers.push(getComputedStyle(a).backgroundColor);
  return {tag: el.tagName.toLowerCase(), text: (el.textContent || el.value || '').trim().slice(0, 40), layers,
          outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth), outlineColor: s.outlineColor,
          boxShadow: s.boxShadow, isBody: el === document.body};
}"""

_RGBA = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def parse_color(css: str) -> tuple[float, float, float, float]:
    m = _RGBA.fullmatch(css.strip())
    if not m:
        raise ValueError(f"unexpected colour {css!r}")
    alpha = m.group(4)
    a = 1.0 if alpha is None else (float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha))
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), a


def blend(top: tuple, under: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b, a = top
    return tuple(a * c + (1 - a) * u for c, u in zip((r, g, b), under))  # type: ignore[return-value]


def backdrop(layers: list[str]) -> tuple[float, float, float]:
    """The colour behind a text: its own and its ancestors' backgrounds, composited over the canvas (white)."""
    colour = (255.0, 255.0, 255.0)
    for css in reversed(layers):
        colour = blend(parse_color(css), colour)
    return colour


def luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def focus_problem(focus: dict) -> str | None:
    """None when the focused element shows a visible focus indicator."""
    if focus["isBody"]:
        return "focus fell back to <body>"
    outlined = focus["outlineStyle"] not in ("none", "hidden") and focus["outlineWidth"] >= 2
    shadowed = focus["boxShadow"] not in ("none", "")
    if not (outlined or shadowed):
        return f"no visible focus on <{focus['tag']}> {focus['text']!r}: outline {focus['outlineStyle']} " \
               f"{focus['outlineWidth']}px"
    if outlined:
        bg = backdrop(focus["layers"])
        ratio = contrast(blend(parse_color(focus["outlineColor"]), bg), bg)
        if ratio < 3.0:  # WCAG 2.2 non-text contrast
            return f"focus outline contrast {ratio:.2f} < 3 on <{focus['tag']}> {focus['text']!r}"
    return None
