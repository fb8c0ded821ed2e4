import sys
import types

import pytest
from django.utils import translation

from customers.fields import io_fields
from customers.models import TagGroup
from imports.mapping import (
    FIRST_NAME,
    LAST_NAME,
    Target,
    apply_template,
    auto_map,
    header_key,
    targets,
)
from tests.crm.factories import TenantFactory
from tests.customers.factories import TagGroupFactory


@pytest.fixture
def shop(lists, tenant):
    """A shop with its default lists (tag groups "Tính chất mua", "Loại hình", "Mặt hàng")."""
    return tenant


def group_key(tenant, name: str) -> str:
    return f"tags:{TagGroup.objects.for_tenant(tenant).get(name=name).pk}"


@pytest.mark.parametrize(("header", "key"), [
    ("Số điện thoại (*)", "so dien thoai"),
    ("  Tên   khách hàng ", "ten khach hang"),
    ("SĐT", "sdt"),
    ("E-mail", "e mail"),
    ("Tỉnh/TP", "tinh tp"),
    ("NGÀY SINH", "ngay sinh"),
    ("Nga\u0300y sinh", "ngay sinh"),  # NFD
    ("", ""),
    (None, ""),
    (15, "15"),
])
def test_header_key(header, key):
    assert header_key(header) == key


def test_targets_of_customers(shop):
    found = targets(shop, "customers")
    keys = [t.key for t in found]
    assert all(isinstance(t, Target) for t in found)
    for entry in io_fields(shop, importable=True):
        assert entry.key in keys
    assert "lifecycle" not in keys  # computed: export only
    assert keys.index(LAST_NAME) == keys.index("name") + 1
    assert keys.index(FIRST_NAME) == keys.index("name") + 2
    groups = TagGroup.objects.for_tenant(shop).order_by("position")
    tag_targets = [t for t in found if t.key.startswith("tags:")]
    assert [t.key for t in tag_targets] == [f"tags:{g.pk}" for g in groups]
    assert [t.label for t in tag_targets] == ["Tính chất mua", "Loại hình", "Mặt hàng"]
    assert len(set(keys)) == len(keys)


def test_targets_leave_out_other_shops_and_inactive_groups(shop, other_tenant):
    TagGroupFactory(tenant=other_tenant, name="Nhóm của shop khác")
    TagGroupFactory(tenant=shop, name="Ngừng dùng", is_active=False)
    labels = [t.label for t in targets(shop, "customers")]
    assert "Nhóm của shop khác" not in labels
    assert "Ngừng dùng" not in labels


def test_targets_of_orders_without_the_orders_engine(shop, monkeypatch):
    monkeypatch.setitem(sys.modules, "imports.orders_engine", None)  # import fails
    assert targets(shop, "orders") == []
    assert auto_map(shop, "orders", ["Mã đơn hàng"]) == [""]


def test_targets_of_orders_from_the_orders_engine(shop, monkeypatch):
    engine = types.ModuleType("imports.orders_engine")
    engine.ORDER_TARGETS = {
        "code": {"label": "Order code", "synonyms": ("Mã đơn hàng", "Mã đơn")},
        "total": types.SimpleNamespace(label="Total", synonyms=("Tổng tiền",), group=""),
        "paid": ("Paid", ("Đã trả", "Khách đã trả")),
    }
    monkeypatch.setitem(sys.modules, "imports.orders_engine", engine)
    assert [t.key for t in targets(shop, "orders")] == ["code", "total", "paid"]
    assert auto_map(shop, "orders", ["Mã đơn hàng", "Tổng tiền", "Khách đã trả", "Ghi chú"]) == [
        "code", "total", "paid", ""]


def test_targets_of_orders_as_a_list_of_tuples(shop, monkeypatch):
    engine = types.ModuleType("imports.orders_engine")
    engine.ORDER_TARGETS = [("code", "Order code", ("Mã đơn hàng",)),
                            ("note", "Note", ("Ghi chú",), "Other")]
    monkeypatch.setitem(sys.modules, "imports.orders_engine", engine)
    assert targets(shop, "orders") == [Target("code", "Order code"),
                                       Target("note", "Note", "Other")]


