"""kb.search.textnorm: the pure-Python normalisation every search field and query goes through."""
from __future__ import annotations

import threading
import unicodedata

import pytest

from kb.search import textnorm


@pytest.mark.parametrize("raw, folded", [
    ("Réintégration", "reintegration"),
    ("reintegration", "reintegration"),
    ("ACCOMPAGNÉS", "accompagnes"),
    ("Œuvre", "oeuvre"),
    ("Straße", "strasse"),
    (unicodedata.normalize("NFD", "énième"), "enieme"),
    ("حماية", "حماية"),  # Arabic is not touched by accent folding
])
def test_fold(raw, folded):
    assert textnorm.fold(raw) == folded


@pytest.mark.parametrize("raw, normal", [
    ("الحِمَايَة", "الحمايه"),  # harakat stripped, ta marbuta -> ha
    ("حمايــــة", "حمايه"),  # tatweel
    ("أطفال", "اطفال"), ("إدماج", "ادماج"), ("آمن", "امن"), ("ٱلله", "الله"),
    ("إلى", "الي"),  # alef maqsura -> ya
    ("٢٠٢٤", "2024"),
])
def test_normalize_arabic(raw, normal):
    assert textnorm.normalize_arabic(raw) == normal


def test_words_keep_arabic_words_whole_despite_harakat():
    assert textnorm.words("الحِمَايَة الاجتماعية") == ["الحمايه", "الاجتماعيه"]


def test_words_nfd_input_gives_the_same_words_as_nfc():
    text = "Réintégration des enfants non accompagnés"
    assert textnorm.words(unicodedata.normalize("NFD", text)) == textnorm.words(text)
    assert textnorm.words(text) == ["réintégration", "des", "enfants", "non", "accompagnés"]


def test_words_split_punctuation_and_underscores():
    assert textnorm.words("l'enfance, covid-19 foo_bar <b>") == ["l", "enfance", "covid", "19", "foo", "bar", "b"]


@pytest.mark.parametrize("word", ["الحِمَايَة", "حماية", "والحماية", "الحماية", "بالحماية", "للحماية"])
def test_arabic_stem_with_or_without_article_and_diacritics(word):
    assert textnorm.arabic_stem(textnorm.normalize_word(word)) == "حما"


@pytest.mark.parametrize("word, stem", [
    ("المهاجرين", "مهاجر"), ("مهاجرون", "مهاجر"), ("معلوماتها", "معلوم"),
    ("من", "من"),  # too short to strip anything
    ("وطن", "وطن"),  # و is kept when fewer than three letters would remain
    ("protection", "protection"),  # not Arabic: unchanged
])
def test_arabic_stem_examples(word, stem):
    assert textnorm.arabic_stem(textnorm.normalize_word(word)) == stem


def test_arabic_stem_keeps_at_least_two_letters():
    for word in ["اله", "الها", "وال", "بين", "ات"]:
        assert len(textnorm.arabic_stem(word)) >= 2


def test_functions_are_thread_safe():
    words = textnorm.words("الحِمَايَة والأطفال المهاجرين للمعلومات réintégration accompagnés " * 50)
    words = [w + suffix for w in words for suffix in ("", "ها", "ات", "ين")]
    expected = [(textnorm.arabic_stem(w), textnorm.fold(w)) for w in words]
    textnorm.arabic_stem.cache_clear()
    failures = []

    def work():
        for _ in range(3):
            if [(textnorm.arabic_stem(w), textnorm.fold(w)) for w in words] != expected:
                failures.append(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_stopwords_cover_the_three_languages_and_compare_folded():
    for word in ("the", "des", "à", "في", "إلى"):
        assert textnorm.is_stopword(textnorm.normalize_word(word))
    for word in ("son", "est", "non", "protection", "حماية"):  # content words in one of the languages
        assert not textnorm.is_stopword(textnorm.normalize_word(word))


def test_strip_controls():
    assert textnorm.strip_controls("a\x00b\x1b[31mc\u200bd\ud800e") == "a b [31mc d e"
    assert textnorm.strip_controls("plain text") == "plain text"


def test_snippet_escapes_everything_and_marks_matches():
    text = "Intro. Protect <script>alert(1)</script> children & families."
    out = textnorm.snippet(text, lambda w: w in ("script", "children"))
    assert out == ("Intro. Protect &lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; "
                   "<mark>children</mark> &amp; families.")
    assert textnorm.snippet(text, lambda w: False) is None


def test_snippet_windows_around_the_first_match():
    text = " ".join(f"w{i}" for i in range(300)) + " target " + " ".join(f"v{i}" for i in range(300))
    out = textnorm.snippet(text, lambda w: w == "target", width=120, lead=30)
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>target</mark>" in out and len(out) < 160


def test_snippet_marks_arabic_words_with_harakat():
    out = textnorm.snippet("عن الحِمَايَة هنا", lambda w: w == "الحمايه")
    assert out == "عن <mark>الحِمَايَة</mark> هنا"


def test_plain_snippet_and_excerpt():
    assert textnorm.plain_snippet("<b>bold</b>") == "&lt;b&gt;bold&lt;/b&gt;"
    long = "word " * 100
    assert textnorm.plain_snippet(long, width=50).endswith("…")
    assert len(textnorm.excerpt("a  b\n\nc " * 2000, 100)) <= 100
    assert textnorm.excerpt(unicodedata.normalize("NFD", "é  x")) == "é x"
