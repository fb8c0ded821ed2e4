"""The customer importer's rules: parse, in-file duplicates, matching, upsert, modes."""

from types import SimpleNamespace

import pytest

from crm.access import AccessDenied
from crm.models import AuditLog, TenantSequence
from customers.models import Customer, CustomerPhone, CustomerTag, Source, Tag
from customers.signals import customers_bulk_changed
from imports import engine
from imports.engine import CancelledError, Options
from imports.models import DuplicateRule, EmptyCells, ImportMode, MatchMode
from tests.customers.factories import CustomerFactory, TagGroupFactory

pytestmark = pytest.mark.django_db

HEADERS = ["Tên khách hàng", "Điện thoại", "Email", "Ngày sinh", "Giới tính", "Công ty"]
MAPPING = ["name", "phone", "email", "birthday", "gender", "company"]


def sheet(headers, *rows, first=2):
    return SimpleNamespace(headers=list(headers),
                           rows=[(first + i, list(r)) for i, r in enumerate(rows)])


def run(tenant, actor, data, mapping=MAPPING, dry_run=False, **options):
    return engine.run(tenant, actor, data, mapping, Options(**options), dry_run=dry_run)


ROWS = [
    ["Nguyễn Thị Lan", "0912.345.678", "Lan@Example.com", "15/08/1990", "Nữ", ""],
    ["Trần Văn Bình", "+84 987 654 321", "", "03/02/1985", "nam", "Cty Mộc"],
    ["Lê  Hoa", "0909 111 222 / 0909 333 444", "", "15/08", "", ""],
]


@pytest.fixture
def shop(tenant, lists):
    return tenant


def test_creates_customers_with_contacts_and_the_excel_source(shop, manager):
    summary = run(shop, manager, sheet(HEADERS, *ROWS))
    assert summary.written
    assert (summary.created, summary.updated, summary.unchanged, summary.rejected) == (3, 0, 0, 0)
    lan = Customer.objects.for_tenant(shop).get(full_name="Nguyễn Thị Lan")
    assert (lan.phone_normalized, lan.email, lan.gender) == ("+84912345678", "lan@example.com",
                                                             "female")
    assert (lan.birth_day, lan.birth_month, lan.birth_year) == (15, 8, 1990)
    assert lan.source.code == "excel"
    hoa = Customer.objects.for_tenant(shop).get(full_name="Lê Hoa")
    assert sorted(CustomerPhone.objects.filter(customer=hoa).values_list(
        "normalized", "is_primary")) == [("+84909111222", True), ("+84909333444", False)]
    assert (hoa.birth_day, hoa.birth_month, hoa.birth_year) == (15, 8, None)
    assert hoa.phone_normalized == "+84909111222"


def test_the_same_file_twice_creates_nothing_new(shop, manager):
    run(shop, manager, sheet(HEADERS, *ROWS))
    again = run(shop, manager, sheet(HEADERS, *ROWS))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Customer.objects.for_tenant(shop).count() == 3


def test_a_changed_row_updates_its_customer_and_keeps_history(shop, manager):
    run(shop, manager, sheet(HEADERS, *ROWS))
    changed = [list(r) for r in ROWS]
    changed[1][5] = "Công ty Trà Mộc"
    summary = run(shop, manager, sheet(HEADERS, *changed))
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 2)
    binh = Customer.objects.for_tenant(shop).get(phone_normalized="+84987654321")
    assert binh.company == "Công ty Trà Mộc"
    log = AuditLog.objects.get(action="customer.import_update", object_id=binh.pk)
    assert (log.before, log.after) == ({"company": "Cty Mộc"}, {"company": "Công ty Trà Mộc"})


def test_rows_of_one_person_are_merged(shop, manager):
    rows = [["Phạm Mai", "0912000001", "", "", "", ""],
            ["Phạm Thị Mai", "0912 000 001", "mai@example.com", "", "nữ", ""]]
    summary = run(shop, manager, sheet(HEADERS, *rows), duplicates=DuplicateRule.MERGE)
    assert summary.duplicates == [[2, 3]]
    assert summary.created == 1
    mai = Customer.objects.for_tenant(shop).get()
    assert (mai.full_name, mai.email, mai.gender) == ("Phạm Mai", "mai@example.com", "female")


