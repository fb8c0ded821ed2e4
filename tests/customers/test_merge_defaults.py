"""The merge page's defaults keep the fuller value, and a birthday (an address) is chosen
as a whole."""

import pytest

from crm.access import SYSTEM
from customers import services
from customers.models import Customer

pytestmark = pytest.mark.django_db


def make(tenant, name, phone, **data):
    return services.customer_create(tenant=tenant, actor=SYSTEM,
                                    data={"full_name": name, "phone": phone, **data})


def newer(customer):
    """Make ``customer`` the most recently updated of the pair."""
    Customer.objects.filter(pk=customer.pk).update(
        updated_at=customer.updated_at.replace(year=2030))
    customer.refresh_from_db()


@pytest.mark.parametrize("accented_first", [True, False])
@pytest.mark.parametrize("accented_newer", [True, False])
def test_the_accented_name_wins_whichever_side_and_age(tenant, accented_first, accented_newer):
    accented = make(tenant, "Dương Thu Thảo", "0912000001")
    plain = make(tenant, "Duong thu thao", "0912000002")
    newer(accented if accented_newer else plain)
    a, b = (accented, plain) if accented_first else (plain, accented)
    choices = services.merge_defaults(a, b)
    chosen = a if choices["full_name"] == "survivor" else b
    assert chosen.full_name == "Dương Thu Thảo"


def test_fuller_values_win(tenant):
    a = make(tenant, "Lan", "0912000001", company="Cty Mộc", street="12 Lê Lợi")
    b = make(tenant, "Nguyễn Thị Lan", "0912000002", company="Cty Trà", birth_day=15,
             birth_month=8, birth_year=1990)
    newer(a)
    choices = services.merge_defaults(a, b)
    assert choices["full_name"] == "merged"  # "Lan" is inside "Nguyễn Thị Lan"
    assert choices["birth_day"] == choices["birth_year"] == "merged"  # the only one filled
    assert choices["company"] == "survivor"  # two different values: the newer
    assert choices["street"] == "survivor"


def test_a_birthday_with_its_year_beats_one_without(tenant):
    a = make(tenant, "Trần Mai", "0912000001", birth_day=15, birth_month=8)
    b = make(tenant, "Trần Mai", "0912000002", birth_day=15, birth_month=8, birth_year=1990)
    newer(a)
    choices = services.merge_defaults(a, b)
    assert {choices[f] for f in ("birth_day", "birth_month", "birth_year")} == {"merged"}


def test_different_birthdays_are_one_choice_of_the_newer(tenant):
    a = make(tenant, "Trần Mai", "0912000001", birth_day=15, birth_month=8, birth_year=1990)
    b = make(tenant, "Trần Mai", "0912000002", birth_day=16, birth_month=8)
    newer(b)
    choices = services.merge_defaults(a, b)
    assert {choices[f] for f in ("birth_day", "birth_month", "birth_year")} == {"merged"}


def test_gender_is_never_a_copy_of_another(tenant):
    # "male" is inside "female": only free text may be a fuller copy of another value.
    a = make(tenant, "Trần Mai", "0912000001", gender="female")
    b = make(tenant, "Trần Mai", "0912000002", gender="male")
    newer(b)
    assert services.merge_defaults(a, b)["gender"] == "merged"


def test_birthday_is_one_row(tenant):
    a = make(tenant, "Duong thu thao", "0912000001", birth_day=15, birth_month=8)
    b = make(tenant, "Dương Thu Thảo", "0912000002", birth_day=15, birth_month=8,
             birth_year=1990)
    rows = {row["key"]: row for row in services.merge_rows(a, b)}
    assert "birthday" in rows
    assert not {"birth_day", "birth_month", "birth_year"} & set(rows)
    assert (rows["birthday"]["a"], rows["birthday"]["b"]) == ("15/08", "15/08/1990")
    assert rows["birthday"]["pick"] == "merged"
    assert rows["full_name"]["pick"] == "merged"


def test_merge_page_and_post_take_the_birthday_whole(tenant, manager, login):
    a = make(tenant, "Duong thu thao", "0912000001", birth_day=14, birth_month=7,
             birth_year=1991, street="3 Hàng Bạc")
    b = make(tenant, "Dương Thu Thảo", "0912000002", birth_day=15, birth_month=8,
             birth_year=1990, street="3 Hàng Bạc")
    client = login(manager)
    page = client.get(f"/admin/customers/merge/?a={a.code}&b={b.code}").content.decode()
    assert page.count('name="pick_birthday"') == 2
    assert 'name="pick_birth_day"' not in page and 'name="pick_birth_year"' not in page
    assert "15/08/1990" in page and "14/07/1991" in page
    # The accented name is ticked by default, on b's side.
    assert 'name="pick_full_name" value="b" checked' in page
    response = client.post(f"/admin/customers/merge/?a={a.code}&b={b.code}", {
        "survivor": a.code, "pick_full_name": "b", "pick_birthday": "b"})
    assert response.status_code == 302
    kept = Customer.objects.get()
    assert kept.code == a.code and kept.full_name == "Dương Thu Thảo"
    assert (kept.birth_day, kept.birth_month, kept.birth_year) == (15, 8, 1990)
