import socket
from collections import Counter

import pytest
from vietnam_provinces import Province

from customers.normalize import fold
from imports import provinces
from imports.provinces import province_of

NEW = {int(p.code): p.name for p in Province.iter_all()}
CODE = {fold(name.removeprefix("Thành phố ")): code for code, name in NEW.items()}


def code_of(name: str) -> int:
    return CODE[fold(name)]


# Resolution 202/2025/QH15: each new province and the old ones it was made of.
MERGED = {
    "Tuyên Quang": ["Tuyên Quang", "Hà Giang"],
    "Lào Cai": ["Lào Cai", "Yên Bái"],
    "Thái Nguyên": ["Thái Nguyên", "Bắc Kạn"],
    "Phú Thọ": ["Phú Thọ", "Vĩnh Phúc", "Hòa Bình"],
    "Bắc Ninh": ["Bắc Ninh", "Bắc Giang"],
    "Hưng Yên": ["Hưng Yên", "Thái Bình"],
    "Hải Phòng": ["Hải Phòng", "Hải Dương"],
    "Ninh Bình": ["Ninh Bình", "Hà Nam", "Nam Định"],
    "Quảng Trị": ["Quảng Trị", "Quảng Bình"],
    "Đà Nẵng": ["Đà Nẵng", "Quảng Nam"],
    "Quảng Ngãi": ["Quảng Ngãi", "Kon Tum"],
    "Gia Lai": ["Gia Lai", "Bình Định"],
    "Khánh Hòa": ["Khánh Hòa", "Ninh Thuận"],
    "Lâm Đồng": ["Lâm Đồng", "Đắk Nông", "Bình Thuận"],
    "Đắk Lắk": ["Đắk Lắk", "Phú Yên"],
    "Hồ Chí Minh": ["Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"],
    "Đồng Nai": ["Đồng Nai", "Bình Phước"],
    "Tây Ninh": ["Tây Ninh", "Long An"],
    "Cần Thơ": ["Cần Thơ", "Sóc Trăng", "Hậu Giang"],
    "Vĩnh Long": ["Vĩnh Long", "Bến Tre", "Trà Vinh"],
    "Đồng Tháp": ["Đồng Tháp", "Tiền Giang"],
    "Cà Mau": ["Cà Mau", "Bạc Liêu"],
    "An Giang": ["An Giang", "Kiên Giang"],
}
UNCHANGED = ["Hà Nội", "Cao Bằng", "Điện Biên", "Lai Châu", "Sơn La", "Lạng Sơn", "Quảng Ninh",
             "Thanh Hóa", "Nghệ An", "Hà Tĩnh"]


def test_the_table_holds_the_63_old_provinces():
    old = provinces.load()["old_provinces"]
    assert len(old) == 63
    assert len({fold(name) for name in old}) == 63


def test_every_new_code_exists_in_vietnam_provinces():
    data = provinces.load()
    assert set(data["old_provinces"].values()) == set(NEW)  # all 34, nothing else
    assert len(NEW) == 34


def test_the_table_follows_the_resolution():
    old = {fold(name): code for name, code in provinces.load()["old_provinces"].items()}
    for new_name, parts in MERGED.items():
        for part in parts:
            assert old[fold(part)] == code_of(new_name), part
    for name in UNCHANGED:
        assert old[fold(name)] == code_of(name)
    assert old[fold("Thừa Thiên Huế")] == code_of("Huế")
    # 23 merged provinces + 11 unchanged (Huế included) = 34; 52 + 11 = 63 old names.
    assert sum(len(parts) for parts in MERGED.values()) + len(UNCHANGED) + 1 == 63
    assert Counter(old.values())[code_of("Hồ Chí Minh")] == 3


def test_every_alias_names_a_province():
    data = provinces.load()
    names = {fold(n) for n in data["old_provinces"]} | set(CODE)
    for alias, name in data["aliases"].items():
        assert fold(name) in names, alias