def test_auto_map_orders_with_the_real_orders_engine(shop):
    pytest.importorskip("imports.orders_engine")
    headers = ["Mã đơn hàng", "Ngày đặt hàng", "Tên khách hàng", "SĐT", "Tổng tiền",
               "Trạng thái", "Cột lạ"]
    assert auto_map(shop, "orders", headers) == [
        "code", "ordered_at", "customer_name", "phone", "total", "status", ""]


KIOTVIET = [
    ("Mã khách hàng", "code"),
    ("Tên khách hàng", "name"),
    ("Điện thoại", "phone"),
    ("Ngày sinh", "birthday"),
    ("Giới tính", "gender"),
    ("Email", "email"),
    ("Địa chỉ", "street"),
    ("Khu vực", "province"),
    ("Nhóm khách hàng", "tags"),
    ("Ghi chú", "note"),
    ("Mã số thuế", "tax_code"),
    ("Số CMND/CCCD", "national_id"),
    ("Tổng bán", ""),
    ("Người tạo", ""),
]
SAPO = [
    ("Họ", LAST_NAME),
    ("Tên", FIRST_NAME),
    ("Số điện thoại", "phone"),
    ("Sinh nhật", "birthday"),
    ("Tags", "tags"),
    ("Email", "email"),
]
SHOPIFY = [
    ("First Name", FIRST_NAME),
    ("Last Name", LAST_NAME),
    ("Email", "email"),
    ("Company", "company"),
    ("Phone", "phone"),
    ("Tags", "tags"),
    ("Birthday", "birthday"),
    ("Note", "note"),
    ("Total Spent", ""),
    ("Accepts Email Marketing", ""),  # holds "email", but Email is taken
]


@pytest.mark.parametrize("rows", [KIOTVIET, SAPO, SHOPIFY], ids=["kiotviet", "sapo", "shopify"])
def test_auto_map_other_systems(shop, rows):
    headers = [header for header, _key in rows]
    assert auto_map(shop, "customers", headers) == [key for _header, key in rows]


@pytest.mark.parametrize(("header", "key"), [
    # Synonyms, any case, any accents.
    ("Họ tên", "name"), ("Họ và tên", "name"), ("HỌ VÀ TÊN", "name"), ("ho va ten", "name"),
    ("Tên", "name"),  # alone (no family-name column): the whole name
    ("SĐT", "phone"), ("SDT", "phone"), ("Di động", "phone"), ("Số điện thoại (*)", "phone"),
    ("Mobile", "phone"),
    ("Ngày sinh", "birthday"), ("Sinh nhật", "birthday"), ("Birthday", "birthday"),
    ("Date of birth", "birthday"),
    ("Thẻ", "tags"), ("Nhóm khách hàng", "tags"), ("Tags", "tags"),
    ("Giới tính", "gender"), ("Gender", "gender"),
    ("Tỉnh/Thành phố", "province"), ("Tỉnh thành", "province"),
    ("Nguồn", "source"), ("Nguồn khách", "source"),
    ("Trạng thái chăm sóc", "care_status"), ("Nhân viên phụ trách", "staff"),
    ("NV phụ trách", "staff"), ("CTV", "collaborator"), ("MST", "tax_code"),
    ("CCCD", "national_id"), ("Ghi chú khách hàng", "note"),
    # The label in English (an export made in English comes back).
    ("Customer name", "name"), ("Staff in charge", "staff"),
    # Containing a synonym as whole words; "khách hàng" set aside.
    ("Email khách hàng", "email"),
    ("Điện thoại khách hàng", "phone"),
    ("Điện thoại 2", "phone"),
    ("SĐT liên hệ", "phone"),
    ("Ngày sinh (dd/mm/yyyy)", "birthday"),
    ("Địa chỉ email", "email"),
    ("Mã số thuế công ty", "tax_code"),  # the longest words win over "công ty"
    ("Tên khách hàng VIP", "name"),
    ("Customer email address", "email"),
    # Not a customer field.
    ("Mã đơn hàng", ""),  # "Mã" alone never matches inside a longer header
    ("Hộ kinh doanh", ""),  # nor does "Họ"
    ("Số lượng", ""),
    ("", ""),
])
def test_auto_map_one_header(shop, header, key):
    assert auto_map(shop, "customers", [header]) == [key]


