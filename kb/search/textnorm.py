"""Text normalisation for search, in plain Python: Unicode NFC, accent folding, Arabic normalisation, an
Arabic light stemmer, stop words, word spans and highlighted snippets.

Every function here is pure (module constants are immutable), so threads can share them freely. The
search module builds its analysers and query terms from these functions, and highlights with them, so
what is indexed, what is queried and what is marked agree.
"""
from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Callable, Iterator

# Marks that belong inside a word: Latin combining accents (NFD input that NFC could not compose),
# Arabic harakat/tashkeel, Quranic annotation marks and the tatweel (kashida).
_LATIN_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_ARABIC_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
_TATWEEL = "\u0640"
# A word starts with a letter or digit and continues through letters, digits and the marks above;
# Python's \w alone stops at a haraka and would cut الحِمَايَة into pieces.
WORD_RE = re.compile(rf"[^\W_](?:[^\W_]|[{_LATIN_MARKS}{_ARABIC_MARKS}{_TATWEEL}])*")
_ARABIC_LETTER_RE = re.compile(r"[\u0620-\u064a\u0671-\u06d3]")
_LATIN_MARK_RE = re.compile(f"[{_LATIN_MARKS}]")


def _arabic_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for lo, hi in ((0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06DC),
                   (0x06DF, 0x06E8), (0x06EA, 0x06ED), (0x0640, 0x0640)):
        for cp in range(lo, hi + 1):
            table[cp] = None  # tashkeel, Quranic marks, tatweel: removed
    for src in "أإآٱ":
        table[ord(src)] = "ا"
    table[ord("ى")] = "ي"
    table[ord("ة")] = "ه"
    table[ord("ی")] = "ي"  # Persian yeh, common from Persian keyboards
    table[ord("ک")] = "ك"  # Persian keheh
    for i in range(10):
        table[0x0660 + i] = str(i)  # Arabic-Indic digits
        table[0x06F0 + i] = str(i)  # extended (Persian) digits
    return table


_ARABIC_TABLE = _arabic_table()
_LIGATURES = {ord("œ"): "oe", ord("æ"): "ae", ord("ø"): "o", ord("đ"): "d", ord("ł"): "l",
              ord("ı"): "i", ord("ð"): "d", ord("þ"): "th"}
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def nfc(text: str) -> str:
    """Unicode NFC: decomposed accents and hamza/madda sequences become single characters."""
    return unicodedata.normalize("NFC", text)


def normalize_arabic(text: str) -> str:
    """Strip tashkeel and tatweel; unify أإآٱ→ا, ى→ي, ة→ه (and Persian yeh/keheh, Arabic-Indic digits)."""
    return text.translate(_ARABIC_TABLE)


def has_arabic(text: str) -> bool:
    return _ARABIC_LETTER_RE.search(text) is not None


def fold(word: str) -> str:
    """Lowercase and remove Latin accents: 'Réintégration' -> 'reintegration'. Arabic is left as it is."""
    word = word.casefold()
    if word.isascii():
        return word
    word = _LATIN_MARK_RE.sub("", unicodedata.normalize("NFD", word))
    return unicodedata.normalize("NFC", word).translate(_LIGATURES)


def normalize_word(word: str) -> str:
    """A raw word as search sees it before stemming: NFC, Arabic-normalised, case-folded (accents kept)."""
    return nfc(word).translate(_ARABIC_TABLE).casefold()


def strip_controls(text: str) -> str:
    """Replace control, format, surrogate and private-use characters with spaces."""
    if text.isprintable():
        return text
    return "".join(" " if unicodedata.category(ch) in _CONTROL_CATEGORIES else ch for ch in text)


def words(text: str) -> list[str]:
    """The normalised words of a text, in order (what the index stores before stemming)."""
    # normalising the whole text first is several times faster than word by word, and the same:
    # the table only deletes marks inside words and maps letters to letters
    return WORD_RE.findall(nfc(text).translate(_ARABIC_TABLE).casefold())


