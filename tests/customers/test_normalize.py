import unicodedata

import pytest
from django.core.exceptions import ValidationError

from customers.normalize import fold, format_phone, normalize_phone, phone_digits_for_search

PHONES = [
    ("0912345678", "+84912345678"),
    ("0912 345 678", "+84912345678"),
    ("0912.345.678", "+84912345678"),
    ("0912-345-678", "+84912345678"),
    ("(091) 234-5678", "+84912345678"),
    ("+84912345678", "+84912345678"),
    ("+84 912-345-678", "+84912345678"),
    ("84912345678", "+84912345678"),
    ("0084912345678", "+84912345678"),
    (" 0912345678 ", "+84912345678"),
    # Old 11-digit mobile prefixes map to today's 10-digit ones.
    ("01629123456", "+84329123456"),  # Viettel 0162 -> 032
    ("0169 912 3456", "+84399123456"),  # Viettel 0169 -> 039
    ("+841629123456", "+84329123456"),
    ("01203456789", "+84703456789"),  # MobiFone 0120 -> 070
    ("01213456789", "+84793456789"),  # MobiFone 0121 -> 079
    ("01283456789", "+84783456789"),  # MobiFone 0128 -> 078
    ("01233456789", "+84833456789"),  # VinaPhone 0123 -> 083
    ("01293456789", "+84823456789"),  # VinaPhone 0129 -> 082
    ("01863456789", "+84563456789"),  # Vietnamobile 0186 -> 056
    ("01883456789", "+84583456789"),  # Vietnamobile 0188 -> 058
    ("01993456789", "+84593456789"),  # Gmobile 0199 -> 059
    # New networks and ranges.
    ("0868 123 456", "+84868123456"),
    ("0387654321", "+84387654321"),
    ("0599123456", "+84599123456"),
    # Landlines: Hà Nội 024, TP.HCM 028, Đà Nẵng 0236.
    ("024 3825 6789", "+842438256789"),
    ("(028) 3822 1234", "+842838221234"),
    ("0236 3821 234", "+842363821234"),
    # Foreign numbers keep their country.
    ("+1 415 555 2671", "+14155552671"),
    ("+82 10-1234-5678", "+821012345678"),
]


@pytest.mark.parametrize(("raw", "expected"), PHONES)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "0123", "abc", "0912 345 67a", "091234567890123",
                                 "+84 12"])
def test_bad_phones_have_a_message(raw):
    with pytest.raises(ValidationError) as err:
        normalize_phone(raw)
    assert err.value.messages


def test_format_phone_for_display():
    assert format_phone("+84912345678") == "0912 345 678"
    assert format_phone("+14155552671").startswith("+1 415")


def test_phone_search_parts():
    assert phone_digits_for_search("0912 34") == ("+8491234", "91234")
    assert phone_digits_for_search("+84 912 34") == ("+8491234", "91234")
    assert phone_digits_for_search("(024) 3825") == ("+84243825", "243825")
    assert phone_digits_for_search("5678") == (None, "5678")
    # A partly typed old number still finds today's number.
    assert phone_digits_for_search("01629 12")[0] == "+8432912"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Nguyễn Văn Đức", "nguyen van duc"),
        ("NGUYỄN VĂN ĐỨC", "nguyen van duc"),
        ("  Trần   Thị  Thu   Hà ", "tran thi thu ha"),
        ("Phạm Ngọc Ánh", "pham ngoc anh"),
        ("Lê Hoàng Yến", "le hoang yen"),
        ("Đặng Quốc Việt", "dang quoc viet"),
        ("Huỳnh Thị Mỹ Ưng", "huynh thi my ung"),
        ("", ""),
    ],
)
def test_fold(text, key):
    assert fold(text) == key


def test_fold_nfc_and_nfd_agree():
    name = "Nguyễn Thị Hường Đỗ"
    assert fold(unicodedata.normalize("NFC", name)) == fold(unicodedata.normalize("NFD", name))
    assert fold(unicodedata.normalize("NFD", name)) == "nguyen thi huong do"
