"""A small accessibility checker over what the browser computed: landmarks, labels, alt text, language,
headings, visible focus and text contrast (WCAG 2 formulas). page.evaluate gathers facts; Python judges."""
from __future__ import annotations

import re

FACTS = r"""() => {
  const visible = el => {
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none' || parseFloat(s.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0;  // off-screen and 1px-clipped text is
  };                                                                    // for screen readers, not for eyes
  const name = el => {
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
    const by = el.getAttribute('aria-labelledby');
    if (by) return by.split(/\s+/).map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
    if (el.id) { const l = document.querySelector(`label[for="${CSS.escape(el.id)}"]`); if (l) return l.textContent; }
    const wrap = el.closest('label'); if (wrap) return wrap.textContent;
    return el.getAttribute('title') || '';
  };
  const fields = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden')
    .map(el => ({html: el.outerHTML.slice(0, 120), name: (name(el) || '').trim(),
                 buttonLike: ['submit', 'button', 'reset'].includes(el.type), value: el.value || ''}));
  const buttons = [...document.querySelectorAll('button')].map(el => ({html: el.outerHTML.slice(0, 120),
                 name: (el.getAttribute('aria-label') || el.textContent || '').trim()}));
  const texts = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own || !visible(el)) continue;
    const s = getComputedStyle(el);
    const layers = [];
    for (let a = el; a; a = a.parentElement) layers.push(getComputedStyle(a).backgroundColor);
    layers.push(getComputedStyle(document.documentElement).backgroundColor);
    texts.push({text: own.slice(0, 50), tag: el.tagName.toLowerCase(), color: s.color, layers,
                size: parseFloat(s.fontSize), weight: parseInt(s.fontWeight, 10) || 400});
  }
  return {
    lang: document.documentElement.getAttribute('lang') || '',
    dir: document.documentElement.getAttribute('dir') || '',
    title: document.title,
    landmarks: {
      header: document.querySelectorAll('body > header, [role=banner]').length,
      nav: document.querySelectorAll('nav, [role=navigation]').length,
      main: document.querySelectorAll('main, [role=main]').length,
      footer: document.querySelectorAll('body > footer, [role=contentinfo]').length,
    },
    h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
    imagesWithoutAlt: [...document.querySelectorAll('img:not([alt])')].map(i => i.outerHTML.slice(0, 120)),
    fields, buttons, texts,
    outsideMain: [...document.body.children].filter(el => !['HEADER', 'MAIN', 'FOOTER', 'SCRIPT', 'A']
                   .includes(el.tagName) && visible(el) && el.textContent.trim()).map(el => el.tagName),
  };
}"""

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


def is_large(size_px: float, weight: int) -> bool:
    """WCAG large text: 18pt (24px), or 14pt (18.66px) bold."""
    return size_px >= 24 or (size_px >= 18.66 and weight >= 700)


def problems(facts: dict) -> list[str]:
    """Everything the checker finds wrong on one page, as readable lines (empty: the page passes)."""
    out = []
    if facts["lang"] not in ("en", "fr", "ar"):
        out.append(f"<html lang> is {facts['lang']!r}")
    if facts["dir"] not in ("ltr", "rtl"):
        out.append(f"<html dir> is {facts['dir']!r}")
    marks = facts["landmarks"]
    if marks["main"] != 1:
        out.append(f"{marks['main']} main landmarks")
    for name in ("header", "nav", "footer"):
        if marks[name] < 1:
            out.append(f"no {name} landmark")
    if facts["outsideMain"]:
        out.append(f"content outside the landmarks: {facts['outsideMain']}")
    if len(facts["h1"]) != 1:
        out.append(f"{len(facts['h1'])} h1 elements: {facts['h1']}")
    if not facts["title"].strip():
        out.append("empty <title>")
    out += [f"image without alt: {html}" for html in facts["imagesWithoutAlt"]]
    for f in facts["fields"]:
        if not f["name"] and not (f["buttonLike"] and f["value"].strip()):
            out.append(f"form field without a label: {f['html']}")
    out += [f"button without a name: {b['html']}" for b in facts["buttons"] if not b["name"]]
    for t in facts["texts"]:
        fg = parse_color(t["color"])
        bg = backdrop(t["layers"])
        ratio = contrast(blend(fg, bg), bg)
        need = 3.0 if is_large(t["size"], t["weight"]) else 4.5
        if ratio < need:
            out.append(f"contrast {ratio:.2f} < {need} for <{t['tag']}> {t['text']!r} ({t['color']} on "
                       f"rgb{tuple(round(c) for c in bg)})")
    return out


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
