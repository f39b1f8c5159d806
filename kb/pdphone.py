"""Is this run of digits a phone number of one of the programme's countries? (pdscan's phone check.)

pdscan finds the candidates with one linear-time pattern; this module decides the ones its plain rules
(international "+"/"00" numbers, national numbers with a trunk "0") leave open, mostly 8-digit numbers
written without country code or keyword ("96 12 34 56" in Niger, "22 123 456" in Tunisia). The decision
is Google's libphonenumber (the `phonenumbers` port): a candidate counts when PhoneNumberMatcher with
leniency VALID finds it, whole, for one of the 14 countries. Candidates arrive with ASCII digits
(pdscan normalises Arabic-Indic and Persian digits first, one character for one, so positions hold).

libphonenumber costs about a millisecond per candidate for 14 countries, so each scan has a budget:
past it, only pdscan's plain rules and the keyword rule decide, which keeps a hostile 1 MB note fast.
"""
from __future__ import annotations

import re

import phonenumbers

REGIONS = ("AF", "DZ", "TD", "EG", "ET", "IQ", "LB", "LY", "ML", "MA", "NE", "NG", "SD", "TN")
BUDGET = 300  # libphonenumber look-ups per scan

_YEAR = re.compile(r"(?:19|20)\d\d")
_YMD = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
# A date written with separators ("12.03.2024", "2024-03-12") is never a phone number.
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}(?!\d)|\d{4}([./-])\d{1,2}\2\d{1,2}(?!\d)")


class Budget:
    """How many more libphonenumber look-ups this scan may make; answers are remembered."""

    def __init__(self, n: int = BUDGET):
        self.left = n
        self.seen: dict[str, bool] = {}


def _matches(raw: str, region: str) -> bool:
    return any(m.start == 0 and m.end == len(raw)
               for m in phonenumbers.PhoneNumberMatcher(raw, region, leniency=phonenumbers.Leniency.VALID))


def _valid_somewhere(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    for region in REGIONS:
        try:  # the cheap check first; the matcher (which also checks the grouping) only where it passed
            if not phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                continue
        except phonenumbers.NumberParseException:
            continue
        if _matches(raw, region):
            return True
    return False


def plausible(raw: str) -> bool:
    """Shapes that are something else: years side by side, dates, round amounts."""
    digits = re.sub(r"\D", "", raw)
    groups = re.findall(r"\d+", raw)
    if _DATE.match(raw) or _YMD.fullmatch(digits) or digits.endswith("000"):
        return False
    if len(groups) > 1 and all(len(g) == 4 and _YEAR.fullmatch(g) for g in groups):
        return False  # "2019 2020"
    if len(groups) == 2 and _YEAR.fullmatch(groups[0]):
        return False  # a text's number: "Decree 2014-1234"
    return max(len(g) for g in groups) <= 4 or len(groups) == 1


def national(raw: str, budget: Budget) -> bool:
    """A national number (no country code) valid in one of the 14 countries, e.g. "96 12 34 56"."""
    raw = raw.strip("() ")
    if raw in budget.seen:
        return budget.seen[raw]
    if budget.left <= 0 or not plausible(raw):
        return False
    budget.left -= 1
    budget.seen[raw] = _valid_somewhere(raw)
    return budget.seen[raw]