def word_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, normalised word) for each word of an NFC text; offsets index ``text`` itself."""
    for m in WORD_RE.finditer(text):
        w = m.group().translate(_ARABIC_TABLE).casefold()
        if w:
            yield m.start(), m.end(), w


# --- Arabic light stemming (Light10: Larkey, Ballesteros & Connell) --------------------------------

_AR_ARTICLES = ("وال", "بال", "كال", "فال", "ال", "لل")  # longest first
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")  # after normalisation (ية→يه, ة→ه)


@lru_cache(maxsize=50_000)
def arabic_stem(word: str) -> str:
    """Light10 stem of a normalised Arabic word; other words are returned unchanged.

    Strips a leading و when three letters remain, one definite article when two remain, then each
    suffix in turn when two letters remain: الحمايه, حمايه and والحمايه all give حما.
    """
    if not has_arabic(word):
        return word
    if len(word) > 3 and word[0] == "و":
        word = word[1:]
    for prefix in _AR_ARTICLES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix):]
            break
    for suffix in _AR_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[:-len(suffix)]
    return word


# --- stop words ------------------------------------------------------------------------------------
# One list for every language and every field: a word is a stop word everywhere or nowhere, so an
# AND query never needs an English function word to appear in a French field. Words that are content
# words in another of the languages (son, est, an, été, will, may) are deliberately absent.
_STOP_RAW = """
a about an and are as at be been but by for from has have if in into is it its of on or that the
their then there these they this those to was were which with not
au aux avec ce ces dans de des du elle elles en et eux il ils je la le les leur leurs lui ma mais me
mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses sur ta te tes toi ton tu un
une vos votre vous c d j l m n s t y à
في من على إلى عن أن إن أو ثم هذا هذه ذلك التي الذي الذين مع قد و ما
"""
STOPWORDS = frozenset(fold(normalize_word(w)) for w in _STOP_RAW.split())


def is_stopword(word: str) -> bool:
    """Is this normalised word a stop word (compared accent-folded)?"""
    return fold(word) in STOPWORDS


# --- snippets --------------------------------------------------------------------------------------

def excerpt(text: str, limit: int = 4000) -> str:
    """NFC text with whitespace collapsed, cut to about ``limit`` characters at a word boundary."""
    text = " ".join(nfc(text).split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit - 200, limit)
    return text[: cut if cut > 0 else limit]


def _shorten(text: str, width: int) -> tuple[str, bool]:
    if len(text) <= width:
        return text, False
    cut = text.rfind(" ", width // 2, width)
    return text[: cut if cut > 0 else width], True


def snippet(text: str, is_match: Callable[[str], bool] | None = None, width: int = 200,
            lead: int = 60) -> str | None:
    """HTML-safe snippet of ``text`` around its first matching word, matches wrapped in <mark>.

    ``text`` must be NFC (as stored excerpts are). Returns None when no word matches (or no matcher
    is given with ``is_match`` None and the text is empty); callers then use :func:`plain_snippet`.
    """
    if is_match is None or not text:
        return None
    first = None
    for start, end, word in word_spans(text):
        if is_match(word):
            first = (start, end)
            break
    if first is None:
        return None
    begin = max(0, first[0] - lead)
    if begin:
        space = text.find(" ", begin, first[0])
        begin = space + 1 if space >= 0 else begin
    stop = min(len(text), begin + width)
    if stop < len(text):
        space = text.rfind(" ", max(first[1], stop - 40), stop)
        stop = space if space > first[1] else max(stop, first[1])
    window = text[begin:stop]
    out = ["…"] if begin else []
    pos = 0
    for start, end, word in word_spans(window):
        if is_match(word):
            out.append(html.escape(window[pos:start]))
            out.append("<mark>" + html.escape(window[start:end]) + "</mark>")
            pos = end
    out.append(html.escape(window[pos:]))
    if stop < len(text):
        out.append("…")
    return "".join(out)


def plain_snippet(text: str, width: int = 200) -> str:
    """The escaped start of a text, cut at a word boundary."""
    short, cut = _shorten(" ".join(text.split()), width)
    return html.escape(short) + ("…" if cut else "")
