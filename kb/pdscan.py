"""Scan a note's Markdown for likely personal data before it is published.

A heuristic safety net, not a guarantee: it looks for the usual ways e-mail addresses, phone
numbers, passport/ID/case numbers, exact GPS positions and dates of birth slip into practice
notes, and stays quiet on the numbers notes are full of (years, statistics, law references,
ordinary dates, region-level coordinates). Everything is scanned, fenced code included, because
personal data in a code block is still published.

Python's `re` backtracks, so every pattern is written to stay linear on hostile input: all
quantifiers are bounded, repeated groups alternate disjoint character classes (a run can be
split only one way), and patterns open with a lookbehind that refuses to start inside a run of
their own characters, so a 1 MB run costs one bounded attempt instead of one per position.
"""
from __future__ import annotations

import re
from bisect import bisect_left, insort
from dataclasses import dataclass

MAX_FINDINGS = 200
MAX_TEXT = 80

_DC = "0-9\u0660-\u0669\u06f0-\u06f9"  # ASCII, Arabic-Indic and Persian (Dari) digits
_D = f"[{_DC}]"
_TO_ASCII = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


@dataclass(frozen=True)
class Finding:
    kind: str  # "email", "phone", "id_number", "gps", "birth_date"
    line: int  # 1-based; lines are split on "\n" only
    column: int  # 1-based, counted in characters (code points), not bytes
    text: str  # the match, whitespace collapsed, cut to MAX_TEXT characters
    message: str


def _digits(s: str) -> str:
    return re.sub(f"[^{_DC}]", "", s).translate(_TO_ASCII)


# ASCII only, so an Arabic word glued to an address ("علىsecurity@...") is not swallowed;
# lengths are the RFC caps; an alphabetic TLD keeps "v1.2@3.4" and "user@host" out.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
                    r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")

# GPS: a pair of decimals with >= 4 decimal places (~10 m; 2 decimals is region-level and fine),
# a single decimal that carries both a degree sign and a hemisphere, or DMS down to the seconds
# (or decimal minutes). "٫" is the Arabic decimal separator, "،" the Arabic comma.
_DEC = rf"(?:[NSEWO] ?)?[-+\u2212]?{_D}{{1,3}}[.\u066b]{_D}{{4,12}}(?!{_D})(?: ?°)?(?: ?[NSEWO](?!\w))?"
_DMS = (rf"{_D}{{1,3}} ?° ?{_D}{{1,2}}(?:[.]{_D}{{1,4}} ?['′’]|"
        rf" ?['′’] ?{_D}{{1,2}}(?:[.]{_D}{{1,3}})? ?(?:[\"″”]|''|′′))(?: ?[NSEWO](?!\w))?")
_GPS = re.compile(rf"(?<![\w.])(?:(?P<pair>{_DEC}(?:[ \t]{{0,2}}[,;/|،][ \t]{{0,2}}|[ \t]{{1,2}}){_DEC})"
                  rf"|[-+]?{_D}{{1,3}}[.\u066b]{_D}{{4,12}} ?° ?[NSEWO](?!\w)|{_DMS})")


def _gps_ok(text: str, m: re.Match) -> bool:
    if not m.group("pair"):
        return True
    nums = re.findall(rf"{_D}+[.\u066b]{_D}+", m.group("pair"))
    a, b = (abs(float(n.translate(_TO_ASCII).replace("\u066b", "."))) for n in nums)
    return min(a, b) <= 90 and max(a, b) <= 180  # either lat,lon or lon,lat order


# Dates of birth: a birth keyword, then within 30 characters (no digits, no sentence end, so
# "born abroad. In March 2026 ..." stays clean) a full date or a month and year. A bare year
# ("children born in 2020") is statistics, not a person, and is deliberately not flagged.
# "né le" needs its accent: plain "ne le" is everyday French ("on ne le savait pas").
_MONTHS = ("jan(?:uary|vier)?|feb(?:ruary)?|f[ée]v(?:rier)?|mar(?:ch|s)?|apr(?:il)?|avr(?:il)?|"
           "may|mai|june?|juin|july?|juil(?:let)?|aug(?:ust)?|ao[uû]t|sept?(?:ember|embre)?|"
           "oct(?:ober|obre)?|nov(?:ember|embre)?|d[ée]c(?:ember|embre)?|"
           "يناير|فبراير|مارس|[أاإ]بريل|مايو|يونيو|يوليو|[أا]غسطس|سبتمبر|[أا]كتوبر|نوفمبر|ديسمبر|"
           "جانفي|فيفري|[أا]فريل|ماي|جوان|جويلية|[أا]وت|كانون (?:الثاني|الأول)|شباط|آذار|نيسان|"
           "[أا]يار|حزيران|تموز|آب|[أا]يلول|تشرين (?:الأول|الثاني)")