def test_duplicate_rule_last_keeps_the_last_row(shop, manager):
    rows = [["Phạm Mai", "0912000001", "", "", "", ""],
            ["Phạm Thị Mai", "0912000001", "", "", "", ""]]
    run(shop, manager, sheet(HEADERS, *rows), duplicates=DuplicateRule.LAST)
    assert Customer.objects.for_tenant(shop).get().full_name == "Phạm Thị Mai"


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(shop, manager):
    rows = [*ROWS, ["Hồ Văn Nam", "0912 345", "", "31/02/1990", "", ""]]
    summary = run(shop, manager, sheet(HEADERS, *rows))
    assert not summary.written
    assert Customer.objects.for_tenant(shop).count() == 0
    messages = {(e.row, e.column) for e in summary.errors}
    assert messages == {(5, "Điện thoại"), (5, "Ngày sinh")}
    assert any("31/02/1990" in e.message for e in summary.errors)


def test_skip_invalid_writes_exactly_the_valid_rows(shop, manager):
    rows = [*ROWS, ["Hồ Văn Nam", "12", "", "", "", ""]]
    summary = run(shop, manager, sheet(HEADERS, *rows), mode=ImportMode.SKIP_INVALID)
    assert summary.written and summary.rejected == 1 and summary.created == 3
    assert sorted(Customer.objects.for_tenant(shop).values_list("full_name", flat=True)) == [
        "Lê Hoa", "Nguyễn Thị Lan", "Trần Văn Bình"]


def test_dry_run_counts_without_writing(shop, manager):
    summary = run(shop, manager, sheet(HEADERS, *ROWS), dry_run=True)
    assert summary.created == 3 and not summary.written
    assert Customer.objects.for_tenant(shop).count() == 0


def test_another_shops_customer_is_never_touched(shop, manager, other_tenant):
    theirs = CustomerFactory(tenant=other_tenant, full_name="Khách Shop B", phone="0912345678")
    summary = run(shop, manager, sheet(HEADERS, *ROWS))
    assert summary.created == 3
    theirs.refresh_from_db()
    assert theirs.full_name == "Khách Shop B" and theirs.email == ""
    assert Customer.objects.for_tenant(other_tenant).count() == 1


def test_match_by_code_then_phone_then_email(shop, manager):
    by_code = CustomerFactory(tenant=shop, full_name="Khách Một", phone="0911000001")
    by_email = CustomerFactory(tenant=shop, full_name="Khách Ba", phone="0911000003")
    by_email.email = "ba@example.com"
    by_email.save()
    from customers.models import CustomerEmail

    CustomerEmail.objects.create(tenant=shop, customer=by_email, email="ba@example.com",
                                 is_primary=True)
    headers = ["Mã KH", "Tên", "SĐT", "Email", "Công ty"]
    mapping = ["code", "name", "phone", "email", "company"]
    rows = [[by_code.code, "Khách Một", "", "", "A"],
            ["", "Khách Hai", "0911000001", "", "B"],  # the phone of Khách Một
            ["", "Khách Ba", "", "BA@example.com", "C"]]
    summary = run(shop, manager, sheet(headers, *rows), mapping=mapping,
                  duplicates=DuplicateRule.FIRST)
    # Rows 2 and 3 are the same person (the phone): kept the first.
    assert summary.duplicates == [[2, 3]]
    by_code.refresh_from_db()
    by_email.refresh_from_db()
    assert by_code.company == "A" and by_email.company == "C"
    assert summary.created == 0


def test_a_code_of_another_person_is_refused(shop, manager):
    someone = CustomerFactory(tenant=shop, full_name="Người Khác", phone="0911000009")
    rows = [[someone.code, "Tên Hoàn Toàn Khác", "", "", "X"]]
    summary = run(shop, manager, sheet(["Mã", "Tên", "SĐT", "Email", "Công ty"], *rows),
                  mapping=["code", "name", "phone", "email", "company"])
    assert summary.rejected == 1 and "Mã" == summary.errors[0].column
    someone.refresh_from_db()
    assert someone.company == ""


def test_codes_of_this_softwares_form_are_kept_and_never_reused(shop, manager):
    from customers.services import customer_create

    rows = [["KH000050", "Khách Năm Mươi", "0911000050", "", ""]]
    run(shop, manager, sheet(["Mã", "Tên", "SĐT", "Email", "Công ty"], *rows),
        mapping=["code", "name", "phone", "email", "company"])
    kept = Customer.objects.for_tenant(shop).get()
    assert (kept.code, kept.number) == ("KH000050", 50)
    assert TenantSequence.objects.get(tenant=shop, name="customer").last_value >= 50
    later = customer_create(tenant=shop, actor=manager,
                            data={"full_name": "Khách Sau", "phone": "0911000051"})
    assert later.number == 51


