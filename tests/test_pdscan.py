"""Personal-data scan: what it must catch, what it must leave alone, positions, hostile input."""
import dataclasses
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from kb.pdscan import MAX_FINDINGS, Finding, scan

KINDS = {"email", "phone", "id_number", "gps", "birth_date"}
CONTENT = Path(__file__).resolve().parent.parent / "content"


def in_note(snippet: str) -> str:
    """The snippet as line 4 of a small note, so every row also checks line counting."""
    return f"# Field note\n\nIn 2023 the team met 1,900 people.\n{snippet}\nUpdated 2026-09-14.\n"


TRUE_POSITIVES = [
    # e-mail
    ("Contact fatima.benali@example.org for details.", "email"),
    ("Écrire à j.doe+kb@ngo-mail.co.uk avant lundi.", "email"),
    ("للتواصل: ahmed_99@mail.example.com", "email"),
    # phone: international
    ("Call +218 91 234 5678 after 5pm.", "phone"),
    ("Sudan: +249 912 345 678", "phone"),
    ("WhatsApp +93 70 123 4567 (Kabul)", "phone"),
    ("Son numéro : +227 90 12 34 56.", "phone"),
    ("Dial 00218 91 234 5678 from abroad.", "phone"),
    ("(+218) 91-234-5678", "phone"),
    ("+218.91.234.5678", "phone"),
    ("+218 (0)91 234 5678", "phone"),
    # phone: national
    ("Libyan mobile 091-234-5678 is switched off.", "phone"),
    ("Appeler le 0912345678 demain.", "phone"),
    ("Moroccan number 06 12 34 56 78", "phone"),
    ("Egypt: (010) 1234 5678", "phone"),
    ("رقم الهاتف: ٠٩١٢٣٤٥٦٧٨", "phone"),
    ("Tel: 03 123 456", "phone"),  # 8 digits, no trunk prefix rule: caught by the keyword
    ("Tél. 98 123 456 (Tunis)", "phone"),
    ("Joignable au 0912345678 (24h/24).", "phone"),
    ("اتصل على الرقم هاتف+218 91 234 5678", "phone"),  # glued to an Arabic word
    # id numbers
    ("Passport P1234567 was lost at the border.", "id_number"),
    ("Her ID card A12345678 expired.", "id_number"),
    ("UNHCR case 123-12C12345", "id_number"),
    ("Registered as LBY-12-123456.", "id_number"),
    ("See case no. 2023/1456 for the file.", "id_number"),
    ("passport no. 12345678", "id_number"),
    ("Case ID: 556677", "id_number"),
    ("n° de passeport : 12345678", "id_number"),
    ("Le numéro de dossier 2023-1456 est clos.", "id_number"),
    ("N° de dossier HCR : 123-12C12345", "id_number"),
    ("رقم جواز السفر: 12345678", "id_number"),
    ("رقم الهوية ١٢٣٤٥٦٧٨٩", "id_number"),
    # gps
    ("Meet at 13.5127, 2.1128 near the market.", "gps"),
    ("Camp at 32.8872° N, 13.1913° E.", "gps"),
    ("Position 13°30'45\"N", "gps"),
    ("الموقع (١٣٫٥١٢٧، ٢٫١١٢٨)", "gps"),
    ("Addis office 9.0054 38.7636", "gps"),
    ("| Site A | 13.5127 | 2.1128 |", "gps"),
    # birth date
    ("He was born on 12 March 1995 in Kano.", "birth_date"),
    ("Date of birth: 1990-03-12", "birth_date"),
    ("DOB 01/02/1988", "birth_date"),
    ("Il est né le 1er janvier 1990 à Gao.", "birth_date"),
    ("Elle est née le 12/03/1995.", "birth_date"),
    ("Date de naissance : 03.04.1992", "birth_date"),
    ("تاريخ الميلاد: 1990/03/12", "birth_date"),
    ("هو من مواليد 15 مارس 1990", "birth_date"),
    ("Born in Sebha in May 1990.", "birth_date"),
]


@pytest.mark.parametrize("snippet, kind", TRUE_POSITIVES)
def test_true_positive(snippet, kind):
    found = scan(in_note(snippet))
    assert [(f.kind, f.line) for f in found] == [(kind, 4)], found
    assert found[0].text in snippet


