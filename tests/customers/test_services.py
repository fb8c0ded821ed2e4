import pytest
from django.core.exceptions import ValidationError

from crm.access import SYSTEM
from crm.models import AuditLog, Role
from customers import services
from customers.models import Customer, CustomerEmail, CustomerPhone, CustomerTag, TagGroup
from tests.crm.factories import MembershipFactory
from tests.customers.factories import CustomerFactory, TagFactory, TagGroupFactory

pytestmark = pytest.mark.django_db


def create(tenant, actor=SYSTEM, **data):
    data.setdefault("full_name", "Nguyễn Văn Đức")
    return services.customer_create(tenant=tenant, actor=actor, data=data)


def test_create_assigns_sequential_codes_per_shop(tenant, other_tenant):
    a1 = create(tenant, phone="0912000001")
    a2 = create(tenant, phone="0912000002")
    b1 = create(other_tenant, phone="0912000001")
    assert (a1.code, a2.code, b1.code) == ("KH000001", "KH000002", "KH000001")
    assert a1.search_name == "nguyen van duc"


def test_codes_are_never_reused(tenant):
    first = create(tenant, phone="0912000001")
    first.delete()
    assert create(tenant, phone="0912000002").code == "KH000002"


def test_create_stores_phones_normalized_and_emails_casefolded(tenant, manager):
    c = create(tenant, manager, phone="0912 345 678", extra_phones=["01629123456"],
               email="Lan.Nguyen@Gmail.com", extra_emails=["lan@example.com"])
    assert c.phone == "0912 345 678" and c.phone_normalized == "+84912345678"
    assert c.email == "lan.nguyen@gmail.com"
    phones = dict(CustomerPhone.objects.filter(customer=c).values_list("normalized", "is_primary"))
    assert phones == {"+84912345678": True, "+84329123456": False}
    assert CustomerPhone.objects.get(normalized="+84912345678").reversed_digits == "87654321948"
    assert set(CustomerEmail.objects.filter(customer=c).values_list("email", flat=True)) == {
        "lan.nguyen@gmail.com", "lan@example.com"}
    row = AuditLog.objects.get(action="customer.create")
    assert row.object_id == c.pk and row.actor == manager.user


def test_duplicate_phone_in_any_format_is_refused_naming_the_owner(tenant):
    owner = create(tenant, phone="0912345678")
    with pytest.raises(services.ContactConflictError) as err:
        create(tenant, full_name="Khác", phone="+84 912-345-678")
    assert err.value.customer == owner
    assert owner.code in err.value.messages[0]
    assert Customer.objects.count() == 1


def test_duplicate_extra_phone_and_email_refused(tenant):
    create(tenant, phone="0912345678", extra_phones=["0987654321"], email="a@b.vn")
    with pytest.raises(services.ContactConflictError):
        create(tenant, phone="0987 654 321")
    with pytest.raises(services.ContactConflictError) as err:
        create(tenant, phone="0900000000", email="A@B.VN")
    assert err.value.field == "email"


def test_same_phone_allowed_in_another_shop(tenant, other_tenant):
    create(tenant, phone="0912345678")
    assert create(other_tenant, phone="0912345678").pk


def test_bad_phone_lists_every_bad_value_and_writes_nothing(tenant):
    with pytest.raises(ValidationError) as err:
        create(tenant, phone="12ab", extra_phones=["0912345678", "999"])
    assert set(err.value.message_dict) == {"phone", "extra_phones"}
    assert Customer.objects.count() == 0


def test_related_objects_of_other_shop_are_refused(tenant, other_tenant):
    foreign_tag = TagFactory(tenant=other_tenant)
    with pytest.raises(ValidationError):
        create(tenant, phone="0912345678", tags=[foreign_tag])
    foreign_staff = MembershipFactory(tenant=other_tenant, role=Role.STAFF)
    with pytest.raises(ValidationError):
        create(tenant, phone="0912345678", assigned_staff=foreign_staff)
    assert Customer.objects.count() == 0


def test_collaborator_field_needs_collaborator_role(tenant, staff):
    with pytest.raises(ValidationError) as err:
        create(tenant, phone="0912345678", collaborator=staff)
    assert "collaborator" in err.value.message_dict