@pytest.mark.parametrize(("match", "created", "updated", "skipped"), [
    (MatchMode.BOTH, 1, 1, 0), (MatchMode.CREATE, 1, 0, 1), (MatchMode.UPDATE, 0, 1, 1)])
def test_match_modes(shop, manager, match, created, updated, skipped):
    CustomerFactory(tenant=shop, full_name="Đã Có", phone="0911000001")
    rows = [["Đã Có", "0911000001", "", "", "", "Công ty mới"],
            ["Chưa Có", "0911000002", "", "", "", ""]]
    summary = run(shop, manager, sheet(HEADERS, *rows), match=match)
    assert (summary.created, summary.updated, summary.skipped) == (created, updated, skipped)


@pytest.mark.parametrize(("empty", "company"), [(EmptyCells.IGNORE, "Cty cũ"),
                                                 (EmptyCells.CLEAR, "")])
def test_empty_cells_clear_or_keep(shop, manager, empty, company):
    CustomerFactory(tenant=shop, full_name="Đã Có", phone="0911000001", company="Cty cũ")
    run(shop, manager, sheet(HEADERS, ["Đã Có", "0911000001", "", "", "", ""]), empty=empty)
    assert Customer.objects.for_tenant(shop).get().company == company


def test_tags_found_by_name_created_when_new_and_per_tag_group(shop, manager):
    single = TagGroupFactory(tenant=shop, name="Hạng khách", multiple=False)
    gold = Tag.objects.create(tenant=shop, group=single, name="Vàng")
    Tag.objects.create(tenant=shop, group=single, name="Bạc")
    headers = ["Tên", "SĐT", "Nhóm khách hàng", "Hạng khách"]
    mapping = ["name", "phone", "tags", f"tags:{single.pk}"]
    summary = run(shop, manager, sheet(headers, ["An", "0911000001", "Sỉ; Khách quen|Lẻ", "Bạc"]),
                  mapping=mapping)
    assert summary.new_tags == ["Khách quen"]
    an = Customer.objects.for_tenant(shop).get()
    assert sorted(an.tags.values_list("name", flat=True)) == ["Bạc", "Khách quen", "Lẻ", "Sỉ"]
    # A single-choice group holds one tag: the file's replaces the held one.
    run(shop, manager, sheet(headers, ["An", "0911000001", "", "Vàng"]), mapping=mapping)
    assert set(CustomerTag.objects.filter(customer=an, tag__group=single)
               .values_list("tag", flat=True)) == {gold.pk}


def test_a_new_customers_tags_are_written_once_and_one_per_single_choice_group(shop, manager):
    """A new customer's tags are sent at once (no tag held yet): a tag named twice is one
    link, and a single-choice group keeps the row's last tag."""
    single = TagGroupFactory(tenant=shop, name="Hạng khách", multiple=False)
    Tag.objects.create(tenant=shop, group=single, name="Vàng")
    silver = Tag.objects.create(tenant=shop, group=single, name="Bạc")
    headers = ["Tên", "SĐT", "Nhóm khách hàng", "Nhóm 2", "Hạng khách"]
    mapping = ["name", "phone", "tags", "tags", f"tags:{single.pk}"]
    summary = run(shop, manager, sheet(headers, ["An", "0911000001", "Sỉ; sỉ|Lẻ", "Sỉ",
                                                 "Vàng, Bạc"]), mapping=mapping)
    assert summary.created == 1
    an = Customer.objects.for_tenant(shop).get()
    assert sorted(CustomerTag.objects.filter(customer=an).values_list("tag__name", flat=True)) \
        == ["Bạc", "Lẻ", "Sỉ"]
    assert CustomerTag.objects.get(customer=an, tag__group=single).tag == silver