FALSE_POSITIVES = [
    "In 2023, 1,900 children were assisted; 3,450 returnees in 2024.",
    "The programme ran 2019–2021 (and again 2019-2021 in Mali).",
    "12.5% of respondents, +12.5% on last year.",
    "Article 12 of the Constitution and Law No. 2016-33 on trafficking.",
    "Decree 2014-1234 regulates residence; Décret n° 2014-1234 du 12 mars 2014.",
    "القانون رقم 19 لسنة 2010 بشأن الهجرة",
    "Updated 2026-09-14; reviewed on 3 March 2026.",
    "Release v1.0.12, version 2.14.3, schema 10.2.",
    "ISBN 978-3-16-148410-0, ISBN 0-306-40615-2, ISBN 0306406152.",
    "Call the hotline 1480 or 115.",
    "Budget: USD 25,000 and 12 500 000 FCFA.",
    "Source: https://example.org/reports/2023/1456?page=2&id=77",
    "The region around 13.5, 2.1 and 32.88, 13.19.",
    "Sessions at 14:30 and 09:00–10:30.",
    "A 123 456 run and 12-34-56.",
    "Children born in 2020 were registered late.",
    "The newborn unit opened on 3 March 2026.",
    "Refugees born abroad. In March 2026 the law changed.",
    "Resolution 2240 (2015) and S/2023/123.",
    "Pages 12–15; pp. 123-145; ISO 27001; COVID-19.",
    "في عام ٢٠٢٣ تم تسجيل ١٬٩٠٠ طفل",
    "En 2023, 3 450 migrants ont été assistés.",
    "On 01.02.2023 12 families arrived; from 01.02.2023 to 05.02.2023.",
    "Phone surveys in 2019 2020 2021 reached 4,000 people.",
    "In case 2023 funding is late, see file 12.",
    "Ratio 0.5 to 0.75; p = 0.0312.",
    "| 2021 | 2022 | 2023 |\n|------|------|------|\n| 120 | 1,450 | 3,200 |",
    "Passport 2019 reform and passports issued in 2020.",
    "On ne le savait pas avant le 3 mars 2026.",  # "ne le" is not "né le"
]


@pytest.mark.parametrize("snippet", FALSE_POSITIVES)
def test_false_positive(snippet):
    assert scan(in_note(snippet)) == []


def test_positions_across_lines_code_blocks_and_arabic():
    text = ("# Title\n\nCall +218 91 234 5678.\n```\nemail: a.b@example.org\n```\n"
            "  DOB: 01/02/1988\nالهاتف: +218 91 234 5678\n")
    got = [(f.kind, f.line, f.column, f.text) for f in scan(text)]
    assert got == [("phone", 3, 6, "+218 91 234 5678"),
                   ("email", 5, 8, "a.b@example.org"),
                   ("birth_date", 7, 3, "DOB: 01/02/1988"),
                   ("phone", 8, 9, "+218 91 234 5678")]


def test_hard_wrapped_birth_date_reports_its_first_line():
    found = scan("intro\nShe was born in Sebha on\n12 March 1995.")
    assert [(f.kind, f.line, f.column, f.text) for f in found] == [
        ("birth_date", 2, 9, "born in Sebha on 12 March 1995")]


def test_overlaps_are_reported_once():
    assert [f.kind for f in scan("passport no. 0912345678")] == ["id_number"]
    assert [f.kind for f in scan("x 0912345678@example.org")] == ["email"]


def test_email_glued_to_arabic_word_is_cut_at_the_script_change():
    assert [f.text for f in scan("راسلواsecurity@example.com")] == ["security@example.com"]


def test_finding_fields():
    f = scan("Call +218 91 234 5678")[0]
    assert f.message == "Looks like a phone number."
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.line = 2
    assert len(scan("born on " + "12 March 1995")[0].text) <= 80


def test_at_most_200_findings_first_ones_kept():
    text = "".join(f"write to user{i}@example.org or +218 91 234 {i:04d}\n" for i in range(300))
    found = scan(text)
    assert len(found) == MAX_FINDINGS
    assert found == sorted(found, key=lambda f: (f.line, f.column))
    assert found[-1].line == 100 and found[0].kind == "email"


def test_non_string_and_empty():
    assert scan("") == [] and scan(None) == []


