import pytest
from django.core.exceptions import ValidationError

from crm.access import REGISTRATION, SYSTEM
from crm.models import AuditLog
from customers import services
from customers.models import (
    Customer,
    CustomerAlias,
    CustomerNote,
    CustomerPhone,
    MembershipState,
    RegistrationRequest,
)
from customers.signals import customers_merged
from tests.customers.factories import TagFactory, TagGroupFactory

pytestmark = pytest.mark.django_db


def make(tenant, name="Nguyễn Văn An", phone="0912000001", **data):
    return services.customer_create(tenant=tenant, actor=SYSTEM,
                                    data={"full_name": name, "phone": phone, **data})


def edit_data(customer, **changes):
    data = {f: getattr(customer, f) for f in services.CUSTOMER_FIELDS if f != "avatar"}
    data.update(phone=customer.phone, extra_phones=[], email=customer.email, extra_emails=[],
                tags=list(customer.tags.all()))
    data.update(changes)
    return data


# --- edit ---------------------------------------------------------------------------------

def test_update_audits_field_level_diff(tenant, manager, lists):
    c = make(tenant)
    status = lists["care_statuses"].first()
    services.customer_update(tenant=tenant, actor=manager, customer=c, data=edit_data(
        c, full_name="Nguyễn Văn Bình", care_status=status, extra_phones=["0987 111 222"],
        birth_day=1, birth_month=5))
    c.refresh_from_db()
    assert c.search_name == "nguyen van binh"
    row = AuditLog.objects.get(action="customer.update")
    assert row.before["full_name"] == "Nguyễn Văn An"
    assert row.after == {"full_name": "Nguyễn Văn Bình", "care_status": status.name,
                         "birth_day": 1, "birth_month": 5,
                         "phones": ["0912 000 001", "0987 111 222"]}


def test_update_without_change_writes_no_audit(tenant, manager):
    c = make(tenant)
    services.customer_update(tenant=tenant, actor=manager, customer=c, data=edit_data(c))
    assert not AuditLog.objects.filter(action="customer.update").exists()


def test_update_refuses_phone_of_other_customer(tenant, manager):
    owner = make(tenant, name="Chủ", phone="0912000009")
    c = make(tenant)
    with pytest.raises(services.ContactConflictError) as err:
        services.customer_update(tenant=tenant, actor=manager, customer=c,
                                 data=edit_data(c, extra_phones=["+84912000009"]))
    assert err.value.customer == owner
    assert CustomerPhone.objects.filter(customer=c).count() == 1


def test_update_removes_phone_and_replaces_primary(tenant, manager):
    c = make(tenant, extra_phones=["0987000001"])
    services.customer_update(tenant=tenant, actor=manager, customer=c,
                             data=edit_data(c, phone="0987000001"))
    c.refresh_from_db()
    assert c.phone_normalized == "+84987000001"
    assert list(CustomerPhone.objects.filter(customer=c).values_list("normalized", flat=True)) \
        == ["+84987000001"]


def test_update_refuses_membership_and_automatic_lifecycle(tenant, manager):
    c = make(tenant)
    with pytest.raises(ValidationError):
        services.customer_update(tenant=tenant, actor=manager, customer=c,
                                 data=edit_data(c, membership_state="active"))
    with pytest.raises(ValidationError):
        services.customer_update(tenant=tenant, actor=manager, customer=c,
                                 data=edit_data(c, lifecycle_stage="vip"))


def test_update_of_other_shops_customer_refused(tenant, other_tenant, manager):
    theirs = make(other_tenant)
    with pytest.raises(ValidationError):
        services.customer_update(tenant=tenant, actor=manager, customer=theirs,
                                 data=edit_data(theirs, full_name="X"))


def test_note_add_and_empty_note(tenant, manager):
    c = make(tenant)
    services.note_add(tenant=tenant, actor=manager, customer=c, body=" Gọi lại ")
    assert CustomerNote.objects.get().body == "Gọi lại"
    with pytest.raises(ValidationError):
        services.note_add(tenant=tenant, actor=manager, customer=c, body="  ")