def test_a_matched_customer_gets_a_source_and_a_care_status_the_shop_does_not_have_yet(
        shop, manager):
    """The preview lists them as new, the run creates them and sets them on the customer
    it updates (the comparison met them before they existed)."""
    headers = ["Tên", "SĐT", "Nguồn", "Trạng thái chăm sóc"]
    mapping = ["name", "phone", "source", "care_status"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "", ""]), mapping=mapping)
    row = ["An", "0911000001", "Hội chợ Tết", "Hẹn gọi lại"]
    preview = run(shop, manager, sheet(headers, row), mapping=mapping, dry_run=True)
    assert (preview.updated, preview.rejected, preview.new_sources) == (1, 0, ["Hội chợ Tết"])
    summary = run(shop, manager, sheet(headers, row), mapping=mapping)
    assert summary.updated == 1 and summary.written
    an = Customer.objects.for_tenant(shop).select_related("source", "care_status").get()
    assert (an.source.name, an.care_status.name) == ("Hội chợ Tết", "Hẹn gọi lại")


def test_old_province_names_map_to_2025_and_keep_the_text(shop, manager):
    headers = ["Tên", "SĐT", "Tỉnh/Thành phố"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "Bình Dương"]),
        mapping=["name", "phone", "province"])
    an = Customer.objects.for_tenant(shop).get()
    assert an.province_name == "Thành phố Hồ Chí Minh"
    assert an.legacy_address == "Bình Dương"


def test_cancel_rolls_back_everything(shop, manager):
    stops = iter([False, True])
    with pytest.raises(CancelledError):
        engine.run(shop, manager, sheet(HEADERS, *ROWS), MAPPING, Options(), dry_run=False,
                   should_stop=lambda: next(stops, True))
    assert Customer.objects.for_tenant(shop).count() == 0
    assert not Source.objects.for_tenant(shop).filter(name="Khách quen").exists()


def test_staff_may_not_import(shop, staff):
    with pytest.raises(AccessDenied):
        run(shop, staff, sheet(HEADERS, *ROWS))
    assert Customer.objects.for_tenant(shop).count() == 0


def test_an_import_tells_the_groups(shop, manager):
    heard = []

    def listener(sender, tenant, reason, **kwargs):
        heard.append((tenant.pk, reason))

    customers_bulk_changed.connect(listener)
    try:
        run(shop, manager, sheet(HEADERS, *ROWS))
    finally:
        customers_bulk_changed.disconnect(listener)
    assert heard == [(shop.pk, "import")]


def test_hostile_text_is_kept_as_text(shop, manager):
    rows = [["=HYPERLINK(\"http://x\")", "0911000001", "", "", "", "<b>Cty</b>"],
            ["Trần\u202eAn\u200b", "0911000002", "", "", "", ""]]
    summary = run(shop, manager, sheet(HEADERS, *rows))
    assert summary.created == 2
    names = set(Customer.objects.for_tenant(shop).values_list("full_name", flat=True))
    assert names == {"=HYPERLINK(\"http://x\")", "TrầnAn"}
    assert Customer.objects.for_tenant(shop).filter(company="<b>Cty</b>").exists()


@pytest.mark.parametrize("blank", ["", " ", "\u00a0", "\u200b\u200b", "\ufeff \t", "\u3000"])
def test_a_blank_looking_cell_is_an_empty_cell(shop, manager, blank):
    """A cell beginning with a visible character is read at once; any other cell is
    tested as a whole: spaces, no-break spaces and invisible characters only are empty
    (a company left empty, not an error), and text after them is read."""
    rows = [["An", "0911000001", blank, "", blank, blank],
            ["Bình", "0911000002", "", blank, "", "\u00a0\u200bCty Mộc"]]
    summary = run(shop, manager, sheet(HEADERS, *rows))
    assert (summary.created, summary.rejected) == (2, 0)
    assert dict(Customer.objects.for_tenant(shop).values_list("full_name", "company")) == {
        "An": "", "Bình": "Cty Mộc"}