_DATE = (rf"{_D}{{1,2}}[./-]{_D}{{1,2}}[./-](?:{_D}{{4}}|{_D}{{2}})|"
         rf"{_D}{{4}}[./-]{_D}{{1,2}}[./-]{_D}{{1,2}}|"
         rf"(?:{_D}{{1,2}}(?:st|nd|rd|th|er)? )?(?i:{_MONTHS})\.?,? {_D}{{4}}|"
         rf"(?i:{_MONTHS})\.? {_D}{{1,2}}(?:st|nd|rd|th)?,? {_D}{{4}}")
_BIRTH = re.compile(
    r"(?:(?i:\b(?:born|date\s{1,3}of\s{1,3}birth|birth\s?date|d\.?o\.?b|née?\s{1,3}le|"
    r"date\s{1,3}de\s{1,3}naissance))(?!\w)\.?|تاريخ\s{1,3}(?:الميلاد|الولادة)|\bمواليد|\b(?:ال)?مولود[ةه]?)"
    # The lookahead lists every first character a _DATE can start with: a cheap filter that
    # keeps the month alternation from being tried at every gap position ("born born ...").
    rf"[^.;!?{_DC}]{{0,30}}?\b(?=[{_DC}adfjmnosADFJMNOSأاإآجحتدسشفكمني])(?:{_DATE})(?!{_D})")

# ID / case numbers after a keyword. Strong keywords name an identity document and may be
# followed directly by the number; weak ones ("case", "file") need an explicit "no." / "#" /
# "ID" marker, so "in case 2023 ..." is clean. Laws, decrees and articles are not keywords:
# "Law No. 2016-33" and "القانون رقم 19" identify texts, not people.
_MARK = r"(?i:no\.?|nr\.?|number|num(?:[ée]ro)?\.?|\#|n[°º]\.?|id)"
_STRONG = (r"(?i:\b(?:passports?|passeports?|national\s{1,3}id(?:entity)?(?:\s{1,3}card)?|"
           r"id(?:entity)?\s{1,3}card|carte\s{1,3}d['’]identit[ée]|"
           r"(?:n[°º]|num[ée]ro)\s{0,3}(?:de\s{1,3}|d['’])(?:passeport|dossier|cas|carte|identit[ée]|"
           r"pi[eè]ce|enregistrement|r[ée]fugi[ée]|demandeur)))(?!\w)"
           r"|\bID(?=\s{0,3}:)|رقم\s{0,3}(?:جواز(?:\s{1,3}السفر)?|الجواز|الهوية|البطاقة|بطاقة|الملف|القضية|"
           r"الحالة|التسجيل|اللجوء|الإقامة|الاقامة)")
_WEAK = (r"(?i:\b(?:case|file|dossier|registration|refugee|asylum(?:\s{1,3}seeker)?|unhcr|progres|"
         r"permit|certificate|attestation|carte|card))(?!\w)")
_ID_KEY = re.compile(
    rf"(?:(?:{_STRONG})(?:\s{{0,3}}{_MARK}(?!\w))?|(?:{_WEAK})\s{{0,3}}{_MARK}(?!\w))"
    rf"(?:\s{{1,3}}(?:UNHCR|HCR|IOM|OIM))?[^\w\n]{{0,4}}"
    rf"(?P<v>(?:[A-Z]{{1,3}}-?)?{_D}(?:[/\-.]?[A-Z{_DC}]){{3,24}})(?!\w)")


def _id_ok(text: str, m: re.Match) -> bool:
    digits = _digits(m.group("v"))
    # A lone year after "passport" is prose ("passport 2019 reform"), not a document number.
    return len(digits) >= 4 and not re.fullmatch(r"(?:19|20)\d\d", digits)


# Bare identifiers: 1-2 capital letters + 6-9 digits (passport / national ID style), and
# UNHCR proGres-style case numbers "123-12C12345" and "LBY-12-123456".
_ID_BARE = re.compile(rf"(?<![\w-])(?:[A-Z]{{1,2}}{_D}{{6,9}}|{_D}{{3}}-{_D}{{2}}[A-Z]{_D}{{5}}|"
                      rf"[A-Z]{{3}}-{_D}{{2}}-{_D}{{5,8}})(?![\w-])")