def test_single_choice_tag_group_allows_one_tag(tenant):
    group = TagGroupFactory(tenant=tenant, multiple=False, name="Hạng")
    a, b = TagFactory(tenant=tenant, group=group), TagFactory(tenant=tenant, group=group)
    with pytest.raises(ValidationError) as err:
        create(tenant, phone="0912345678", tags=[a, b])
    assert "Hạng" in err.value.messages[0]
    multi = TagGroupFactory(tenant=tenant, multiple=True)
    tags = TagFactory.create_batch(2, tenant=tenant, group=multi)
    c = create(tenant, phone="0912345678", tags=tags)
    assert c.tags.count() == 2


def test_ward_must_be_in_province(tenant):
    with pytest.raises(ValidationError) as err:
        create(tenant, phone="0912345678", province_code=79, ward_code=4)  # 4: Ba Đình, Hà Nội
    assert "ward_code" in err.value.message_dict
    assert create(tenant, phone="0912345678", province_code=1, ward_code=4).ward_name \
        == "Phường Ba Đình"


def test_lifecycle_purchased_cannot_be_set_by_hand(tenant):
    with pytest.raises(ValidationError):
        create(tenant, phone="0912345678", lifecycle_stage="vip")


def test_bulk_assign_staff_audits_each_changed_customer(tenant, manager, staff):
    customers = CustomerFactory.create_batch(3, tenant=tenant)
    customers[0].assigned_staff = staff
    customers[0].save()
    changed = services.customers_assign_staff(tenant=tenant, actor=manager,
                                              customer_ids=[c.pk for c in customers], staff=staff)
    assert changed == 2
    rows = AuditLog.objects.filter(action="customer.assign_staff")
    assert rows.count() == 2
    assert rows.first().after == {"assigned_staff": staff.display_name}


def test_bulk_care_status_ignores_other_shops_customers(tenant, other_tenant, manager, lists):
    mine = CustomerFactory(tenant=tenant)
    theirs = CustomerFactory(tenant=other_tenant)
    status = lists["care_statuses"].first()
    changed = services.customers_set_care_status(tenant=tenant, actor=manager,
                                                 customer_ids=[mine.pk, theirs.pk], status=status)
    theirs.refresh_from_db()
    assert changed == 1 and theirs.care_status is None
    assert AuditLog.objects.get(action="customer.care_status").before == {"care_status": None}


def test_bulk_add_and_remove_tag(tenant, manager):
    c1, c2 = CustomerFactory.create_batch(2, tenant=tenant)
    tag = TagFactory(tenant=tenant)
    assert services.customers_add_tag(tenant=tenant, actor=manager,
                                      customer_ids=[c1.pk, c2.pk], tag=tag) == 2
    assert services.customers_add_tag(tenant=tenant, actor=manager,
                                      customer_ids=[c1.pk], tag=tag) == 0
    assert services.customers_remove_tag(tenant=tenant, actor=manager,
                                         customer_ids=[c1.pk], tag=tag) == 1
    assert list(CustomerTag.objects.values_list("customer_id", flat=True)) == [c2.pk]
    assert AuditLog.objects.filter(action__startswith="customer.tag_").count() == 3


def test_bulk_add_tag_of_single_group_replaces_sibling(tenant, manager):
    group = TagGroupFactory(tenant=tenant, multiple=False)
    old, new = TagFactory(tenant=tenant, group=group), TagFactory(tenant=tenant, group=group)
    c = CustomerFactory(tenant=tenant)
    services.customers_add_tag(tenant=tenant, actor=manager, customer_ids=[c.pk], tag=old)
    services.customers_add_tag(tenant=tenant, actor=manager, customer_ids=[c.pk], tag=new)
    assert list(c.tags.all()) == [new]


def test_bulk_with_foreign_tag_refused(tenant, other_tenant, manager):
    c = CustomerFactory(tenant=tenant)
    with pytest.raises(ValidationError):
        services.customers_add_tag(tenant=tenant, actor=manager, customer_ids=[c.pk],
                                   tag=TagFactory(tenant=other_tenant))


def test_lookup_save_create_rename_deactivate(tenant, manager):
    group = services.lookup_save(tenant=tenant, actor=manager, instance=TagGroup(),
                                 data={"name": "Kênh", "multiple": False, "is_active": True})
    group.name = "Kênh bán"  # a ModelForm mutates the instance before the service runs
    services.lookup_save(tenant=tenant, actor=manager, instance=group,
                         data={"name": "Kênh bán", "is_active": False})
    row = AuditLog.objects.get(action="taggroup.update")
    assert row.before["name"] == "Kênh" and row.after["name"] == "Kênh bán"
    assert row.after["is_active"] is False