@pytest.mark.parametrize("helper_fails", [False, True])
def test_a_large_file_parsed_in_two_processes_gives_the_same_records_and_errors(
        shop, manager, monkeypatch, helper_fails):
    """The second process takes the last part of the rows; its records and errors come
    after the first part's, as if one process had read them all. If it fails, the first
    process reads its part too."""
    from imports import parallel

    rows = [[f"Khách {i}", f"09110{i:05d}", "", "31/02/1990" if i % 7 == 3 else "", "", ""]
            for i in range(40)]
    data = sheet(HEADERS, *rows)
    one = engine.Parser(data.headers, MAPPING, Options(), engine.Resolver(shop))
    errors_one = []
    expected = engine.parse_rows(one, data.rows, errors_one, lambda *a: None, lambda: False)

    monkeypatch.setattr(engine, "PARALLEL_MIN_ROWS", 10)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    started = []
    real_start = parallel.Helper.start

    def broken(items):
        raise RuntimeError("the second process dies")

    def start(work, items):
        started.append(len(items))
        return real_start(broken if helper_fails else work, items)

    monkeypatch.setattr(parallel.Helper, "start", start)
    two = engine.Parser(data.headers, MAPPING, Options(), engine.Resolver(shop))
    errors_two = []
    records = engine.parse_rows(two, data.rows, errors_two, lambda *a: None, lambda: False)
    assert started == [16]  # the last 40 % of the rows
    assert [(r.row, r.data, r.phones) for r in records] == [
        (r.row, r.data, r.phones) for r in expected]
    assert [e.text() for e in errors_two] == [e.text() for e in errors_one]
    assert len(records) == 34 and len(errors_two) == 6


def test_an_over_long_cell_refuses_its_row(shop, manager, settings):
    settings.IMPORT_MAX_CELL_CHARS = 50
    summary = run(shop, manager, sheet(HEADERS, ["A" * 51, "0911000001", "", "", "", ""]),
                  mode=ImportMode.SKIP_INVALID)
    assert summary.rejected == 1 and summary.errors[0].column == "Tên khách hàng"


def test_points_column_sets_the_opening_balance_once(shop, manager):
    from loyalty.models import LoyaltyAccount, PointEntry
    from tests.loyalty.factories import program_on

    program_on(shop)
    headers, mapping = ["Tên", "SĐT", "Điểm"], ["name", "phone", "points"]
    rows = [["An", "0911000001", "1.200"], ["Bình", "0911000002", "0"]]
    summary = run(shop, manager, sheet(headers, *rows), mapping=mapping)
    assert summary.created == 2
    an = Customer.objects.for_tenant(shop).get(full_name="An")
    assert LoyaltyAccount.objects.get(customer=an).balance == 1200
    entry = PointEntry.objects.get(customer=an)
    assert (entry.kind, entry.delta, entry.lifetime_delta) == ("manual", 1200, 1200)
    again = run(shop, manager, sheet(headers, *rows), mapping=mapping)
    assert again.unchanged == 2
    assert PointEntry.objects.filter(tenant=shop).count() == 1


def test_the_files_creation_date_is_kept(shop, manager):
    headers, mapping = ["Tên", "SĐT", "Ngày tạo"], ["name", "phone", "created"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "05/03/2021"]), mapping=mapping)
    an = Customer.objects.for_tenant(shop).get()
    from django.utils import timezone

    assert timezone.localdate(an.created_at).isoformat() == "2021-03-05"


def test_an_empty_tag_cell_clears_the_tags_only_when_asked(shop, manager):
    headers, mapping = ["Tên", "SĐT", "Thẻ"], ["name", "phone", "tags"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "Sỉ"]), mapping=mapping)
    an = Customer.objects.for_tenant(shop).get()
    run(shop, manager, sheet(headers, ["An", "0911000001", ""]), mapping=mapping)
    assert list(an.tags.values_list("name", flat=True)) == ["Sỉ"]
    summary = run(shop, manager, sheet(headers, ["An", "0911000001", ""]), mapping=mapping,
                  empty=EmptyCells.CLEAR)
    assert summary.updated == 1
    assert not an.tags.exists()


def test_a_birthday_without_its_year_keeps_the_stored_year(shop, manager):
    run(shop, manager, sheet(HEADERS, ["An", "0911000001", "", "15/08/1990", "", ""]))
    again = run(shop, manager, sheet(HEADERS, ["An", "0911000001", "", "15/08", "", ""]))
    assert again.unchanged == 1
    assert Customer.objects.for_tenant(shop).get().birth_year == 1990


def test_a_code_the_shop_issued_before_is_never_given_again(shop, manager):
    from crm.models import TenantSequence

    TenantSequence.objects.create(tenant=shop, name="customer", last_value=80)
    rows = [["KH000050", "Khách Cũ", "0911000050", "", ""],
            ["KH000090", "Khách Mới", "0911000090", "", ""]]
    run(shop, manager, sheet(["Mã", "Tên", "SĐT", "Email", "Công ty"], *rows),
        mapping=["code", "name", "phone", "email", "company"])
    codes = dict(Customer.objects.for_tenant(shop).values_list("full_name", "code"))
    assert codes == {"Khách Mới": "KH000090", "Khách Cũ": "KH000091"}