# Phones: one candidate pattern (digits separated by up to 3 of " .-", plus "(091)" / "(0)"
# groups; a stray "(" would glue "0912345678 (24h)" into one too-long number), then the
# decision in Python where it is readable: "+" or "00" plus 8-15 digits (E.164), or a national
# number with a trunk "0" and 9-11 digits. Anything else counts only right after a phone
# keyword, which is how 8-digit numbers without a trunk prefix (Tunisia, Lebanon) are caught.
# The edges are ASCII/digit-only so a number glued to an Arabic word is still found.
_PHONE = re.compile(rf"(?<![A-Za-z{_DC}_+/@-])(?<!{_D}[.,])(?:\(\+?{_D}{{1,4}}\)|\+?{_D})"
                    rf"(?:[ .\-\u00a0]{{0,3}}(?:\({_D}{{1,4}}\)|{_D})){{6,16}}(?![A-Za-z{_DC}_])")
_PHONE_KEY = re.compile(r"(?:(?i:\b(?:t[ée]l|t[ée]l[ée]?phone|phone|mobile|cell|whats?app|viber|"
                        r"portable|gsm))\.?|هاتف|الهاتف|جوال|الجوال|موبايل|واتساب)[^\w\n]{0,3}"
                        r"(?:(?i:no|number|num[ée]ro|n°)\.?[^\w\n]{0,3})?\Z")
_ISBN_BEFORE = re.compile(r"(?i:isbn)(?:-?1[03])?[^\w\n]{0,3}\Z")
_DATE_START = re.compile(rf"{_D}{{1,2}}([./-]){_D}{{1,2}}\1{_D}{{4}}(?!{_D})")


def _phone_ok(text: str, m: re.Match) -> bool:
    raw, before = m.group(), text[max(0, m.start() - 30):m.start()]
    digits = _digits(raw)
    if _ISBN_BEFORE.search(before):
        return False
    if raw.lstrip("(").startswith("+") or digits.startswith("00"):
        n = len(digits) - (0 if raw.lstrip("(").startswith("+") else 2)
        if 8 <= n <= 15:
            return True
    elif digits.startswith("0") and 9 <= len(digits) <= 11:
        first_group = re.match(f"{_D}+", raw.lstrip("("))
        # "0.5", "0-306-40615-2" (ISBN) and "01.02.2023 12 families" are not phone numbers.
        if len(first_group.group()) >= 2 and not _DATE_START.match(raw):
            return True
    return 8 <= len(digits) <= 15 and bool(_PHONE_KEY.search(before))


# Order matters: when matches overlap, the earlier detector wins (an e-mail's digits are not
# also a phone; "passport no. 0912345678" is an ID, not a phone).
_DETECTORS = (
    ("email", _EMAIL, None, "Looks like an e-mail address."),
    ("gps", _GPS, _gps_ok, "Looks like exact GPS coordinates."),
    ("birth_date", _BIRTH, None, "Looks like a date of birth."),
    ("id_number", _ID_KEY, _id_ok, "Looks like a passport, ID or case number."),
    ("id_number", _ID_BARE, None, "Looks like a passport, ID or case number."),
    ("phone", _PHONE, _phone_ok, "Looks like a phone number."),
)


def scan(text: str) -> list[Finding]:
    """Likely personal data in `text`, sorted by position, at most MAX_FINDINGS.

    Never raises: a non-string scans as empty, and a detector that fails on some odd input
    is skipped rather than blocking publication checks for the whole note.
    """
    if not isinstance(text, str):
        return []
    taken: list[tuple[int, int]] = []  # claimed spans, sorted and non-overlapping
    hits: list[tuple[int, str, str, str]] = []
    for kind, rx, ok, message in _DETECTORS:
        kept = 0
        try:
            for m in rx.finditer(text):
                s, e = m.span()
                i = bisect_left(taken, (e, e))  # spans starting before e; only the last can overlap
                if (i and taken[i - 1][1] > s) or (ok and not ok(text, m)):
                    continue
                insort(taken, (s, e))
                hits.append((s, kind, m.group(), message))
                kept += 1
                # Each detector's first MAX_FINDINGS are all the merged first MAX_FINDINGS can use.
                if kept >= MAX_FINDINGS:
                    break
        except Exception:  # pragma: no cover - defensive, see docstring
            continue
    hits.sort()
    findings, line, line_start, pos = [], 1, 0, 0
    for s, kind, matched, message in hits[:MAX_FINDINGS]:
        line += text.count("\n", pos, s)  # hits are sorted, so this walks the text once
        line_start = max(line_start, text.rfind("\n", pos, s) + 1)
        pos = s
        shown = " ".join(matched.split())[:MAX_TEXT]
        findings.append(Finding(kind, line, s - line_start + 1, shown, message))
    return findings