HOSTILE = {  # each about 1 MB; the point is that they finish (patterns are linear), not how fast
    "plus-digit-spaces": "+" + "1 " * 500_000,
    "a-at": "a@" * 300_000,
    "letters": "a" * 1_000_000,
    "arabic-letters": "ب" * 1_000_000,
    "digits": "1" * 1_000_000,
    "digit-dashes": "1-" * 500_000,
    "digit-dots": "1." * 500_000,
    "zero-parens": "0 (" * 333_333,
    "decimals": "13.1234, " * 110_000,
    "born": "born " * 200_000,
    "born-half-date": "born 12/" * 125_000,
    "passport-no": "passport no. " * 80_000,
    "arabic-id-keyword": "رقم الهوية " * 90_000,
    "dms": "1°1'" * 250_000,
    "dotted-at": "x.y@a" * 200_000,
    "tel-keyword": "tel: 1 " * 140_000,
    # the guard of issue 10: keywords with liberal values, digit runs, libphonenumber's budget, Arabic "و"
    "case-keyword": "case " * 200_000,
    "case-value-groups": "case " + "A1-" * 330_000,
    "tazkira-dashes": "tazkira 1399-" * 75_000,
    "many-8-digit-numbers": " ".join(str(10_000_000 + i * 7919) for i in range(110_000)),
    "arabic-digit-groups": "٩٦ ١٢ ٣٤ ٥٦ " * 80_000,
    "wa-lad": "وولد " * 200_000,
    "id-stem": "idid" * 250_000,
}


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_one_megabyte_hostile_input_completes(hostile):
    found = scan(hostile)
    assert len(found) <= MAX_FINDINGS


MONTHS = ("January Feb. March April May June July August Sept. October November December "
          "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
          "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر "
          "جانفي فيفري أفريل جوان جويلية أوت شباط آذار نيسان أيار حزيران تموز آب أيلول").split()
MONTHS += ["كانون الثاني", "تشرين الأول", "تشرين الثاني", "كانون الأول"]


@pytest.mark.parametrize("month", MONTHS)
def test_every_month_name_makes_a_birth_date(month):
    assert [f.kind for f in scan(f"born on 3 {month} 1990")] == ["birth_date"]
    assert scan(f"on 3 {month} 1990") == []


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet="0123456789٠١٢٣+-.,()@:/ °'\"NSEaAPIDno\n")))
def test_never_raises_and_positions_point_at_the_match(text):
    found = scan(text)
    assert len(found) <= MAX_FINDINGS
    assert found == sorted(found, key=lambda f: (f.line, f.column))
    lines = text.split("\n")
    for f in found:
        assert isinstance(f, Finding) and f.kind in KINDS and f.message
        assert 0 < len(f.text) <= 80
        assert lines[f.line - 1][f.column - 1] == f.text[0]


# --- the field table (tests/pd_table.py): rates, then each row on its own ---------------------------------

from .pd_table import FALSE_POSITIVES as TABLE_FP, TRUE_POSITIVES as TABLE_TP  # noqa: E402

CATCH_RATE_MIN = 0.95
FALSE_ALARM_MAX = 0.05


def test_table_is_big_enough_and_in_three_languages():
    assert len(TABLE_TP) >= 60 and len(TABLE_FP) >= 60
    assert {row[0] for row in TABLE_TP} == {row[0] for row in TABLE_FP} == {"en", "fr", "ar"}
    assert {kind for _, _, kind in TABLE_TP} == KINDS


def test_catch_rate_and_false_alarm_rate_on_the_table():
    missed = [s for _, s, _ in TABLE_TP if not scan(s)]
    alarms = [s for _, s in TABLE_FP if scan(s)]
    catch, false_alarm = 1 - len(missed) / len(TABLE_TP), len(alarms) / len(TABLE_FP)
    assert catch >= CATCH_RATE_MIN, (catch, missed)
    assert false_alarm <= FALSE_ALARM_MAX, (false_alarm, alarms)


