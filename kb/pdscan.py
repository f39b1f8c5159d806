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
Arabic-Indic and Persian digits are turned into ASCII first, one character for one, so every
position still points into the original text. Phone numbers that only libphonenumber can tell
apart from statistics go to kb/pdphone.py, which has a budget of look-ups per scan.
"""
from __future__ import annotations

import re
from bisect import bisect_left, insort
from dataclasses import dataclass

from . import pdphone

MAX_FINDINGS = 200
MAX_TEXT = 80

_DC = "0-9\u0660-\u0669\u06f0-\u06f9"  # ASCII, Arabic-Indic and Persian (Dari) digits
_D = f"[{_DC}]"
_TO_ASCII = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


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
_GPS = re.compile(rf"(?=[-+\u2212NSEWO{_DC}])(?<![\w.])(?:(?P<pair>{_DEC}(?:[ \t]{{0,2}}[,;/|،][ \t]{{0,2}}|[ \t]{{1,2}}){_DEC})"
                  rf"|[-+]?{_D}{{1,3}}[.\u066b]{_D}{{4,12}} ?° ?[NSEWO](?!\w)|{_DMS})")


def _gps_ok(text: str, m: re.Match, budget=None) -> bool:
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
         rf"(?:{_D}{{1,2}}(?:st|nd|rd|th|er)? (?:of )?)?(?i:{_MONTHS})\.?[,،]? {_D}{{4}}|"
         rf"(?i:{_MONTHS})\.? {_D}{{1,2}}(?:st|nd|rd|th)?,? {_D}{{4}}")
_BIRTH = re.compile(
    r"(?:(?i:\b(?:born|date\s{1,3}of\s{1,3}birth|birth\s?date|birthday|d\.?o\.?b|née?(?:\(e\))?\s{1,3}(?:le|en)|"
    r"date\s{1,3}de\s{1,3}naissance|d\.?d\.?n))(?!\w)\.?|تاريخ\s{1,3}(?:الميلاد|الولادة)|تار[يی]خ\s{1,3}تولد|"
    # Arabic glues "و" (and) to the next word: "وولد في", "والمولود في".
    r"(?<![^\Wو])(?:متولد|مواليد|(?:ال)?مولود[ةه]?|(?:وُ?لدت?|يولد)\s{1,3}(?:في|بتاريخ|يوم)))"
    # The lookahead lists every first character a _DATE can start with: a cheap filter that
    # keeps the month alternation from being tried at every gap position ("born born ...").
    rf"[^.;!?{_DC}]{{0,30}}?\b(?=[{_DC}adfjmnosADFJMNOSأاإآجحتدسشفكمني])(?:{_DATE})(?!{_D})")

# ID / case numbers after a keyword. Strong keywords name an identity document (passport,
# national ID, tazkira, NIN, CIN, residence permit...) and may be followed directly by the
# number; weak ones ("case", "file", "dossier", "registration") need an explicit "no." / "#" /
# "ID" marker, or else a value that looks like a reference (letters or "/" "-" with at least
# four digits: "case LBY-2024/0153"), so "in case 2023 ..." is clean. Laws, decrees and
# articles are not keywords: "Law No. 2016-33" and "القانون رقم 19" identify texts, not people.
# After a keyword the value may be liberal: letters, digits, "-", "/", "." in up to 7 groups.
_MARK = r"(?:(?i:no\.?|nr\.?|r[ée]f(?:[ée]rence)?\.?|number|num(?:[ée]ro)?\.?|\#|n[°º]\.?|id)|رقم|شماره|ر\.)"
_STRONG = (r"(?i:\b(?:passports?|passeports?|national\s{1,3}id(?:entity|entification)?(?:\s{1,3}(?:card|number))?|"
           r"national\s{1,3}number|num[ée]ro\s{1,3}national|id(?:entity)?\s{1,3}card|"
           r"carte\s{1,3}(?:d['’]identit[ée]|nationale|consulaire|de\s{1,3}s[ée]jour)(?:\s{1,3}nationale)?|"
           r"(?:e-?)?ta[sz]k[aeiy]?ra[hs]?|residence\s{1,3}(?:permit|card)|"
           r"titre\s{1,3}de\s{1,3}s[ée]jour|permis\s{1,3}de\s{1,3}s[ée]jour|fayda|kebele\s{1,3}id|"
           r"(?:n[°º]|num[ée]ro)\s{0,3}(?:de\s{1,3}|d['’])(?:passeport|dossier|cas|carte|identit[ée]|"
           r"pi[eè]ce|enregistrement|r[ée]fugi[ée]|demandeur|cni|cin|nina)))(?!\w)"
           r"|\b(?:NINA?|CIN|CNI|NNI|NIC)\b"
           r"|\bID(?=\s{0,3}:)|رقم\s{0,3}(?:جواز(?:\s{1,3}السفر)?|الجواز|الهوية|البطاقة|بطاقة|الملف|القضية|"
           r"الحالة|التسجيل|اللجوء|الإقامة|الاقامة|التذكرة|تذكرة|وطني|قومي)|(?:ال)?رقم\s{1,3}(?:ال)?(?:وطني|قومي)"
           r"|(?<!\w)(?:ال)?تذ[كک]ر[ةه]|(?<!\w)(?:ال)?بطاقة\s{1,3}(?:ال)?(?:وطنية|شخصية|الموحدة|موحدة|الهوية|هوية)"
           r"|(?<!\w)(?:ال)?جواز\s{1,3}(?:ال)?سفر|(?<!\w)(?:ال)?(?:إقامة|اقامة)\s{1,3}(?:ال)?(?:رقم|عمل|دائمة)")
_WEAK = (r"(?:(?i:\b(?:case|file|dossier|registration|refugee|asylum(?:\s{1,3}seeker)?|unhcr|progres|"
         r"permit|certificate|attestation|carte|card|enregistrement|r[ée]c[ée]piss[ée]))(?!\w)"
         r"|(?<!\w)(?:ال)?(?:ملف|قضية|حالة|تسجيل|بطاقة|شهادة|إقامة|اقامة)(?!\w))")
_VALUE = r"[A-Za-z0-9]{1,12}(?:[-/.][A-Za-z0-9]{1,12}){0,6}"
_ID_KEY = re.compile(
    rf"(?:(?:{_STRONG})(?:\s{{0,3}}{_MARK}(?!\w))?|(?P<weak>{_WEAK})(?:\s{{0,3}}(?P<mark>{_MARK})(?!\w))?)"
    rf"(?:\s{{1,3}}(?:UNHCR|HCR|IOM|OIM))?(?:\s{{1,3}}(?i:is|was|est|[ée]tait))?[^\w\n/]{{0,4}}(?P<v>{_VALUE})(?![\w/])")
_YEAR_RANGE = re.compile(r"((?:19|20)\d\d)[-/](\d\d|\d{4})")
_ISO_DATE = re.compile(r"\d{4}([./-])\d{1,2}\1\d{1,2}")


def _id_ok(text: str, m: re.Match, budget=None) -> bool:
    value = m.group("v")
    digits = _digits(value)
    # A lone year after "passport" is prose ("passport 2019 reform"), not a document number.
    if len(digits) < 4 or re.fullmatch(r"(?:19|20)\d\d", digits):
        return False
    if m.group("weak") and m.group("mark") is None:
        # A weak keyword with no "no." needs a reference-like value: "case LBY-2024/0153", not "file 2023".
        years = _YEAR_RANGE.fullmatch(value)
        if years and (len(years.group(2)) == 2 or abs(int(years.group(2)) - int(years.group(1))) <= 30):
            return False  # "case 2019-2021", "file 2023/24"
        if not re.search(r"[A-Za-z/-]", value) or _DATE_START.match(value) or _ISO_DATE.fullmatch(value):
            return False
    return True


# Bare identifiers: 1-2 capital letters + 6-9 digits (passport / national ID style; Morocco's CIN
# "AB123456", also 2 letters + 5 digits), UNHCR proGres-style case numbers "123-12C12345",
# "LBY-23C01234" and "LBY-12-123456", programme case numbers "LBY-2024/0153", "NE/AGZ/23-0042", Afghan tazkira
# numbers "1399-0101-12345" (paper, solar year first) and e-tazkira 4-4-5 digit forms, and
# Mali's NINA (digits ending in a letter).
_ID_BARE = re.compile(rf"(?=[A-Z{_DC}])(?<![\w/-])(?:[A-Z]{{1,2}}{_D}{{6,9}}|[A-Z]{{2}}{_D}{{5}}|(?:{_D}{{3}}|[A-Z]{{3}})-{_D}{{2}}[A-Z]{_D}{{5}}|"
                      rf"[A-Z]{{3}}-{_D}{{2}}-{_D}{{5,8}}|"
                      rf"[A-Z]{{2,4}}(?:[-/][A-Z]{{2,4}})?[-/]{_D}{{2,4}}[-/]{_D}{{3,8}}(?:-[A-Z])?|"
                      rf"{_D}{{4}}[- ]{_D}{{4}}[- ]{_D}{{5}}|{_D}{{13,16}}[A-Z])(?![\w/-])")

# Bare long digit runs, written without separators, that are not phone numbers (the phone
# detector runs first): national ID numbers are 8 (Tunisia's CIN) to 18 (Algeria's NIN) digits:
# Nigeria's NIN 11, Libya's national number and Iraq's and Ethiopia's cards 12, Egypt's national
# ID 14. Dates (20230415), round amounts, ISBN-13s and numbers next to a currency are left alone.
_ID_DIGITS = re.compile(r"(?=[0-9])(?<![\w.,/=#@+-])[0-9]{8,18}(?![\w/@-]|[.,][0-9]|\]\()")  # not "![123](...)"


def _id_digits_ok(text: str, m: re.Match, budget=None) -> bool:
    digits = m.group()
    if digits.endswith("000") or (len(digits) == 8 and not pdphone.plausible(digits)):
        return False  # a round amount, a date like 20230415
    if len(digits) == 13 and digits[:3] in ("978", "979"):
        return False  # an ISBN-13
    return not _near_amount(text, m) and not _ISBN_BEFORE.search(text, max(0, m.start() - 30), m.start())

# Phones: one candidate pattern (digits separated by up to 3 of " .-", plus "(091)" / "(0)"
# groups; a stray "(" would glue "0912345678 (24h)" into one too-long number), then the
# decision in Python where it is readable: "+" or "00" plus 8-15 digits (E.164), or a national
# number with a trunk "0" and 9-11 digits, or a national number libphonenumber finds valid in
# one of the programme's 14 countries (kb/pdphone.py: "96 12 34 56", "22 123 456"), unless it
# stands next to a currency or a count ("25 000 000 FCFA", "22 123 456 habitants"). Anything
# else counts only right after a phone keyword. The edges are ASCII/digit-only so a number
# glued to an Arabic word is still found.
_PHONE = re.compile(rf"(?=[(+{_DC}])(?<![A-Za-z{_DC}_+/@-])(?<!{_D}[.,])(?:\(\+?{_D}{{1,4}}\)|\+?{_D})"
                    rf"(?:[ .\-\u00a0]{{0,3}}(?:\({_D}{{1,4}}\)|{_D})){{6,16}}(?![A-Za-z{_DC}_])")
_PHONE_KEY = re.compile(r"(?:(?i:\b(?:t[ée]l|t[ée]l[ée]?phone|phone|mobile|cell|whats?app|viber|"
                        r"portable|gsm|contact|call|appeler?|joindre))\.?|هاتف|الهاتف|جوال|الجوال|موبايل|واتساب|"
                        r"اتصل|اتصلي|اتصال|تلفون|شماره)[^\w\n]{0,3}"
                        r"(?:(?i:no|number|num[ée]ro|n°|on|au|at|le)\.?[^\w\n]{0,3})?(?:على|بـ?|رقم)?[^\w\n]{0,3}\Z")
_ISBN_BEFORE = re.compile(r"(?i:isbn)(?:-?1[03])?[^\w\n]{0,3}\Z")
_DATE_START = re.compile(rf"{_D}{{1,2}}([./-]){_D}{{1,2}}\1{_D}{{4}}(?!{_D})")
# Money and counts around a number: a currency before or after it, a unit or a head count after.
_AMOUNT_BEFORE = re.compile(r"(?<!\w)(?:(?i:usd|eur|us\$|\$|€|£|fcfa|cfa|xof|xaf|lyd|tnd|dzd|mad|egp|sdg|iqd|lbp|afn|"
                            r"etb|ngn|₦|dh|da|dt|ld)\.?|ج\.م|(?i:population|total|budget|montant|co[uû]t|cost|amount|"
                            r"sum|somme)(?:\s{1,3}(?:of|de|du|est|is|was))?|عدد|مجموع|السكان|الميزانية|مبلغ)"
                            r"[^\w\n]{0,2}\Z")
_AMOUNT_AFTER = re.compile(
    r"[^\w\n]{0,2}(?:(?i:usd|eur|\$|€|fcfa|cfa|f|dt|dh|da|ld|xof|xaf|lyd|tnd|dzd|mad|egp|sdg|iqd|lbp|afn|etb|ngn|"
    r"dinars?|dirhams?|francs?|pounds?|livres?|dollars?|euros?|naira|birr|afghanis?|"
    r"people|persons|personnes|individuals|inhabitants|habitants|children|enfants|migrants|refugees|"
    r"r[ée]fugi[ée]s|households|m[ée]nages|families|familles|km|kg|tonnes?|tons?|hectares?|%)(?!\w)|"
    r"%|جنيه|دينار|درهم|ليرة|فرنك|دولار|يورو|أفغاني|شخص|طفل|أطفال|أسرة|عائلة|مهاجر|لاجئ|نسمة)")


# A text's number ("Law No. 2016-3344", "décret n° 2019-0123") is not a phone number.
_REFERENCE_BEFORE = re.compile(r"(?:(?i:\b(?:n[°º]|no|law|loi|d[ée]cret|decree|order|ordonnance|arr[êe]t[ée]|article|art|"
                               r"resolution|r[ée]solution|circular|circulaire|isbn|issn|page|pp?))|"
                               r"القانون|قانون|المرسوم|مرسوم|القرار|قرار|المادة|مادة)[^\w\n]{0,4}\Z")


# Lebanese numbers written with a slash after the area or mobile code: "01/234567", "03/123456", "71/123456".
_PHONE_LB = re.compile(rf"(?=[0-9])(?<![\w/.,@+-])(?:0[1-9]|7[016-9]|81)/{_D}{{6}}(?![\w/@-]|[.,][0-9])")
# Toll-free and shared-cost lines (numéros verts): hotlines, not people. Niger and Mali "80 00 xx xx",
# Tunisia "80 10 xx xx", Morocco "080x xx xx xx".
_TOLL_FREE = re.compile(r"80(?:00|10)\d{4}|080[0-9]\d{6}")
# A number grouped in thousands ("24 206 636", "1 234 567"): a count, when a count word is near.
_THOUSANDS = re.compile(rf"{_D}{{1,3}}(?:[ .\u00a0\u202f]{_D}{{3}}){{2,4}}")
_COUNT_BEFORE = re.compile(
    r"(?<!\w)(?i:population|inhabitants|habitants|people|persons|personnes|children|enfants|households|m[ée]nages|"
    r"families|familles|migrants|refugees|r[ée]fugi[ée]s|census|recensement|estimated?|estim[ée]e?s?|total|"
    r"budget|montant|fcfa|cfa|xof|dinars?|dirhams?|usd|eur|euros?|dollars?)(?!\w)|(?<!\w)(?:ال)?سكان|نسمة|عدد|مجموع")


def _lb_phone_ok(text: str, m: re.Match, budget=None) -> bool:
    before = text[max(0, m.start() - 40):m.start()]
    return not _near_amount(text, m) and not (_has_word(before) and _REFERENCE_BEFORE.search(before))


def _a_count(text: str, m: re.Match) -> bool:
    """A number grouped in thousands with a count word earlier in its sentence (within 60 characters)."""
    if not _THOUSANDS.fullmatch(m.group().strip()):
        return False
    before = text[max(0, m.start() - 60):m.start()]
    before = re.split(r"[.!?؟\n]\s", before)[-1]
    return _has_word(before) and _COUNT_BEFORE.search(before) is not None


_WORDISH = re.compile(r"[^\W\d_]|[$€£₦%#]")


def _has_word(window: str) -> bool:
    """Cheap test before the context patterns, which try every start in their window."""
    return _WORDISH.search(window) is not None


def _near_amount(text: str, m: re.Match) -> bool:
    s, e = m.span()
    return bool((_has_word(text[max(0, s - 24):s]) and _AMOUNT_BEFORE.search(text, max(0, s - 24), s))
                or _AMOUNT_AFTER.match(text, e, e + 20))


def _phone_ok(text: str, m: re.Match, budget: pdphone.Budget) -> bool:
    raw, before = m.group(), text[max(0, m.start() - 40):m.start()]
    digits = _digits(raw)
    if not 7 <= len(digits) <= 17:  # no rule below takes fewer or more ("00" + 15 is the most)
        return False
    if _TOLL_FREE.fullmatch(digits):
        return False  # a green number: a hotline, not a person
    if not _has_word(before):
        before = ""  # no keyword, reference or ISBN can be in it
    elif _ISBN_BEFORE.search(before):
        return False
    if raw.lstrip("(").startswith("+") or digits.startswith("00"):
        n = len(digits) - (0 if raw.lstrip("(").startswith("+") else 2)
        if 8 <= n <= 15:
            return True
    elif _near_amount(text, m) or _REFERENCE_BEFORE.search(before) or _a_count(text, m):
        pass
    elif digits.startswith("0") and 9 <= len(digits) <= 11:
        first_group = re.match(f"{_D}+", raw.lstrip("("))
        # "0.5", "0-306-40615-2" (ISBN) and "01.02.2023 12 families" are not phone numbers.
        if len(first_group.group()) >= 2 and not _DATE_START.match(raw):
            return True
    elif 7 <= len(digits) <= 9 and pdphone.national(raw, budget):
        return True
    return 8 <= len(digits) <= 15 and bool(_PHONE_KEY.search(before))


# Keyword detectors try their big pattern only where one of their keywords' first letters
# occurs (found with str.find on the lowercased text, a C loop): an alternation of sixty
# keywords tried at every position of a 1 MB note costs over a second, this costs milliseconds.
# A hit is also tried one or two characters earlier after "ال" (the Arabic article), "و", "e-".
_ID_STEMS = ("passport", "passeport", "national", "num", "n°", "nº", "id", "carte", "tazk", "task", "resid",
             "titre", "permis", "fayda", "kebele", "nin", "cin", "cni", "nni", "nic", "case", "file",
             "dossier", "registration", "refugee", "asylum", "unhcr", "progres", "permit", "certificate",
             "attestation", "card", "enregistrement", "récépiss", "recepiss", "récepiss", "recépiss",
             "رقم", "تذكر", "تذکر", "بطاقة", "جواز", "إقامة", "اقامة", "ملف", "قضية", "حالة", "تسجيل", "شهادة")
_BIRTH_STEMS = ("born", "date", "birth", "d.o", "dob", "né", "d.d", "ddn", "تاريخ", "تاریخ", "متولد", "مواليد",
                "مولود", "ولد", "وُلد", "يولد")

# Order matters: when matches overlap, the earlier detector wins (an e-mail's digits are not
# also a phone; "passport no. 0912345678" is an ID, not a phone; a long run of digits that is
# not a phone number is an ID).
_ID_MESSAGE = "Looks like a passport, ID or case number."
_DETECTORS = (
    ("email", _EMAIL, None, None, "Looks like an e-mail address."),
    ("gps", _GPS, _gps_ok, None, "Looks like exact GPS coordinates."),
    ("birth_date", _BIRTH, None, _BIRTH_STEMS, "Looks like a date of birth."),
    ("id_number", _ID_KEY, _id_ok, _ID_STEMS, _ID_MESSAGE),
    ("id_number", _ID_BARE, None, None, _ID_MESSAGE),
    ("phone", _PHONE, _phone_ok, None, "Looks like a phone number."),
    ("phone", _PHONE_LB, _lb_phone_ok, None, "Looks like a phone number."),
    ("id_number", _ID_DIGITS, _id_digits_ok, None, _ID_MESSAGE),
)
_OTHER_DIGITS = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


def _matches(rx: re.Pattern, text: str, lowered: str, stems):
    """rx's matches in text, or where stems are given its matches starting at (or just before) a stem."""
    if stems is None:
        yield from rx.finditer(text)
        return
    starts = set()
    for stem in stems:
        i = lowered.find(stem)
        while i >= 0:
            starts.add(i)
            if i and lowered[i - 1] in "و-":
                starts.add(i - 1)
            if i > 1 and lowered[i - 2:i] in ("ال", "e-", "وا"):
                starts.add(i - 2)
            i = lowered.find(stem, i + 1)
    end = -1
    for i in sorted(starts):
        if i < end:
            continue
        m = rx.match(text, i)
        if m:
            end = m.end()
            yield m


def scan(text: str) -> list[Finding]:
    """Likely personal data in `text`, sorted by position, at most MAX_FINDINGS.

    Never raises: a non-string scans as empty, and a detector that fails on some odd input
    is skipped rather than blocking publication checks for the whole note.
    """
    if not isinstance(text, str):
        return []
    original = text
    if _OTHER_DIGITS.search(text):  # str.translate costs 0.2 s a megabyte: only when it is needed
        text = text.translate(_TO_ASCII)  # one character for one: positions hold
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lowercase to two ("İ"); ASCII alone is enough here
        lowered = text.translate(_ASCII_LOWER)
    budget = pdphone.Budget()
    taken: list[tuple[int, int]] = []  # claimed spans, sorted and non-overlapping
    hits: list[tuple[int, str, str, str]] = []
    for kind, rx, ok, stems, message in _DETECTORS:
        kept = 0
        try:
            for m in _matches(rx, text, lowered, stems):
                s, e = m.span()
                i = bisect_left(taken, (e, e))  # spans starting before e; only the last can overlap
                if (i and taken[i - 1][1] > s) or (ok and not ok(text, m, budget)):
                    continue
                insort(taken, (s, e))
                hits.append((s, kind, original[s:e], message))
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