# --- membership -----------------------------------------------------------------------------

ALL = [MembershipState.GUEST, MembershipState.PENDING, MembershipState.ACTIVE,
       MembershipState.CANCELLED]
ALLOWED = {("guest", "pending"), ("guest", "active"), ("pending", "active"),
           ("pending", "cancelled"), ("active", "cancelled"), ("cancelled", "pending"),
           ("cancelled", "active")}


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("target", ALL)
def test_every_membership_transition(tenant, manager, start, target):
    c = make(tenant, membership_state=start)
    if (start, target) in ALLOWED:
        services.membership_transition(tenant=tenant, actor=manager, customer=c,
                                       to_state=target)
        c.refresh_from_db()
        assert c.membership_state == target
        row = AuditLog.objects.get(action="customer.membership")
        assert (row.before, row.after) == ({"membership_state": start},
                                           {"membership_state": target})
    else:
        with pytest.raises(ValidationError):
            services.membership_transition(tenant=tenant, actor=manager, customer=c,
                                           to_state=target)
        c.refresh_from_db()
        assert c.membership_state == start


def test_bulk_approval_reports_refused(tenant, manager):
    pending = [make(tenant, phone=f"091200000{i}", membership_state="pending") for i in range(3)]
    active = make(tenant, phone="0912000009", membership_state="active")
    changed, refused = services.memberships_transition(
        tenant=tenant, actor=manager, customer_ids=[c.pk for c in [*pending, active]],
        to_state=MembershipState.ACTIVE)
    assert changed == 3 and len(refused) == 1 and active.code in refused[0]


def test_member_from_contact_links_existing_by_phone(tenant, manager):
    c = make(tenant, name="Lan", phone="0912000001")
    customer, created = services.member_from_contact(tenant=tenant, actor=manager, contact={
        "name": "Nguyễn Thị Lan", "phone": "+84 912 000 001", "email": "lan@x.vn",
        "address": "12 Lê Lợi"})
    assert not created and customer.pk == c.pk
    assert customer.membership_state == MembershipState.ACTIVE
    assert customer.street == "12 Lê Lợi" and customer.full_name == "Lan"
    assert customer.emails.get().email == "lan@x.vn"


def test_member_from_contact_links_by_email_then_creates(tenant, manager):
    c = make(tenant, email="an@x.vn")
    customer, created = services.member_from_contact(tenant=tenant, actor=manager,
                                                     contact={"name": "An", "email": "AN@x.vn"})
    assert (customer.pk, created) == (c.pk, False)
    new, created = services.member_from_contact(tenant=tenant, actor=manager, contact={
        "name": "Mới", "phone": "0977000111"})
    assert created and new.membership_state == MembershipState.ACTIVE
    with pytest.raises(ValidationError):
        services.member_from_contact(tenant=tenant, actor=manager, contact={"name": "X"})


def test_registration_creates_pending_or_records_a_request(tenant, lists):
    new, created = services.registration_submit(tenant=tenant, actor=REGISTRATION, data={
        "full_name": "Hà", "phone": "0912 000 321", "email": "ha@x.vn"})
    assert created and new.membership_state == MembershipState.PENDING
    assert new.source.code == "website"
    guest = make(tenant, name="Khách cũ", phone="0912000999")
    again, created = services.registration_submit(tenant=tenant, actor=REGISTRATION, data={
        "full_name": "Tên khác", "phone": "+84912000999", "birth_day": 3, "birth_month": 4})
    # An existing customer is never changed by the anonymous form: the values wait.
    assert not created and again is None
    guest.refresh_from_db()
    assert (guest.full_name, guest.birth_day) == ("Khách cũ", None)
    assert guest.membership_state == MembershipState.GUEST
    request = RegistrationRequest.objects.for_tenant(tenant).get(customer=guest)
    assert (request.full_name, request.birth_day, request.state) == ("Tên khác", 3, "open")
    assert Customer.objects.for_tenant(tenant).count() == 2


# --- merge -----------------------------------------------------------------------------------

