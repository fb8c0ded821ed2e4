import datetime
import random
from decimal import Decimal

import phonenumbers
import pytest
from django.test import override_settings
from django.utils import timezone, translation

from customers.normalize import OLD_MOBILE_PREFIXES, normalize_phone
from imports import values
from imports.values import (
    CellError,
    cell_text,
    clean_name,
    clean_text,
    date_order_of,
    is_blank,
    parse_birthday,
    parse_date,
    parse_emails,
    parse_gender,
    parse_int,
    parse_money,
    parse_national_id,
    parse_phones,
    parse_tax_code,
    split_tags,
)

D = datetime.date
THIS_YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in the source language (Vietnamese comes from the .po)."""
    with translation.override("en"):
        yield


def message(func, *args, **kwargs) -> str:
    with pytest.raises(CellError) as caught:
        func(*args, **kwargs)
    return str(caught.value)


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "text"), [
    (None, ""),
    ("  abc ", "abc"),
    (912345678.0, "912345678"),
    (84912345678, "84912345678"),
    (1.5, "1.5"),
    (0.1 + 0.2, "0.3"),
    (1e20, "100000000000000000000"),
    (Decimal("1500000.00"), "1500000"),
    (True, "TRUE"),
    (datetime.datetime(1990, 8, 15), "15/08/1990"),
    (datetime.datetime(1990, 8, 15, 10, 30), "15/08/1990 10:30"),
    (datetime.date(1990, 8, 5), "05/08/1990"),
    (datetime.time(7, 5), "07:05"),
])
def test_cell_text(raw, text):
    assert cell_text(raw) == text


@pytest.mark.parametrize(("raw", "text"), [
    ("  Nguyễn   Văn  A ", "Nguyễn Văn A"),
    ("Nguye\u0302\u0303n", "Nguyễn"),  # NFD from a Mac -> NFC
    ("An\u200bh", "Anh"),  # zero-width space
    ("\ufeffBOM", "BOM"),
    ("a\u200c\u200db\u2060c", "abc"),
    ("\u202eabc\u202c", "abc"),  # right-to-left override
    ("\u2066x\u2069\u200e\u200f", "x"),  # isolates, LRM, RLM
    ("bell\x07 tab\there", "bell tab here"),
    ("=SUM(A1:A3)", "=SUM(A1:A3)"),  # stays text; nothing is evaluated
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # HTML kept as text
    ("line one \r\n  line two", "line one\nline two"),
    ("a\n\n\n\n\nb", "a\n\nb"),  # at most one empty line
    ("\n\nnote\n", "note"),
    ("a\u00a0\u00a0b", "a b"),
    (1500, "1500"),
])
def test_clean_text(raw, text):
    assert clean_text(raw) == text


def test_clean_text_on_one_line_and_clean_name():
    assert clean_text("a\nb", multiline=False) == "a b"
    assert clean_name(" Trần\u200b Thị\n  Bích ") == "Trần Thị Bích"
    assert clean_name("Le\u0302 \x00Văn") == "Lê Văn"


def test_clean_text_refuses_an_overlong_cell():
    assert clean_text("x" * 10, max_length=10) == "x" * 10
    assert message(clean_text, "Nguyễn Văn An", max_length=5) == (
        "Nguyễn Văn An is longer than 5 characters")
    long = "y" * 100
    assert message(clean_text, long, max_length=50) == "y" * 39 + "… is longer than 50 characters"


@override_settings(IMPORT_MAX_CELL_CHARS=20)
def test_clean_text_default_limit_is_the_setting():
    assert clean_text("z" * 20) == "z" * 20
    assert "longer than 20 characters" in message(clean_text, "z" * 21)


@pytest.mark.parametrize(("raw", "blank"), [
    (None, True), ("", True), ("   ", True), ("\u200b", True), ("0", False), (0, False),
    ("x", False),
])
def test_is_blank(raw, blank):
    assert is_blank(raw) is blank


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "date"), [
    ("15/08/1990", D(1990, 8, 15)),
    ("5/8/1990", D(1990, 8, 5)),
    ("15-08-1990", D(1990, 8, 15)),
    ("15.08.1990", D(1990, 8, 15)),
    ("1990-08-15", D(1990, 8, 15)),  # year first: always year-month-day
    ("1990/8/15", D(1990, 8, 15)),
    ("2024-05-01T10:00:00+07:00", D(2024, 5, 1)),
    ("15/08/1990 10:30", D(1990, 8, 15)),
    ("15/08/1990 10:30:15", D(1990, 8, 15)),
    ("15/08/1990 9:05 PM", D(1990, 8, 15)),
    (" 15/08/1990\u200b ", D(1990, 8, 15)),
    ("29/02/2024", D(2024, 2, 29)),
    (datetime.datetime(1990, 8, 15, 10, 30), D(1990, 8, 15)),
    (D(1990, 8, 15), D(1990, 8, 15)),
    (33100, D(1990, 8, 15)),  # Excel serial
    (33100.75, D(1990, 8, 15)),  # serial with a time of day
    (1, D(1900, 1, 1)),
    (59, D(1900, 2, 28)),
    (61, D(1900, 3, 1)),  # Excel counts a 29/02/1900: serials after it are one day on
    (45658, D(2025, 1, 1)),
    (80000, D(2119, 1, 11)),
])
def test_parse_date(raw, date):
    assert parse_date(raw) == date


def test_two_digit_years_pivot_on_this_year():
    yy = THIS_YEAR % 100
    assert parse_date(f"1/2/{yy:02d}") == D(THIS_YEAR, 2, 1)
    assert parse_date(f"1/2/{(yy + 1) % 100:02d}").year == THIS_YEAR + 1 - 100
    assert parse_date("1/2/03") == D(2003, 2, 1)
    assert parse_date("1/2/85") == D(1985, 2, 1)


def test_parse_date_month_first_when_the_column_says_so():
    assert parse_date("08/15/1990", "mdy") == D(1990, 8, 15)
    assert parse_date("05/06/1990", "mdy") == D(1990, 5, 6)
    assert parse_date("05/06/1990", "dmy") == D(1990, 6, 5)
    assert parse_date("1990-08-15", "mdy") == D(1990, 8, 15)  # ISO ignores the order
    assert message(parse_date, "15/08/1990", "mdy") == "15/08/1990 is not a valid date"


@pytest.mark.parametrize("raw", [
    "31/02/1990", "30/02/2023", "29/02/2023", "32/01/1990", "15/13/1990", "00/01/1990",
    "abc", "15/08", "1990", "15/08/1990 25:00", "15/08-1990", "15/08/1850",
    60,  # Excel's 29/02/1900
    0, -5, 80001, 1e12, float("nan"), True, datetime.time(10, 30),
])
def test_parse_date_refuses(raw):
    assert message(parse_date, raw) == f"{cell_text(raw)} is not a valid date"


def test_parse_date_of_an_empty_cell():
    assert message(parse_date, "  ") == "The cell is empty"


@pytest.mark.parametrize(("column", "order"), [
    (["15/08/1990", "01/02/1990", "3/4/85"], "dmy"),
    (["08/15/1990", "01/02/1990"], "mdy"),
    (["05/06/1990", "1/2/2000", "12-11-1999"], "ambiguous"),
    (["5/6/1990", None, 33100, D(1990, 1, 1)], "ambiguous"),
    ([D(1990, 1, 1), datetime.datetime(2000, 5, 6), 33100, "1990-08-15", "", None], None),
    ([], None),
    (["15/08", "20/10"], "dmy"),  # birthdays without a year count
    (["15/08/1990 10:30", "02/03/1990"], "dmy"),
    (["\u200b15/08/1990 ", "02/03/1990"], "dmy"),
    # Mixed evidence: the more frequent order wins, ties to day first.
    (["13/01/1990", "01/13/1990", "01/14/1990"], "mdy"),
    (["13/01/1990", "14/01/1990", "01/13/1990"], "dmy"),
    (["13/01/1990", "01/13/1990"], "dmy"),
    (["abc", "99/99/9999"], None),
])
def test_date_order_of(column, order):
    assert date_order_of(column) == order


def test_date_order_of_a_whole_column_is_one_pass():
    column = ["05/06/1990"] * 50_000 + ["25/06/1990"]
    assert date_order_of(iter(column)) == "dmy"


# --- birthdays --------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "birthday"), [
    ("15/08/1990", (15, 8, 1990)),
    ("15/08", (15, 8, None)),
    ("15-08", (15, 8, None)),
    ("5.8", (5, 8, None)),
    ("29/02", (29, 2, None)),  # a leap-day birthday without a year
    ("1/2/85", (1, 2, 1985)),
    ("1990-08-15", (15, 8, 1990)),
    ("15/08/1990 00:00", (15, 8, 1990)),
    (datetime.datetime(1990, 8, 15), (15, 8, 1990)),
    (D(1990, 8, 15), (15, 8, 1990)),
    (33100, (15, 8, 1990)),
    (33100.0, (15, 8, 1990)),
    ("1/1/1900", (1, 1, 1900)),
])
def test_parse_birthday(raw, birthday):
    assert parse_birthday(raw) == birthday


def test_parse_birthday_month_first():
    assert parse_birthday("08/15", "mdy") == (15, 8, None)
    assert parse_birthday("08/15/1990", "mdy") == (15, 8, 1990)


@pytest.mark.parametrize(("raw", "text"), [
    ("31/02/1990", "31/02/1990 is not a valid date"),
    ("30/02", "30/02 is not a valid date"),
    ("15/13", "15/13 is not a valid date"),
    ("abc", "abc is not a valid birthday"),
    ("15 tháng 8", "15 tháng 8 is not a valid birthday"),
    (33100.5, "33100.5 is not a valid birthday"),
    (1990, "1990 is only a year: a birthday needs a day and a month"),
    ("1990", "1990 is only a year: a birthday needs a day and a month"),
    ("15/08/1899", "15/08/1899 is not a valid birthday: the year must be between 1900 and "
                   f"{THIS_YEAR}"),
    (f"01/01/{THIS_YEAR + 1}", f"01/01/{THIS_YEAR + 1} is not a valid birthday: the year must "
                               f"be between 1900 and {THIS_YEAR}"),
])
def test_parse_birthday_refuses(raw, text):
    assert message(parse_birthday, raw) == text


def test_a_birthday_is_never_in_the_future():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert "not a valid birthday" in message(parse_birthday, tomorrow)
    assert parse_birthday(timezone.localdate())[2] == THIS_YEAR


# --- phones -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "numbers"), [
    ("0912345678", [("0912345678", "+84912345678")]),
    ("0912.345.678", [("0912.345.678", "+84912345678")]),
    ("0912 345 678", [("0912 345 678", "+84912345678")]),
    ("0912-345-678", [("0912-345-678", "+84912345678")]),
    ("+84 912 345 678", [("+84 912 345 678", "+84912345678")]),
    ("+84912345678", [("+84912345678", "+84912345678")]),
    ("(+84) 912 345 678", [("(+84) 912 345 678", "+84912345678")]),
    ("+84 (0) 912 345 678", [("+84 (0) 912 345 678", "+84912345678")]),
    ("84912345678", [("84912345678", "+84912345678")]),
    (84912345678, [("84912345678", "+84912345678")]),
    ("0084912345678", [("0084912345678", "+84912345678")]),
    # A number cell lost the leading 0.
    ("912345678", [("912345678", "+84912345678")]),
    (912345678, [("912345678", "+84912345678")]),
    (912345678.0, [("912345678", "+84912345678")]),
    (387654321.0, [("387654321", "+84387654321")]),
    (2838234567, [("2838234567", "+842838234567")]),  # a landline that lost its 0
    # Old 11-digit mobile numbers (before 2018), also without their 0.
    ("01629123456", [("01629123456", "+84329123456")]),
    ("0169 912 3456", [("0169 912 3456", "+84399123456")]),
    ("+841629123456", [("+841629123456", "+84329123456")]),
    (1629123456, [("1629123456", "+84329123456")]),
    ("01213456789", [("01213456789", "+84793456789")]),
    # Landlines.
    ("(028) 3823 4567", [("(028) 3823 4567", "+842838234567")]),
    ("024 3825 6789", [("024 3825 6789", "+842438256789")]),
    ("0236 3821 234", [("0236 3821 234", "+842363821234")]),
    # Two numbers in one cell: both kept.
    ("0912345678 / 0987654321", [("0912345678", "+84912345678"),
                                 ("0987654321", "+84987654321")]),
    ("0912345678; 0987654321", [("0912345678", "+84912345678"),
                                ("0987654321", "+84987654321")]),
    ("0912345678, 0987654321", [("0912345678", "+84912345678"),
                                ("0987654321", "+84987654321")]),
    ("0912345678 - 0987654321", [("0912345678", "+84912345678"),
                                 ("0987654321", "+84987654321")]),
    ("0912345678-0987654321", [("0912345678", "+84912345678"),
                               ("0987654321", "+84987654321")]),
    ("0912-345-678 - 0987-654-321", [("0912-345-678", "+84912345678"),
                                     ("0987-654-321", "+84987654321")]),
    ("0912 345 678 0987 654 321", [("0912 345 678", "+84912345678"),
                                   ("0987 654 321", "+84987654321")]),
    ("0912345678\n0987654321", [("0912345678", "+84912345678"),
                                ("0987654321", "+84987654321")]),
    ("0912345678 hoặc 028 3823 4567", [("0912345678", "+84912345678"),
                                       ("028 3823 4567", "+842838234567")]),
    ("0912345678 / 0912.345.678", [("0912345678", "+84912345678")]),  # one number twice
    # Words around a number.
    ("0912 345 678 (Zalo)", [("0912 345 678", "+84912345678")]),
    ("ĐT nhà: 028 3823 4567", [("028 3823 4567", "+842838234567")]),
    # Invisible characters pasted from a chat.
    ("\u202a0912345678\u202c", [("0912345678", "+84912345678")]),
    ("'0912345678", [("0912345678", "+84912345678")]),
    # Foreign numbers keep their country (through phonenumbers).
    ("+1 415 555 2671", [("+1 415 555 2671", "+14155552671")]),
    ("+65 6123 4567", [("+65 6123 4567", "+6561234567")]),
    ("0912345678 / +1 415 555 2671", [("0912345678", "+84912345678"),
                                      ("+1 415 555 2671", "+14155552671")]),
    ("", []),
    (None, []),
])
def test_parse_phones(raw, numbers):
    assert parse_phones(raw) == numbers


@pytest.mark.parametrize(("raw", "text"), [
    ("abc", "abc is not a valid phone number"),
    ("123", "123 is not a valid phone number"),
    ("0912345", "0912345 is not a valid phone number"),
    ("09123456789", "09123456789 is not a valid phone number"),  # one digit too many
    ("0012345678", "0012345678 is not a valid phone number"),
    ("0912345678 / 123", "123 is not a valid phone number"),  # every part must be a number
    ("+1 555", "+1 555 is not a valid phone number"),
])
def test_parse_phones_refuses(raw, text):
    assert message(parse_phones, raw) == text


def test_fast_path_skips_phonenumbers_parse(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("phonenumbers.parse called on the fast path")

    monkeypatch.setattr(phonenumbers, "parse", refuse)
    for raw in ("0912345678", "0912.345.678", "+84 912 345 678", 912345678.0, "01629123456",
                "(028) 3823 4567", "0912345678 / 0987654321", "0912-345-678 - 0987654321"):
        assert parse_phones(raw)


def test_fast_path_agrees_with_phonenumbers():
    """The VN metadata patterns accept exactly what phonenumbers' validation accepts."""
    rng = random.Random(13)
    prefixes = ["9", "8", "7", "5", "3", "2", "1", "6", "4", "0"]
    for _ in range(3000):
        national = rng.choice(prefixes) + "".join(
            rng.choice("0123456789") for _ in range(rng.choice([6, 7, 8, 9])))
        raw = "0" + national
        try:
            expected = normalize_phone(raw)
        except Exception:  # noqa: BLE001 - any refusal
            expected = None
        assert values._vn_e164(raw) == expected, raw