# Rows the guard must get right one by one (what the rates above may not hide): the shapes named in
# issue 10 and the everyday numbers it must leave alone.
MUST_CATCH = [
    ("case LBY-2024/0153", "id_number"), ("dossier NE/AGZ/23-0042", "id_number"),
    ("file no TUN-7731-B", "id_number"), ("tazkira 1399-0101-12345", "id_number"),
    ("تذكرة رقم 12345678", "id_number"), ("e-tazkira 1400-0302-98765", "id_number"),
    ("Egyptian national ID 29801011234567", "id_number"), ("NIN 12345678901", "id_number"),
    ("Libyan national number 119850123456", "id_number"), ("CIN AB123456", "id_number"),
    ("Son NINA 12345678901234A", "id_number"), ("CIN 08123456", "id_number"),
    ("96 12 34 56", "phone"), ("22 123 456", "phone"), ("71 234 567", "phone"), ("0912345678", "phone"),
    ("0803 123 4567", "phone"), ("01012345678", "phone"), ("٩٦ ١٢ ٣٤ ٥٦", "phone"), ("۰۷۹۹ ۱۲۳ ۴۵۶", "phone"),
    ("born on 3 March 2009", "birth_date"), ("née le 12 janvier 2008", "birth_date"),
    ("المولود في 5 مارس 2010", "birth_date"), ("DOB 12/03/2009", "birth_date"),
    ("aged 14, born 2011-02-03", "birth_date"),
    ("71/123456", "phone"), ("03/123456", "phone"), ("01/234567", "phone"), ("٧١/١٢٣٤٥٦", "phone"),
    ("tel 22 123 456 for the 1 200 people", "phone"), ("phone 22 123 456 (population desk)", "phone"),
]
MUST_IGNORE = [
    "décret n° 2019-0123", "Law No. 2016-33", "القانون رقم 19 لسنة 2016", "article 12", "resolution 2331 (2016)",
    "1,234 children in 2023", "45 %", "form IR-3", "kit B2", "call 1548", "116", "hotline 1515",
    "meeting on 12 March 2024", "ISBN 978-3-16-148410-0", "page 12", "USD 25 000 000", "12 500 000 FCFA",
    "Niger's population reached 24 206 636", "les ménages recensés : 3 512 408", "80 00 11 11", "80 10 12 34",
    "0800 00 12 34", "0802 12 34 56", "ratio 1/123456", "décret 71/123456", "71/123456 FCFA",
]


@pytest.mark.parametrize("snippet, kind", MUST_CATCH)
def test_must_catch(snippet, kind):
    assert [f.kind for f in scan(in_note(snippet))] == [kind]


@pytest.mark.parametrize("snippet", MUST_IGNORE)
def test_must_ignore(snippet):
    assert scan(in_note(snippet)) == []


@pytest.mark.parametrize("lang, sentence, kind", TABLE_TP, ids=[f"tp{i}-{r[0]}" for i, r in enumerate(TABLE_TP)])
def test_table_true_positive(lang, sentence, kind):
    found = scan(sentence)
    if sentence in KNOWN_MISSES:
        pytest.xfail("a known miss, counted in the rate")
    assert kind in [f.kind for f in found], found
    for f in found:
        assert f.text in " ".join(sentence.split())


@pytest.mark.parametrize("lang, sentence", TABLE_FP, ids=[f"fp{i}-{r[0]}" for i, r in enumerate(TABLE_FP)])
def test_table_false_positive(lang, sentence):
    found = scan(sentence)
    if sentence in KNOWN_FALSE_ALARMS:
        pytest.xfail("a known false alarm, counted in the rate")
    assert found == []


# A paper tazkira is cited by page, volume and registration: plain small numbers, like statistics.
KNOWN_MISSES = {"Father's tazkira page 23, volume 114, registration 2207."}
# A project code has the shape of a case number.
KNOWN_FALSE_ALARMS = {"Projet PRJ-2023-0045 financé par l'Union européenne."}


def test_positions_hold_with_arabic_indic_digits():
    text = "سطر\nرقم الأب: ٠٩١ ٢٣٤ ٥٦٧٨ ثم ۰۷۹۹ ۱۲۳ ۴۵۶"
    got = [(f.kind, f.line, f.column, f.text) for f in scan(text)]
    assert got == [("phone", 2, 11, "٠٩١ ٢٣٤ ٥٦٧٨"), ("phone", 2, 27, "۰۷۹۹ ۱۲۳ ۴۵۶")]


def test_phone_lookups_have_a_budget_so_many_numbers_stay_fast():
    text = "".join(f"row {i}: 4{i:07d}\n" for i in range(5000))  # 8-digit numbers that no country has
    start = time.perf_counter()
    scan(text)
    assert time.perf_counter() - start < 5


def test_one_megabyte_of_notes_scans_fast():
    """A realistic 1 MB body (the shipped notes repeated): measured for docs/security.md."""
    notes = "".join(p.read_text(encoding="utf-8") for p in sorted(CONTENT.glob("*.md")))
    body = (notes * (1_000_000 // len(notes) + 1))[:1_000_000]
    best = min(_timed(body) for _ in range(3))
    assert best < 2.0, best  # about 0.5 s on one core of the 2-core dev machine; generous for CI


def _timed(text: str) -> float:
    start = time.perf_counter()
    scan(text)
    return time.perf_counter() - start