@pytest.mark.parametrize(("text", "found"), [
    # Old names: their 2025 province, and "was an old name".
    ("Hà Giang", (8, True)),
    ("Tỉnh Hà Giang", (8, True)),
    ("Yên Bái", (code_of("Lào Cai"), True)),
    ("Bình Dương", (79, True)),
    ("T. Bình Dương", (79, True)),
    ("Bà Rịa - Vũng Tàu", (79, True)),
    ("Bà Rịa–Vũng Tàu", (79, True)),
    ("Bà Rịa-Vũng Tàu", (79, True)),
    ("BR-VT", (79, True)),
    ("BRVT", (79, True)),
    ("Vũng Tàu", (79, True)),
    ("Thừa Thiên Huế", (46, True)),
    ("Thừa Thiên - Huế", (46, True)),
    ("TT Huế", (46, True)),
    ("Quảng Nam", (48, True)),
    ("Dak Nong", (code_of("Lâm Đồng"), True)),
    ("Đăk Nông", (code_of("Lâm Đồng"), True)),
    ("Hoà Bình", (code_of("Phú Thọ"), True)),  # old accent placement
    ("Tiền Giang", (code_of("Đồng Tháp"), True)),
    ("Bắc Cạn", (code_of("Thái Nguyên"), True)),
    ("Kontum", (code_of("Quảng Ngãi"), True)),
    # New (or unchanged) names.
    ("Tuyên Quang", (8, False)),
    ("Hà Nội", (1, False)),
    ("Thành phố Hà Nội", (1, False)),
    ("TP Hà Nội", (1, False)),
    ("HN", (1, False)),
    ("Ha Noi", (1, False)),
    ("Hanoi", (1, False)),
    ("TP. Hồ Chí Minh", (79, False)),
    ("TP.HCM", (79, False)),
    ("TP HCM", (79, False)),
    ("TPHCM", (79, False)),
    ("tp hcm", (79, False)),
    ("HCM", (79, False)),
    ("Sài Gòn", (79, False)),
    ("Ho Chi Minh City", (79, False)),
    ("Huế", (46, False)),
    ("Thành phố Huế", (46, False)),
    ("Đắk Lắk", (66, False)),
    ("Dak Lak", (66, False)),
    ("DAKLAK", (66, False)),
    ("Đắc Lắc", (66, False)),
    ("Thanh Hoá", (38, False)),
    ("Tp Cần Thơ", (92, False)),
    (" Khánh  Hòa ", (56, False)),
    ("Khánh Hòa\u200b", (56, False)),
    # A cell holding more than the province: read part by part.
    ("Quận 1, TP HCM", (79, False)),
    ("Hà Nội - Quận Ba Đình", (1, False)),
    ("Thuận An, Bình Dương", (79, True)),
    ("TP Bà Rịa, Bà Rịa - Vũng Tàu", (79, True)),
    # No province.
    ("Hà Nội, TP HCM", (None, False)),  # two provinces: not guessed
    ("abc", (None, False)),
    ("Quận 1", (None, False)),
    ("Việt Nam", (None, False)),
    ("", (None, False)),
    (None, (None, False)),
    (79, (None, False)),  # a number is no name: old and new codes differ
])
def test_province_of(text, found):
    assert province_of(text) == found


@pytest.mark.parametrize("name", sorted(NEW.values()))
def test_every_new_name_is_found(name):
    assert province_of(name) == (int(next(c for c, n in NEW.items() if n == name)), False)


@pytest.mark.parametrize("name", sorted(provinces.load()["old_provinces"]))
def test_every_old_name_is_found(name):
    code, was_old = province_of(name)
    assert code == provinces.load()["old_provinces"][name]
    assert was_old is (fold(name) not in CODE)


def test_never_reaches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    provinces.load.cache_clear()
    provinces._table.cache_clear()
    provinces._province_of.cache_clear()
    assert province_of("Hà Giang") == (8, True)
