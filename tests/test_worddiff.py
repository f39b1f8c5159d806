"""The word-level diff: readable, exact, and safe to put in a page."""
import re

import pytest

from kb.worddiff import diff_html, diff_ops


def strip(html: str) -> tuple[str, str]:
    """The old and the new text back from the diff's HTML (no context cut)."""
    import html as h
    old = re.sub(r"<ins>.*?</ins>", "", html, flags=re.S)
    new = re.sub(r"<del>.*?</del>", "", html, flags=re.S)
    clean = lambda s: h.unescape(re.sub(r"</?(?:ins|del)>", "", s))  # noqa: E731
    return clean(old), clean(new)


def test_changed_words_are_marked_not_whole_lines():
    html = diff_html("The court registered 40 children in Agadez.\n",
                     "The mobile court registered 52 children in Agadez.\n")
    assert re.search(r"<ins>\s?mobile\s?</ins>", html)
    assert "<del>40</del><ins>52</ins>" in html
    assert "registered" in html and "<del>The" not in html


def test_text_is_escaped_and_only_the_diff_adds_markup():
    html = diff_html("safe\n", "<script>alert(1)</script> & <b>bold</b>\n")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    assert set(re.findall(r"</?([a-z]+)", html)) <= {"ins", "del"}


@pytest.mark.parametrize("old, new", [
    ("", "new text\n"), ("old text\n", ""), ("a\nb\nc\n", "a\nc\nb\n"), ("same\n", "same\n"),
    ("السلام عليكم\nسطر\n", "السلام عليكم جميعا\nسطر\n"), ("no newline", "no newline at all"),
    ("été à l'école\n", "été à la nouvelle école\n"),
])
def test_both_texts_can_be_read_back_from_the_diff(old, new):
    got_old, got_new = strip(diff_html(old, new, context=None))
    assert got_new == new
    if old != new:
        assert got_old == old


def test_identical_texts_have_no_marks():
    assert "<ins>" not in diff_html("x\ny\n", "x\ny\n") and diff_ops("x", "x") == [("equal", "x")]


def test_long_unchanged_stretches_are_cut_down_around_changes():
    old = "".join(f"line {i}\n" for i in range(100))
    html = diff_html(old, old.replace("line 50\n", "line fifty\n"))
    assert "line 47" in html and "line 53" in html and "line 10\n" not in html and "line 90" not in html
    assert 'class="skipped"' in html
    assert "line 10\n" in diff_html(old, old.replace("line 50", "x"), context=None)


def test_a_huge_changed_block_stays_fast_and_correct():
    old = " ".join(f"w{i}" for i in range(20_000)) + "\n"
    new = " ".join(f"v{i}" for i in range(20_000)) + "\n"
    got_old, got_new = strip(diff_html(old, new, context=None))
    assert (got_old, got_new) == (old, new)