def test_lookup_duplicate_name_is_a_validation_error(tenant, manager, lists):
    from customers.models import CareStatus

    with pytest.raises(ValidationError):
        services.lookup_save(tenant=tenant, actor=manager, instance=CareStatus(),
                             data={"name": "Tiềm năng", "color": "#000000", "is_active": True})


def test_source_tree_has_two_levels(tenant, manager, lists):
    channel = lists["sources"].filter(parent__isnull=False).first()
    from customers.models import Source

    with pytest.raises(ValidationError):
        services.lookup_save(tenant=tenant, actor=manager, instance=Source(),
                             data={"name": "Cháu", "parent": channel, "is_active": True})


def test_lookup_move_swaps_neighbours(tenant, manager, lists):
    statuses = list(lists["care_statuses"])
    services.lookup_move(tenant=tenant, actor=manager, instance=statuses[1], up=True)
    names = list(lists["care_statuses"].order_by("position").values_list("name", flat=True))
    assert names[:2] == [statuses[1].name, statuses[0].name]
    services.lookup_move(tenant=tenant, actor=manager, instance=statuses[1], up=True)
    assert list(lists["care_statuses"].order_by("position").values_list(
        "name", flat=True))[0] == statuses[1].name


def test_list_columns_save_keeps_known_keys_in_order(tenant, manager):
    from crm.services import list_columns_save
    from customers.columns import CUSTOMER_COLUMNS

    keys = list_columns_save(tenant=tenant, user=manager.user, choice=CUSTOMER_COLUMNS,
                             keys=["phone", "bogus", "name", "phone"])
    assert keys == ["phone", "name"]
    assert [c.key for c in CUSTOMER_COLUMNS.chosen(tenant, manager.user)] == ["phone", "name"]


def test_defaults_seeded_for_new_shop(db):
    from crm.services import tenant_create
    from customers.models import CareStatus, Source, Tag

    shop = tenant_create(name="Mới", slug="moi")
    assert CareStatus.objects.for_tenant(shop).count() == 6
    assert Source.objects.for_tenant(shop).get(code="shopee").parent.name == "Sàn TMĐT"
    assert Tag.objects.for_tenant(shop).filter(group__name="Mặt hàng").count() == 4


def test_update_keeps_contacts_and_tags_left_out_of_the_data(tenant):
    tag = TagFactory(tenant=tenant)
    customer = create(tenant, phone="0912000001", extra_phones=["0912000002"],
                      email="a@example.com", tags=[tag])
    services.customer_update(tenant=tenant, actor=SYSTEM, customer=customer,
                             data={"full_name": "Tên Mới"})
    customer.refresh_from_db()
    assert customer.full_name == "Tên Mới" and customer.email == "a@example.com"
    assert set(customer.phones.values_list("normalized", flat=True)) == {
        "+84912000001", "+84912000002"}
    assert list(customer.tags.all()) == [tag]


def test_replaced_avatar_file_is_deleted(tenant, settings, tmp_path,
                                         django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    customer = create(tenant, phone="0912000001",
                      avatar=SimpleUploadedFile("a.png", b"old-picture"))
    old = tmp_path / customer.avatar.name
    assert old.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.customer_update(tenant=tenant, actor=SYSTEM, customer=customer,
                                 data={"avatar": False})
    assert not old.exists()


def test_registration_after_a_merge_keeps_one_open_request(tenant):
    from crm.access import REGISTRATION
    from customers.models import RegistrationRequest

    x = create(tenant, phone="0912000001", full_name="Lê Văn A")
    y = create(tenant, phone="0912000002", full_name="Lê Văn A")
    for phone in ("0912000001", "0912000002"):
        services.registration_submit(tenant=tenant, actor=REGISTRATION,
                                     data={"full_name": "Lê A", "phone": phone})
    services.customers_merge(tenant=tenant, actor=SYSTEM, survivor=x, merged=y)
    services.registration_submit(tenant=tenant, actor=REGISTRATION,
                                 data={"full_name": "Lê Văn A mới", "phone": "0912000002"})
    requests = RegistrationRequest.objects.for_tenant(tenant).filter(customer=x, state="open")
    assert [r.full_name for r in requests] == ["Lê Văn A mới"]