@pytest.mark.parametrize("old", sorted(OLD_MOBILE_PREFIXES))
def test_every_old_prefix(old):
    assert parse_phones(f"0{old}1234567") == [
        (f"0{old}1234567", f"+84{OLD_MOBILE_PREFIXES[old]}1234567")]


# --- emails, gender, tags ---------------------------------------------------------------


@pytest.mark.parametrize(("raw", "emails"), [
    ("An.Nguyen@Gmail.com", ["an.nguyen@gmail.com"]),
    (" a@b.vn ; c@d.com ", ["a@b.vn", "c@d.com"]),
    ("a@b.vn, A@B.VN", ["a@b.vn"]),
    ("a@b.vn\nc@d.com", ["a@b.vn", "c@d.com"]),
    ("Nguyễn An <an@shop.vn>", ["an@shop.vn"]),
    ("mailto:an@shop.vn", ["an@shop.vn"]),
    ("\u200ban@shop.vn", ["an@shop.vn"]),
    ("", []),
    (None, []),
])
def test_parse_emails(raw, emails):
    assert parse_emails(raw) == emails


@pytest.mark.parametrize(("raw", "text"), [
    ("an.shop.vn", "an.shop.vn is not a valid email address"),
    ("a@b.vn; xyz", "xyz is not a valid email address"),
    ("an@", "an@ is not a valid email address"),
])
def test_parse_emails_refuses(raw, text):
    assert message(parse_emails, raw) == text


