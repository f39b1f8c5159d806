"""kb.render: Markdown features, wiki links, the cache, plain text, and the attack table.

The attack table is the contract for the sanitiser: any replacement for bleach (e.g. nh3) must pass it.
Add a row for every new trick; the output is parsed with the stdlib HTML parser, not substring-searched.
"""
from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.render import WIKILINK_RE, Rendered, Renderer, excerpt

# What the rendered HTML may contain at most (the brief's allow-list, plus span for dir="rtl").
ALLOWED = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "a", "em", "strong", "code", "pre",
           "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "img", "sup", "div",
           "del", "abbr", "span"}
SCRIPT_CAPABLE = {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "input", "base", "meta",
                  "link", "frame", "frameset", "applet", "button", "textarea", "select", "template", "noscript"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "data", "srcset",
             "lowsrc", "dynsrc", "cite", "codebase", "longdesc", "usemap", "ping"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")

XSS = "<img src=x onerror=alert(1)>"


class _Audit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def parse(fragment: str) -> list[tuple[str, dict[str, str]]]:
    audit = _Audit()
    audit.feed(fragment)
    audit.close()
    return [(tag, {k: v or "" for k, v in attrs}) for tag, attrs in audit.tags]


def assert_inert(fragment: str) -> None:
    """No script-capable element, no event handler or style, no dangerous URL, only allowed tags."""
    for tag, attrs in parse(fragment):
        assert tag not in SCRIPT_CAPABLE, (tag, fragment)
        assert tag in ALLOWED, (tag, fragment)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, fragment)
            assert name not in ("style", "srcdoc", "formaction"), (tag, name, fragment)
            if name in URL_ATTRS:
                # What a browser sees: entities already decoded by the parser; it ignores whitespace and
                # control characters inside the scheme and its case.
                squashed = re.sub(r"[\x00-\x20\x7f-\xa0\s]+", "", value).lower()
                assert not squashed.startswith(BAD_SCHEMES), (tag, name, value, fragment)


def hostile_title(slug: str) -> str:
    return f"<script>alert('{slug}')</script>{XSS}"