def test_auto_map_the_tag_groups_of_the_shop(shop):
    headers = ["Tên khách hàng", "Tính chất mua", "LOẠI HÌNH", "Mặt hàng quan tâm", "Thẻ"]
    assert auto_map(shop, "customers", headers) == [
        "name", group_key(shop, "Tính chất mua"), group_key(shop, "Loại hình"),
        group_key(shop, "Mặt hàng"), "tags"]


def test_a_tag_group_name_wins_over_a_field_synonym(shop):
    TagGroupFactory(tenant=shop, name="Khu vực")
    assert auto_map(shop, "customers", ["Khu vực", "Tỉnh"]) == [
        group_key(shop, "Khu vực"), "province"]


def test_no_target_twice_first_column_wins(shop):
    headers = ["Điện thoại", "SĐT", "Email", "E-mail", "Tên khách hàng", "Họ tên"]
    assert auto_map(shop, "customers", headers) == ["phone", "", "email", "", "name", ""]


def test_an_equal_header_beats_a_containing_one(shop):
    # "Điện thoại cố định" only contains "điện thoại": the later "SĐT" is the phone.
    assert auto_map(shop, "customers", ["Điện thoại cố định", "SĐT"]) == ["", "phone"]
    assert auto_map(shop, "customers", ["SĐT", "Điện thoại cố định"]) == ["phone", ""]


def test_given_name_only_next_to_a_family_name(shop):
    assert auto_map(shop, "customers", ["Tên", "Điện thoại"]) == ["name", "phone"]
    assert auto_map(shop, "customers", ["Họ", "Tên"]) == [LAST_NAME, FIRST_NAME]
    assert auto_map(shop, "customers", ["Họ và tên đệm", "Tên"]) == [LAST_NAME, FIRST_NAME]
    assert auto_map(shop, "customers", ["Tên", "Surname"]) == [FIRST_NAME, LAST_NAME]
    assert auto_map(shop, "customers", ["Given name", "Family name"]) == [FIRST_NAME, LAST_NAME]


def test_labels_match_in_both_languages_whatever_the_active_one(shop):
    headers = ["Nhân viên phụ trách", "Care status", "Số nhà, đường"]
    for language in ("vi", "en"):
        with translation.override(language):
            assert auto_map(shop, "customers", headers) == ["staff", "care_status", "street"]


def test_another_shops_tag_group_is_not_matched(shop):
    other = TenantFactory(name="Shop C", slug="shop-c")
    TagGroupFactory(tenant=other, name="Sở thích riêng")
    assert auto_map(shop, "customers", ["Sở thích riêng"]) == [""]


def test_apply_template():
    template = {"so dien thoai": "phone", "ho ten": "name", "ghi chu": "", "nhom": "tags:7"}
    headers = ["Họ tên", "Số điện thoại (*)", "Ghi chú", "Cột lạ", "SỐ ĐIỆN THOẠI", "Nhóm"]
    assert apply_template(template, headers) == ["name", "phone", "", "", "", "tags:7"]


def test_a_template_round_trips_through_header_key(shop):
    headers = [h for h, _key in KIOTVIET]
    mapping = auto_map(shop, "customers", headers)
    template = {header_key(h): key for h, key in zip(headers, mapping, strict=True)}
    assert apply_template(template, [h.upper() for h in headers]) == mapping