@pytest.mark.parametrize(("raw", "gender"), [
    ("Nam", "male"), ("NAM", "male"), ("nam", "male"), ("Nam giới", "male"),
    ("Male", "male"), ("m", "male"), ("Mr.", "male"), ("Nam.", "male"), ("M", "male"),
    ("Anh", "male"), ("Ông", "male"),
    ("Nữ", "female"), ("NỮ", "female"), ("nu", "female"), ("Nu\u0303", "female"),
    ("Nữ giới", "female"), ("Female", "female"), ("F", "female"), ("Chị", "female"),
    ("chi", "female"), ("Bà", "female"), ("BÀ", "female"), ("Cô", "female"),
    ("Ms.", "female"),
    ("Khác", "other"), ("khac", "other"), ("Other", "other"),
    ("Chưa rõ", ""), ("Không xác định", ""), ("Unknown", ""), ("", ""), (None, ""),
])
def test_parse_gender(raw, gender):
    assert parse_gender(raw) == gender


@pytest.mark.parametrize("raw", ["Ba", "Có", "xyz", "Nam/Nữ", "1"])
def test_parse_gender_refuses(raw):
    assert message(parse_gender, raw) == f"{raw} is not a gender: write male, female or other"


@pytest.mark.parametrize(("raw", "tags"), [
    ("Sỉ, Lẻ", ["Sỉ", "Lẻ"]),
    ("Sỉ;Lẻ ; VIP", ["Sỉ", "Lẻ", "VIP"]),
    ("Sỉ|Lẻ", ["Sỉ", "Lẻ"]),
    ("Sỉ\nLẻ\n", ["Sỉ", "Lẻ"]),
    ("VIP, vip, VIP", ["VIP"]),
    (" , ;; | ", []),
    ("Đại lý - NPP, Khách  quen", ["Đại lý - NPP", "Khách quen"]),
    ("\u200bVIP", ["VIP"]),
    ("", []),
    (None, []),
])
def test_split_tags(raw, tags):
    assert split_tags(raw) == tags


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "amount"), [
    (1500000, 1500000),
    (1500000.0, 1500000),
    (1500000.0000001, 1500000),  # float noise of a computed cell
    (Decimal("1500000"), 1500000),
    ("1.500.000", 1500000),
    ("1,500,000", 1500000),
    ("1500000", 1500000),
    ("1 500 000", 1500000),
    ("1.500.000 ₫", 1500000),
    ("1.500.000₫", 1500000),
    ("1.500.000đ", 1500000),
    ("1.500.000 đồng", 1500000),
    ("1.500.000 VND", 1500000),
    ("1.500.000 VNĐ", 1500000),
    ("VND 1.500.000", 1500000),
    ("₫1.500.000", 1500000),
    ("1.500", 1500),  # one separator and three digits: thousands
    ("1,500", 1500),
    ("150k", 150000),
    ("1,5tr", 1500000),
    ("150000.00", 150000),  # a decimal part of zeros from another system
    ("1,500,000.00", 1500000),
    ("1.500.000,00", 1500000),
    ("0", 0),
    ("-1.500.000", -1500000),  # negative only with a leading minus
    ("-20000", -20000),
])
def test_parse_money(raw, amount):
    assert parse_money(raw) == Decimal(amount)
    assert isinstance(parse_money(raw), Decimal)