ATTACKS = [
    ("script", "<script>alert(1)</script>"),
    ("script-mixed-case-src", "<ScRiPt src=//evil.example/x.js></ScRiPt>"),
    ("script-in-paragraph", "Hello <script>alert(1)</script> world"),
    ("img-onerror", XSS),
    ("img-onerror-eval-src", "<img src=x:alert(alt) onerror=eval(src) alt=0>"),
    ("svg-onload", "<svg onload=alert(1)><circle r=1 /></svg>"),
    ("svg-xlink", '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>'),
    ("iframe", '<iframe src="javascript:alert(1)"></iframe>'),
    ("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("object", '<object data="data:text/html,<script>alert(1)</script>"></object>'),
    ("object-param", "<object><param name=src value=javascript:alert(1)></object>"),
    ("embed", '<embed src="javascript:alert(1)">'),
    ("math-mxss", f"<math><mtext><table><mglyph><style>{XSS}"),
    ("math-href", '<math href="javascript:alert(1)">x</math>'),
    ("style-element", "<style>body{background:url(javascript:alert(1))}</style>"),
    ("form-input", '<form action="javascript:alert(1)"><input type=submit formaction="javascript:alert(1)">'
                   "<button>go</button></form>"),
    ("input-autofocus", "<input autofocus onfocus=alert(1)>"),
    ("details-ontoggle", "<details open ontoggle=alert(1)>x</details>"),
    ("video-source", "<video><source onerror=alert(1)></video>"),
    ("meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
    ("base-href", '<base href="javascript:alert(1)//">'),
    ("link-stylesheet", '<link rel=stylesheet href="javascript:alert(1)">'),
    ("md-link-js", "[click](javascript:alert(1))"),
    ("md-link-js-case", "[click](JaVaScRiPt:alert(1))"),
    ("md-link-js-angle", "[click](<javascript:alert(1)>)"),
    ("md-link-title-breakout", '[x](http://a.example "\\" onmouseover=\\"alert(1)")'),
    ("md-image-js", "![x](javascript:alert(1))"),
    ("md-image-title-breakout", '![x](http://a.example/y.png "a\\" onerror=\\"alert(1)")'),
    ("autolink-js", "<javascript:alert(1)>"),
    ("entity-decimal", '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>'),
    ("entity-hex-no-semicolons", '<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)">x</a>'),
    ("entity-partial", '<a href="javas&#99;ript:alert(1)">x</a>'),
    ("entity-colon", "[x](javascript&colon;alert(1))"),
    ("tab-split", '<a href="java\tscript:alert(1)">x</a>'),
    ("newline-split", '<a href="java\nscript:alert(1)">x</a>'),
    ("entity-tab-split", '<a href="java&#x09;script:alert(1)">x</a>'),
    ("md-entity-tab-split", "[x](java&#x09;script:alert(1))"),
    ("leading-controls", '<a href=" \x01\x00javascript:alert(1)">x</a>'),
    ("unicode-separator", '<a href="javascript\u2028:alert(1)">x</a>'),
    ("data-text-html", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"),
    ("data-image", '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">'),
    ("img-srcset", '<img srcset="javascript:alert(1)" src="/ok.png">'),
    ("vbscript", '<a href="vbscript:msgbox(1)">x</a>'),
    ("md-vbscript", "[x](VBScript:msgbox(1))"),
    ("style-attribute", '<p style="background:url(javascript:alert(1))">x</p>'),
    ("handlers-on-allowed-tags", '<a href="/ok" onclick="alert(1)" onmouseover=alert(1)>x</a>'
                                 "<h2 onclick=alert(1)>t</h2><td onmouseover=alert(1)>"),
    ("reference-link-js", "[x][evil]\n\n[evil]: javascript:alert(1)"),
    ("reference-image-js", "![x][evil]\n\n[evil]: javascript:alert(1)"),
    ("raw-a-href-js", '<a href="javascript:alert(1)">x</a>'),
    ("nested-unclosed", '<div><p><a href="javascript:alert(1)"<img src=x onerror=alert(1)>'),
    ("unclosed-attribute", '<img src="x" onerror="alert(1)'),
    ("split-tag", "<<script>script>alert(1)<</script>/script>"),
    ("comment-close-early", f"<!-->{XSS}-->"),
    ("comment-bang-close", f"<!-- --!>{XSS} -->"),
    ("conditional-comment", "<!--[if IE]><script>alert(1)</script><![endif]-->"),
    ("cdata", f"<![CDATA[{XSS}]]>"),
    ("noscript-mxss", f'<noscript><p title="</noscript>{XSS}">'),
    ("title-rawtext", f"<title>{XSS}</title>"),
    ("plaintext", f"<plaintext>{XSS}"),
    ("wikilink-label-html", f"[[some-note|{XSS}]]"),
    ("wikilink-target-html", "[[<script>alert(1)</script>]]"),
    ("wikilink-in-link", "[see [[note]]](javascript:alert(1))"),
    ("toc-heading-html", f"# {XSS}\n\n## <script>alert(1)</script> b\n\n### [x](javascript:alert(1))"),
    ("footnote-script", "x[^1]\n\n[^1]: <script>alert(1)</script> [y](javascript:alert(1))"),
    ("fenced-code-html", "```html\n<script>alert(1)</script>\n```"),
    ("table-cell-html", f"| a | b |\n|---|---|\n| {XSS} | [x](javascript:alert(1)) |"),
    ("span-dir-handlers", '<span dir="rtl" onclick="alert(1)" style="x">x</span>'),
]


@pytest.mark.parametrize("body", [b for _, b in ATTACKS], ids=[name for name, _ in ATTACKS])
def test_attack_renders_inert(body):
    rendered = Renderer().render(body + "\n\n# one\n\n## two\n", hostile_title)
    assert_inert(rendered.html)
    assert_inert(rendered.toc)
    assert "wl-" not in rendered.html  # no wiki-link placeholder survives


def test_attack_table_is_big_and_unique():
    names = [name for name, _ in ATTACKS]
    assert len(names) >= 30 and len(set(names)) == len(names)


def test_the_audit_catches_what_it_should():
    """The checker itself must not be blind."""
    for bad in ("<script>x</script>", '<a href="java\tscript:x">', '<p onclick="x">', '<img src="data:x">',
                '<a href="&#106;avascript:x">', "<svg></svg>", '<p style="x">'):
        with pytest.raises(AssertionError):
            assert_inert(bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["<script>", "</script>", "javascript:", XSS, "<a href=\"", "\"", "'", ">", "<",
                                 "[[", "]]", "|", "[", "](", ")", "![", "`", "```\n", "*", "_", "#", "\n", "\n\n",
                                 "&#x09;", "&", ";", "<!--", "-->", "> ", "- ", "1. ", "[^1]", "[^1]: ", "x", " ",
                                 "onerror=", "=", "<svg", "<style>", "data:", "\x00", "\u202e", "مرحبا"]),
                max_size=40))
def test_fuzzed_fragments_render_inert(tokens):
    rendered = Renderer().render("".join(tokens), hostile_title)
    assert_inert(rendered.html)
    assert_inert(rendered.toc)


def test_hostile_titles_from_resolve_are_escaped():
    html = Renderer().render("See [[other]].", hostile_title).html
    assert_inert(html)
    assert "&lt;script&gt;" in html


# --- Markdown features -----------------------------------------------------------------------

def render(body: str, resolve=lambda slug: None, **kwargs) -> Rendered:
    return Renderer(**kwargs).render(body, resolve)


def test_tables_use_align_attribute_not_style():
    html = render("| left | right |\n|:-----|------:|\n| a | *b* |\n").html
    tags = parse(html)
    assert ("th", {"align": "left"}) in tags and ("td", {"align": "right"}) in tags
    assert "<em>b</em>" in html and "style" not in html


def test_fenced_code_is_escaped_and_wikilinks_inside_are_untouched():
    rendered = render("```python\nif a < b and c & d:\n    print('[[not-a-link]]')\n```\n\nInline `[[nor-this]]`.")
    assert "<pre><code>" in rendered.html
    assert "a &lt; b and c &amp; d" in rendered.html
    assert "[[not-a-link]]" in rendered.html and "[[nor-this]]" in rendered.html
    assert rendered.links == [] and 'class="wikilink' not in rendered.html


def test_footnotes_keep_their_ids_and_classes():
    html = render("Claim[^src].\n\n[^src]: The source.\n").html
    tags = parse(html)
    assert ("sup", {"id": "fnref:src"}) in tags
    assert ("a", {"class": "footnote-ref", "href": "#fn:src"}) in tags
    assert ("li", {"id": "fn:src"}) in tags
    assert ("div", {"class": "footnote"}) in tags
    assert any(t == "a" and a.get("class") == "footnote-backref" and a["href"] == "#fnref:src" for t, a in tags)


def test_toc_lists_headings_with_prefixed_ids():
    rendered = render("# Overview\n\ntext\n\n## Référence légale\n\n## المراجع\n")
    ids = [a["id"] for t, a in parse(rendered.html) if "id" in a]
    assert ids == ["h-overview", "h-référence-légale", "h-المراجع"]
    toc = parse(rendered.toc)
    assert toc[0] == ("div", {"class": "toc"})
    assert [a["href"] for t, a in toc if t == "a"] == ["#" + i for i in ids]


def test_toc_is_empty_below_two_headings():
    assert render("# Only one\n\ntext").toc == ""
    assert render("no headings").toc == ""


def test_toc_marker_is_not_expanded_in_the_body():
    rendered = render("[TOC]\n\n# a\n\n# b")
    assert 'class="toc"' not in rendered.html and rendered.toc


def test_ids_cannot_clobber_dom_globals():
    html = render('## location\n\n<h2 id="cookie">x</h2>\n\n<p id="forms">y</p>\n\n'
                  '<img id="x" name="y" src="/a.png">').html
    ids = [a["id"] for t, a in parse(html) if "id" in a]
    assert ids == ["h-location"]
    assert all("name" not in a for t, a in parse(html))


def test_attr_list_is_not_enabled():
    html = render('# Title {: .evil style="color:red" onclick="x" }\n\npara\n{: #clobber }').html
    assert all(not ({"style", "onclick"} & set(a)) for _, a in parse(html))
    assert "clobber" not in " ".join(a.get("id", "") for _, a in parse(html))


def test_sane_lists_keep_start_and_do_not_mix_types():
    html = render("3. three\n4. four\n\n* bullet\n* bullet\n").html
    tags = [t for t, _ in parse(html)]
    assert ("ol", {"start": "3"}) in parse(html)
    assert tags.count("ol") == 1 and tags.count("ul") == 1


def test_allowed_raw_html_survives_and_unknown_tags_are_stripped_keeping_text():
    html = render('<span dir="rtl">مرحبا</span> <span dir="sideways">x</span> <aside>kept text</aside> '
                  '<abbr title="International Organization for Migration">IOM</abbr> <del>old</del>').html
    tags = parse(html)
    assert ("span", {"dir": "rtl"}) in tags and ("span", {}) in tags
    assert ("abbr", {"title": "International Organization for Migration"}) in tags
    assert "kept text" in html and "aside" not in html and "<del>old</del>" in html


# --- links -----------------------------------------------------------------------------------

def test_external_links_get_nofollow_noopener_and_user_rel_is_replaced():
    html = render('[a](https://example.org/x) [b](HTTP://Example.org) <a href="//cdn.example/x" rel="opener">c</a> '
                  '<a href="/\\evil.example/">d</a>').html
    anchors = [a for t, a in parse(html) if t == "a"]
    assert [a["rel"] for a in anchors] == ["nofollow noopener"] * 4


def test_relative_anchor_and_mailto_links_are_kept_without_rel():
    html = render("[n](/notes/other) [up](../x) [here](#h-top) [mail](mailto:focal@example.org)",
                  lambda slug: "Other note" if slug == "other" else None).html
    anchors = [a for t, a in parse(html) if t == "a"]
    assert [a["href"] for a in anchors] == ["/notes/other", "../x", "#h-top", "mailto:focal@example.org"]
    assert all("rel" not in a for a in anchors)


def test_images_allow_http_and_relative_sources_only():
    html = render("![a](https://example.org/a.png) ![b](/static/b.png) ![c](mailto:x@example.org)").html
    srcs = [a.get("src") for t, a in parse(html) if t == "img"]
    assert srcs == ["https://example.org/a.png", "/static/b.png", None]


def test_unsafe_link_keeps_its_text():
    html = render("[read this](javascript:alert(1))").html
    assert "read this" in html and "href" not in html


# --- wiki links ------------------------------------------------------------------------------

TITLES = {"child-protection": "Child protection & case management", "secret-plan": "Secret relocation plan"}


def everyone(slug):
    return TITLES.get(slug)


def outsider(slug):  # may read everything except the secret note
    return None if slug == "secret-plan" else TITLES.get(slug)


def test_wikilink_resolves_to_title_and_normalises_target():
    html = render("See [[Child Protection]].", everyone).html
    assert '<a class="wikilink" href="/notes/child-protection">Child protection &amp; case management</a>' in html


def test_wikilink_label_wins_over_title():
    html = render("See [[child-protection|the CP note]].", everyone).html
    assert '<a class="wikilink" href="/notes/child-protection">the CP note</a>' in html


def test_missing_wikilink_is_marked_and_never_names_its_target():
    html = render("See [[No Such Note]] and [[gone|the old page]].", everyone).html
    assert '<a class="wikilink missing">unavailable note</a>' in html  # no label: a neutral text
    assert '<a class="wikilink missing">the old page</a>' in html  # the writer's own words stay
    assert "no-such-note" not in html.lower().replace(" ", "-") and "gone" not in html


def test_missing_text_is_given_by_the_caller():
    html = Renderer().render("[[nope]] [[nope|label]]", lambda slug: None, missing="note indisponible").html
    assert html == '<p><a class="wikilink missing">note indisponible</a> <a class="wikilink missing">label</a></p>'


def test_hidden_and_nonexistent_targets_render_identically():
    body = "Plan: [[Secret Plan]] / [[secret-plan|details]]."
    hidden = render(body, outsider).html
    nonexistent = render(body, lambda slug: None).html
    assert hidden == nonexistent
    assert "Secret relocation plan" not in hidden and "secret" not in hidden.lower()
    assert "Secret relocation plan" in render(body, everyone).html


@pytest.mark.parametrize("body", [f"Read {link} now." for link in (
    "[the plan](/notes/secret-plan)", '[the plan](/notes/secret-plan "Secret plan")',
    "[the plan](/notes/Secret-Plan#part)", "[the plan](/notes/secret%2Dplan/history)", "[the plan](secret-plan)",
    "[the plan](../notes/secret-plan)", '<a title="x>y" href="/notes/secret-plan">the plan</a>')]
    + ["Read [the plan][p] now.\n\n[p]: /notes/secret-plan"])
def test_markdown_links_to_hidden_notes_keep_their_text_and_lose_the_target(body):
    hidden = render(body, outsider).html
    assert hidden == render("Read [the plan](/notes/no-such-note) now.", outsider).html
    assert hidden == '<p>Read <a class="wikilink missing">the plan</a> now.</p>'
    assert "href" in render(body, everyone).html  # readable: the link stays as written


def test_links_that_do_not_lead_to_a_note_page_are_untouched():
    # (an absolute URL whose path starts with /notes/<slug>, on any host, may be kb's own: see test_hidden_links)
    body = ("[a](/static/x.png) [b](https://example.org/guides/notes/secret-plan) [c](#h-x) [d](/notes/) [e](?q=1)"
            " [f](mailto:someone@example.org)")
    assert render(body, outsider).html == render(body, everyone).html
    assert "wikilink" not in render(body, outsider).html


def test_link_base_is_configurable():
    html = render("[[child-protection]]", everyone, link_base="/kb/n/").html
    assert 'href="/kb/n/child-protection"' in html


def test_wikilinks_in_headings_tables_and_footnotes():
    rendered = render("## See [[Child Protection]]\n\n## Two [[secret-plan|the plan]]\n\n| a |\n|---|\n"
                      "| [[secret-plan]] |\n\nx[^1]\n\n[^1]: From [[footnote-target]].", everyone)
    # ids and the table of contents are the same for every reader: the label only, never the target
    assert [a["id"] for t, a in parse(rendered.html) if t == "h2"] == ["h-see", "h-two-the-plan"]
    assert rendered.links == ["child-protection", "secret-plan", "footnote-target"]
    assert "the plan" in rendered.toc and "wikilink" not in rendered.toc
    assert "Child" not in rendered.toc and "secret" not in rendered.toc
    assert "Child protection &amp; case management</a></h2>" in rendered.html


def test_not_a_wikilink():
    rendered = render("[[!!!]] [[]] \\[[escaped]] [[a\nb]]")
    assert rendered.links == [] and "wikilink" not in rendered.html


def test_links_order_and_uniqueness_match_render():
    body = ("[[b-note]] then [[A Note|label]] then [[b-note]] again, `[[in-code]]`\n\n"
            "```\n[[in-fence]]\n```\n\n[[c-note]] and [[a-note]]")
    renderer = Renderer()
    assert renderer.links(body) == ["b-note", "a-note", "c-note"]
    assert renderer.render(body, everyone).links == ["b-note", "a-note", "c-note"]


def test_wikilink_regex_is_public():
    m = WIKILINK_RE.search("x [[Some Target|Its label]] y")
    assert m.group(1) == "Some Target" and m.group(2) == "Its label"


# --- the cache -------------------------------------------------------------------------------

def test_cache_runs_markdown_once_and_resolves_per_reader():
    renderer = Renderer()
    body = "Read [[secret-plan]] and [[child-protection]]."
    first = renderer.render(body, everyone, cache_key="rev1:note")
    second = renderer.render(body, outsider, cache_key="rev1:note")
    assert renderer.markdown_runs == 1
    assert "Secret relocation plan" in first.html and "Secret relocation plan" not in second.html
    assert '<a class="wikilink missing">unavailable note</a>' in second.html and "secret-plan" not in second.html
    assert first.links == second.links == ["secret-plan", "child-protection"]


def test_cache_key_with_a_different_body_renders_again():
    renderer = Renderer()
    assert "one" in renderer.render("one", everyone, cache_key="k").html
    assert "two" in renderer.render("two", everyone, cache_key="k").html
    assert renderer.markdown_runs == 2


def test_no_cache_key_means_no_caching_and_the_cache_is_bounded():
    renderer = Renderer(cache_size=2)
    renderer.render("x", everyone)
    renderer.render("x", everyone)
    assert renderer.markdown_runs == 2
    for key in ("a", "b", "c", "a"):
        renderer.render("y", everyone, cache_key=key)
    assert renderer.markdown_runs == 2 + 4  # "a" was evicted by "c"


def test_callers_cannot_corrupt_the_cache():
    renderer = Renderer()
    renderer.render("[[x]]", everyone, cache_key="k").links.append("injected")
    assert renderer.render("[[x]]", everyone, cache_key="k").links == ["x"]


def test_concurrent_renders_agree():
    renderer = Renderer(cache_size=4)
    body = "# T\n\n## U\n\n[[child-protection]] " + "text *em* " * 200
    expected = renderer.render(body, everyone).html
    results, errors = [], []

    def work():
        try:
            for i in range(5):
                results.append(renderer.render(body, everyone, cache_key=f"k{i % 3}").html)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 20 and set(results) == {expected}


# --- text in three languages, hostile sizes --------------------------------------------------

def test_arabic_and_french_text_is_preserved():
    body = ("# حماية الطفل\n\nيجب إحالة **الأطفال غير المصحوبين** إلى الخدمات.\n\n"
            "## Protection de l'enfance\n\nÀ l’arrivée, l’équipe vérifie « l’intérêt supérieur » — œuvre.")
    rendered = render(body)
    for text in ("حماية الطفل", "<strong>الأطفال غير المصحوبين</strong>", "À l’arrivée", "« l’intérêt supérieur »",
                 "œuvre"):
        assert text in rendered.html
    assert "حماية الطفل" in rendered.toc


@pytest.mark.parametrize("body", [
    "\x00\x01\x02wzxhzdk:0\x03\x1b[31m\x7f",
    "lone surrogate \ud800 and \udfff",
    "\u202eRTL override\u202c \u200f\u200b zero width \ufeff bom \U0001F600 emoji e\u0301",
    "\uffff\ufffe\U0010ffff noncharacters",
], ids=["controls", "surrogates", "bidi-and-emoji", "noncharacters"])
def test_any_unicode_renders_and_is_servable(body):
    rendered = render(body)
    rendered.html.encode("utf-8")
    assert_inert(rendered.html)


def test_a_body_of_300_kb_renders_as_markdown():
    body = ("Returnees " + "need support and follow-up " * 37 + "*now*.\n\n") * 300
    assert len(body) > 300_000
    html = render(body).html
    assert html.startswith("<p>") and html.count("<em>now</em>") == 300


def test_long_documents_are_sanitised_in_pieces_without_changing_the_output():
    doc = ("Para *one* with [[x]] and [a](https://e.org).\n\n- a\n- *b*\n\n| h |\n|---|\n| c |\n\n"
           "<div>raw <em>html</em></div>\n\n<hr>\n\n```\ncode\n```\n\n> quote\n\n")
    renderer = Renderer()
    whole = renderer.render(doc * 60, everyone).html
    same = whole == "\n".join([renderer.render(doc, everyone).html] * 60)
    assert same  # (not compared inline: pytest's diff of 100 kB strings takes minutes)


@pytest.mark.parametrize("body", [
    "x" * (1 << 20) + "y",                                       # past the size limit
    "a *b* " * 40_000,                                           # one huge paragraph of emphasis
    "[" * 5_000 + "]" * 5_000,                                   # nested brackets
    "![" * 5_000,                                                # unclosed image brackets
    "<div>" * 5_000 + "x",                                       # deep raw HTML
    "<em>" * 5_000 + "x",
    "- item\n" * 5_001,                                          # too many siblings for html5lib
    "| a |\n|---|\n" + "| x |\n" * 5_001,
    "***a*** " * 5_001,
    "# h\n\n" * 5_001,                                            # a table of contents too long
    "".join("    " * i + "- item\n" for i in range(300)),        # deep lists: RecursionError
    "***" * 10_000 + "x" + "***" * 10_000,                       # nested emphasis: RecursionError
], ids=["too-long", "huge-paragraph", "brackets", "image-brackets", "deep-divs", "deep-em", "long-list",
        "long-table", "wide-paragraph", "many-headings", "deep-lists", "deep-emphasis"])
def test_pathological_bodies_fall_back_to_escaped_text(body):
    rendered = render(body + "\n\n[[linked-note]] <script>alert(1)</script>")
    assert rendered.html.startswith("<pre>") and rendered.toc == ""
    assert "&lt;script&gt;" in rendered.html
    assert rendered.links == ["linked-note"]
    assert_inert(rendered.html)


def test_an_unexpected_renderer_error_falls_back_to_text(monkeypatch, caplog):
    def broken(self, text):
        raise ValueError("a bug in an extension")

    monkeypatch.setattr("markdown.Markdown.convert", broken)
    rendered = render("*x* <script>alert(1)</script> [[linked-note]]", lambda slug: "Linked")
    assert rendered.html == "<pre>*x* &lt;script&gt;alert(1)&lt;/script&gt; [[linked-note]]</pre>"
    assert rendered.links == ["linked-note"] and "a bug in an extension" in caplog.text
    # the source shown as text still never names a note the reader may not open
    assert render("[[linked-note|x]] [y](/notes/linked-note)").html == "<pre>[[\u2026|x]] [y](\u2026)</pre>"


def test_deep_quotes_do_not_raise():
    for body in (">" * 5_000 + " x", "".join(">" * i + " x\n" for i in range(1, 300))):
        assert_inert(render(body).html)


# --- plain text and excerpts -----------------------------------------------------------------

def test_plain_text_is_readable():
    body = ("# Title\n\nIntro with **bold**, _em_, `code`, a [link](https://example.org) and "
            "![an image](/a.png), [[child-protection|the CP note]] and [[Other Note]].\n\n"
            "> quoted\n\n- item one\n- item two\n\n| a | b |\n|---|---|\n| c | d |\n\n"
            "Tom &amp; Jerry &lt;3[^1]\n\n[^1]: The footnote.\n\n[ref]: https://example.org\n\nsnake_case stays.\n\n"
            "<div class=\"x\">raw <b>html</b></div><script>var secret = 1;</script><!-- hidden -->\n\n"
            "```python\nprint('code kept')\n```")
    text = Renderer().plain_text(body)
    for words in ("Title Intro with bold, em, code, a link and an image, the CP note and .",
                  "quoted item one item two", "a b c d", "Tom & Jerry <3 The footnote.", "raw html",
                  "print('code kept')", "snake_case stays."):
        assert words in text
    for junk in ("**", "](", "[[", "|", "#", "https://example.org", "secret", "hidden", "```", "<div", "_em",
                 "Other Note", "child-protection"):  # never the name of a linked note: only a label
        assert junk not in text


def test_plain_text_handles_many_notes_quickly():
    renderer = Renderer()
    notes = [f"# Note {i}\n\n" + "Some *text* with [a link](/x) and [[note-{i}]]. " * 50 for i in range(300)]
    texts = [renderer.plain_text(n) for n in notes]  # a sanity run, not a timing assert
    assert all("Some text with a link and ." in t and "note-" not in t for t in texts)


def test_excerpt_cuts_at_a_word_boundary():
    text = "Returnees need " + "support and follow-up " * 30
    cut = excerpt(text, 60)
    assert cut.endswith("\u2026") and len(cut) <= 61
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " "
    assert excerpt("short  text\n here", 60) == "short text here"
    assert excerpt("x" * 100, 10) == "x" * 10 + "\u2026"


# --- structure -------------------------------------------------------------------------------

def test_only_render_imports_markdown_and_bleach():
    pattern = re.compile(r"^\s*(?:import|from)\s+(markdown|bleach)\b", re.M)
    kb = Path(__file__).resolve().parent.parent / "kb"
    users = sorted(str(p.relative_to(kb)) for p in kb.rglob("*.py") if pattern.search(p.read_text("utf-8")))
    assert users == ["render.py"]


def test_images_load_only_over_https_or_from_kb_like_the_csp_allows():
    r = Renderer()
    html = r.render("![a](http://plain.example/a.png) ![b](https://tls.example/b.png) ![c](/static/c.png)",
                    lambda s: None).html
    assert 'src="http://plain.example/a.png"' not in html
    assert 'src="https://tls.example/b.png"' in html and 'src="/static/c.png"' in html


# --- the source as readers who may not edit the note see it ------------------------------------

def test_mask_links_hides_the_names_of_notes_the_reader_may_not_open():
    source = ("See [[Secret Plan]], [[secret-plan|the plan]] and [[child-protection]].\n\n"
              '[a](/notes/secret-plan "t") [b](<secret-plan>) [c](../notes/secret-plan#x) [d][r]\n\n'
              "[r]: /notes/secret-plan\n\n<a href='/notes/secret-plan'>e</a> https://kb.example/notes/secret-plan\n\n"
              "[f](/notes/child-protection) [g](https://example.org/guide)\n")
    masked = Renderer().mask_links(source, lambda slug: slug != "secret-plan")
    assert "secret" not in masked.lower()
    assert "See [[\u2026]], [[\u2026|the plan]] and [[child-protection]]." in masked
    assert "[f](/notes/child-protection) [g](https://example.org/guide)" in masked  # readable: untouched
    assert masked.count("\u2026") == 8
    assert Renderer().mask_links(source, lambda slug: True) == source