@pytest.fixture
def pair(tenant, manager, lists):
    tag_a, tag_b = TagFactory(tenant=tenant), TagFactory(tenant=tenant)
    a = make(tenant, name="Trần Văn Nam", phone="0912000001", email="nam@x.vn",
             company="Công ty A", tags=[tag_a], birth_day=2, birth_month=9)
    b = make(tenant, name="Trần Văn Nam", phone="0987000002", email="nam2@x.vn",
             company="Công ty B", street="5 Hai Bà Trưng", tags=[tag_a, tag_b],
             membership_state="active", note="Thích trà")
    services.note_add(tenant=tenant, actor=manager, customer=b, body="Ghi chú của B")
    referred = make(tenant, name="Người được giới thiệu", phone="0900000003", referrer=b)
    return a, b, referred


def test_merge_moves_everything_and_keeps_an_alias(tenant, manager, pair):
    a, b, referred = pair
    seen = []
    customers_merged.connect(lambda sender, **kw: seen.append(kw), weak=False,
                             dispatch_uid="test-merge")
    try:
        survivor = services.customers_merge(tenant=tenant, actor=manager, survivor=a,
                                            merged=b, choices={"company": "merged"})
    finally:
        customers_merged.disconnect(dispatch_uid="test-merge")
    assert not Customer.objects.filter(pk=b.pk).exists()
    assert survivor.company == "Công ty B"  # chosen
    assert survivor.street == "5 Hai Bà Trưng"  # default: the non-empty one
    assert survivor.birth_day == 2
    assert survivor.membership_state == "active"
    assert set(survivor.phones.values_list("normalized", flat=True)) == {
        "+84912000001", "+84987000002"}
    assert survivor.phone_normalized == "+84912000001"
    assert set(survivor.emails.values_list("email", flat=True)) == {"nam@x.vn", "nam2@x.vn"}
    assert survivor.tags.count() == 2
    assert survivor.note == "Thích trà"
    assert survivor.notes.get().body == "Ghi chú của B"
    referred.refresh_from_db()
    assert referred.referrer_id == survivor.pk
    assert CustomerAlias.objects.get(code=b.code).customer == survivor
    assert seen and seen[0]["survivor"] == survivor and seen[0]["merged"].code == b.code
    # b's history now belongs to the survivor, plus one merge row naming both codes.
    history = AuditLog.objects.filter(object_type="customers.customer", object_id=survivor.pk)
    assert history.filter(action="customer.create").count() == 2
    merge_row = history.get(action="customer.merge")
    assert merge_row.before["merged_code"] == b.code
    assert merge_row.after["survivor_code"] == a.code


def test_merge_single_choice_tag_group_keeps_survivors_tag(tenant, manager):
    group = TagGroupFactory(tenant=tenant, multiple=False)
    t1, t2 = TagFactory(tenant=tenant, group=group), TagFactory(tenant=tenant, group=group)
    a = make(tenant, phone="0912000001", tags=[t1])
    b = make(tenant, phone="0912000002", tags=[t2])
    survivor = services.customers_merge(tenant=tenant, actor=manager, survivor=a, merged=b)
    assert list(survivor.tags.all()) == [t1]


def test_merge_across_shops_is_impossible(tenant, other_tenant, manager):
    a = make(tenant)
    theirs = make(other_tenant)
    with pytest.raises(ValidationError):
        services.customers_merge(tenant=tenant, actor=manager, survivor=a, merged=theirs)
    with pytest.raises(ValidationError):
        services.customers_merge(tenant=tenant, actor=manager, survivor=a, merged=a)
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_merge_defaults_prefer_non_empty_then_newest(tenant):
    a = make(tenant, phone="0912000001", company="Cũ")
    b = make(tenant, phone="0912000002", company="Mới", street="1 Lý Thái Tổ")
    Customer.objects.filter(pk=b.pk).update(updated_at=a.updated_at.replace(year=2030))
    b.refresh_from_db()
    choices = services.merge_defaults(a, b)
    assert choices["company"] == "merged" and choices["street"] == "merged"
    assert choices["tax_code"] == "survivor"