@pytest.mark.parametrize(("raw", "text"), [
    ("1,5", "1,5 is not a whole number of đồng"),
    ("1.50", "1.50 is not a whole number of đồng"),
    ("1,500,000.50", "1,500,000.50 is not a whole number of đồng"),
    (1500000.5, "1500000.5 is not a whole number of đồng"),
    ("1.50.000", "1.50.000 is not an amount: write it like 1.500.000"),
    ("1.500,000", "1.500,000 is not an amount: write it like 1.500.000"),
    ("(1.500.000)", "(1.500.000) is not an amount: write it like 1.500.000"),
    ("1.500.000-", "1.500.000- is not an amount: write it like 1.500.000"),
    ("$100", "$100 is not an amount: write it like 1.500.000"),
    ("abc", "abc is not an amount: write it like 1.500.000"),
    (True, "TRUE is not an amount: write it like 1.500.000"),
    ("10.000.000.000.000", "10.000.000.000.000 is too large"),
    (10**13, "10000000000000 is too large"),
    ("", "The cell is empty"),
])
def test_parse_money_refuses(raw, text):
    assert message(parse_money, raw) == text


@pytest.mark.parametrize(("raw", "number"), [
    (1500, 1500), (1500.0, 1500), ("1500", 1500), ("1.500", 1500), ("1,500", 1500),
    ("1 500", 1500), ("-20", -20), ("0", 0), (Decimal("7"), 7),
])
def test_parse_int(raw, number):
    assert parse_int(raw) == number