def test_an_empty_province_with_clear_keeps_the_old_address_column(shop, manager):
    headers = ["Tên", "SĐT", "Tỉnh", "Địa chỉ cũ"]
    mapping = ["name", "phone", "province", "legacy_address"]
    run(shop, manager, sheet(headers, ["An", "0911000001", "Hà Nội", ""]), mapping=mapping)
    run(shop, manager, sheet(headers, ["An", "0911000001", "", "Quận Ba Đình"]),
        mapping=mapping, empty=EmptyCells.CLEAR)
    an = Customer.objects.for_tenant(shop).get()
    assert (an.province_code, an.legacy_address) == (None, "Quận Ba Đình")


def test_a_repeated_bad_cell_is_refused_on_each_of_its_rows(shop, manager):
    # Cells that repeat are read once per column: the message still goes to every row.
    rows = [["An", "0911000001", "", "31/02/1990", "nữ", ""],
            ["Bình", "0911000002", "", "31/02/1990", "Nữ", ""],
            ["Chi", "0911000003", "", "15/08/1990", "không biết", ""],
            ["Dũng", "0911000004", "", "15/08/1990", "không biết", ""]]
    summary = run(shop, manager, sheet(HEADERS, *rows), dry_run=True,
                  mode=ImportMode.SKIP_INVALID)
    assert [(e.row, e.column) for e in summary.errors] == [
        (2, "Ngày sinh"), (3, "Ngày sinh"), (4, "Giới tính"), (5, "Giới tính")]
    assert summary.errors[0].text() == summary.errors[1].text().replace("Dòng 3", "Dòng 2")


def test_equal_cells_of_different_kinds_are_read_apart(shop, manager):
    # 1 == 1.0 == True in Python: the memo of a column keys them by kind too.
    headers, mapping = ["Tên", "Ngày tạo"], ["name", "created"]
    rows = [["An", 45000], ["Bình", 45000.0], ["Chi", True]]
    summary = run(shop, manager, sheet(headers, *rows), mapping=mapping,
                  mode=ImportMode.SKIP_INVALID)
    assert summary.created == 2 and [e.row for e in summary.errors] == [4]
    created = set(Customer.objects.for_tenant(shop).values_list("created_at__date", flat=True))
    assert {d.isoformat() for d in created} == {"2023-03-15"}


def test_a_new_shops_first_import_looks_nobody_up(shop, manager, django_assert_num_queries):
    parsed = engine.Parser(HEADERS, MAPPING, Options(), engine.Resolver(shop))
    records = [parsed.parse(i, row, []) for i, row in enumerate(ROWS, 2)]
    with django_assert_num_queries(1):  # is the shop empty?
        matcher = engine.Matcher(shop, records)
    assert matcher.empty
    CustomerFactory(tenant=shop, full_name="Nguyễn Thị Lan", phone="0912345678")
    matcher = engine.Matcher(shop, records)
    matcher.match(records[0], [], {})
    assert records[0].customer_id is not None


@pytest.mark.parametrize("codes", [
    ["KH000001", 'A"B', "C\\D", "E,F", "{G}", "NULL", " H ", "Ý Ơ", "I\\\"J"],
])
def test_set_lookups_find_every_key_however_written(shop, codes):
    """The keys of a lookup go to PostgreSQL as one array text: quotes, backslashes,
    commas, braces, spaces and the word NULL are plain characters of a key."""
    wanted = {CustomerFactory(tenant=shop, code=code).pk: code for code in codes}
    CustomerFactory(tenant=shop, code="KH999999")
    found = {}
    for part in engine._among(Customer.objects.for_tenant(shop), "code", codes + ["X,Y"]):
        found.update(part.values_list("id", "code"))
    assert found == wanted
    ids = sorted(wanted)
    by_id = set()
    for part in engine._among(Customer.objects.for_tenant(shop), "id", ids):
        by_id.update(part.values_list("id", flat=True))
    assert by_id == set(ids)
    assert engine.array_text([3, 1]) == "{3,1}"
    assert engine.array_text(['a"b', "c\\d"]) == '{"a\\"b","c\\\\d"}'