@pytest.mark.parametrize(("raw", "text"), [
    (1.5, "1.5 is not a whole number"),
    ("1,5", "1,5 is not a whole number"),
    ("12.34", "12.34 is not a whole number"),
    ("abc", "abc is not a whole number"),
    ("10k", "10k is not a whole number"),
    (True, "TRUE is not a whole number"),
])
def test_parse_int_refuses(raw, text):
    assert message(parse_int, raw) == text


@pytest.mark.parametrize(("raw", "code"), [
    ("0101234567", "0101234567"),
    ("0101234567-001", "0101234567-001"),  # the model's r"^\d{10}(-?\d{3})?$" keeps the dash
    ("0101234567 - 001", "0101234567-001"),
    ("0101234567001", "0101234567001"),
    ("0101 234 567", "0101234567"),
    ("'0101234567", "0101234567"),
    (101234567, "0101234567"),  # a number cell lost the leading 0
    (101234567.0, "0101234567"),
    (101234567001, "0101234567001"),
    (3600123456, "3600123456"),
])
def test_parse_tax_code(raw, code):
    assert parse_tax_code(raw) == code


@pytest.mark.parametrize("raw", ["12345", "010123456", "0101234567-01", "abc", 12345,
                                 "01012345678"])
def test_parse_tax_code_refuses(raw):
    assert message(parse_tax_code, raw) == (
        f"{cell_text(raw)} is not a tax code: a tax code has 10 or 13 digits")


@pytest.mark.parametrize(("raw", "number"), [
    ("012345678", "012345678"),
    ("001090012345", "001090012345"),
    ("001 090 012 345", "001090012345"),
    (123456789, "123456789"),
    (12345678, "012345678"),  # a CMND starting with 0 in a number cell
    (79090012345, "079090012345"),  # a CCCD (always 0 first) in a number cell
    (79090012345.0, "079090012345"),
    (1090012345, "001090012345"),  # Hà Nội's 001 lost both zeros
])
def test_parse_national_id(raw, number):
    assert parse_national_id(raw) == number


@pytest.mark.parametrize("raw", ["79090012345", "12345678", "1234567890123", "abc", 1234567])
def test_parse_national_id_refuses(raw):
    # Text is never padded: a missing digit there is a typo.
    assert message(parse_national_id, raw) == (
        f"{cell_text(raw)} is not an ID number: CMND has 9 digits, CCCD has 12 digits")


def test_messages_are_translated_when_read():
    """str() of a CellError is in the language active when the message is shown."""
    error = CellError(translation.gettext_lazy("Tags"))
    with translation.override("vi"):
        assert str(error) == "Thẻ"
    assert str(error) == "Tags"
    error = CellError(translation.gettext_lazy("%(value)s is not a valid date"),
                      {"value": "31/02/1990"})
    assert str(error) == "31/02/1990 is not a valid date"
